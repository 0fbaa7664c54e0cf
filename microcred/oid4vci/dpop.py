"""DPoP proofs (RFC 9449), as HAIP 1.0 asks of OpenID4VCI: sender-constrained access tokens.

A DPoP proof is a JWS with header ``typ: dpop+jwt``, ``alg`` ES256 and the client's public ``jwk``, signed by
that key; claims ``jti`` (unique: the caller refuses a replay through the store), ``htm`` (the request's method),
``htu`` (its URL without query and fragment, §4.3), ``iat`` (within the window) and, at resource endpoints,
``ath`` = base64url(SHA-256(access token)) (§4.3 point 11). The token is bound to the key's RFC 7638 thumbprint
(``jkt``). Every failure is ``invalid_dpop_proof``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from microcred.oid4vci.errors import INVALID_DPOP_PROOF, OAuthError
from microcred.oid4vci.self_keyed import ALGORITHMS, header_key
from microcred.sdjwt.jose import (
    JoseError,
    b64url_decode,
    b64url_encode,
    compact_json,
    public_jwk,
    strict_json_loads,
)

__all__ = ["DPOP_TYP", "DpopProof", "access_token_hash", "check_dpop_proof", "jwk_thumbprint"]

DPOP_TYP = "dpop+jwt"
MAX_LENGTH = 4096


@dataclass(frozen=True)
class DpopProof:
    """A checked proof: the key's thumbprint and the proof's ``jti`` (for the replay check)."""

    jkt: str
    jti: str


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of an EC or OKP public JWK (required members, sorted, compact)."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y") if name in jwk}
    return b64url_encode(hashlib.sha256(compact_json(dict(sorted(members.items())))).digest())


def access_token_hash(token: str) -> str:
    """``ath``: base64url SHA-256 of the access token's ASCII."""
    return b64url_encode(hashlib.sha256(token.encode("ascii", "replace")).digest())


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _normal_url(url: str) -> str | None:
    """The URL compared for ``htu`` (RFC 9449 §4.3: without query and fragment, after RFC 3986's syntax- and
    scheme-based normalisation of scheme, host and port: ``HTTPS://Issuer.Example:443/x`` is
    ``https://issuer.example/x``), None when it is not an absolute URL without user information."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # e.g. an unclosed IPv6 literal, or a port out of range, in the proof's htu
        return None
    host = parts.hostname
    if not host or parts.username is not None:
        return None
    scheme = parts.scheme.lower()
    if ":" in host:  # an IPv6 literal: hostname drops its brackets
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def _fail(description: str) -> OAuthError:
    return OAuthError(INVALID_DPOP_PROOF, description)


def _part(segment: str) -> Mapping[str, Any]:
    try:
        value = strict_json_loads(b64url_decode(segment))
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise _fail("the DPoP proof is not a JWS of JSON objects") from exc
    if not isinstance(value, dict):
        raise _fail("the DPoP proof is not a JWS of JSON objects")
    return value


def check_dpop_proof(proof: str | None, *, method: str, url: str, now: datetime, access_token: str | None = None,
                     max_age: float = 300.0, skew: float = 60.0) -> DpopProof:
    """Check the ``DPoP`` header's proof for this request (``access_token``: at a resource endpoint)."""
    if not proof or len(proof) > MAX_LENGTH or proof.count(".") != 2:
        raise _fail("a DPoP header with one compact JWS is required")
    head, body, _ = proof.split(".")
    header, claims = _part(head), _part(body)
    if header.get("typ") != DPOP_TYP:
        raise _fail(f"typ must be {DPOP_TYP}")
    if header.get("alg") not in ALGORITHMS:
        raise _fail(f"alg must be one of {list(ALGORITHMS)}")
    key = header_key(proof, header, _fail, "the header must carry the public jwk")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
        raise _fail("jti is required (8..256 characters)")
    if claims.get("htm") != method:
        raise _fail("htm must be the request's method")
    htu = _normal_url(claims["htu"]) if isinstance(claims.get("htu"), str) else None
    if htu is None or htu != _normal_url(url):
        raise _fail("htu must be the request's URL")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float) or not -skew <= now.timestamp() - iat <= max_age:
        raise _fail("iat is missing or outside the accepted window")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise _fail("ath must be the hash of the access token")
    return DpopProof(jwk_thumbprint(public_jwk(key)), jti)
