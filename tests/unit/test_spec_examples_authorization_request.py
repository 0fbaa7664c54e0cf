"""OpenID4VP 1.0's Authorization Request examples (§5.1 "Examples", §5.9.3, §5.10, §8.3, Appendix A.2) as our wallet
reads them: the links (request_uri with request_uri_method post; by value, which it does not take), the request
objects for each client identifier prefix, and the response modes (direct_post, direct_post.jwt, dc_api,
dc_api.jwt). Request objects that must be signed are signed here under a test CA with a certificate naming the
example's host: the examples publish payloads, not keys. Fixtures: tests/fixtures/spec_examples/README.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.sdjwt.jose import b64url_encode, compact_json, sign_jws
from microcred.sdjwt.x5c import load_certificates, x5c_header
from services.wallet.domain.presentations_oid4vp import (
    PresentationRequestError,
    RefusedRequest,
    answer_encryption,
    check_request_object,
    parse_link,
)
from tests.spec_examples import example_json, example_link

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WALLET = "https://wallet.example"


def signer(host: str) -> tuple[ec.EllipticCurvePrivateKey, list[str], tuple[x509.Certificate, ...]]:
    ca = pki.create_ca("Verifiers CA", not_before=NOW - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{host}", common_name=host,
                                   not_before=NOW - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key, x5c_header([cert.cert_pem]), tuple(load_certificates(ca.cert_pem))


def signed(claims: dict[str, Any], host: str) -> tuple[str, tuple[x509.Certificate, ...]]:
    key, chain, anchors = signer(host)
    return sign_jws({"typ": "oauth-authz-req+jwt", "x5c": chain}, claims, key), anchors


def unsigned(claims: dict[str, Any]) -> str:
    header = {"typ": "oauth-authz-req+jwt", "alg": "none"}
    return f"{b64url_encode(compact_json(header))}.{b64url_encode(compact_json(claims))}."


def refused(token: str, client_id: str, anchors: tuple[x509.Certificate, ...] = (),
            wallet_nonce: str | None = None) -> PresentationRequestError:
    with pytest.raises(PresentationRequestError) as caught:
        check_request_object(token, client_id, anchors, NOW, wallet_nonce)
    return caught.value


def test_the_request_by_reference_with_request_uri_method_post() -> None:
    link = parse_link(example_link("openid4vp", "authorization_request_by_reference.txt", WALLET))
    assert link.client_id == "x509_san_dns:client.example.org"
    assert link.request_uri == "https://client.example.org/request/vapof4ql2i7m41m68uep"
    assert link.request_uri_method == "post"


def test_the_request_object_served_to_the_post_is_accepted_with_the_wallet_nonce() -> None:
    claims = example_json("openid4vp", "request_object_request_uri_post.json")
    token, anchors = signed(claims, "client.example.org")
    request = check_request_object(token, claims["client_id"], anchors, NOW, "qPmxiNFCR3QTm19POc8u")
    assert request.verified and request.host == "client.example.org"
    assert (request.response_mode, request.response_uri) == ("direct_post", "https://client.example.org/post")
    assert request.nonce == "n-0S6_WzA2Mj" and request.state == "eyJhb...6-sVA"
    assert request.query.credentials[0].vct_values == ("https://credentials.example.com/identity_credential",)
    # the nonce this wallet sent for another fetch is not this one (§5.10.1: "MUST terminate")
    assert refused(token, claims["client_id"], anchors, "another-nonce").field == "request.wallet_nonce"


def test_the_x509_hash_example_identifier_names_another_certificate() -> None:
    client_id = "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk"  # §5.9.3's example
    link = parse_link(f"openid4vp://?client_id={client_id}&request_uri=https://client.example.org/r")
    assert link.client_id == client_id
    claims = {**example_json("openid4vp", "request_object_request_uri_post.json"), "client_id": client_id}
    token, anchors = signed(claims, "client.example.org")
    assert "x509_hash" in refused(token, client_id, anchors).problem


def test_requests_by_value_are_refused_by_name() -> None:
    """§5.1's URL-encoded request and request object by value: this wallet takes requests by reference only
    (HAIP 1.0: signed request objects by reference)."""
    for name, field in (("authorization_request_parameters.txt", "link.request_uri"),
                        ("authorization_request_by_value.txt", "link.request")):
        with pytest.raises(PresentationRequestError) as caught:
            parse_link(example_link("openid4vp", name, WALLET))
        assert caught.value.field == field, name


def test_the_redirect_uri_request_object_is_refused_for_its_response_mode() -> None:
    """§5.1's decoded request object: ``redirect_uri:`` prefix, no response_mode (so a fragment response to a
    ``redirect_uri``). It is shown as RS256-signed, which that prefix forbids (§5.9.3); read here unsigned. This
    wallet answers redirect_uri: verifiers only by direct_post to the client identifier's URI."""
    claims = example_json("openid4vp", "request_object_redirect_uri.json")
    error = refused(unsigned(claims), claims["client_id"])
    assert error.field == "request.response_uri"
    with_mode = {**claims, "response_mode": "direct_post", "response_uri": "https://client.example.org/cb"}
    error = refused(unsigned(with_mode), claims["client_id"])  # redirect_uri is not allowed with direct_post
    assert isinstance(error, RefusedRequest) and error.field == "request.redirect_uri"
    assert error.error == "invalid_request"


@pytest.mark.parametrize("client_id", [
    "decentralized_identifier:did:example:123", "verifier_attestation:verifier.example",
    "openid_federation:https://federation-verifier.example.com",
])
def test_prefixes_this_wallet_cannot_authenticate_are_refused_by_name(client_id: str) -> None:
    with pytest.raises(PresentationRequestError) as caught:
        parse_link(f"openid4vp://?client_id={client_id}&request_uri=https://client.example.org/r")
    assert caught.value.field == "link.client_id"


def test_the_decentralized_identifier_request_object_is_refused_by_its_prefix() -> None:
    claims = example_json("openid4vp", "request_object_client_id_did.json")
    header = example_json("openid4vp", "request_header_client_id_did.json")
    token = f"{b64url_encode(compact_json(header))}.{b64url_encode(compact_json(claims))}.c2ln"
    assert refused(token, claims["client_id"]).field == "client_id"


def test_direct_post_jwt_takes_the_p256_key_and_gcm_of_the_encrypted_response_example() -> None:
    """§8.3's request offers four keys (P-256, X25519, P-384, X448) and A128GCM or A128CBC-HS256: the answer is
    encrypted to the P-256 key with A128GCM."""
    claims = example_json("openid4vp", "request_object_encrypted_response.json")
    key, enc = answer_encryption(claims)
    assert (key["kid"], key["crv"], enc) == ("ac", "P-256", "A128GCM")
    as_direct_post_jwt = {**example_json("openid4vp", "request_object_request_uri_post.json"),
                          "response_mode": "direct_post.jwt", "client_metadata": claims["client_metadata"]}
    token, anchors = signed(as_direct_post_jwt, "client.example.org")
    request = check_request_object(token, as_direct_post_jwt["client_id"], anchors, NOW)
    assert request.response_mode == "direct_post.jwt" and answer_encryption(request.claims)[0]["kid"] == "ac"


@pytest.mark.parametrize("name", ["signed_request_payload_compact.json", "request_object_encrypted_response.json"])
def test_dc_api_requests_are_refused_for_their_response_mode(name: str) -> None:
    """Appendix A's Digital Credentials API requests (dc_api, dc_api.jwt) come through a browser API this wallet
    is not reachable by; served at a request_uri they are refused, naming the response mode."""
    claims = {"client_id": "x509_san_dns:rp.example.com", **example_json("openid4vp", name)}
    token, anchors = signed(claims, "rp.example.com")
    error = refused(token, "x509_san_dns:rp.example.com", anchors)
    assert error.field == "request.response_mode" and claims["response_mode"] in ("dc_api", "dc_api.jwt")
