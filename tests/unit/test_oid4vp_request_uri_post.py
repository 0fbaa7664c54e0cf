"""``request_uri_method=post`` (OpenID4VP 1.0 §5.10, microcred/oid4vp/request_uri_post.py): the wallet's form read
strictly, its nonce carried back in the request object, and the link that asks for the POST."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.oid4vp.request import ClientIdentity, authorization_link, build_request, request_object
from microcred.oid4vp.request_uri_post import MAX_FORM_BYTES, WalletFetchError, read_wallet_fetch
from microcred.sdjwt.jose import parse_jws

CLIENT = "x509_hash:abc"


def form(**members: str) -> bytes:
    return urlencode(members).encode()


def test_both_members_are_optional_and_read_as_sent() -> None:
    assert read_wallet_fetch(b"", CLIENT).wallet_nonce is None
    metadata = {"vp_formats_supported": {"dc+sd-jwt": {}}, "client_id_prefixes_supported": ["x509_hash"],
                "request_object_signing_alg_values_supported": ["ES256", "EdDSA"], "other": 1}
    fetch = read_wallet_fetch(form(wallet_nonce="n-1", wallet_metadata=json.dumps(metadata), extra="x"), CLIENT)
    assert fetch.wallet_nonce == "n-1" and fetch.wallet_metadata == metadata


@pytest.mark.parametrize(("body", "member"), [
    (form(wallet_nonce=""), "wallet_nonce"),
    (form(wallet_nonce="a\nb"), "wallet_nonce"),
    (form(wallet_nonce="é"), "wallet_nonce"),
    (form(wallet_nonce="n" * 513), "wallet_nonce"),
    (form(wallet_metadata="{"), "wallet_metadata"),
    (form(wallet_metadata='{"a": NaN}'), "wallet_metadata"),
    (form(wallet_metadata='"text"'), "wallet_metadata"),
    (form(wallet_metadata='{"client_id_prefixes_supported": "x509_hash"}'), "client_id_prefixes_supported"),
    (form(wallet_metadata='{"client_id_prefixes_supported": ["x509_san_dns"]}'), "client_id_prefixes_supported"),
    (form(wallet_metadata='{"request_object_signing_alg_values_supported": ["RS256"]}'),
     "request_object_signing_alg_values_supported"),
    (form(wallet_metadata='{"vp_formats_supported": []}'), "vp_formats_supported"),
    (b"wallet_nonce=a&wallet_nonce=b", "repeated"),
    (b"not a form", "not a form"),
    (b"\xff=1", "not a form"),
    (b"wallet_nonce=" + b"n" * MAX_FORM_BYTES, "too large"),
])
def test_a_form_to_refuse_names_what_is_wrong(body: bytes, member: str) -> None:
    with pytest.raises(WalletFetchError, match=member):
        read_wallet_fetch(body, CLIENT)


def test_an_unsigned_development_request_is_not_refused_for_its_algorithm() -> None:
    metadata = json.dumps({"request_object_signing_alg_values_supported": ["ES256"],
                           "client_id_prefixes_supported": ["redirect_uri"]})
    assert read_wallet_fetch(form(wallet_metadata=metadata), "redirect_uri:https://v.example/r").wallet_metadata


def test_the_nonce_is_signed_into_the_request_object_and_the_link_asks_for_a_post() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    identity = ClientIdentity("x509_san_dns:verifier.example", key, ("MIIB",))
    request = build_request(client_id=identity.client_id, response_uri="https://verifier.example/r/1",
                            response_mode="direct_post", dcql_query={"credentials": []}, now=1_000, lifetime=300,
                            encryption_jwk=None, request_id="1")
    signed = parse_jws(request_object(request, identity, "n-1"), max_length=100_000)
    assert signed.payload["wallet_nonce"] == "n-1"
    assert "wallet_nonce" not in parse_jws(request_object(request, identity), max_length=100_000).payload
    link = authorization_link(identity.client_id, "https://verifier.example/q/1", request_uri_method="post")
    assert parse_qs(urlsplit(link).query)["request_uri_method"] == ["post"]
    assert "request_uri_method" not in authorization_link(identity.client_id, "https://verifier.example/q/1")
    with pytest.raises(ValueError):
        authorization_link(identity.client_id, "https://verifier.example/q/1", request_uri_method="POST")
