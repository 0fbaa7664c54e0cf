"""The holder's DID for an ``ldp_vc`` credential: the ``did:key`` of the key a proof shows (OpenID4VCI 1.0
§8.2: ``cryptographic_binding_methods_supported: ["did:key"]``).

* P-256 (``kty: EC``, ``crv: P-256``): ``did:key:zDn…`` = ``"z" + base58btc(varint(0x1200) || compressed point)``
  (multicodec ``p256-pub``, the 33-byte SEC1 compressed point; did:key method, W3C CCG test vectors
  ``nist-curves.json``).
* Ed25519 (``kty: OKP``, ``crv: Ed25519``): ``did:key:z6Mk…`` (:mod:`microcred.crypto.did_key`).

Hand-written because :mod:`microcred.crypto.multikey` only encodes Ed25519 keys and no kept library encodes a
P-256 multikey; the point itself comes from ``cryptography`` (compressed SEC1), only the two-byte header and the
base58btc encoding (the project's own) are put together here. Anything else is ``invalid_proof``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.crypto.did_key import did_key_from_public_key
from microcred.crypto.multikey import encode_base58btc
from microcred.oid4vci.errors import INVALID_PROOF, OAuthError
from microcred.sdjwt.jose import JoseError, jwk_to_public_key

__all__ = ["P256_PUB_HEADER", "holder_did_key"]

P256_PUB_HEADER = b"\x80\x24"  # multicodec p256-pub (0x1200) as an unsigned varint


def holder_did_key(jwk: Mapping[str, Any]) -> str:
    """The ``did:key`` of a holder's public JWK (P-256 or Ed25519); ``invalid_proof`` for any other key."""
    try:
        key = jwk_to_public_key(jwk)
    except (JoseError, ValueError) as exc:
        raise OAuthError(INVALID_PROOF, f"the proof's key cannot be read: {exc}") from exc
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        return "did:key:" + encode_base58btc(P256_PUB_HEADER + point)
    if isinstance(key, Ed25519PublicKey):
        return did_key_from_public_key(key)
    raise OAuthError(INVALID_PROOF, "the proof's key cannot be bound as a did:key (P-256 or Ed25519 only)")
