"""OpenID4VP request objects: x509_san_dns and x509_hash signed under the platform PKI, redirect_uri unsecured,
the link."""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.oid4vp.request import (
    REQUEST_TYP,
    SIOP_AUD,
    ClientIdentity,
    PresentationRequest,
    authorization_link,
    build_request,
    request_object,
)
from microcred.sdjwt.jose import b64url_decode, strict_json_loads
from microcred.sdjwt.x5c import x5c_header

QUERY = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}
RESPONSE_URI = "https://verifier.example/oid4vp/response/r1"


def identity() -> tuple[ClientIdentity, x509.Certificate]:
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri="https://verifier.example", common_name="Verifier",
                                   not_before=now - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    leaf = x509.load_pem_x509_certificate(cert.cert_pem)
    return ClientIdentity.x509_san_dns("verifier.example", key, x5c_header([cert.cert_pem])), leaf


def test_an_x509_san_dns_request_object_is_signed_by_the_certificate_naming_the_host() -> None:
    ident, leaf = identity()
    now = int(dt.datetime.now(dt.UTC).timestamp())
    enc = {"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1", "use": "enc", "alg": "ECDH-ES"}
    request = build_request(client_id=ident.client_id, response_uri=RESPONSE_URI, response_mode="direct_post.jwt",
                            dcql_query=QUERY, now=now, lifetime=300, encryption_jwk=enc)
    token = request_object(request, ident)
    header = jwt.get_unverified_header(token)
    assert header["typ"] == REQUEST_TYP and header["alg"] == "ES256" and len(header["x5c"]) == 1
    claims = jwt.decode(token, leaf.public_key(), algorithms=["ES256"], audience=SIOP_AUD)  # type: ignore[arg-type]
    assert claims["client_id"] == "x509_san_dns:verifier.example" and claims["response_type"] == "vp_token"
    assert claims["nonce"] == request.nonce and claims["state"] == request.state and claims["dcql_query"] == QUERY
    assert claims["client_metadata"]["jwks"]["keys"] == [enc]
    assert claims["client_metadata"]["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "verifier.example" in sans.get_values_for_type(x509.DNSName)
    assert PresentationRequest.from_dict(request.to_dict()) == request


def test_an_x509_hash_identity_is_named_by_the_sha256_of_its_leaf_and_signs_alike() -> None:
    san_dns, leaf = identity()
    assert san_dns.key is not None
    ident = ClientIdentity.x509_hash(san_dns.key, san_dns.x5c)
    fingerprint = base64.urlsafe_b64encode(leaf.fingerprint(hashes.SHA256())).rstrip(b"=").decode()
    assert ident.client_id == f"x509_hash:{fingerprint}" and ident.signed and ident.x5c == san_dns.x5c
    assert len(fingerprint) == 43 and "=" not in ident.client_id  # base64url, unpadded
    now = int(dt.datetime.now(dt.UTC).timestamp())
    request = build_request(client_id=ident.client_id, response_uri=RESPONSE_URI, response_mode="direct_post",
                            dcql_query=QUERY, now=now, lifetime=300)
    token = request_object(request, ident)
    assert jwt.get_unverified_header(token)["x5c"] == list(san_dns.x5c)
    claims = jwt.decode(token, leaf.public_key(), algorithms=["ES256"], audience=SIOP_AUD)  # type: ignore[arg-type]
    assert claims["client_id"] == claims["iss"] == ident.client_id
    with pytest.raises(ValueError, match="another client identifier"):
        request_object(request, san_dns)
    with pytest.raises(ValueError):
        ClientIdentity.x509_hash(san_dns.key, ())


def test_nonces_and_states_are_fresh_and_long() -> None:
    made = [build_request(client_id="redirect_uri:" + RESPONSE_URI, response_uri=RESPONSE_URI,
                          response_mode="direct_post", dcql_query=QUERY, now=0, lifetime=60) for _ in range(50)]
    values = {v for r in made for v in (r.nonce, r.state, r.request_id)}
    assert len(values) == 150 and all(len(v) >= 43 for v in values)


def test_a_redirect_uri_request_is_unsecured() -> None:
    ident = ClientIdentity.redirect_uri(RESPONSE_URI)
    request = build_request(client_id=ident.client_id, response_uri=RESPONSE_URI, response_mode="direct_post",
                            dcql_query=QUERY, now=0, lifetime=60)
    head, body, signature = request_object(request, ident).split(".")
    assert strict_json_loads(b64url_decode(head)) == {"alg": "none", "typ": REQUEST_TYP}
    assert signature == "" and strict_json_loads(b64url_decode(body))["client_id"] == "redirect_uri:" + RESPONSE_URI
    assert "jwks" not in strict_json_loads(b64url_decode(body))["client_metadata"]


def test_bad_requests_and_identities_are_refused() -> None:
    with pytest.raises(ValueError, match="response_mode"):
        build_request(client_id="c", response_uri=RESPONSE_URI, response_mode="fragment", dcql_query=QUERY, now=0,
                      lifetime=1)
    with pytest.raises(ValueError, match="encryption key"):
        build_request(client_id="c", response_uri=RESPONSE_URI, response_mode="direct_post.jwt", dcql_query=QUERY,
                      now=0, lifetime=1)
    with pytest.raises(ValueError):
        ClientIdentity.redirect_uri("openid4vp://x")
    ident, _ = identity()
    with pytest.raises(ValueError):
        ClientIdentity.x509_san_dns("https://verifier.example", ident.key, ident.x5c)  # type: ignore[arg-type]
    request = build_request(client_id="other", response_uri=RESPONSE_URI, response_mode="direct_post",
                            dcql_query=QUERY, now=0, lifetime=1)
    with pytest.raises(ValueError, match="another client"):
        request_object(request, ident)


def test_the_link_carries_client_id_and_request_uri_only() -> None:
    link = authorization_link("x509_san_dns:verifier.example", "https://verifier.example/oid4vp/request/abc")
    parts = urlsplit(link)
    assert parts.scheme == "openid4vp"
    assert parse_qs(parts.query) == {"client_id": ["x509_san_dns:verifier.example"],
                                     "request_uri": ["https://verifier.example/oid4vp/request/abc"]}
