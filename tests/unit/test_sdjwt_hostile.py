"""Hostile SD-JWT input: any mutation of a real presentation gives a result with named checks, never an
exception; a changed Issuer-signed JWT never passes the signature check, and no mutation leaves every check valid
(base64url is canonical, so not even the unused bits of a signature's last character may change)."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred import pki
from microcred.sdjwt.claims import micro_credential_claims, read_micro_credential
from microcred.sdjwt.core import key_binding_jwt, split_sd_jwt
from microcred.sdjwt.issue import IssuerKey, StatusReference, issue_micro_credential
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.result import CheckStatus
from microcred.sdjwt.verify import VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import load_certificates, x5c_header
from tests.harness.factories import valid_micro_credential

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
_CA = pki.create_ca("Agency CA", agency="agency-ie")
_CERT = pki.create_signing_cert(_CA, issuer_uri="https://uniz.example/issuer", common_name="Uni")
_KEY = serialization.load_pem_private_key(_CERT.key_pem, password=None)
assert isinstance(_KEY, ec.EllipticCurvePrivateKey)
_HOLDER = ec.generate_private_key(ec.SECP256R1())
_ISSUED = issue_micro_credential(valid_micro_credential(), now=NOW, holder_jwk=public_jwk(_HOLDER),
                                 status=StatusReference("https://uniz.example/status/1", 9),
                                 issuer=IssuerKey("https://uniz.example/issuer", _KEY,
                                                  tuple(x5c_header([_CERT.cert_pem]))))
_PARTS = split_sd_jwt(_ISSUED.compact)
PRESENTATION = _PARTS.serialize() + key_binding_jwt(_PARTS, _HOLDER, nonce="n", aud="https://v",
                                                    iat=int(NOW.timestamp()))
POLICY = VerifierPolicy(trust_anchors=load_certificates(_CA.cert_pem), expected_nonce="n", expected_aud="https://v")
SIGNED_PART = PRESENTATION.split(".")[0] + "." + PRESENTATION.split(".")[1]  # header.payload of the issuer JWT
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~=+/ \"{}[]:,\\\x00é"


def test_the_unaltered_presentation_is_valid() -> None:
    result = verify_sd_jwt_vc(PRESENTATION, POLICY, NOW)
    assert all(c.status is CheckStatus.VALID for c in result.checks)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(st.lists(st.tuples(st.integers(0, len(PRESENTATION) - 1), st.sampled_from(ALPHABET)), min_size=1,
                max_size=4))
def test_mutations_are_reported_never_raised(edits: list[tuple[int, str]]) -> None:
    text = list(PRESENTATION)
    for position, char in edits:
        text[position] = char
    mutated = "".join(text)
    result = verify_sd_jwt_vc(mutated, POLICY, NOW)
    assert result.checks and result.checks[0].id == "format"
    assert all(c.reason_code for c in result.checks)
    if mutated == PRESENTATION:
        return
    if not mutated.startswith(SIGNED_PART + "."):
        signature = result.check("signature")
        assert signature is None or signature.status is not CheckStatus.VALID
    # whatever changed (signature, a Disclosure, the KB-JWT), the presentation is no longer entirely valid
    assert any(c.status is not CheckStatus.VALID for c in result.checks)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["\ud800", "2000-13-45", "2025-03-14T10:00:00Z", "x" * 3]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["value", "code", "uri", "text", "text_i18n", "legal_name", "legal_name_i18n", "identifiers", "links"]),
        children, max_size=4),
    max_leaves=12)
_NAMES = [*sorted(micro_credential_claims(valid_micro_credential())), "nbf", "exp", "achievement_title_i18n"]
_CLAIMS = st.dictionaries(st.sampled_from(_NAMES), _JSON, max_size=12)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(_CLAIMS)
def test_reading_claims_back_never_raises(claims: dict[str, object]) -> None:
    read_micro_credential(claims)
