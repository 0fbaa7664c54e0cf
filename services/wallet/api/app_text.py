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
        "vp_h": "Respond to a request", "vp_link": "Request link (openid4vp://)",
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
        "vp_refused": "Refused. The employer was told you declined.", "vp_rejected": "The employer did not accept it:",
        "vp_returning": "Taking you back to the page that asked…",
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
        "vp_h": "Odpowiedz na prośbę", "vp_link": "Link prośby (openid4vp://)",
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
        "vp_refused": "Odmówiono. Pracodawca wie, że odmówiłeś.", "vp_rejected": "Pracodawca tego nie przyjął:",
        "vp_returning": "Wracasz na stronę, która prosiła…",
    },
}
