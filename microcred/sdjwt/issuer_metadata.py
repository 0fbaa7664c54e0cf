"""JWT VC Issuer Metadata (draft-ietf-oauth-sd-jwt-vc-18 §3): the document and where it is served.

Pure. :func:`well_known_url` turns an ``iss`` into the ``/.well-known/jwt-vc-issuer`` URL (§3, §3.1: the
well-known segment goes between the host and the path, a trailing ``/`` of the path is dropped);
:func:`issuer_metadata` builds the ``{issuer, jwks}`` document from the issuer's current signing keys. Each JWK
carries its ``x5c`` chain and a ``kid`` (the RFC 7638 thumbprint), so a wallet can match the key of an SD-JWT
VC's ``x5c`` leaf against the issuer's published set.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from microcred.sdjwt.issue import IssuerKey
from microcred.sdjwt.jose import algorithm_for_key, b64url_encode, public_jwk

__all__ = ["WELL_KNOWN", "issuer_metadata", "key_id", "named", "well_known_url"]

WELL_KNOWN = "/.well-known/jwt-vc-issuer"


def well_known_url(iss: str) -> str:
    """The JWT VC Issuer Metadata URL for ``iss``; ValueError unless ``iss`` is an https URL without query/fragment."""
    parts = urlsplit(iss)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment or "#" in iss:
        raise ValueError("iss must be an https URL with a host and no query or fragment")
    return urlunsplit(("https", parts.netloc, WELL_KNOWN + parts.path.rstrip("/"), "", ""))


def _thumbprint(jwk: dict[str, Any]) -> str:
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y") if name in jwk}  # RFC 7638 §3.2: EC and OKP
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(canonical).digest())


def key_id(key: IssuerKey) -> str:
    """The ``kid`` of an issuer key: the RFC 7638 thumbprint of its public JWK (what :func:`issuer_metadata`
    publishes it under, and what the SD-JWT VC's header names)."""
    return _thumbprint(public_jwk(key.key))


def named(key: IssuerKey) -> IssuerKey:
    """``key`` with its :func:`key_id` as ``kid`` (what its SD-JWT VCs' header names)."""
    return replace(key, kid=key_id(key))


def issuer_metadata(iss: str, keys: Sequence[IssuerKey]) -> dict[str, Any]:
    """The metadata document: ``issuer`` = ``iss`` and ``jwks`` with every key (``kid``, ``x5c``, ``alg``)."""
    well_known_url(iss)
    out: list[dict[str, Any]] = []
    for key in keys:
        if key.iss != iss:
            raise ValueError(f"a key of {key.iss} cannot be published for {iss}")
        jwk = public_jwk(key.key)
        jwk["kid"] = _thumbprint(jwk)
        jwk["use"] = "sig"
        jwk["alg"] = algorithm_for_key(key.key)
        if key.x5c:
            jwk["x5c"] = list(key.x5c)
        out.append(jwk)
    return {"issuer": iss, "jwks": {"keys": out}}
