"""PKCE S256 (RFC 7636) checks of microcred.oid4vci.pkce, against the RFC's own Appendix B example."""

from __future__ import annotations

import pytest

from microcred.oid4vci import pkce
from microcred.oid4vci.errors import OAuthError

# RFC 7636 Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc7636_appendix_b_example() -> None:
    assert pkce.s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE
    pkce.verify(RFC_VERIFIER, RFC_CHALLENGE)
    assert pkce.check_challenge(RFC_CHALLENGE, "S256") == RFC_CHALLENGE


def test_wrong_verifier_is_invalid_grant() -> None:
    other = "A" * 43
    with pytest.raises(OAuthError) as err:
        pkce.verify(other, RFC_CHALLENGE)
    assert err.value.error == "invalid_grant"


@pytest.mark.parametrize("verifier", [None, "", "a" * 42, "a" * 129, "a" * 42 + "!", "é" * 43])
def test_malformed_verifier_is_invalid_request(verifier: str | None) -> None:
    with pytest.raises(OAuthError) as err:
        pkce.verify(verifier, RFC_CHALLENGE)
    assert err.value.error == "invalid_request"


@pytest.mark.parametrize("method", [None, "plain", "s256", "S512"])
def test_only_s256_is_accepted(method: str | None) -> None:
    with pytest.raises(OAuthError) as err:
        pkce.check_challenge(RFC_CHALLENGE, method)
    assert err.value.error == "invalid_request"


@pytest.mark.parametrize("challenge", [None, "", RFC_CHALLENGE[:-1], RFC_CHALLENGE + "=", RFC_CHALLENGE + "A"])
def test_malformed_challenge_is_invalid_request(challenge: str | None) -> None:
    with pytest.raises(OAuthError) as err:
        pkce.check_challenge(challenge, "S256")
    assert err.value.error == "invalid_request"
