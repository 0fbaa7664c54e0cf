"""Key attestations (OpenID4VCI 1.0 Appendix D), which HAIP 1.0 requires issuers to accept at the credential
endpoint: in a ``jwt`` key proof's ``key_attestation`` header, and as the ``attestation`` proof type.

A key attestation is a JWT the wallet provider (or the wallet's key storage component) signed: header ``typ``
``key-attestation+jwt`` (``keyattestation+jwt``, the name of the drafts before 1.0 that deployed wallets still
send, is accepted too: both name only this kind of JWT, so no other JWT can pass for it), ``alg`` one of the key
proof algorithms, and the signer's certificate chain in ``x5c``, which must reach one of the anchors this issuer
is configured to trust for key attestations (there is no other way to tell whose attestation it is: ``kid`` and
``trust_chain`` alone are refused). Claims: ``iat``; ``exp`` (required when it rides in a ``jwt`` proof, and not
past); ``attested_keys``, the public JWKs (P-256 or Ed25519, as key proofs; never a private member) the
credentials will be bound to; ``key_storage`` and ``user_authentication``, the attack potential the keys and the
user's authentication resist (``iso_18045_high`` …); ``nonce``, a ``c_nonce`` (required for the ``attestation``
proof type, which has no other freshness); ``status`` is not read (checking it would mean fetching the wallet
provider's status list at run time, and the platform makes no calls outside itself).

:class:`KeyAttestationPolicy` is what the issuer accepts: its anchors, whether a key attestation is required,
and the ``key_storage`` / ``user_authentication`` values it accepts (empty: any). :func:`check_key_attestation`
checks one attestation against it (pure; the time is given) and returns the attested keys and the nonce for the
caller to spend. Every failure is ``invalid_proof``, a missing nonce too (§8.3.1.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography import x509

from microcred.oid4vci.errors import INVALID_PROOF, OAuthError, proof_nonce
from microcred.oid4vci.self_keyed import KEY_PROOF_ALGORITHMS, verified_by
from microcred.sdjwt.jose import (
    JoseError,
    algorithm_for_key,
    algorithms_for_key,
    jwk_to_public_key,
    parse_jws,
    public_jwk,
)
from microcred.sdjwt.x5c import ChainError, validate_x5c

__all__ = ["KEY_ATTESTATION_TYPES", "KeyAttestation", "KeyAttestationPolicy",
           "check_key_attestation"]

KEY_ATTESTATION_TYPES = ("key-attestation+jwt", "keyattestation+jwt")  # 1.0's name first, then the drafts'
MAX_ATTESTATION = 16_384  # it carries a certificate chain
MAX_LEVELS = 16

Use = Literal["jwt", "attestation"]


@dataclass(frozen=True)
class KeyAttestationPolicy:
    """What this issuer accepts: ``anchors`` (CA certificates of the wallet providers trusted to attest keys),
    ``required`` (a credential request without a key attestation is refused), and the ``key_storage`` and
    ``user_authentication`` values of which an attestation must assert at least one (empty: no constraint)."""

    anchors: tuple[x509.Certificate, ...]
    required: bool = False
    key_storage: tuple[str, ...] = ()
    user_authentication: tuple[str, ...] = ()

    def requirements(self) -> dict[str, list[str]]:
        """The ``key_attestations_required`` object of the metadata (§12.2.4): the constraints, possibly none."""
        wanted = {"key_storage": list(self.key_storage), "user_authentication": list(self.user_authentication)}
        return {name: values for name, values in wanted.items() if values}


@dataclass(frozen=True)
class KeyAttestation:
    """A checked key attestation: the attested public JWKs (``kty``, ``crv``, ``x`` [, ``y``] only, in its order),
    the nonce it names (None: none) and what it asserts."""

    keys: tuple[dict[str, Any], ...]
    nonce: str | None
    key_storage: tuple[str, ...]
    user_authentication: tuple[str, ...]


def _fail(description: str) -> OAuthError:
    return OAuthError(INVALID_PROOF, f"key attestation: {description}")


def _parts(token: object) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if not isinstance(token, str):
        raise _fail("must be a compact JWS")
    try:
        jws = parse_jws(token, max_length=MAX_ATTESTATION)
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"not a compact JWS of JSON objects ({exc})") from None
    return jws.header, jws.payload


def _time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{name} must be a number (seconds since the epoch)")
    return float(value)


def _levels(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = claims.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not 0 < len(value) <= MAX_LEVELS \
            or not all(isinstance(v, str) and 0 < len(v) <= 256 for v in value):
        raise _fail(f"{name} must be a non-empty array of strings")
    return tuple(value)


def _attested_keys(claims: Mapping[str, Any], max_keys: int) -> tuple[dict[str, Any], ...]:
    value = claims.get("attested_keys")
    if not isinstance(value, list) or not value:
        raise _fail("attested_keys must be a non-empty array of JWKs")
    if len(value) > max_keys:
        raise _fail(f"attests {len(value)} keys; at most {max_keys} credentials are issued per request")
    keys: list[dict[str, Any]] = []
    for n, jwk in enumerate(value):
        try:
            key = jwk_to_public_key(jwk)
            own = algorithm_for_key(key)
        except JoseError as exc:
            raise _fail(f"attested_keys[{n}]: {exc}") from None
        if not set(algorithms_for_key(key)) & set(KEY_PROOF_ALGORITHMS):
            raise _fail(f"attested_keys[{n}] signs with {own}, which is not one of {list(KEY_PROOF_ALGORITHMS)}")
        public = public_jwk(key)
        if public not in keys:  # the same key twice is bound once
            keys.append(public)
    return tuple(keys)


def _accepted(asserted: tuple[str, ...], accepted: tuple[str, ...], name: str) -> None:
    if accepted and not set(asserted) & set(accepted):
        raise _fail(f"{name} {list(asserted)} is not one this issuer accepts ({list(accepted)})")


def check_key_attestation(token: object, *, policy: KeyAttestationPolicy, use: Use, now: datetime,
                          max_keys: int, skew: float = 60.0) -> KeyAttestation:
    """Check one key attestation, carried by a ``jwt`` proof or as the ``attestation`` proof type (``use``), for
    ``policy`` at ``now``; raise ``invalid_proof`` (``invalid_nonce``: no nonce where one is required)."""
    header, claims = _parts(token)
    if header.get("typ") not in KEY_ATTESTATION_TYPES:
        raise _fail(f"typ must be {KEY_ATTESTATION_TYPES[0]}")
    if header.get("alg") not in KEY_PROOF_ALGORITHMS:
        raise _fail(f"alg must be one of {list(KEY_PROOF_ALGORITHMS)}")
    if "x5c" not in header:
        raise _fail("the signer's certificate chain must be in x5c (kid and trust_chain are not resolved here)")
    try:
        _, signer = validate_x5c(header["x5c"], policy.anchors, now)
    except ChainError as exc:
        raise _fail(f"x5c: {exc.problem}") from None
    verified_by(str(token), header, signer, _fail, KEY_PROOF_ALGORITHMS, "x5c certificate")
    moment = now.timestamp()
    issued, expires = _time(claims, "iat"), _time(claims, "exp")
    if issued is None:
        raise _fail("iat is required")
    if issued > moment + skew:
        raise _fail("iat is in the future")
    if expires is None and use == "jwt":
        raise _fail("exp is required when the attestation rides in a jwt key proof")
    if expires is not None and expires <= moment:
        raise _fail("it has expired")
    keys = _attested_keys(claims, max_keys)
    storage, authentication = _levels(claims, "key_storage"), _levels(claims, "user_authentication")
    _accepted(storage, policy.key_storage, "key_storage")
    _accepted(authentication, policy.user_authentication, "user_authentication")
    nonce = claims.get("nonce")
    if nonce is not None or use == "attestation":  # the attestation proof type has no other freshness
        nonce = proof_nonce(nonce, "key attestation: nonce must be the c_nonce from the nonce endpoint (the "
                                   "attestation proof type requires one)")
    return KeyAttestation(keys, nonce, storage, authentication)

