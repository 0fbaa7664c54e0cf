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
        "copy_hint": "Anyone with this link or QR code can check the credential until you withdraw it.",
    },
    "pl": {
        "search": "Szukaj w swoich poświadczeniach", "search_hint": "Po tytule, wystawcy lub roku.",
        "no_match": "Żadne poświadczenie nie pasuje do wyszukiwania.", "open": "Otwórz",
        "detail_h": "Poświadczenie", "back": "Wróć do listy", "elements": "Co zawiera poświadczenie",
        "downloads": "Pobierz", "download_json": "Podpisane poświadczenie (JSON, Open Badges 3.0)",
        "download_sd-jwt": "SD-JWT VC", "download_edc": "Europass (EDC, .jsonld)", "download_pdf": "PDF",
        "share_this": "Udostępnij to poświadczenie", "qr_alt": "Kod QR linku do udostępniania",
        "main_nav": "Portfel", "progress_of": "{gathered} z {needed} ECTS", "pathway": "Ścieżka",
        "status_label": "Status",
        "copy_hint": "Każdy, kto ma ten link lub kod QR, może sprawdzić poświadczenie, dopóki go nie wycofasz.",
    },
}
