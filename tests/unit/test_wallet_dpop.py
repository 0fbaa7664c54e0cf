"""The wallet's DPoP session (RFC 9449 §8, §9), pure: which nonce goes into which proof, when a request is sent
again, and how a WWW-Authenticate header is read."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from services.wallet.domain.dpop import DpopSession, challenge_error
from services.wallet.domain.offers import IssuerReply

TOKEN, CREDENTIAL = "https://issuer.example/token", "https://issuer.example/credential"


def claims(proof: str | None) -> dict[str, object]:
    assert proof is not None
    header = jwt.get_unverified_header(proof)
    decoded: dict[str, object] = jwt.decode(proof, jwt.PyJWK(header["jwk"]).key, algorithms=["ES256"])
    return decoded


@pytest.mark.parametrize(("header", "error"), [
    ('DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
     "use_dpop_nonce"),  # RFC 9449 §9 example
    ('Bearer realm="x", error="invalid_token", DPoP algs="ES256 PS256", error="use_dpop_nonce"', "use_dpop_nonce"),
    ('dpop error=use_dpop_nonce', "use_dpop_nonce"),  # scheme case-insensitive, a token value
    ('DPoP error_description="a, b=\\"c\\"", error="invalid_dpop_proof"', "invalid_dpop_proof"),
    ('Bearer error="use_dpop_nonce"', None),  # another scheme's error is not DPoP's
    ('DPoP algs="ES256"', None),
    ("", None),
    ('"""=,,,\\', None),
    ("DPoP " + "a=b, " * 10_000 + 'error="use_dpop_nonce"', None),  # past the bound: not read
])
def test_the_dpop_challenge_is_read_from_www_authenticate(header: str, error: str | None) -> None:
    assert challenge_error(header) == error


def test_each_server_gets_its_own_latest_nonce_and_a_request_is_retried_only_for_a_new_one() -> None:
    session = DpopSession(ec.generate_private_key(ec.SECP256R1()), TOKEN)
    assert "nonce" not in claims(session.proof(TOKEN, None, 1))
    asked = IssuerReply(400, {"error": "use_dpop_nonce"}, dpop_nonce="as-1")
    assert session.learn(TOKEN, asked) is True
    assert claims(session.proof(TOKEN, None, 2))["nonce"] == "as-1"
    assert session.learn(TOKEN, asked) is False  # the same nonce again: sending once more would not help
    assert "nonce" not in claims(session.proof(CREDENTIAL, "at", 3))  # the resource server's are its own
    challenge = IssuerReply(401, None, dpop_nonce="rs-1", www_authenticate='DPoP error="use_dpop_nonce"')
    assert session.learn(CREDENTIAL, challenge) is True
    proof = claims(session.proof(CREDENTIAL, "at", 4))
    assert proof["nonce"] == "rs-1" and "ath" in proof
    # a fresh nonce on a successful answer is kept for the next proof, without a retry
    assert session.learn(CREDENTIAL, IssuerReply(200, {}, dpop_nonce="rs-2")) is False
    assert claims(session.proof(CREDENTIAL, "at", 5))["nonce"] == "rs-2"
    # a 401 for another reason, or a nonce outside the RFC's characters, asks for nothing
    assert session.learn(CREDENTIAL, IssuerReply(401, None, "rs-3", 'DPoP error="invalid_token"')) is False
    assert session.learn(CREDENTIAL, IssuerReply(401, None, "bad nonce", 'DPoP error="use_dpop_nonce"')) is False
    assert claims(session.proof(CREDENTIAL, "at", 6))["nonce"] == "rs-3"


def test_without_a_key_there_is_no_proof_and_no_retry() -> None:
    session = DpopSession(None, TOKEN)
    assert session.proof(TOKEN, None, 1) is None
    assert session.learn(TOKEN, IssuerReply(400, {"error": "use_dpop_nonce"}, dpop_nonce="n")) is False
    assert "active=False" in repr(session)
