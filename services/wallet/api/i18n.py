"""Labels of the learner page in English, Polish, German and French, and the choice of language. Pure module.

The language comes from ``?lang=`` when it names a supported language, else from the first supported
language in ``Accept-Language`` (quality values respected), else English. Terms follow each language's text of
the Council Recommendation of 16 June 2022 on micro-credentials: "mikropoświadczenia", "Microcredentials",
"microcertifications"; a credential in general is "poświadczenie", "Nachweis", "attestation" (as on the PDF).
"""

from __future__ import annotations

from collections.abc import Mapping

from microcred.i18n import accepted_languages, with_colon

DEFAULT_LANGUAGE = "en"

LABELS: Mapping[str, Mapping[str, str]] = with_colon({
    "en": {
        "title": "My micro-credentials", "skip": "Skip to content", "language": "Language",
        "signin": "Sign in", "signout": "Sign out", "signin_dev": "Development sign-in (dev/test only)",
        "signin_token": "Paste the access token from your identity provider", "subject": "User id",
        "email": "E-mail", "token": "Access token", "signed_in_as": "Signed in as",
        "credentials": "Credentials", "none": "Nothing here yet.", "select": "Select",
        "col_title": "Title", "col_issuer": "Issuer", "col_issued": "Issued", "col_eqf": "EQF level",
        "col_ects": "ECTS", "col_status": "Status",
        "ACTIVE": "Active", "SUSPENDED": "Suspended", "REVOKED": "Revoked", "replaced_by": "Replaced by",
        "share": "Share links", "share_days": "Valid for (days)", "share_create": "Create share link",
        "share_created": "Share link created:", "share_select_first": "Select at least one credential first.",
        "share_withdraw": "Withdraw", "share_expires": "Expires", "share_accesses": "Opened",
        "share_state": "State", "share_credentials": "Credentials",
        "active": "Active", "withdrawn": "Withdrawn", "expired": "Expired",
        "stacking": "Stacking progress", "complete": "Complete", "in_progress": "In progress",
        "ects_gathered": "ECTS gathered", "ects_min": "minimum", "missing": "Missing achievements",
        "counts": "Counts", "does_not_count": "Does not count",
        "NOT_REQUIRED": "not required by this pathway", "EXPIRED": "expired",
        "ISSUER_NOT_ACCEPTED": "issuer not accepted", "EQF_LEVEL_TOO_LOW": "EQF level too low",
        "EQF_LEVEL_NOT_GIVEN": "no EQF level stated", "NO_ECTS": "no ECTS credits stated",
        "DUPLICATE_ACHIEVEMENT": "this achievement already counts",
        "holder_keys": "Holder keys", "holder_create": "Create holder key", "export": "Export all (zip)",
        "error": "Something went wrong:",
        "delete_h": "Delete my account", "delete_start": "Delete my account…",
        "delete_text": "Deleting your account removes from this wallet your account, your e-mail address, your "
                       "holder keys, your bindings, your imported credentials and your share links (they stop "
                       "working), and destroys the key your imported credentials are sealed under, so no copy on "
                       "the platform can be read again. Credentials you already downloaded or shared remain yours "
                       "and are not affected. The platform keeps a pseudonymous audit (which credentials were "
                       "issued and their status changes, never your name), and credentials issued to you stay "
                       "revocable by their issuer. Download your data first if you want a copy.",
        "delete_confirm": "Yes, delete my account", "delete_cancel": "Cancel",
        "deleted": "Your account was deleted.",
    },
    "pl": {
        "title": "Moje mikropoświadczenia", "skip": "Przejdź do treści", "language": "Język",
        "signin": "Zaloguj się", "signout": "Wyloguj się", "signin_dev": "Logowanie deweloperskie (tylko dev/test)",
        "signin_token": "Wklej token dostępu od dostawcy tożsamości", "subject": "Identyfikator użytkownika",
        "email": "E-mail", "token": "Token dostępu", "signed_in_as": "Zalogowano jako",
        "credentials": "Poświadczenia", "none": "Na razie nic tu nie ma.", "select": "Wybierz",
        "col_title": "Tytuł", "col_issuer": "Wystawca", "col_issued": "Data wydania", "col_eqf": "Poziom EQF",
        "col_ects": "ECTS", "col_status": "Status",
        "ACTIVE": "Aktywne", "SUSPENDED": "Zawieszone", "REVOKED": "Unieważnione", "replaced_by": "Zastąpione przez",
        "share": "Linki do udostępniania", "share_days": "Ważny przez (dni)", "share_create": "Utwórz link",
        "share_created": "Utworzono link:", "share_select_first": "Najpierw wybierz co najmniej jedno poświadczenie.",
        "share_withdraw": "Wycofaj", "share_expires": "Wygasa", "share_accesses": "Otwarto",
        "share_state": "Stan", "share_credentials": "Poświadczenia",
        "active": "Aktywny", "withdrawn": "Wycofany", "expired": "Wygasły",
        "stacking": "Postęp w ścieżkach", "complete": "Ukończona", "in_progress": "W toku",
        "ects_gathered": "Zebrane ECTS", "ects_min": "minimum", "missing": "Brakujące osiągnięcia",
        "counts": "Liczy się", "does_not_count": "Nie liczy się",
        "NOT_REQUIRED": "niewymagane w tej ścieżce", "EXPIRED": "wygasło",
        "ISSUER_NOT_ACCEPTED": "wystawca nieakceptowany", "EQF_LEVEL_TOO_LOW": "zbyt niski poziom EQF",
        "EQF_LEVEL_NOT_GIVEN": "brak poziomu EQF", "NO_ECTS": "brak punktów ECTS",
        "DUPLICATE_ACHIEVEMENT": "to osiągnięcie już się liczy",
        "holder_keys": "Klucze posiadacza", "holder_create": "Utwórz klucz posiadacza",
        "export": "Eksportuj wszystko (zip)", "error": "Coś poszło nie tak:",
        "delete_h": "Usuń moje konto", "delete_start": "Usuń moje konto…",
        "delete_text": "Usunięcie konta usuwa z tego portfela Twoje konto, adres e-mail, klucze posiadacza, "
                       "powiązania, zaimportowane poświadczenia i linki do udostępniania (przestaną działać) oraz "
                       "niszczy klucz, którym zaszyfrowano zaimportowane poświadczenia, więc żadnej ich kopii na "
                       "platformie nie da się już odczytać. Poświadczenia, które już pobrałeś lub udostępniłeś, "
                       "pozostają Twoje i usunięcie konta ich nie dotyczy. Platforma zachowuje pseudonimowy "
                       "rejestr audytu (jakie poświadczenia wydano i zmiany ich statusu, nigdy Twoje imię i "
                       "nazwisko), a poświadczenia wydane Tobie wystawca nadal może unieważnić. Jeśli chcesz "
                       "zachować kopię, najpierw pobierz swoje dane.",
        "delete_confirm": "Tak, usuń moje konto", "delete_cancel": "Anuluj",
        "deleted": "Twoje konto zostało usunięte.",
    },
    "de": {
        "title": "Meine Microcredentials", "skip": "Zum Inhalt springen", "language": "Sprache",
        "signin": "Anmelden", "signout": "Abmelden", "signin_dev": "Anmeldung für die Entwicklung (nur dev/test)",
        "signin_token": "Fügen Sie das Zugriffstoken Ihres Identitätsanbieters ein", "subject": "Benutzerkennung",
        "email": "E-Mail", "token": "Zugriffstoken", "signed_in_as": "Angemeldet als",
        "credentials": "Nachweise", "none": "Hier ist noch nichts.", "select": "Auswählen",
        "col_title": "Titel", "col_issuer": "Aussteller", "col_issued": "Ausgestellt", "col_eqf": "EQR-Niveau",
        "col_ects": "ECTS", "col_status": "Status",
        "ACTIVE": "Aktiv", "SUSPENDED": "Ausgesetzt", "REVOKED": "Widerrufen", "replaced_by": "Ersetzt durch",
        "share": "Freigabelinks", "share_days": "Gültig für (Tage)", "share_create": "Freigabelink erstellen",
        "share_created": "Freigabelink erstellt:",
        "share_select_first": "Wählen Sie zuerst mindestens einen Nachweis aus.",
        "share_withdraw": "Zurückziehen", "share_expires": "Läuft ab", "share_accesses": "Geöffnet",
        "share_state": "Zustand", "share_credentials": "Nachweise",
        "active": "Aktiv", "withdrawn": "Zurückgezogen", "expired": "Abgelaufen",
        "stacking": "Fortschritt in Lernpfaden", "complete": "Abgeschlossen", "in_progress": "In Arbeit",
        "ects_gathered": "Gesammelte ECTS", "ects_min": "Minimum", "missing": "Fehlende Leistungen",
        "counts": "Wird angerechnet", "does_not_count": "Wird nicht angerechnet",
        "NOT_REQUIRED": "für diesen Lernpfad nicht erforderlich", "EXPIRED": "abgelaufen",
        "ISSUER_NOT_ACCEPTED": "Aussteller nicht anerkannt", "EQF_LEVEL_TOO_LOW": "EQR-Niveau zu niedrig",
        "EQF_LEVEL_NOT_GIVEN": "kein EQR-Niveau angegeben", "NO_ECTS": "keine ECTS-Punkte angegeben",
        "DUPLICATE_ACHIEVEMENT": "diese Leistung wird bereits angerechnet",
        "holder_keys": "Inhaberschlüssel", "holder_create": "Inhaberschlüssel erstellen",
        "export": "Alles exportieren (zip)", "error": "Etwas ist schiefgelaufen:",
        "delete_h": "Mein Konto löschen", "delete_start": "Mein Konto löschen…",
        "delete_text": "Wenn Sie Ihr Konto löschen, entfernt diese Wallet Ihr Konto, Ihre E-Mail-Adresse, Ihre "
                       "Inhaberschlüssel, Ihre Verknüpfungen, Ihre importierten Nachweise und Ihre Freigabelinks "
                       "(sie funktionieren dann nicht mehr) und vernichtet den Schlüssel, mit dem Ihre importierten "
                       "Nachweise versiegelt sind, sodass keine Kopie auf der Plattform mehr gelesen werden kann. "
                       "Nachweise, die Sie bereits heruntergeladen oder geteilt haben, gehören weiterhin Ihnen und "
                       "sind nicht betroffen. Die Plattform behält ein pseudonymes Prüfprotokoll (welche Nachweise "
                       "ausgestellt wurden und wie sich ihr Status geändert hat, nie Ihren Namen), und die Ihnen "
                       "ausgestellten Nachweise kann ihr Aussteller weiterhin widerrufen. Laden Sie zuerst Ihre "
                       "Daten herunter, wenn Sie eine Kopie behalten möchten.",
        "delete_confirm": "Ja, mein Konto löschen", "delete_cancel": "Abbrechen",
        "deleted": "Ihr Konto wurde gelöscht.",
    },
    "fr": {
        "title": "Mes microcertifications", "skip": "Aller au contenu", "language": "Langue",
        "signin": "Se connecter", "signout": "Se déconnecter",
        "signin_dev": "Connexion de développement (dev/test uniquement)",
        "signin_token": "Collez le jeton d’accès fourni par votre fournisseur d’identité",
        "subject": "Identifiant de l’utilisateur", "email": "Courriel", "token": "Jeton d’accès",
        "signed_in_as": "Session ouverte pour",
        "credentials": "Attestations", "none": "Rien ici pour l’instant.", "select": "Sélectionner",
        "col_title": "Intitulé", "col_issuer": "Émetteur", "col_issued": "Délivrée le", "col_eqf": "Niveau CEC",
        "col_ects": "ECTS", "col_status": "Statut",
        "ACTIVE": "Active", "SUSPENDED": "Suspendue", "REVOKED": "Révoquée", "replaced_by": "Remplacée par",
        "share": "Liens de partage", "share_days": "Valable (jours)", "share_create": "Créer un lien de partage",
        "share_created": "Lien de partage créé\u00a0:",
        "share_select_first": "Sélectionnez d’abord au moins une attestation.",
        "share_withdraw": "Retirer", "share_expires": "Expire le", "share_accesses": "Ouvert",
        "share_state": "État", "share_credentials": "Attestations",
        "active": "Actif", "withdrawn": "Retiré", "expired": "Expiré",
        "stacking": "Progression dans les parcours", "complete": "Terminé", "in_progress": "En cours",
        "ects_gathered": "ECTS obtenus", "ects_min": "minimum", "missing": "Réalisations manquantes",
        "counts": "Prise en compte", "does_not_count": "Non prise en compte",
        "NOT_REQUIRED": "non requise par ce parcours", "EXPIRED": "expirée",
        "ISSUER_NOT_ACCEPTED": "émetteur non accepté", "EQF_LEVEL_TOO_LOW": "niveau CEC trop bas",
        "EQF_LEVEL_NOT_GIVEN": "aucun niveau CEC indiqué", "NO_ECTS": "aucun crédit ECTS indiqué",
        "DUPLICATE_ACHIEVEMENT": "cette réalisation compte déjà",
        "holder_keys": "Clés du titulaire", "holder_create": "Créer une clé du titulaire",
        "export": "Tout exporter (zip)", "error": "Un problème est survenu\u00a0:",
        "delete_h": "Supprimer mon compte", "delete_start": "Supprimer mon compte…",
        "delete_text": "La suppression de votre compte efface de ce portefeuille votre compte, votre adresse "
                       "électronique, vos clés du titulaire, vos liaisons, vos attestations importées et vos liens "
                       "de partage (ils cessent de fonctionner), et détruit la clé qui scelle vos attestations "
                       "importées\u00a0: aucune copie sur la plateforme ne pourra plus être lue. Les attestations "
                       "que vous avez déjà téléchargées ou partagées restent les vôtres et ne sont pas concernées. "
                       "La plateforme conserve un journal d’audit pseudonyme (quelles attestations ont été "
                       "délivrées et les changements de leur statut, jamais votre nom), et les attestations qui "
                       "vous ont été délivrées restent révocables par leur émetteur. Téléchargez d’abord vos "
                       "données si vous souhaitez en garder une copie.",
        "delete_confirm": "Oui, supprimer mon compte", "delete_cancel": "Annuler",
        "deleted": "Votre compte a été supprimé.",
    },
})


#: The language picker: each language of the page in its own name, in this order.
LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "pl": "Polski", "de": "Deutsch", "fr": "Français"}


def in_language(catalogue: Mapping[str, Mapping[str, str]], lang: str) -> dict[str, str]:
    """``catalogue``'s words in ``lang``, each word it lacks (or a language it lacks altogether) in English."""
    return {**catalogue[DEFAULT_LANGUAGE], **catalogue.get(lang, {})}


def pick_language(query: str | None, accept_language: str | None) -> str:
    """The page language for a ``?lang=`` value and an ``Accept-Language`` header."""
    if query and query.lower() in LABELS:
        return query.lower()
    for tag in accepted_languages(accept_language):
        primary = tag.split("-", 1)[0]
        if primary in LABELS:
            return primary
    return DEFAULT_LANGUAGE
