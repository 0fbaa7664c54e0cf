"""Ed25519 signature checks through libsodium (PyNaCl), for the verification hot path.

Keys stay ``cryptography`` objects everywhere (did:key and Multikey decoding, JWKs, X.509, signing); only the
final check of a signature runs in libsodium. Why: on the gateway's 2-core machine OpenSSL's Ed25519 check (what
``Ed25519PublicKey.verify`` calls) costs ≈ 114 µs and libsodium's ≈ 55 µs, the same check in half the CPU, and
every Data Integrity verification makes at least one (measured in ``docs/performance.md``, "Ed25519 through
libsodium").

libsodium's check (``crypto_sign_open``, libsodium ≥ 1.0.16) is the strict one: besides everything OpenSSL refuses
(a non-canonical ``S``), it refuses public keys and ``R`` values of small order and non-canonical point
encodings. An RFC 8032 signer never produces those; a small-order public key is one for which a "signature" of any
message can be made without a private key, so refusing it is what a verifier that is never fooled wants. Such a
signature is reported invalid.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign_open
from nacl.exceptions import BadSignatureError

__all__ = ["SIGNATURE_BYTES", "is_sound_public_key", "signature_is_valid"]

SIGNATURE_BYTES = 64


def signature_is_valid(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s Ed25519 signature of ``message`` (strict RFC 8032 check)."""
    if len(signature) != SIGNATURE_BYTES:
        return False
    try:
        # crypto_sign_open takes the "signed message" form, signature then message.
        crypto_sign_open(signature + message, public_key.public_bytes_raw())
    except BadSignatureError:
        return False
    return True


def is_sound_public_key(public_key: Ed25519PublicKey) -> bool:
    """False for a key no private key stands behind: a point of small order, one outside the curve's main
    subgroup, or a non-canonical encoding (libsodium's ``crypto_core_ed25519_is_valid_point``). For such a key a
    "signature" of any message can be made by anyone; every key made by an RFC 8032 key generation passes."""
    return bool(crypto_core_ed25519_is_valid_point(public_key.public_bytes_raw()))
