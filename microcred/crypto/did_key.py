"""did:key for Ed25519 keys (W3C CCG did:key method, Multikey representation), and the P-256 encoding.

``did:key:<mb>`` where ``<mb>`` is the Ed25519 public multikey (``z6Mk…``). The single verification
method is ``did:key:<mb>#<mb>``. Resolution is purely local: the DID *is* the key.

The verification method forms accepted by :func:`public_key_from_did_key` and :func:`resolve_key`
are ``did:key:<mb>#<mb>`` (W3C vectors) and bare ``did:key:<mb>`` (Bitstring Status List REC
examples).

:func:`did_key_from_p256` encodes a P-256 key: ``"did:key:z" + base58btc(varint(0x1200) || compressed point)``
(multicodec ``p256-pub``, :data:`P256_PUB_HEADER`; the did:key method's ``nist-curves.json`` vectors). Hand-written
because no kept library encodes a P-256 multikey: the point comes from ``cryptography`` (compressed SEC1), only
the two-byte header and the project's base58btc are put together here. Holders use such DIDs (our wallet's ES256
keys, an OpenID4VCI wallet's proof key); reading one back, with its protocol's errors, is theirs
(:mod:`microcred.oid4vci.holder_did`).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.crypto.multikey import (
    MultikeyError,
    decode_ed25519_public_key,
    encode_base58btc,
    encode_ed25519_public_key,
)

__all__ = [
    "P256_PUB_HEADER",
    "DidKeyError",
    "did_key_from_p256",
    "did_key_from_public_key",
    "public_key_from_did_key",
    "resolve_did_key",
    "resolve_key",
    "verification_method_id",
]

_PREFIX = "did:key:"
#: Multicodec ``p256-pub`` (0x1200) as an unsigned varint: the header of a P-256 did:key's multikey.
P256_PUB_HEADER = b"\x80\x24"
_DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


class DidKeyError(ValueError):
    """The value is not a well-formed Ed25519 did:key DID or DID URL."""


def did_key_from_public_key(public_key: Ed25519PublicKey | bytes) -> str:
    """Return ``did:key:z6Mk…`` for an Ed25519 public key."""
    return _PREFIX + encode_ed25519_public_key(public_key)


def did_key_from_p256(public_key: ec.EllipticCurvePublicKey) -> str:
    """Return ``did:key:zDn…`` for a P-256 public key (module docstring)."""
    point = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    return _PREFIX + encode_base58btc(P256_PUB_HEADER + point)


def verification_method_id(did: str) -> str:
    """Return the verification method id ``did:key:<mb>#<mb>`` of a did:key DID."""
    multikey = _split(did)[0]
    return f"{_PREFIX}{multikey}#{multikey}"


def _split(did_url: str) -> tuple[str, str | None]:
    """Return (multikey, fragment) of a did:key DID URL, checking syntax only."""
    if not isinstance(did_url, str) or not did_url.startswith(_PREFIX):
        raise DidKeyError(f"not a did:key identifier: {did_url!r}")
    rest = did_url[len(_PREFIX) :]
    multikey, sep, fragment = rest.partition("#")
    if any(c in multikey for c in "/?;:"):  # paths, queries, parameters and versions are not supported
        raise DidKeyError(f"unsupported did:key syntax: {did_url!r}")
    return multikey, (fragment if sep else None)


def public_key_from_did_key(did_url: str) -> Ed25519PublicKey:
    """Return the Ed25519 public key of a did:key DID or verification method URL.

    A fragment, if present, must equal the DID's own multikey. did:key documents have no other
    verification method, so any other fragment is rejected.
    """
    multikey, fragment = _split(did_url)
    if fragment is not None and fragment != multikey:
        raise DidKeyError(f"did:key fragment {fragment!r} does not name the DID's key")
    try:
        return decode_ed25519_public_key(multikey)
    except MultikeyError as exc:
        raise DidKeyError(f"did:key does not hold an Ed25519 key: {exc}") from exc


def resolve_did_key(did_url: str) -> dict[str, Any]:
    """Resolve a did:key DID (or DID URL) to its DID document (Multikey form).

    The key is authorised for all four key-based relationships, as the did:key method specifies.
    """
    public_key = public_key_from_did_key(did_url)
    multikey = encode_ed25519_public_key(public_key)
    did = _PREFIX + multikey
    vm_id = f"{did}#{multikey}"
    return {
        "@context": list(_DID_CONTEXTS),
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multikey}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }


def resolve_key(verification_method: str) -> Ed25519PublicKey | None:
    """Key resolver for data integrity verification: did:key only.

    Returns None for anything that is not a valid Ed25519 did:key, so that callers can chain other
    resolvers (did:web, HTTPS controller documents) after this one.
    """
    try:
        return public_key_from_did_key(verification_method)
    except DidKeyError:
        return None
