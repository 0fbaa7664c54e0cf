"""Our wallet's side of encrypted credential requests and responses (OpenID4VCI 1.0 §10), read from the
specification's own long Credential Issuer Metadata (tests/fixtures/oid4vci/SOURCES.md), which requires both;
the issuer's side of each JWE here is jwcrypto's, not the joserfc the wallet uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK

from services.wallet.domain.credential_encryption import (
    EncryptionUnsupported,
    IssuerEncryption,
    UnreadableAnswer,
    issuer_encryption,
    open_answer,
    seal_request,
)
from services.wallet.domain.issuer_metadata import parse_issuer_metadata
from services.wallet.domain.offers import UNSUPPORTED, OfferError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oid4vci"
SPEC = json.loads((FIXTURES / "credential_issuer_metadata_sd_jwt_long.json").read_text())


def test_the_specifications_metadata_is_read_with_encryption_both_ways() -> None:
    read = parse_issuer_metadata(SPEC, "https://credential-issuer.example.com")
    assert read.encryption is not None
    assert read.encryption.key["kid"] == "ac" and read.encryption.enc == "A128GCM"  # the one enc it offers
    assert read.encryption.response_enc == "A128GCM"
    assert read.deferred_credential_endpoint == "https://credential-issuer.example.com/deferred_credential"


def issuer_key() -> tuple[JWK, dict[str, Any]]:
    key = JWK.generate(kty="EC", crv="P-256")
    return key, {**json.loads(key.export_public()), "kid": "iss-1", "use": "enc", "alg": "ECDH-ES"}


def metadata(key: dict[str, Any], *, request: dict[str, Any] | None = None, response: dict[str, Any] | None = None,
             required: bool = False) -> dict[str, Any]:
    return {"credential_request_encryption": {"jwks": {"keys": [key]}, "enc_values_supported": ["A128GCM", "A256GCM"],
                                              "encryption_required": required, **(request or {})},
            "credential_response_encryption": {"alg_values_supported": ["ECDH-ES"],
                                               "enc_values_supported": ["A128GCM", "A256GCM"],
                                               "encryption_required": required, **(response or {})}}


def test_a_request_sealed_for_the_issuer_opens_there_and_the_answer_opens_here() -> None:
    private, public = issuer_key()
    encryption = issuer_encryption(metadata(public))
    assert encryption == IssuerEncryption(public, "A256GCM", "A256GCM")  # HAIP: A256GCM when both
    sealed, mine = seal_request(encryption, {"transaction_id": "t-1"})
    assert mine is not None
    received = JWE()
    received.deserialize(sealed, key=private)
    assert received.jose_header["kid"] == "iss-1" and received.jose_header["enc"] == "A256GCM"
    request = json.loads(received.payload)
    asked = request.pop("credential_response_encryption")
    assert request == {"transaction_id": "t-1"} and asked["enc"] == "A256GCM" and asked["jwk"]["alg"] == "ECDH-ES"
    assert "d" not in asked["jwk"]
    answer = JWE(json.dumps({"credentials": [{"credential": "c"}]}).encode(),
                 protected=json.dumps({"alg": "ECDH-ES", "enc": "A256GCM", "kid": asked["jwk"]["kid"]}))
    answer.add_recipient(JWK(**asked["jwk"]))
    opened = open_answer(200, "application/jwt", answer.serialize(compact=True), mine)
    assert opened == {"credentials": [{"credential": "c"}]}
    # an error comes in clear; a success in clear, once an encrypted one was asked, is refused
    assert open_answer(400, "application/json", {"error": "invalid_proof"}, mine) == {"error": "invalid_proof"}
    with pytest.raises(UnreadableAnswer, match="in clear"):
        open_answer(200, "application/json", {"credentials": []}, mine)
    with pytest.raises(UnreadableAnswer, match="cannot be decrypted"):
        open_answer(202, "application/jwt", sealed, mine)  # not to the wallet's key


def test_without_response_encryption_on_offer_only_the_request_is_sealed() -> None:
    _, public = issuer_key()
    encryption = issuer_encryption(metadata(public, response={"alg_values_supported": ["RSA-OAEP-256"]}))
    assert encryption is not None and encryption.response_enc is None
    sealed, mine = seal_request(encryption, {"a": 1})
    assert mine is None and sealed.count(".") == 4
    assert open_answer(200, "application/json", {"credentials": []}, None) == {"credentials": []}


@pytest.mark.parametrize("change", [
    {"kty": "RSA"}, {"crv": "P-384"}, {"alg": "ECDH-ES+A128KW"}, {"kid": None}, {"use": "sig"},
])
def test_a_key_this_wallet_cannot_use_means_clear_unless_encryption_is_required(change: dict[str, Any]) -> None:
    _, public = issuer_key()
    key = {k: v for k, v in {**public, **change}.items() if v is not None}
    assert issuer_encryption(metadata(key)) is None
    with pytest.raises(EncryptionUnsupported):
        issuer_encryption(metadata(key, required=True))
    wanted = {**metadata(key, required=True), "credential_issuer": "https://i.example",
              "credential_endpoint": "https://i.example/credential"}
    with pytest.raises(OfferError) as caught:
        parse_issuer_metadata(wanted, "https://i.example")
    assert caught.value.code == UNSUPPORTED and "requires encrypted" in caught.value.detail


def test_responses_required_encrypted_in_a_way_this_wallet_cannot_ask_are_refused_up_front() -> None:
    _, public = issuer_key()
    with pytest.raises(EncryptionUnsupported, match="responses"):
        issuer_encryption(metadata(public, response={"enc_values_supported": ["A128CBC-HS256"],
                                                     "encryption_required": True}))
    assert issuer_encryption({}) is None
