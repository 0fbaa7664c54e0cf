"""Words of the wallet app added for issue 23 (search, detail, downloads, QR, progress bars) and of its "Respond to a
request" view (OpenID4VP), in English, Polish, German and French (terms as in :mod:`services.wallet.api.i18n`).

Merged over :data:`services.wallet.api.i18n.LABELS` when the page is rendered; ``tests/unit/test_pages_i18n.py``
and ``tests/unit/test_wallet_i18n_languages.py`` check every language has every key, with the same placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["APP_LABELS"]

APP_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "search": "Search your credentials", "search_hint": "By title, issuer or year.",
        "no_match": "No credential matches your search.", "open": "Open",
        "detail_h": "Credential", "back": "Back to the list", "elements": "What the credential says",
        "downloads": "Download", "download_json": "Signed credential (JSON, Open Badges 3.0)",
        "download_sd-jwt": "SD-JWT VC", "download_edc": "Europass (EDC, .jsonld)", "download_pdf": "PDF",
        "share_this": "Share this credential", "qr_alt": "QR code of the share link", "main_nav": "Wallet",
        "progress_of": "{gathered} of {needed} ECTS", "pathway": "Pathway", "status_label": "Status",
        "registry_issuer": "Issuer (confirmed by the trust registry)",
        "copy_hint": "Anyone with this link or QR code can check the credential until you withdraw it.",
        "vp_h": "Respond to a request", "vp_link": "Request link",
        "vp_link_hint": "Paste the link from the employer's QR code.", "vp_inspect": "See the request",
        "vp_who": "Asked by", "vp_verified": "(identity confirmed by certificate)",
        "vp_unverified": "(identity NOT confirmed: development request)", "vp_purpose": "Purpose",
        "vp_choose": "What you would send",
        "vp_none": "None of your credentials meets this request: you can refuse it.",
        "vp_cannot": "Your credentials do not meet everything this request needs, so you can only refuse it.",
        "vp_all_sent": "Each credential is sent with every detail listed under it: the employer asked for all of "
                       "them. If you do not want to share them, refuse.",
        "vp_one_of": "Send one of these:", "vp_optional": "Optional (the employer also asks for this):",
        "vp_skip": "Do not send", "vp_option": "Option", "vp_variant": "variant",
        "vp_send": "Send", "vp_refuse": "Refuse", "vp_sent": "Sent. The employer now sees the result.",
        "vp_refused": "Refused. The employer was told you declined.",
        "vp_returning": "Taking you back to the page that asked…", "technical": "Technical details",
        "VP_FAILED": "The request could not be answered. Try again; if it happens again, ask the employer for a new "
                     "QR code.",
        "VP_INVALID_PRESENTATION_REQUEST": "This is not a request this wallet can read. Copy the whole link from "
                                           "the employer's QR code, or ask the employer for a new one.",
        "VP_PRESENTATION_REQUEST_EXPIRED": "This request has expired. Ask the employer for a new QR code.",
        "VP_PRESENTATION_REQUEST_GONE": "The employer no longer has this request: it expired or was already "
                                        "answered. Ask the employer for a new QR code.",
        "VP_VERIFIER_NOT_TRUSTED": "The wallet could not confirm who is asking, so nothing was sent. Do not answer "
                                   "this request; ask the employer to check their QR code.",
        "VP_VERIFIER_UNREACHABLE": "The employer's service could not be reached. Try again in a few minutes.",
        "VP_PRESENTATION_REQUEST_REFUSED": "This request asks for something this wallet cannot do, so it was "
                                           "refused and the employer was told. Ask the employer for another "
                                           "request.",
        "VP_NOT_BOUND_TO_HOLDER_KEY": "This credential cannot be presented from this wallet: it is not tied to "
                                      "any of your keys here. Choose another credential, or refuse.",
        "VP_CREDENTIAL_DOES_NOT_MATCH": "The chosen credential does not have what the employer asks for. Choose "
                                        "another one, or refuse.",
        "VP_ANSWER_INCOMPLETE": "The employer needs more than you chose. Choose a credential for each item, or "
                                "refuse.",
        "VP_INVALID_ANSWER": "Your choice does not fit this request. Open the request again and choose again.",
        "VP_REJECTED": "The employer's service did not accept your answer (for example, the request had expired). "
                       "Ask the employer for a new QR code.",
    },
    "pl": {
        "search": "Szukaj w swoich poświadczeniach", "search_hint": "Po tytule, wystawcy lub roku.",
        "no_match": "Żadne poświadczenie nie pasuje do wyszukiwania.", "open": "Otwórz",
        "detail_h": "Poświadczenie", "back": "Wróć do listy", "elements": "Co zawiera poświadczenie",
        "downloads": "Pobierz", "download_json": "Podpisane poświadczenie (JSON, Open Badges 3.0)",
        "download_sd-jwt": "SD-JWT VC", "download_edc": "Europass (EDC, .jsonld)", "download_pdf": "PDF",
        "share_this": "Udostępnij to poświadczenie", "qr_alt": "Kod QR linku do udostępniania",
        "main_nav": "Portfel", "progress_of": "{gathered} z {needed} ECTS", "pathway": "Ścieżka",
        "status_label": "Status", "registry_issuer": "Wystawca (potwierdzony przez rejestr zaufania)",
        "copy_hint": "Każdy, kto ma ten link lub kod QR, może sprawdzić poświadczenie, dopóki go nie wycofasz.",
        "vp_h": "Odpowiedz na prośbę", "vp_link": "Link prośby",
        "vp_link_hint": "Wklej link z kodu QR pracodawcy.", "vp_inspect": "Zobacz prośbę",
        "vp_who": "Prosi", "vp_verified": "(tożsamość potwierdzona certyfikatem)",
        "vp_unverified": "(tożsamość NIEpotwierdzona: prośba deweloperska)", "vp_purpose": "Cel",
        "vp_choose": "Co wyślesz",
        "vp_none": "Żadne z twoich poświadczeń nie spełnia tej prośby: możesz jej odmówić.",
        "vp_cannot": "Twoje poświadczenia nie spełniają wszystkiego, czego wymaga ta prośba, więc możesz tylko "
                     "odmówić.",
        "vp_all_sent": "Każde poświadczenie zostanie wysłane ze wszystkimi danymi wymienionymi pod nim: pracodawca "
                       "poprosił o nie wszystkie. Jeśli nie chcesz ich udostępnić, odmów.",
        "vp_one_of": "Wyślij jedno z poniższych:", "vp_optional": "Opcjonalnie (pracodawca prosi też o to):",
        "vp_skip": "Nie wysyłaj", "vp_option": "Możliwość", "vp_variant": "wariant",
        "vp_send": "Wyślij", "vp_refuse": "Odmów", "vp_sent": "Wysłano. Pracodawca widzi teraz wynik.",
        "vp_refused": "Odmówiono. Pracodawca wie, że odmówiłeś.",
        "vp_returning": "Wracasz na stronę, która prosiła…", "technical": "Szczegóły techniczne",
        "VP_FAILED": "Nie udało się odpowiedzieć na prośbę. Spróbuj ponownie; jeśli to się powtórzy, poproś "
                     "pracodawcę o nowy kod QR.",
        "VP_INVALID_PRESENTATION_REQUEST": "Ten portfel nie potrafi odczytać tej prośby. Skopiuj cały link z kodu "
                                           "QR pracodawcy albo poproś go o nowy.",
        "VP_PRESENTATION_REQUEST_EXPIRED": "Ta prośba wygasła. Poproś pracodawcę o nowy kod QR.",
        "VP_PRESENTATION_REQUEST_GONE": "Pracodawca nie ma już tej prośby: wygasła albo już na nią odpowiedziano. "
                                        "Poproś pracodawcę o nowy kod QR.",
        "VP_VERIFIER_NOT_TRUSTED": "Portfel nie mógł potwierdzić, kto prosi, więc niczego nie wysłano. Nie "
                                   "odpowiadaj na tę prośbę; poproś pracodawcę o sprawdzenie kodu QR.",
        "VP_VERIFIER_UNREACHABLE": "Nie udało się połączyć z usługą pracodawcy. Spróbuj ponownie za kilka minut.",
        "VP_PRESENTATION_REQUEST_REFUSED": "Ta prośba wymaga czegoś, czego ten portfel nie potrafi, więc ją "
                                           "odrzucono i powiadomiono pracodawcę. Poproś pracodawcę o inną prośbę.",
        "VP_NOT_BOUND_TO_HOLDER_KEY": "Tego poświadczenia nie można przedstawić z tego portfela: nie jest "
                                      "powiązane z żadnym z Twoich kluczy. Wybierz inne poświadczenie albo odmów.",
        "VP_CREDENTIAL_DOES_NOT_MATCH": "Wybrane poświadczenie nie zawiera tego, o co prosi pracodawca. Wybierz "
                                        "inne albo odmów.",
        "VP_ANSWER_INCOMPLETE": "Pracodawca potrzebuje więcej, niż wybrano. Wybierz poświadczenie dla każdej "
                                "pozycji albo odmów.",
        "VP_INVALID_ANSWER": "Twój wybór nie pasuje do tej prośby. Otwórz prośbę ponownie i wybierz jeszcze raz.",
        "VP_REJECTED": "Usługa pracodawcy nie przyjęła Twojej odpowiedzi (na przykład prośba już wygasła). Poproś "
                       "pracodawcę o nowy kod QR.",
    },
    "de": {
        "search": "Ihre Nachweise durchsuchen", "search_hint": "Nach Titel, Aussteller oder Jahr.",
        "no_match": "Kein Nachweis passt zu Ihrer Suche.", "open": "Öffnen",
        "detail_h": "Nachweis", "back": "Zurück zur Liste", "elements": "Was der Nachweis aussagt",
        "downloads": "Herunterladen", "download_json": "Signierter Nachweis (JSON, Open Badges 3.0)",
        "download_sd-jwt": "SD-JWT VC", "download_edc": "Europass (EDC, .jsonld)", "download_pdf": "PDF",
        "share_this": "Diesen Nachweis teilen", "qr_alt": "QR-Code des Freigabelinks", "main_nav": "Wallet",
        "progress_of": "{gathered} von {needed} ECTS", "pathway": "Lernpfad", "status_label": "Status",
        "registry_issuer": "Aussteller (vom Vertrauensregister bestätigt)",
        "copy_hint": "Jede Person mit diesem Link oder QR-Code kann den Nachweis prüfen, bis Sie ihn zurückziehen.",
        "vp_h": "Auf eine Anfrage antworten", "vp_link": "Link der Anfrage",
        "vp_link_hint": "Fügen Sie den Link aus dem QR-Code des Arbeitgebers ein.", "vp_inspect": "Anfrage ansehen",
        "vp_who": "Angefragt von", "vp_verified": "(Identität durch Zertifikat bestätigt)",
        "vp_unverified": "(Identität NICHT bestätigt: Anfrage aus der Entwicklung)", "vp_purpose": "Zweck",
        "vp_choose": "Was Sie senden würden",
        "vp_none": "Keiner Ihrer Nachweise erfüllt diese Anfrage: Sie können sie ablehnen.",
        "vp_cannot": "Ihre Nachweise erfüllen nicht alles, was diese Anfrage verlangt, daher können Sie sie nur "
                     "ablehnen.",
        "vp_all_sent": "Jeder Nachweis wird mit allen darunter aufgeführten Angaben gesendet: Der Arbeitgeber hat "
                       "sie alle angefragt. Wenn Sie sie nicht teilen möchten, lehnen Sie ab.",
        "vp_one_of": "Senden Sie eine dieser Möglichkeiten:",
        "vp_optional": "Optional (der Arbeitgeber fragt auch danach):",
        "vp_skip": "Nicht senden", "vp_option": "Möglichkeit", "vp_variant": "Variante",
        "vp_send": "Senden", "vp_refuse": "Ablehnen", "vp_sent": "Gesendet. Der Arbeitgeber sieht jetzt das Ergebnis.",
        "vp_refused": "Abgelehnt. Der Arbeitgeber weiß jetzt, dass Sie abgelehnt haben.",
        "vp_returning": "Sie kommen zurück zur Seite, die angefragt hat…", "technical": "Technische Details",
        "VP_FAILED": "Auf die Anfrage konnte nicht geantwortet werden. Versuchen Sie es erneut; wenn es wieder "
                     "passiert, bitten Sie den Arbeitgeber um einen neuen QR-Code.",
        "VP_INVALID_PRESENTATION_REQUEST": "Diese Wallet kann diese Anfrage nicht lesen. Kopieren Sie den ganzen "
                                           "Link aus dem QR-Code des Arbeitgebers oder bitten Sie ihn um einen "
                                           "neuen.",
        "VP_PRESENTATION_REQUEST_EXPIRED": "Diese Anfrage ist abgelaufen. Bitten Sie den Arbeitgeber um einen neuen "
                                           "QR-Code.",
        "VP_PRESENTATION_REQUEST_GONE": "Der Arbeitgeber hat diese Anfrage nicht mehr: Sie ist abgelaufen oder "
                                        "wurde bereits beantwortet. Bitten Sie den Arbeitgeber um einen neuen "
                                        "QR-Code.",
        "VP_VERIFIER_NOT_TRUSTED": "Die Wallet konnte nicht bestätigen, wer anfragt, daher wurde nichts gesendet. "
                                   "Antworten Sie nicht auf diese Anfrage; bitten Sie den Arbeitgeber, seinen "
                                   "QR-Code zu prüfen.",
        "VP_VERIFIER_UNREACHABLE": "Der Dienst des Arbeitgebers war nicht erreichbar. Versuchen Sie es in einigen "
                                   "Minuten erneut.",
        "VP_PRESENTATION_REQUEST_REFUSED": "Diese Anfrage verlangt etwas, das diese Wallet nicht kann. Sie wurde "
                                           "daher abgelehnt und der Arbeitgeber wurde informiert. Bitten Sie den "
                                           "Arbeitgeber um eine andere Anfrage.",
        "VP_NOT_BOUND_TO_HOLDER_KEY": "Dieser Nachweis kann nicht aus dieser Wallet vorgelegt werden: Er ist mit "
                                      "keinem Ihrer Schlüssel hier verknüpft. Wählen Sie einen anderen Nachweis "
                                      "oder lehnen Sie ab.",
        "VP_CREDENTIAL_DOES_NOT_MATCH": "Der gewählte Nachweis enthält nicht, was der Arbeitgeber anfragt. Wählen "
                                        "Sie einen anderen oder lehnen Sie ab.",
        "VP_ANSWER_INCOMPLETE": "Der Arbeitgeber braucht mehr, als Sie gewählt haben. Wählen Sie für jeden Punkt "
                                "einen Nachweis oder lehnen Sie ab.",
        "VP_INVALID_ANSWER": "Ihre Auswahl passt nicht zu dieser Anfrage. Öffnen Sie die Anfrage erneut und wählen "
                             "Sie noch einmal.",
        "VP_REJECTED": "Der Dienst des Arbeitgebers hat Ihre Antwort nicht angenommen (zum Beispiel, weil die "
                       "Anfrage abgelaufen war). Bitten Sie den Arbeitgeber um einen neuen QR-Code.",
    },
    "fr": {
        "search": "Rechercher dans vos attestations", "search_hint": "Par intitulé, émetteur ou année.",
        "no_match": "Aucune attestation ne correspond à votre recherche.", "open": "Ouvrir",
        "detail_h": "Attestation", "back": "Retour à la liste", "elements": "Ce que dit l’attestation",
        "downloads": "Télécharger", "download_json": "Attestation signée (JSON, Open Badges 3.0)",
        "download_sd-jwt": "SD-JWT VC", "download_edc": "Europass (EDC, .jsonld)", "download_pdf": "PDF",
        "share_this": "Partager cette attestation", "qr_alt": "Code QR du lien de partage",
        "main_nav": "Portefeuille", "progress_of": "{gathered} sur {needed} ECTS", "pathway": "Parcours",
        "status_label": "Statut", "registry_issuer": "Émetteur (confirmé par le registre de confiance)",
        "copy_hint": "Toute personne disposant de ce lien ou de ce code QR peut vérifier l’attestation, jusqu’à ce "
                     "que vous retiriez le lien.",
        "vp_h": "Répondre à une demande", "vp_link": "Lien de la demande",
        "vp_link_hint": "Collez le lien du code QR de l’employeur.", "vp_inspect": "Voir la demande",
        "vp_who": "Demandé par", "vp_verified": "(identité confirmée par certificat)",
        "vp_unverified": "(identité NON confirmée\u00a0: demande de développement)", "vp_purpose": "Objet",
        "vp_choose": "Ce que vous enverriez",
        "vp_none": "Aucune de vos attestations ne répond à cette demande\u00a0: vous pouvez la refuser.",
        "vp_cannot": "Vos attestations ne couvrent pas tout ce qu’exige cette demande\u00a0: vous pouvez seulement "
                     "la refuser.",
        "vp_all_sent": "Chaque attestation est envoyée avec toutes les informations indiquées en dessous\u00a0: "
                       "l’employeur les a toutes demandées. Si vous ne voulez pas les partager, refusez.",
        "vp_one_of": "Envoyez l’une des options suivantes\u00a0:",
        "vp_optional": "Facultatif (l’employeur demande aussi ceci)\u00a0:",
        "vp_skip": "Ne pas envoyer", "vp_option": "Option", "vp_variant": "variante",
        "vp_send": "Envoyer", "vp_refuse": "Refuser", "vp_sent": "Envoyé. L’employeur voit maintenant le résultat.",
        "vp_refused": "Refusé. L’employeur a été informé de votre refus.",
        "vp_returning": "Retour à la page qui a fait la demande…", "technical": "Détails techniques",
        "VP_FAILED": "Impossible de répondre à la demande. Réessayez\u00a0; si le problème se reproduit, demandez un "
                     "nouveau code QR à l’employeur.",
        "VP_INVALID_PRESENTATION_REQUEST": "Ce portefeuille ne peut pas lire cette demande. Copiez le lien complet "
                                           "du code QR de l’employeur, ou demandez-lui-en un nouveau.",
        "VP_PRESENTATION_REQUEST_EXPIRED": "Cette demande a expiré. Demandez un nouveau code QR à l’employeur.",
        "VP_PRESENTATION_REQUEST_GONE": "L’employeur n’a plus cette demande\u00a0: elle a expiré ou a déjà reçu une "
                                        "réponse. Demandez un nouveau code QR à l’employeur.",
        "VP_VERIFIER_NOT_TRUSTED": "Le portefeuille n’a pas pu confirmer qui fait la demande, donc rien n’a été "
                                   "envoyé. Ne répondez pas à cette demande\u00a0; demandez à l’employeur de "
                                   "vérifier son code QR.",
        "VP_VERIFIER_UNREACHABLE": "Le service de l’employeur est injoignable. Réessayez dans quelques minutes.",
        "VP_PRESENTATION_REQUEST_REFUSED": "Cette demande exige quelque chose que ce portefeuille ne sait pas "
                                           "faire\u00a0: elle a donc été refusée et l’employeur en a été informé. "
                                           "Demandez à l’employeur de vous en adresser une autre.",
        "VP_NOT_BOUND_TO_HOLDER_KEY": "Cette attestation ne peut pas être présentée depuis ce portefeuille\u00a0: "
                                      "elle n’est liée à aucune de vos clés ici. Choisissez une autre attestation, "
                                      "ou refusez.",
        "VP_CREDENTIAL_DOES_NOT_MATCH": "L’attestation choisie ne contient pas ce que demande l’employeur. "
                                        "Choisissez-en une autre, ou refusez.",
        "VP_ANSWER_INCOMPLETE": "L’employeur a besoin de plus que ce que vous avez choisi. Choisissez une "
                                "attestation pour chaque élément, ou refusez.",
        "VP_INVALID_ANSWER": "Votre choix ne correspond pas à cette demande. Rouvrez la demande et refaites votre "
                             "choix.",
        "VP_REJECTED": "Le service de l’employeur n’a pas accepté votre réponse (par exemple, la demande avait "
                       "expiré). Demandez un nouveau code QR à l’employeur.",
    },
}
