"""Signed Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.3): the Accept rule, signing, the wallet's check and
the issuer's metadata-signing key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.crypto.keystore import InMemoryKeyStore
from microcred.oid4vci.metadata import credential_issuer_metadata
from microcred.oid4vci.signed_metadata import (
    TYP,
    SignedMetadataError,
    read_signed_issuer_metadata,
    sign_issuer_metadata,
    wants_signed,
)
from microcred.sdjwt.issue import IssuerKey
from microcred.sdjwt.jose import sign_jws
from microcred.sdjwt.x5c import load_certificates, x5c_header
from services.issuer.adapters.document_signing import METADATA_CERTIFICATE_DAYS, CertifiedDocumentSigning
from services.issuer.application.ports import DocumentSigningUnavailable

CI = "https://issuer.example.eu"
#: A fixed moment, every certificate valid around it: no test depends on how long after collection it runs.
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CA = pki.create_ca("Agency document-signing CA", agency="agency-ie", not_before=NOW - timedelta(days=30))
OTHER_CA = pki.create_ca("Someone else's CA", agency="agency-xx", not_before=NOW - timedelta(days=30))
ANCHORS = load_certificates(CA.cert_pem)


def key_for(identifier: str = CI, ca: pki.CertifiedKey = CA) -> IssuerKey:
    private = ec.generate_private_key(ec.SECP256R1())
    cert = pki.create_signing_cert(ca, issuer_uri=identifier, common_name="metadata", key=private,
                                   not_before=NOW - timedelta(days=1))
    return IssuerKey(identifier, private, tuple(x5c_header([cert.cert_pem])))


def metadata() -> dict[str, Any]:
    return credential_issuer_metadata(CI)


@pytest.mark.parametrize(("accept", "signed"), [
    (None, False), ("", False), ("application/json", False), ("*/*", False), ("text/html,*/*;q=0.8", False),
    ("application/jwt", True), ("application/jwt, application/json;q=0.9", True), ("APPLICATION/JWT", True),
    ("application/jwt, application/json", False), ("application/json, application/jwt", False),  # ties: JSON
    ("application/jwt;q=0.8, */*;q=0.8", False), ("application/jwt;q=0.9, */*;q=0.8", True),
    ("application/json, application/jwt;q=0.5", False), ("application/jwt;q=0", False),
    ("application/jwt;q=abc", False), ("application/jwt;q=2", False), ("application/jwt-x", False),
])
def test_the_signed_form_goes_only_to_a_client_naming_it(accept: str | None, signed: bool) -> None:
    assert wants_signed(accept) is signed


def test_signed_metadata_reads_back_as_the_document() -> None:
    token = sign_issuer_metadata(metadata(), key_for(), NOW)
    header = jwt.get_unverified_header(token)
    assert header["typ"] == TYP and header["alg"] == "ES256" and len(header["x5c"]) == 1
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == claims["iss"] == CI and claims["exp"] - claims["iat"] == 86400
    assert read_signed_issuer_metadata(token, CI, ANCHORS, NOW) == metadata()


def test_a_key_certified_for_another_identifier_does_not_sign() -> None:
    with pytest.raises(ValueError, match="credential_issuer"):
        sign_issuer_metadata(metadata(), key_for("https://other.example"), NOW)


def _forged(payload: dict[str, Any], key: IssuerKey | None = None, **header: Any) -> str:
    key = key or key_for()
    return sign_jws({"typ": TYP, "x5c": list(key.x5c), **header}, payload, key.key)


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {**metadata(), "sub": CI, "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(("token", "problem"), [
    (lambda: "not a jwt", "compact JWS"),
    (lambda: "é." * 3, "compact JWS"),
    (lambda: _forged(_claims(), typ="JWT"), "typ"),
    (lambda: _forged(_claims(), key=key_for(ca=OTHER_CA)), "x5c: CHAIN_UNTRUSTED"),
    (lambda: _forged(_claims(), key=key_for("https://other.example")), "does not name"),
    (lambda: _forged(_claims(), x5c=[]), "x5c"),
    (lambda: _forged(_claims(sub="https://other.example")), "sub"),
    (lambda: _forged(_claims(sub=None)), "sub"),
    (lambda: _forged(_claims(credential_issuer="https://other.example")), "credential_issuer"),
    (lambda: _forged(_claims(iat=None)), "iat"),
    (lambda: _forged(_claims(iat="now")), "iat"),
    (lambda: _forged(_claims(iat=int(NOW.timestamp()) + 3600)), "iat: is in the future"),
    (lambda: _forged(_claims(nbf=int(NOW.timestamp()) + 3600)), "nbf"),
    (lambda: _forged(_claims(exp=int(NOW.timestamp()) - 1)), "expired"),
])
def test_the_wallet_rejects(token: Any, problem: str) -> None:
    with pytest.raises(SignedMetadataError, match=problem):
        read_signed_issuer_metadata(token(), CI, ANCHORS, NOW)


def test_an_altered_payload_fails_the_signature() -> None:
    token = sign_issuer_metadata(metadata(), key_for(), NOW)
    head, _, signature = token.split(".")
    other = sign_issuer_metadata({**metadata(), "credential_endpoint": "https://evil.example/c"}, key_for(), NOW)
    with pytest.raises(SignedMetadataError, match="signature"):
        read_signed_issuer_metadata(f"{head}.{other.split('.')[1]}.{signature}", CI, ANCHORS, NOW)
    hs = jwt.encode(_claims(), "secret-secret-secret-secret-32by", algorithm="HS256",
                    headers={"typ": TYP, "x5c": list(key_for().x5c)})
    with pytest.raises(SignedMetadataError, match="alg"):
        read_signed_issuer_metadata(hs, CI, ANCHORS, NOW)
    assert read_signed_issuer_metadata(token, CI, ANCHORS, NOW)["credential_issuer"] == CI


def test_the_issuer_certifies_one_metadata_key_and_renews_it_before_it_lapses() -> None:
    documents = CertifiedDocumentSigning(InMemoryKeyStore(), CA)
    first = documents.metadata_key(CI, NOW)
    assert documents.metadata_key(CI, NOW + timedelta(days=1)) is first
    token = sign_issuer_metadata(metadata(), first, NOW + timedelta(days=1))
    assert read_signed_issuer_metadata(token, CI, ANCHORS, NOW + timedelta(days=1))["credential_issuer"] == CI
    late = NOW + timedelta(days=METADATA_CERTIFICATE_DAYS - 1)
    renewed = documents.metadata_key(CI, late)
    assert renewed is not first and renewed.x5c != first.x5c
    assert read_signed_issuer_metadata(sign_issuer_metadata(metadata(), renewed, late), CI, ANCHORS, late)
    assert documents.metadata_key("https://other.example", NOW).iss == "https://other.example"
    with pytest.raises(DocumentSigningUnavailable, match="document-signing CA"):
        CertifiedDocumentSigning(InMemoryKeyStore(), None).metadata_key(CI, NOW)
