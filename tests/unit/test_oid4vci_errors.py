"""OAuth error bodies (RFC 6749 §5.2, OpenID4VCI 1.0 §8.3.1.2): an ``error_description`` holds only
``%x20-21 / %x23-5B / %x5D-7E``, whatever a check wrote into it."""

from __future__ import annotations

import re

import pytest

from microcred.oid4vci.authorization import PushedRequest
from microcred.oid4vci.errors import OAuthError, error_description
from services.issuer.application.oid4vci_authorization import _denied

ALLOWED = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")


@pytest.mark.parametrize(("written", "sent"), [
    ("the proof's nonce is unknown", "the proof's nonce is unknown"),  # already fine: as it is
    ('credential_response_encryption comes only in an encrypted request (OpenID4VCI §8.2)',
     "credential_response_encryption comes only in an encrypted request (OpenID4VCI section 8.2)"),
    ('proofs must be {"jwt": [1..10 key proofs]}', "proofs must be {'jwt': [1..10 key proofs]}"),
    ("a path C:\\wallet", "a path C:/wallet"),
    ("the award \u201cEnglish B2\u201d \u2014 refused\u2026", "the award 'English B2' - refused..."),
    ("Kraków", "Krakow"),  # an accented letter is its letter
    ("名前 and Ω", "?? and ?"),  # other scripts are '?'
    ("line\nbreak\tand\x00nul\x7f", "line break and?nul?"),
    ("full\uff02width", "full'width"),  # a full-width quotation mark is a quotation mark, then "'"
])
def test_an_error_description_holds_only_the_characters_rfc_6749_allows(written: str, sent: str) -> None:
    body = OAuthError("invalid_request", written).body()
    assert body == {"error": "invalid_request", "error_description": sent}
    assert ALLOWED.fullmatch(body["error_description"])
    assert error_description(written) == sent


def test_any_text_comes_out_in_the_allowed_set() -> None:
    every = "".join(chr(c) for c in range(0x3000)) + "\U0001f600"
    assert ALLOWED.fullmatch(error_description(every))


def test_an_authorization_error_redirected_to_the_wallet_is_sanitised_too() -> None:
    """RFC 6749 §4.1.2.1 sets the same characters for the redirect's error_description."""
    request = PushedRequest("wallet", "https://wallet.example/cb", "c" * 43, "st", "", "", "")
    location = _denied(request, "https://issuer.example", 'the offer "x" is §-withdrawn').location
    assert "error_description=the+offer+%27x%27+is+section+-withdrawn" in location
