"""Key proofs of possession (OpenID4VCI 1.0 §8.2.1.1, Appendix F.1: ``jwt`` proof type).

A proof is a JWS with header ``typ: openid4vci-proof+jwt``, ``alg`` ES256 (a P-256 key) or EdDSA (an Ed25519
key: :data:`KEY_PROOF_ALGORITHMS`, the alg always the key type's own) and the holder's key: its public ``jwk``,
or a ``kid`` that is a ``did:key`` or ``did:jwk`` DID URL (a wallet whose holder is a DID, as the ``ldp_vc``
configuration's ``cryptographic_binding_methods_supported: ["did:key", "did:jwk"]`` invites; decoded locally by
:func:`~microcred.oid4vci.holder_did.holder_did_public_key`, never fetched; the proof then names that DID, which an
``ldp_vc`` is bound to as written). Exactly one of the two; ``x5c`` is not accepted. The proof is signed by that
key; claims ``aud`` = the Credential Issuer identifier, ``iat`` (not older than ``max_age``, not in the future beyond
``skew``) and ``nonce`` (the ``c_nonce`` from the nonce endpoint). This module checks everything but whether the
nonce is fresh and unused: that needs the store (atomic consumption in Redis), so :func:`check_key_proof` returns
the nonce for the caller to spend. Every failure is ``invalid_proof``, a missing ``nonce`` too (§8.3.1.2);
``invalid_nonce`` is for a nonce that is there but not live.

With a :class:`~microcred.oid4vci.key_attestation.KeyAttestationPolicy` (an issuer that checks key attestations), a
proof may carry a key attestation in its ``key_attestation`` header (Appendix F.1): it is checked, the proof must be
signed by one of its attested keys (named by ``jwk``, by a DID ``kid``, or by another ``kid``, such as the
key's position in ``attested_keys``, the attested key that verifies the signature then being the one), and every
attested key gets a credential (§F.1: "SHOULD issue a Credential for each"). An issuer that requires key
attestations refuses a proof without one. Without a policy the header is not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microcred.oid4vci.errors import INVALID_PROOF, OAuthError, proof_nonce
from microcred.oid4vci.holder_did import holder_did_public_key
from microcred.oid4vci.key_attestation import KeyAttestation, KeyAttestationPolicy, check_key_attestation
from microcred.oid4vci.self_keyed import KEY_PROOF_ALGORITHMS, header_key, verified_by
from microcred.sdjwt.jose import (
    JoseError,
    PublicKey,
    b64url_decode,
    jwk_to_public_key,
    public_jwk,
    strict_json_loads,
)

__all__ = ["KEY_PROOF_ALGORITHMS", "MAX_PROOF_LENGTH", "PROOF_TYP", "KeyProof", "check_key_proof"]


PROOF_TYP = "openid4vci-proof+jwt"
MAX_PROOF_LENGTH = 24_576  # room for a key attestation (16 kB, base64url again in the header)


@dataclass(frozen=True)
class KeyProof:
    """A checked proof: the holder's public JWK (only ``kty``, ``crv``, ``x`` [, ``y``]) and the nonce it names,
    with the key attestation it carried (None: none, or not read) and the DID its ``kid`` named the key by (None:
    a ``jwk`` header, or an attested key)."""

    jwk: dict[str, Any]
    nonce: str
    attestation: KeyAttestation | None = None
    did: str | None = None


def _fail(description: str) -> OAuthError:
    return OAuthError(INVALID_PROOF, description)


def _decode(segment: str, what: str) -> Mapping[str, Any]:
    try:
        value = strict_json_loads(b64url_decode(segment))
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"the proof's {what} is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise _fail(f"the proof's {what} is not a JSON object")
    return value


def _attested_signer(proof: str, header: Mapping[str, Any], attested: KeyAttestation) -> PublicKey:
    """The attested key that signed ``proof``, whose header names it by a ``kid`` that is not a DID (or not at
    all): the key at that position when the ``kid`` is one, else the first that verifies (as many tries at most
    as the attestation has keys, which it bounds)."""
    kid = header.get("kid")
    keys = list(attested.keys)
    # short ASCII digits only: int() of thousands of digits raises, and other scripts' digits are no position
    if isinstance(kid, str) and kid.isascii() and kid.isdigit() and len(kid) <= 3 and int(kid) < len(keys):
        keys.insert(0, keys.pop(int(kid)))
    for jwk in keys:
        try:
            return verified_by(proof, header, jwk_to_public_key(jwk), _fail, KEY_PROOF_ALGORITHMS, "attested key")
        except (OAuthError, JoseError):
            continue
    raise _fail("the proof is not signed by any of the key attestation's attested_keys")


def check_key_proof(proof: object, *, audience: str, now: datetime, max_age: float = 300.0,
                    skew: float = 60.0, attestations: KeyAttestationPolicy | None = None,
                    max_keys: int = 10) -> KeyProof:
    """Check one ``jwt`` key proof for ``audience`` at ``now`` (with its key attestation, under ``attestations``
    when given); raise ``invalid_proof`` naming what is wrong."""
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:
        raise _fail(f"a proof must be a compact JWS of at most {MAX_PROOF_LENGTH} characters")
    head, body, _ = proof.split(".")
    header, claims = _decode(head, "header"), _decode(body, "payload")
    if header.get("typ") != PROOF_TYP:
        raise _fail(f"typ must be {PROOF_TYP}")
    if header.get("alg") not in KEY_PROOF_ALGORITHMS:
        raise _fail(f"alg must be one of {list(KEY_PROOF_ALGORITHMS)}")
    if "x5c" in header:
        raise _fail("the key must be given as jwk or as a did:key or did:jwk kid (x5c is not supported)")
    if "kid" in header and "jwk" in header:
        raise _fail("kid and jwk must not both be present (Appendix F.1)")
    attested = None
    if attestations is not None and "key_attestation" in header:
        attested = check_key_attestation(header["key_attestation"], policy=attestations, use="jwt", now=now,
                                         max_keys=max_keys)
    elif attestations is not None and attestations.required:
        raise _fail("this Credential Issuer requires a key attestation (key_attestations_required): send it in "
                    "the proof's key_attestation header, or use the attestation proof type")
    kid, did = header.get("kid"), None
    if attested is not None and "jwk" not in header and not (isinstance(kid, str) and kid.startswith("did:")):
        key = _attested_signer(proof, header, attested)
    elif "kid" in header:
        did, named = holder_did_public_key(header["kid"])
        key = verified_by(proof, header, named, _fail, KEY_PROOF_ALGORITHMS, "kid")
    else:
        key = header_key(proof, header, _fail, "the header must carry the holder's public key as jwk or a "
                                               "did:key or did:jwk kid", KEY_PROOF_ALGORITHMS)
    if attested is not None and public_jwk(key) not in attested.keys:
        raise _fail("the proof's key is not one of the key attestation's attested_keys")
    if claims.get("aud") != audience:
        raise _fail("aud must be this Credential Issuer's identifier")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise _fail("iat is required (seconds since the epoch)")
    age = now.timestamp() - iat
    if age > max_age or age < -skew:
        raise _fail(f"iat is outside the accepted window ({int(max_age)} s old, {int(skew)} s ahead)")
    nonce = proof_nonce(claims.get("nonce"), "the proof must carry the c_nonce from the nonce endpoint in its "
                                             "nonce claim")
    return KeyProof(public_jwk(key), nonce, attested, did)
