"""Encrypted credential requests and responses (OpenID4VCI 1.0 §10): the shared JWE helpers, and how the issuer's
credential endpoint reads a request (encrypted or not, an encrypted response asked or not, encryption required or
not). The other side of every JWE is jwcrypto's, not the joserfc the product uses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK
from starlette.requests import Request

from microcred.oid4vci.encryption import (
    EncryptionKey,
    decrypt_message,
    encrypt_message,
    read_response_encryption,
)
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import credential_issuer_metadata
from services.issuer.api.oid4vci import _credential_body

KEY = EncryptionKey.fresh()


def jwcrypto_jwe(payload: Any, jwk: Any = None, **header: Any) -> str:
    recipient = jwk or KEY.jwk
    protected = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": recipient.get("kid"), **header}
    token = JWE(json.dumps(payload).encode(), protected=json.dumps({k: v for k, v in protected.items() if v}))
    token.add_recipient(JWK(**recipient))
    return str(token.serialize(compact=True))


def wallet_key() -> tuple[JWK, dict[str, Any]]:
    key = JWK.generate(kty="EC", crv="P-256")
    return key, {**json.loads(key.export_public()), "alg": "ECDH-ES", "kid": "w"}


def test_a_request_from_another_implementation_decrypts() -> None:
    body = {"credential_configuration_id": "c", "proofs": {"jwt": ["x"]}, "note": "é"}
    assert decrypt_message(jwcrypto_jwe(body), KEY.private, KEY.kid, "credential request") == body


@pytest.mark.parametrize(("header", "why"), [
    ({"enc": "A128CBC-HS256"}, "cannot be decrypted"),  # an enc not offered: refused before key agreement
    ({"alg": "ECDH-ES+A128KW"}, "cannot be decrypted"),
    ({"kid": "another"}, "another key"),
    ({"zip": "DEF"}, "uncompressed"),  # refused before anything is inflated
])
def test_a_request_encrypted_otherwise_is_refused_by_name(header: dict[str, Any], why: str) -> None:
    with pytest.raises(OAuthError) as caught:
        decrypt_message(jwcrypto_jwe({"a": 1}, **header), KEY.private, KEY.kid, "credential request")
    assert caught.value.error == "invalid_encryption_parameters" and why in caught.value.description


def test_to_another_key_or_not_json_is_refused() -> None:
    other = EncryptionKey.fresh()
    with pytest.raises(OAuthError, match="cannot be decrypted"):
        decrypt_message(jwcrypto_jwe({"a": 1}, dict(other.jwk), kid=KEY.kid), KEY.private, KEY.kid, "request")
    with pytest.raises(OAuthError) as caught:
        decrypt_message(jwcrypto_jwe([1, 2]), KEY.private, KEY.kid, "credential request")
    assert caught.value.error == "invalid_credential_request"
    with pytest.raises(OAuthError, match="compact JWE"):
        decrypt_message("x" * 3_000_000, KEY.private, KEY.kid, "credential request")


def test_a_response_decrypts_in_another_implementation() -> None:
    mine, public = wallet_key()
    wanted = read_response_encryption({"jwk": public, "enc": "A128GCM"})
    token = encrypt_message({"credentials": [{"credential": "c"}]}, wanted.jwk, wanted.enc)
    answer = JWE()
    answer.deserialize(token, key=mine)
    assert json.loads(answer.payload) == {"credentials": [{"credential": "c"}]}
    assert answer.jose_header == {**answer.jose_header, "alg": "ECDH-ES", "enc": "A128GCM", "kid": "w"}


@pytest.mark.parametrize("bad", [
    "not an object", {"enc": "A128GCM"}, {"jwk": {"kty": "EC"}, "enc": "A128GCM"},
    {"jwk": {**wallet_key()[1], "alg": "RSA-OAEP"}, "enc": "A128GCM"},
    {"jwk": wallet_key()[1], "enc": "A128CBC-HS256"}, {"jwk": wallet_key()[1], "enc": "A128GCM", "zip": "DEF"},
    {"jwk": {**wallet_key()[1], "crv": "P-384"}, "enc": "A128GCM"},
    {"jwk": {**wallet_key()[1], "x": "AAAA"}, "enc": "A128GCM"},  # not a point
    {"jwk": {**wallet_key()[1], "d": "AAAA"}, "enc": "A128GCM"},  # a private key
])
def test_a_response_key_that_could_not_be_used_is_refused_before_anything_is_issued(bad: Any) -> None:
    with pytest.raises(OAuthError) as caught:
        read_response_encryption(bad)
    assert caught.value.error == "invalid_encryption_parameters"


def test_metadata_offers_both_directions_only_with_a_key() -> None:
    plain = credential_issuer_metadata("https://i.example")
    assert "credential_request_encryption" not in plain and "credential_response_encryption" not in plain
    offered = credential_issuer_metadata("https://i.example", encryption_jwk=KEY.jwk, encryption_required=True)
    assert offered["credential_request_encryption"] == {"jwks": {"keys": [dict(KEY.jwk)]},
                                                        "enc_values_supported": ["A128GCM", "A256GCM"],
                                                        "encryption_required": True}
    assert offered["credential_response_encryption"]["encryption_required"] is True
    assert "d" not in KEY.jwk and KEY.jwk["alg"] == "ECDH-ES" and KEY.jwk["use"] == "enc"


# --------------------------------------------------------------------------------------------- the endpoint's reading


def request(body: bytes, media_type: str) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}
    scope = {"type": "http", "method": "POST", "path": "/oid4vci/credential", "query_string": b"",
             "headers": [(b"content-type", media_type.encode())]}
    return Request(scope, receive)


async def read(body: Any, *, encrypted: bool, key: EncryptionKey | None = KEY,
               required: bool = False) -> tuple[Any, Any]:
    raw = jwcrypto_jwe(body).encode() if encrypted else json.dumps(body).encode()
    return await _credential_body(request(raw, "application/jwt" if encrypted else "application/json"), key,
                                  required)


async def test_the_endpoint_reads_each_combination() -> None:
    _, public = wallet_key()
    asked = {"jwk": public, "enc": "A256GCM"}
    body, respond = await read({"transaction_id": "t"}, encrypted=False)
    assert body == {"transaction_id": "t"} and respond is None
    body, respond = await read({"transaction_id": "t"}, encrypted=True)
    assert body == {"transaction_id": "t"} and respond is None
    body, respond = await read({"transaction_id": "t", "credential_response_encryption": asked}, encrypted=True)
    assert body == {"transaction_id": "t"} and respond is not None and respond.enc == "A256GCM"
    body, respond = await read({"transaction_id": "t", "credential_response_encryption": asked}, encrypted=True,
                               required=True)
    assert respond is not None


@pytest.mark.parametrize(("body", "encrypted", "key", "required", "why"), [
    ({"credential_response_encryption": {}}, False, KEY, False, "only in an encrypted request"),
    ({"credential_response_encryption": {}}, False, None, False, "encrypts no credential responses"),
    ({"transaction_id": "t"}, True, None, False, "takes no encrypted credential requests"),
    ({"transaction_id": "t"}, False, KEY, True, "only encrypted credential requests"),
    ({"transaction_id": "t"}, True, KEY, True, "encrypts every credential response"),
])
async def test_the_endpoint_refuses_by_name(body: Any, encrypted: bool, key: EncryptionKey | None, required: bool,
                                            why: str) -> None:
    with pytest.raises(OAuthError) as caught:
        await read(body, encrypted=encrypted, key=key, required=required)
    assert caught.value.error == "invalid_encryption_parameters" and why in caught.value.description


def test_a_fresh_key_is_named_by_its_thumbprint() -> None:
    key = EncryptionKey.fresh()
    assert key.kid == JWK(**{k: key.jwk[k] for k in ("kty", "crv", "x", "y")}).thumbprint()
    assert "private" not in repr(key) and isinstance(key.private, ec.EllipticCurvePrivateKey)
