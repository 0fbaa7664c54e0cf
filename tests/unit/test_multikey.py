"""Multikey and did:key: W3C and 1EdTech key vectors, wrong-prefix rejection, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from microcred.crypto import did_key
from microcred.crypto.multikey import (
    MultikeyError,
    decode_base58btc,
    decode_ed25519_public_key,
    decode_ed25519_secret_key,
    encode_base58btc,
    encode_ed25519_public_key,
    encode_ed25519_secret_key,
    public_key_bytes,
)

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
W3C_KEYS = json.loads((VECTORS / "vc-di-eddsa" / "keyPair.json").read_text())
OB_VECTOR = json.loads((VECTORS / "ob3" / "linked-data-proof-ob-test-vector.json").read_text())
MULTI_KEYS = json.loads((VECTORS / "vc-di-eddsa" / "proof-set-chain" / "multiKeyPairs.json").read_text())


def test_w3c_key_pair_public_matches_secret() -> None:
    secret = decode_ed25519_secret_key(W3C_KEYS["privateKeyMultibase"])
    assert encode_ed25519_public_key(secret.public_key()) == W3C_KEYS["publicKeyMultibase"]
    assert encode_ed25519_secret_key(secret) == W3C_KEYS["privateKeyMultibase"]
    assert W3C_KEYS["publicKeyMultibase"].startswith("z6Mk")
    assert W3C_KEYS["privateKeyMultibase"].startswith("z3u2")


@pytest.mark.parametrize("name", sorted(MULTI_KEYS))
def test_proof_set_key_pairs(name: str) -> None:
    pair = MULTI_KEYS[name]
    secret = decode_ed25519_secret_key(pair["privateKeyMultibase"])
    assert encode_ed25519_public_key(secret.public_key()) == pair["publicKeyMultibase"]


def test_ob_vector_keys_hex_and_multibase() -> None:
    public = decode_ed25519_public_key(OB_VECTOR["publicKeyMultibase"])
    assert public_key_bytes(public).hex() == OB_VECTOR["publicKeyHex"]
    # The OB vector encodes seed||public (64 bytes) after 0x8026; accepted when consistent.
    secret = decode_ed25519_secret_key(OB_VECTOR["secretKeyMultibase"])
    assert public_key_bytes(secret.public_key()).hex() == OB_VECTOR["publicKeyHex"]
    seed_hex = OB_VECTOR["privateKeyHex_seed_plus_public"][:64]
    assert encode_ed25519_secret_key(bytes.fromhex(seed_hex)).startswith("z3u2")


def test_64_byte_secret_with_wrong_public_half_is_rejected() -> None:
    seed = Ed25519PrivateKey.generate()
    other = Ed25519PrivateKey.generate()
    raw = encode_ed25519_secret_key(seed)
    body = decode_base58btc(raw)
    bad = encode_base58btc(body + public_key_bytes(other.public_key()))
    with pytest.raises(MultikeyError, match="public half"):
        decode_ed25519_secret_key(bad)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76", "header 8024"),  # P-256 key (employ vector)
        ("z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc", "header ec01"),  # X25519 key
        (W3C_KEYS["privateKeyMultibase"], "header 8026"),  # a secret key is not a public key
        ("u7QE", "starting with 'z'"),  # base64url multibase is not accepted
        ("", "starting with 'z'"),
        ("z0OIl", "invalid base58btc"),
    ],
)
def test_public_key_decoder_rejects_non_ed25519(value: str, message: str) -> None:
    with pytest.raises(MultikeyError, match=message):
        decode_ed25519_public_key(value)


def test_wrong_length_public_key_rejected() -> None:
    short = encode_base58btc(b"\xed\x01" + b"\x01" * 31)
    with pytest.raises(MultikeyError, match="32 key bytes"):
        decode_ed25519_public_key(short)
    with pytest.raises(MultikeyError, match="32 bytes"):
        encode_ed25519_public_key(b"\x00" * 33)


def test_secret_decoder_rejects_public_key() -> None:
    with pytest.raises(MultikeyError, match="expected 8026"):
        decode_ed25519_secret_key(W3C_KEYS["publicKeyMultibase"])


@given(st.binary(min_size=32, max_size=32))
def test_seed_round_trip(seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    encoded_secret = encode_ed25519_secret_key(key)
    assert decode_base58btc(encoded_secret) == b"\x80\x26" + seed
    public = encode_ed25519_public_key(key.public_key())
    assert base58.b58decode(public[1:])[:2] == b"\xed\x01"
    assert public_key_bytes(decode_ed25519_public_key(public)) == public_key_bytes(key.public_key())
    did = did_key.did_key_from_public_key(key.public_key())
    assert public_key_bytes(did_key.public_key_from_did_key(did)) == public_key_bytes(key.public_key())


# ----------------------------------------------------------------------------------------------- did:key

MB = W3C_KEYS["publicKeyMultibase"]


def test_did_key_forms_resolve_to_the_same_key() -> None:
    did = f"did:key:{MB}"
    assert did_key.did_key_from_public_key(decode_ed25519_public_key(MB)) == did
    assert did_key.verification_method_id(did) == f"{did}#{MB}"
    expected = public_key_bytes(decode_ed25519_public_key(MB))
    for form in (did, f"{did}#{MB}"):
        assert public_key_bytes(did_key.public_key_from_did_key(form)) == expected
        resolved = did_key.resolve_key(form)
        assert resolved is not None and public_key_bytes(resolved) == expected


def test_did_document_shape() -> None:
    doc = did_key.resolve_did_key(f"did:key:{MB}#{MB}")
    vm_id = f"did:key:{MB}#{MB}"
    assert doc["id"] == f"did:key:{MB}"
    assert doc["verificationMethod"] == [
        {"id": vm_id, "type": "Multikey", "controller": f"did:key:{MB}", "publicKeyMultibase": MB}
    ]
    for relationship in ("authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation"):
        assert doc[relationship] == [vm_id]
    assert "https://w3id.org/security/multikey/v1" in doc["@context"]


@pytest.mark.parametrize(
    "value",
    [
        f"did:key:{MB}#z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E",  # fragment names another key
        "did:key:zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76",  # P-256
        f"did:web:example.com#{MB}",
        f"did:key:{MB}/path",
        "did:key:",
    ],
)
def test_did_key_rejections(value: str) -> None:
    with pytest.raises(did_key.DidKeyError):
        did_key.public_key_from_did_key(value)
    assert did_key.resolve_key(value) is None


def test_base58_with_surrounding_whitespace_is_refused() -> None:
    # The base58 package strips whitespace; a proofValue or key with a trailing space must not decode.
    import pytest

    from microcred.crypto.multikey import MultikeyError, decode_base58btc, encode_base58btc

    encoded = encode_base58btc(b"\x01" * 64)
    assert decode_base58btc(encoded) == b"\x01" * 64
    for bad in (encoded + " ", encoded + "\n", "z " + encoded[1:], encoded[:-1] + "0"):
        with pytest.raises(MultikeyError):
            decode_base58btc(bad)


@given(st.binary(max_size=4).flatmap(lambda zeros: st.binary(max_size=96).map(lambda rest: bytes(len(zeros)) + rest)))
def test_base58btc_encoding_is_the_reference_one(data: bytes) -> None:
    assert encode_base58btc(data) == "z" + base58.b58encode(data).decode("ascii")
    if data:  # "z" alone is no value for the decoder
        assert decode_base58btc(encode_base58btc(data)) == data


_DIGITS = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@given(st.text(alphabet="1", max_size=4), st.text(alphabet=_DIGITS, min_size=0, max_size=120))
def test_base58btc_decoding_is_the_reference_one(ones: str, digits: str) -> None:
    # Any digit string, not only encoder output (non-canonical ones too): the same bytes as the base58 package.
    value = ones + digits
    if value:
        assert decode_base58btc("z" + value) == bytes(base58.b58decode(value))
