"""Wallet attestation as OAuth client authentication (OpenID4VCI 1.0 Appendix E; OAuth 2.0 Attestation-Based
Client Authentication, ``attest_jwt_client_auth``), which HAIP 1.0 names for the PAR and token endpoints.

A wallet sends two headers:

* ``OAuth-Client-Attestation``: a JWT its wallet provider signed (``typ: oauth-client-attestation+jwt``, ES256,
  the provider's certificate chain in ``x5c``, which must reach one of the trust anchors configured for wallet
  providers; HAIP keeps the anchor itself out of it). Claims: ``iss`` (the provider), ``sub`` (the wallet's
  ``client_id``), ``exp``, ``cnf.jwk`` (the wallet instance's key).
* ``OAuth-Client-Attestation-PoP``: a JWT the instance signed with that ``cnf`` key
  (``typ: oauth-client-attestation-pop+jwt``). Claims: ``iss`` = the attestation's ``sub``, ``aud`` = this
  authorization server's issuer identifier, ``jti`` (spent once by the caller: the store says whether it is
  new), ``iat`` (recent), ``exp`` when given (not past).

:func:`check_client_attestation` checks both (pure; the time is given) and returns what the caller needs: the
``client_id``, the provider and the ``jti`` to spend. Every failure is ``invalid_client`` (RFC 6749 §5.2, 401).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.self_keyed import verified_by
from microcred.sdjwt.jose import JoseError, b64url_decode, jwk_to_public_key, strict_json_loads
from microcred.sdjwt.x5c import ChainError, certificate_names, validate_x5c

__all__ = ["ATTESTATION_HEADER", "ATTESTATION_TYP", "AUTH_METHOD", "POP_HEADER", "POP_TYP", "ClientAttestation",
           "check_client_attestation"]

AUTH_METHOD = "attest_jwt_client_auth"
ATTESTATION_HEADER, POP_HEADER = "OAuth-Client-Attestation", "OAuth-Client-Attestation-PoP"
ATTESTATION_TYP, POP_TYP = "oauth-client-attestation+jwt", "oauth-client-attestation-pop+jwt"
ALGORITHMS = ("ES256",)  # HAIP's
MAX_JWT = 16_384  # an attestation carries a certificate chain


@dataclass(frozen=True)
class ClientAttestation:
    """A checked attestation: the wallet's ``client_id``, its provider (``iss`` and the certificate's name) and
    the PoP's ``jti`` (to be spent once)."""

    client_id: str
    provider: str
    provider_name: str
    jti: str


def _fail(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def _parts(token: str, what: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if not isinstance(token, str) or len(token) > MAX_JWT or token.count(".") != 2:
        raise _fail(f"the {what} must be a compact JWS of at most {MAX_JWT} characters")
    head, body, _ = token.split(".")
    try:
        header, claims = strict_json_loads(b64url_decode(head)), strict_json_loads(b64url_decode(body))
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"the {what} is not a JWS of JSON objects") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _fail(f"the {what} is not a JWS of JSON objects")
    return header, claims


def _number(claims: Mapping[str, Any], name: str, what: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"the {what} needs {name} (seconds since the epoch)")
    return float(value)


def check_client_attestation(attestation: str, pop: str, *, authorization_server: str,
                             anchors: Sequence[x509.Certificate], now: datetime, max_age: float = 300.0,
                             skew: float = 60.0) -> ClientAttestation:
    """Check a wallet's attestation and its proof of possession for ``authorization_server`` at ``now``."""
    header, claims = _parts(attestation, "client attestation")
    if header.get("typ") != ATTESTATION_TYP:
        raise _fail(f"the client attestation's typ must be {ATTESTATION_TYP}")
    if header.get("alg") not in ALGORITHMS:
        raise _fail(f"the client attestation must be signed with {', '.join(ALGORITHMS)}")
    try:
        leaf, provider_key = validate_x5c(header.get("x5c"), anchors, now)
    except ChainError as exc:
        raise _fail(f"the client attestation's x5c: {exc.problem}") from None
    verified_by(attestation, header, provider_key, lambda why: _fail(f"client attestation: {why}"), ALGORITHMS,
                "x5c certificate")
    client_id, provider = claims.get("sub"), claims.get("iss")
    if not isinstance(client_id, str) or not client_id or not isinstance(provider, str) or not provider:
        raise _fail("the client attestation needs iss (the wallet provider) and sub (the client_id)")
    if _number(claims, "exp", "client attestation") <= now.timestamp():
        raise _fail("the client attestation has expired")
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    if not isinstance(jwk, Mapping):
        raise _fail("the client attestation needs cnf.jwk (the wallet instance's key)")
    try:
        instance_key = jwk_to_public_key(jwk)
    except JoseError as exc:
        raise _fail(f"the client attestation's cnf.jwk: {exc}") from None

    pop_header, pop_claims = _parts(pop, "client attestation PoP")
    if pop_header.get("typ") != POP_TYP:
        raise _fail(f"the client attestation PoP's typ must be {POP_TYP}")
    verified_by(pop, pop_header, instance_key, lambda why: _fail(f"client attestation PoP: {why}"), ALGORITHMS,
                "cnf.jwk")
    if pop_claims.get("iss") != client_id:
        raise _fail("the client attestation PoP's iss must be the attestation's sub (the client_id)")
    audience = pop_claims.get("aud")
    if audience != authorization_server and not (isinstance(audience, list) and authorization_server in audience):
        raise _fail("the client attestation PoP's aud must be this authorization server's issuer identifier")
    age = now.timestamp() - _number(pop_claims, "iat", "client attestation PoP")
    if age > max_age or age < -skew:
        raise _fail(f"the client attestation PoP's iat is outside the accepted window ({int(max_age)} s)")
    if "exp" in pop_claims and _number(pop_claims, "exp", "client attestation PoP") <= now.timestamp():
        raise _fail("the client attestation PoP has expired")
    jti = pop_claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise _fail("the client attestation PoP needs a jti")
    return ClientAttestation(client_id, provider, certificate_names(leaf)[0], jti)
