"""Words of the wallet app added for issue 23 (search, detail, downloads, QR, progress bars), English and Polish.

Merged over :data:`services.wallet.api.i18n.LABELS` when the page is rendered; ``tests/unit/test_pages_i18n.py``
checks both languages have every key.
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
}
