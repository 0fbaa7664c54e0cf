"""Labels of the learner page in English and Polish, and the choice of language. Pure module.

The language comes from ``?lang=`` when it names a supported language, else from the first supported
language in ``Accept-Language`` (quality values respected), else English. Polish terms follow the Polish
text of the Council Recommendation ("mikropoświadczenia").
"""

from __future__ import annotations

from collections.abc import Mapping

from microcred.i18n import accepted_languages

DEFAULT_LANGUAGE = "en"

LABELS: Mapping[str, Mapping[str, str]] = {
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
}


def pick_language(query: str | None, accept_language: str | None) -> str:
    """The page language for a ``?lang=`` value and an ``Accept-Language`` header."""
    if query and query.lower() in LABELS:
        return query.lower()
    for tag in accepted_languages(accept_language):
        primary = tag.split("-", 1)[0]
        if primary in LABELS:
            return primary
    return DEFAULT_LANGUAGE
