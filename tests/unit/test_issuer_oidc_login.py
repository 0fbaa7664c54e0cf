"""The issuer's OpenID Connect relying-party pieces (services/issuer/adapters/oidc_login.py), issue 20.

ID tokens are made with joserfc, a JOSE library independent of the PyJWT the product verifies with; every
token is made at test time (iat a minute ago) so the real clock checks it.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey, RSAKey

from services.issuer.adapters.oidc_login import LoginRejected, authorization_url, new_login, verify_id_token

ISSUER = "https://login.example.test"
CLIENT = "microcred-issuer"


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})


def _jwks(*keys: Any) -> dict[str, Any]:
    return KeySet(list(keys)).as_dict(private=False)


def _token(key: Any, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": CLIENT, "sub": "learner-42", "nonce": "n-1",
                              "iat": now - 60, "exp": now + 600}
    claims.update(overrides)
    for name in [k for k, v in claims.items() if v is None]:
        del claims[name]
    header = {"alg": alg, "kid": key.kid} if key.kid else {"alg": alg}
    return jose_jwt.encode(header, claims, key, algorithms=[alg])


def test_a_valid_id_token_gives_its_claims(rsa_key: RSAKey) -> None:
    claims = verify_id_token(_token(rsa_key), _jwks(rsa_key), ISSUER, CLIENT, "n-1")
    assert claims["sub"] == "learner-42"


def test_ed25519_and_p256_id_tokens_verify() -> None:
    okp = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    jwks = _jwks(okp, ec)
    assert verify_id_token(_token(okp, "EdDSA"), jwks, ISSUER, CLIENT, "n-1")["sub"] == "learner-42"
    assert verify_id_token(_token(ec, "ES256"), jwks, ISSUER, CLIENT, "n-1")["sub"] == "learner-42"


@pytest.mark.parametrize(("overrides", "what"), [
    ({"aud": "another-client"}, "InvalidAudience"),
    ({"iss": "https://evil.example.test"}, "InvalidIssuer"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "Expired"),
    ({"nonce": "someone-elses"}, "nonce"),
    ({"nonce": None}, "nonce"),
    ({"sub": None}, "sub"),
])
def test_a_wrong_claim_is_access_denied(rsa_key: RSAKey, overrides: dict[str, Any], what: str) -> None:
    with pytest.raises(LoginRejected) as caught:
        verify_id_token(_token(rsa_key, **overrides), _jwks(rsa_key), ISSUER, CLIENT, "n-1")
    assert caught.value.error == "access_denied"
    assert what in caught.value.description


def test_several_audiences_need_azp_for_this_client(rsa_key: RSAKey) -> None:
    token = _token(rsa_key, aud=[CLIENT, "other"])
    with pytest.raises(LoginRejected, match="azp"):
        verify_id_token(token, _jwks(rsa_key), ISSUER, CLIENT, "n-1")
    assert verify_id_token(_token(rsa_key, aud=[CLIENT, "other"], azp=CLIENT), _jwks(rsa_key), ISSUER, CLIENT, "n-1")


def test_a_signature_by_a_key_outside_the_jwks_is_refused(rsa_key: RSAKey) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})  # same kid, other key
    with pytest.raises(LoginRejected, match="InvalidSignature"):
        verify_id_token(_token(stranger), _jwks(rsa_key), ISSUER, CLIENT, "n-1")


def test_hmac_and_none_are_refused(rsa_key: RSAKey) -> None:
    secret = OctKey.generate_key(256, parameters={"kid": "rsa-1"})
    with pytest.raises(LoginRejected, match="asymmetric"):
        verify_id_token(_token(secret, "HS256"), _jwks(rsa_key), ISSUER, CLIENT, "n-1")
    with pytest.raises(LoginRejected):
        verify_id_token("not-a-jwt", _jwks(rsa_key), ISSUER, CLIENT, "n-1")


def test_the_authorization_request_carries_state_nonce_and_pkce_s256() -> None:
    attempt = new_login("{}", "offer-1", "https://issuer.example")
    query = parse_qs(urlsplit(authorization_url(f"{ISSUER}/auth", CLIENT, "https://issuer/cb", attempt)).query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert query["state"] == [attempt.state] and query["nonce"] == [attempt.nonce]
    expected = base64.urlsafe_b64encode(hashlib.sha256(attempt.code_verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == [expected.decode()]
    assert "openid" in query["scope"][0].split()
    assert len(attempt.code_verifier) >= 43 and new_login("{}", "x", "https://issuer.example").state != attempt.state
