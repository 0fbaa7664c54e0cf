"""The holder's DID for an ``ldp_vc`` credential: the ``did:key`` of the key a proof shows (OpenID4VCI 1.0
§8.2: ``cryptographic_binding_methods_supported: ["did:key", "did:jwk"]``), or the DID its ``kid`` names.

* P-256 (``kty: EC``, ``crv: P-256``): ``did:key:zDn…`` (:func:`microcred.crypto.did_key.did_key_from_p256`);
* Ed25519 (``kty: OKP``, ``crv: Ed25519``): ``did:key:z6Mk…`` (:mod:`microcred.crypto.did_key`).

:func:`did_key_public_key` reads such a DID back (a key proof naming its key by ``kid``, a did:key DID URL,
Appendix F.1): the inverse, for the same two key types, decoded locally (never fetched).
:func:`holder_did_public_key` reads either DID method a key proof's ``kid`` may name: a did:key, or a did:jwk
(:mod:`microcred.crypto.did_jwk`, whose key the DID holds as a JWK), with the DID itself, which the credential is
then bound to as the wallet wrote it. Anything else is ``invalid_proof``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.crypto.did_jwk import DID_JWK_PREFIX, DidJwkError, read_did_jwk
from microcred.crypto.did_key import (
    P256_PUB_HEADER,
    DidKeyError,
    did_key_from_p256,
    did_key_from_public_key,
    public_key_from_did_key,
)
from microcred.crypto.multikey import MultikeyError, decode_base58btc
from microcred.oid4vci.errors import INVALID_PROOF, OAuthError
from microcred.sdjwt.jose import JoseError, PublicKey, jwk_to_public_key

__all__ = ["HOLDER_DID_METHODS", "did_key_public_key", "holder_did_key", "holder_did_public_key"]

#: The DID methods a holder may name its key by (a key proof's ``kid``), as the ``ldp_vc`` configuration's
#: ``cryptographic_binding_methods_supported`` lists them.
HOLDER_DID_METHODS: tuple[str, ...] = ("did:key", "did:jwk")


def holder_did_key(jwk: Mapping[str, Any]) -> str:
    """The ``did:key`` of a holder's public JWK (P-256 or Ed25519); ``invalid_proof`` for any other key."""
    try:
        key = jwk_to_public_key(jwk)
    except (JoseError, ValueError) as exc:
        raise OAuthError(INVALID_PROOF, f"the proof's key cannot be read: {exc}") from exc
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return did_key_from_p256(key)
    if isinstance(key, Ed25519PublicKey):
        return did_key_from_public_key(key)
    raise OAuthError(INVALID_PROOF, "the proof's key cannot be bound as a did:key (P-256 or Ed25519 only)")


def did_key_public_key(did_url: str) -> PublicKey:
    """The public key a ``did:key`` DID URL names (P-256 ``zDn…`` or Ed25519 ``z6Mk…``; a fragment must be the
    DID's own multikey); ``invalid_proof`` otherwise."""
    if not isinstance(did_url, str) or not did_url.startswith("did:key:") or len(did_url) > 512:
        raise OAuthError(INVALID_PROOF, "kid must be a did:key or did:jwk DID URL (the only DIDs this issuer "
                                        "resolves)")
    multikey, _, fragment = did_url[len("did:key:"):].partition("#")
    if fragment and fragment != multikey:
        raise OAuthError(INVALID_PROOF, "kid: the fragment does not name the did:key's own key")
    try:
        raw = decode_base58btc(multikey)
    except MultikeyError as exc:
        raise OAuthError(INVALID_PROOF, f"kid: not a did:key multikey: {exc}") from exc
    if raw.startswith(P256_PUB_HEADER):
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[len(P256_PUB_HEADER):])
        except ValueError as exc:
            raise OAuthError(INVALID_PROOF, "kid: the did:key's P-256 point is not valid") from exc
    try:
        return public_key_from_did_key(f"did:key:{multikey}")
    except DidKeyError as exc:
        raise OAuthError(INVALID_PROOF, "kid: the did:key holds neither a P-256 nor an Ed25519 key") from exc


def holder_did_public_key(did_url: str) -> tuple[str, PublicKey]:
    """The DID (fragment dropped) and public key a ``kid`` names: a did:key (:func:`did_key_public_key`) or a
    did:jwk (``#0`` or no fragment); ``invalid_proof`` otherwise."""
    if isinstance(did_url, str) and did_url.startswith(DID_JWK_PREFIX):
        try:
            return read_did_jwk(did_url)
        except DidJwkError as exc:
            raise OAuthError(INVALID_PROOF, f"kid: {exc}") from exc
    key = did_key_public_key(did_url)  # checks that it is a did:key DID URL (a string) first
    return did_url.partition("#")[0], key
