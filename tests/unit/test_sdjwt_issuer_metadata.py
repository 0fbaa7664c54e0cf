"""JWT VC Issuer Metadata (SD-JWT VC draft 18 §3)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.sdjwt.issue import IssuerKey
from microcred.sdjwt.issuer_metadata import issuer_metadata, well_known_url
from microcred.sdjwt.jose import jwk_to_public_key, public_jwk


@pytest.mark.parametrize(("iss", "url"), [
    ("https://example.com", "https://example.com/.well-known/jwt-vc-issuer"),  # Figure 12
    ("https://example.com/tenant/1234", "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"),  # Figure 13
    ("https://example.com/tenant/1234/", "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"),
    ("https://example.com:8443/", "https://example.com:8443/.well-known/jwt-vc-issuer"),
])
def test_well_known_url_follows_the_spec_examples(iss: str, url: str) -> None:
    assert well_known_url(iss) == url


@pytest.mark.parametrize("iss", ["http://example.com", "https://example.com/?a=1", "https://example.com/#x",
                                 "did:web:example.com", "https://"])
def test_well_known_url_refuses_what_is_not_an_https_issuer(iss: str) -> None:
    with pytest.raises(ValueError):
        well_known_url(iss)


def test_metadata_lists_every_key_with_kid_alg_and_chain() -> None:
    keys = [IssuerKey("https://uni.example", ec.generate_private_key(ec.SECP256R1()), ("MIIB",)),
            IssuerKey("https://uni.example", ec.generate_private_key(ec.SECP384R1()), ())]
    document = issuer_metadata("https://uni.example", keys)
    assert document["issuer"] == "https://uni.example" and "jwks_uri" not in document
    first, second = document["jwks"]["keys"]
    assert first["alg"] == "ES256" and first["x5c"] == ["MIIB"] and first["use"] == "sig"
    assert second["alg"] == "ES384" and "x5c" not in second
    assert first["kid"] != second["kid"] and "d" not in first
    assert public_jwk(jwk_to_public_key(first)) == public_jwk(keys[0].key)
    assert issuer_metadata("https://uni.example", keys[:1])["jwks"]["keys"][0]["kid"] == first["kid"]  # stable


def test_a_key_of_another_issuer_is_not_published() -> None:
    key = IssuerKey("https://other.example", ec.generate_private_key(ec.SECP256R1()), ())
    with pytest.raises(ValueError):
        issuer_metadata("https://uni.example", [key])


def test_an_sd_jwt_vc_names_its_key_by_the_kid_the_metadata_publishes() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from microcred.sdjwt.issue import issue_sd_jwt_vc
    from microcred.sdjwt.issuer_metadata import key_id
    from microcred.sdjwt.jose import parse_jws

    unnamed = IssuerKey("https://uni.example", ec.generate_private_key(ec.SECP256R1()), ())
    named = replace(unnamed, kid=key_id(unnamed))
    [published] = issuer_metadata("https://uni.example", [named])["jwks"]["keys"]
    header = parse_jws(issue_sd_jwt_vc({}, issuer=named, vct="urn:x", now=datetime.now(UTC)).compact.split("~")[0],
                       max_length=10_000).header
    assert header["kid"] == published["kid"] == named.kid
    plain = issue_sd_jwt_vc({}, issuer=unnamed, vct="urn:x", now=datetime.now(UTC)).compact.split("~")[0]
    assert "kid" not in parse_jws(plain, max_length=10_000).header  # no kid set, none written
