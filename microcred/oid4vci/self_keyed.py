"""The signature check shared by OpenID4VCI key proofs and DPoP proofs: both are JWSs signed by the public
``jwk`` their own header carries (the proof shows possession of that key), checked with the same algorithms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from microcred.oid4vci.errors import OAuthError
from microcred.sdjwt.jose import JoseError, PublicKey, jwk_to_public_key, verify_jws_signature

__all__ = ["ALGORITHMS", "header_key"]

ALGORITHMS = ("ES256",)


def header_key(proof: str, header: Mapping[str, Any], fail: Callable[[str], OAuthError],
               missing: str) -> PublicKey:
    """The key of the header's ``jwk``, once ``proof`` verifies with it; else ``fail`` (``missing``: no jwk)."""
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise fail(missing)
    try:
        key = jwk_to_public_key(jwk)
        signed = verify_jws_signature(proof, key, ALGORITHMS)
    except JoseError as exc:
        raise fail(f"jwk: {exc}") from exc
    if not signed:
        raise fail("the signature does not verify with the header's jwk")
    return key
