"""Signed Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.2-§12.2.3; HAIP 1.0 §4.1): both sides, pure.

A Credential Issuer MUST serve its metadata as ``application/json`` and MAY serve it signed, as an
``application/jwt`` whose payload holds every metadata parameter at the top level, ``sub`` = the Credential
Issuer identifier and ``iat`` (``iss``, ``exp`` optional), typed ``openidvci-issuer-metadata+jwt``. HAIP requires
both sides to support it "when ecosystem policies require Issuer Authentication to a higher level than possible
with TLS alone", and to resolve the key through ``x5c``. So:

* :func:`wants_signed` reads a wallet's ``Accept`` header: the signed form goes only to a client that names
  ``application/jwt`` itself (a browser's ``*/*`` gets JSON) and prefers it to JSON;
* :func:`sign_issuer_metadata` makes the JWT with a key whose certificate (``x5c``) names the identifier;
* :func:`read_signed_issuer_metadata` is the wallet's check: chain to its trust anchors, the leaf naming the
  identifier, ``typ``, ``alg``, signature, ``sub``, ``iat``, ``exp``; it returns the metadata parameters alone.

JOSE is PyJWT's through :mod:`microcred.sdjwt.jose`; X.509 path validation is ``cryptography``'s
(:func:`microcred.sdjwt.x5c.validate_x5c`). Only the media-type negotiation is written here: no kept library
parses an ``Accept`` header's quality values without a web framework around it, and the rule is eight lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509

from microcred.sdjwt.issue import IssuerKey
from microcred.sdjwt.jose import JoseError, numeric_date, parse_jws, sign_jws, verify_jws_signature
from microcred.sdjwt.x5c import ChainError, issuer_named_by, validate_x5c

__all__ = [
    "JWT_MEDIA_TYPE",
    "LIFETIME",
    "TYP",
    "SignedMetadataError",
    "read_signed_issuer_metadata",
    "sign_issuer_metadata",
    "wants_signed",
]

JWT_MEDIA_TYPE = "application/jwt"
TYP = "openidvci-issuer-metadata+jwt"
#: How long a signed copy stays good (``exp``): a day, so a copy captured before a change of endpoints or keys
#: cannot be replayed to wallets for long; the unsigned document is cached five minutes.
LIFETIME = dt.timedelta(days=1)
#: Claims the JWT adds around the metadata parameters (§12.2.3).
_ENVELOPE = ("iss", "sub", "iat", "exp", "nbf")
_ALGS = ("ES256", "ES384", "ES512")
_MAX_TOKEN = 256 * 1024
_SKEW = dt.timedelta(seconds=60)


class SignedMetadataError(ValueError):
    """Signed metadata a wallet must reject (§12.2.3: "Otherwise, the Wallet MUST reject the signed metadata");
    the message names the part that failed."""


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def wants_signed(accept: str | None) -> bool:
    """Whether an ``Accept`` header (RFC 9110 §12.5.1) asks for the signed form: ``application/jwt`` named
    explicitly, at a quality above zero and above the best match of ``application/json`` (itself,
    ``application/*`` or ``*/*``). A tie goes to JSON, which every wallet must take (§12.2.2): a wallet that
    merely *prefers* signed metadata (the EUDI library's ``PreferSigned`` sends both types at equal quality)
    would otherwise fail on a signature it cannot check, where the JSON serves it; one that requires it names
    ``application/jwt`` alone or ranks it first by quality."""
    if not accept:
        return False
    jwt_q = json_q = 0.0
    for item in accept[:4096].split(",")[:64]:
        media, *parameters = item.split(";")
        media = media.strip().lower()
        q = _quality(parameters)
        if media == JWT_MEDIA_TYPE:
            jwt_q = max(jwt_q, q)
        elif media in ("application/json", "application/*", "*/*"):
            json_q = max(json_q, q)
    return jwt_q > json_q


def sign_issuer_metadata(metadata: Mapping[str, Any], key: IssuerKey, now: dt.datetime) -> str:
    """The signed form of ``metadata`` (whose ``credential_issuer`` is ``key.iss``): ``x5c`` carries the chain."""
    if metadata.get("credential_issuer") != key.iss:
        raise ValueError("the signing key's certificate must name the metadata's credential_issuer")
    payload = {**metadata, "iss": key.iss, "sub": key.iss, "iat": numeric_date(now),
               "exp": numeric_date(now + LIFETIME)}
    return sign_jws({"typ": TYP, "x5c": list(key.x5c)}, payload, key.key)


def _numeric(payload: Mapping[str, Any], name: str, required: bool) -> int | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**40:
        raise SignedMetadataError(f"{name}: must be a NumericDate (whole seconds)")
    return value


def read_signed_issuer_metadata(token: str, credential_issuer: str, anchors: Sequence[x509.Certificate],
                                now: dt.datetime) -> dict[str, Any]:
    """The metadata parameters of signed metadata fetched for ``credential_issuer``, once it is shown to come from
    a certificate under ``anchors`` naming that identifier (URI SAN, or DNS SAN of its host); else
    :class:`SignedMetadataError`."""
    if not isinstance(token, str) or not token.isascii():
        raise SignedMetadataError("the signed metadata is not a compact JWS")
    try:
        parts = parse_jws(token.strip(), max_length=_MAX_TOKEN)
    except (JoseError, ValueError) as exc:
        raise SignedMetadataError(f"the signed metadata is not a compact JWS: {exc}") from None
    header, payload = parts.header, parts.payload
    if header.get("typ") != TYP:
        raise SignedMetadataError(f"typ: must be {TYP}")
    if header.get("alg") not in _ALGS:
        raise SignedMetadataError("alg: must be ES256, ES384 or ES512 (an x5c certificate's key)")
    try:
        leaf, key = validate_x5c(header.get("x5c"), anchors, now)
    except ChainError as exc:
        raise SignedMetadataError(f"x5c: {exc.reason}: {exc.problem}") from None
    if not issuer_named_by(credential_issuer, leaf):
        raise SignedMetadataError("x5c: the certificate does not name the credential issuer")
    try:
        signed = verify_jws_signature(parts.compact, key, _ALGS)
    except JoseError:
        signed = False
    if not signed:
        raise SignedMetadataError("signature: does not verify with the x5c certificate's key")
    if payload.get("sub") != credential_issuer:
        raise SignedMetadataError("sub: is not the credential issuer the wallet asked")
    iat = _numeric(payload, "iat", required=True)
    exp = _numeric(payload, "exp", required=False)
    nbf = _numeric(payload, "nbf", required=False)
    moment = numeric_date(now)
    assert iat is not None
    if iat > numeric_date(now + _SKEW):
        raise SignedMetadataError("iat: is in the future")
    if nbf is not None and nbf > numeric_date(now + _SKEW):
        raise SignedMetadataError("nbf: the signed metadata is not valid yet")
    if exp is not None and exp <= moment:
        raise SignedMetadataError("exp: the signed metadata has expired")
    metadata = {name: value for name, value in payload.items() if name not in _ENVELOPE}
    if metadata.get("credential_issuer") != credential_issuer:
        raise SignedMetadataError("credential_issuer: is not the credential issuer the wallet asked")
    return metadata
