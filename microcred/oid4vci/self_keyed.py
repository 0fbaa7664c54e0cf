"""The signature check shared by OpenID4VCI key proofs and DPoP proofs: both are JWSs signed by the public
``jwk`` their own header carries (the proof shows possession of that key), checked by the same rule: the
header's ``alg`` must be one the caller allows and the jwk key type's own (ES256 for a P-256 key, EdDSA for an
Ed25519 key), so that no key is ever used with another algorithm than its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from microcred.oid4vci.errors import OAuthError
from microcred.sdjwt.jose import (
    JoseError,
    PublicKey,
    algorithm_for_key,
    algorithms_for_key,
    jwk_to_public_key,
    verify_jws_signature,
)

__all__ = ["ALGORITHMS", "KEY_PROOF_ALGORITHMS", "header_key", "verified_by"]

# DPoP proofs: ES256 only (HAIP 1.0 requires it and names no other); key proofs widen this (see proofs.py).
ALGORITHMS: tuple[str, ...] = ("ES256",)
# What a wallet may prove its holder key with (key proofs and key attestations): HAIP's ES256, and Ed25519 keys
# for the wallets whose keys are Ed25519 (did:key z6Mk holders), named "EdDSA" (RFC 8037) or by RFC 9864's fully
# specified "Ed25519", which deprecates it.
KEY_PROOF_ALGORITHMS: tuple[str, ...] = ("ES256", "EdDSA", "Ed25519")


def header_key(proof: str, header: Mapping[str, Any], fail: Callable[[str], OAuthError],
               missing: str, algorithms: tuple[str, ...] = ALGORITHMS) -> PublicKey:
    """The key of the header's ``jwk``, once ``proof`` verifies with it under the header's ``alg`` (one of
    ``algorithms``, and the key type's own); else ``fail`` (``missing``: no jwk)."""
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise fail(missing)
    try:
        key = jwk_to_public_key(jwk)
    except JoseError as exc:
        raise fail(f"jwk: {exc}") from exc
    return verified_by(proof, header, key, fail, algorithms, "jwk")


def verified_by(proof: str, header: Mapping[str, Any], key: PublicKey, fail: Callable[[str], OAuthError],
                algorithms: tuple[str, ...], named: str) -> PublicKey:
    """``key`` (``named``: how the header names it, for the messages), once ``proof`` verifies with it under the
    header's ``alg`` (one of ``algorithms``, and the key type's own); else ``fail``."""
    try:
        own = [alg for alg in algorithms_for_key(key) if alg in algorithms]
    except JoseError as exc:
        raise fail(f"{named}: {exc}") from exc
    if not own:
        raise fail(f"the {named}'s key type signs with {algorithm_for_key(key)}, which is not one of "
                   f"{list(algorithms)}")
    if header.get("alg") not in own:
        raise fail(f"alg {header.get('alg')!r} does not match the {named}'s key type (which signs with "
                   f"{' or '.join(own)})")
    try:
        signed = verify_jws_signature(proof, key, algorithms)
    except JoseError as exc:
        raise fail(f"{named}: {exc}") from exc
    if not signed:
        raise fail(f"the signature does not verify with the header's {named}")
    return key
