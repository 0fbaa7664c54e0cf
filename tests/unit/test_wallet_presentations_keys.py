"""P-256 (ES256) custodial holder keys: derived from a key store secret, stable, a proper P-256 did:key."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.multikey import decode_base58btc
from services.wallet.adapters.holder_keys import p256_did, p256_from_secret


def test_a_p256_key_is_derived_from_its_secret_and_named_by_its_did_key() -> None:
    secret = Ed25519PrivateKey.generate()
    key = p256_from_secret(secret)
    assert isinstance(key.curve, ec.SECP256R1)
    assert p256_from_secret(secret).private_numbers() == key.private_numbers()  # the same after a restart
    assert p256_from_secret(Ed25519PrivateKey.generate()).private_numbers() != key.private_numbers()
    did = p256_did(key)
    assert did.startswith("did:key:zDn")
    raw = decode_base58btc(did.removeprefix("did:key:"))
    assert raw[:2] == b"\x80\x24" and len(raw) == 35
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
    assert point.public_numbers() == key.public_key().public_numbers()
