"""SIGNATURE and ISSUER_IDENTITY: the proofs verify, and the signing key belongs to the issuer at signing time.

Keys are resolved first, asynchronously, each at its proof's ``created`` time (:class:`~.ports.KeyResolver`);
the Data Integrity verification (:func:`microcred.crypto.data_integrity.verify_data_integrity`: eddsa-rdfc-2022,
eddsa-jcs-2022 and the VC 1.1 era Ed25519Signature2020) then runs over those keys only. Its outcome is cached
by document digest and key bytes (see :mod:`~.cache` for why that is sound); key validity and the issuer
relation are evaluated on every call.

SIGNATURE maps the outcome: verified -> valid; definitely not valid (bad signature, no proof, malformed proof,
uncanonicalisable data, wrong purpose, expired proof) -> invalid; could not check (unknown suite or context,
key not obtainable) -> unknown.

ISSUER_IDENTITY, over every proof that names a verification method: valid when at least one verified proof is by
a key of the issuer (the other signers of a proof set or chain are listed in ``details.other_signers``); else a
retired, not-yet-valid or unknown key of a known controller -> invalid; a key whose controllers include the
issuer -> valid; a key of someone else -> invalid when the issuer is known to the resolver (its keys are all
listed), otherwise unknown; an unresolvable method -> unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization

from microcred.crypto.data_integrity import VerificationCode, VerificationOutcome, verify_data_integrity
from microcred.verification.cache import ResultCache
from microcred.verification.checks import CheckId, CheckResult, CheckStatus, Reason, invalid, unknown, valid
from microcred.verification.document import proofs, signed_at
from microcred.verification.ports import KeyLookup, KeyLookupProblem, KeyResolver

__all__ = ["ProofCheck", "check_proofs", "resolve_proof_keys", "verify_cached"]

_SIG, _ID = CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY
_DEFINITE = {
    KeyLookupProblem.KEY_RETIRED: Reason.KEY_RETIRED,
    KeyLookupProblem.KEY_NOT_YET_VALID: Reason.KEY_NOT_YET_VALID,
    KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD: Reason.UNKNOWN_VERIFICATION_METHOD,
}
_CODE_REASONS = {
    VerificationCode.NO_PROOF: Reason.NO_PROOF,
    VerificationCode.INVALID_SIGNATURE: Reason.INVALID_SIGNATURE,
    VerificationCode.MALFORMED_PROOF: Reason.MALFORMED_PROOF,
    VerificationCode.CANONICALIZATION_ERROR: Reason.CANONICALIZATION_ERROR,
    VerificationCode.PROOF_PURPOSE_MISMATCH: Reason.PROOF_PURPOSE_MISMATCH,
    VerificationCode.PROOF_EXPIRED: Reason.PROOF_EXPIRED,
    VerificationCode.CONTEXT_MISMATCH: Reason.CONTEXT_MISMATCH,
    VerificationCode.CHALLENGE_MISMATCH: Reason.CHALLENGE_MISMATCH,
    VerificationCode.DOMAIN_MISMATCH: Reason.DOMAIN_MISMATCH,
    VerificationCode.UNSUPPORTED_CRYPTOSUITE: Reason.UNSUPPORTED_CRYPTOSUITE,
    VerificationCode.KEY_NOT_FOUND: Reason.KEY_NOT_FOUND,
    VerificationCode.REMOTE_CONTEXT: Reason.UNKNOWN_CONTEXT,
}


@dataclass(frozen=True)
class ProofCheck:
    """The SIGNATURE and identity results plus what they were computed from."""

    signature: CheckResult
    identity: CheckResult
    outcome: VerificationOutcome
    lookups: Mapping[str, KeyLookup]


async def resolve_proof_keys(document: Mapping[str, Any], keys: KeyResolver, now: datetime,
                             purpose: str = "assertionMethod") -> dict[str, KeyLookup]:
    """Resolve every proof's verification method at that proof's signing time, for the expected ``purpose``
    (the verification relationship the controller must list the method under)."""
    out: dict[str, KeyLookup] = {}
    for proof in proofs(document):
        method = proof.get("verificationMethod")
        if not isinstance(method, str) or method in out:
            continue
        try:
            out[method] = await keys.resolve(method, signed_at(proof, document, now), purpose)
        except Exception as exc:  # a resolver that breaks means "could not check", never a crash
            out[method] = KeyLookup(None, problem=KeyLookupProblem.LOOKUP_FAILED, message=str(exc)[:300])
    return out


def _raw(key: Any) -> bytes:
    data: bytes = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return data


def verify_cached(document: Mapping[str, Any], lookups: Mapping[str, KeyLookup], now: datetime, *,
                  purpose: str = "assertionMethod", digest: str | None = None,
                  cache: ResultCache | None = None, nquads: str | Exception | None = None) -> VerificationOutcome:
    """:func:`verify_data_integrity` with the resolved keys, cached when sound (no proof has ``expires``);
    ``nquads``: the proof-less document's canonical N-Quads when already computed."""
    resolved = {m: lk.public_key for m, lk in lookups.items() if lk.public_key is not None}
    cacheable = cache is not None and digest is not None and not any("expires" in p for p in proofs(document))
    key = ("proof", digest, purpose, tuple(sorted((m, _raw(k)) for m, k in resolved.items())))
    if cacheable and cache is not None:
        hit = cache.get(key)
        if isinstance(hit, VerificationOutcome):
            return hit
    outcome = verify_data_integrity(document, resolved.get, expected_proof_purpose=purpose, now=now,
                                    unsecured_nquads=nquads)
    if cacheable and cache is not None:
        cache.put(key, outcome)
    return outcome


def _signature_result(outcome: VerificationOutcome, lookups: Mapping[str, KeyLookup]) -> CheckResult:
    details: dict[str, Any] = {"suite": outcome.cryptosuite or "?", "verification_method": outcome.verification_method,
                               "created": outcome.created, "proofs": max(1, len(outcome.proofs))}
    if len(outcome.proofs) > 1:  # a proof set or chain: every proof is reported, each for what it is
        details["each"] = [{"verification_method": o.verification_method, "suite": o.cryptosuite or "?",
                            "verified": o.verified, "code": o.code.value, "message": o.message[:300]}
                           for o in outcome.proofs]
    if outcome.verified is True:
        return valid(_SIG, Reason.SIGNATURE_VALID, **details)
    reason = _CODE_REASONS.get(outcome.code, Reason.INTERNAL_ERROR)
    problem = outcome.message
    lookup = lookups.get(outcome.verification_method or "")
    if outcome.code is VerificationCode.KEY_NOT_FOUND and lookup is not None and lookup.message:
        problem = lookup.message
    if outcome.verified is False:
        return invalid(_SIG, reason, problem=problem, **details)
    return unknown(_SIG, reason, problem=problem, **details)


async def _identity_result(document: Mapping[str, Any], subject: str | None, lookups: Mapping[str, KeyLookup],
                           keys: KeyResolver, outcome: VerificationOutcome | None = None) -> CheckResult:
    if not lookups:
        return unknown(_ID, Reason.NO_VERIFICATION_METHOD, issuer=subject or "?")
    results: list[CheckResult] = []
    for method, lookup in lookups.items():
        details = {"issuer": subject or "?", "verification_method": method, "method": lookup.source or "?"}
        if lookup.problem in _DEFINITE:
            results.append(invalid(_ID, _DEFINITE[lookup.problem], problem=lookup.message, **details))
        elif lookup.public_key is None:
            results.append(unknown(_ID, Reason.ISSUER_UNRESOLVABLE, problem=lookup.message, **details))
        elif subject is not None and subject in lookup.controllers:
            results.append(valid(_ID, Reason.ISSUER_KEY_VALID, **details))
        elif subject is not None and await keys.knows_issuer(subject):
            results.append(invalid(_ID, Reason.KEY_NOT_OF_ISSUER, **details))
        else:
            results.append(unknown(_ID, Reason.ISSUER_UNRESOLVABLE, problem=lookup.message, **details))
    # Proof sets and chains: at least one verified proof by a key of the issuer makes the identity; proofs by
    # others (witnesses, endorsers) are listed for what they are, without deciding it.
    verified = {o.verification_method for o in (outcome.proofs or (outcome,))
                if o.verified is True} if outcome is not None else set()
    by_issuer = [r for r in results if r.status is CheckStatus.VALID and r.details["verification_method"] in verified]
    if by_issuer and len(results) > 1:
        others = [{"verification_method": r.details["verification_method"], "status": r.status.value,
                   "reason_code": r.reason_code.value} for r in results if r not in by_issuer]
        return valid(_ID, Reason.ISSUER_KEY_VALID, **{**by_issuer[0].details, "other_signers": others})
    for status in (CheckStatus.INVALID, CheckStatus.UNKNOWN):
        for result in results:
            if result.status is status:
                return result
    return results[0]


async def check_proofs(document: Mapping[str, Any], subject: str | None, keys: KeyResolver, now: datetime, *,
                       purpose: str = "assertionMethod", digest: str | None = None,
                       cache: ResultCache | None = None, nquads: str | Exception | None = None) -> ProofCheck:
    """SIGNATURE and ISSUER_IDENTITY for ``document`` whose proofs should be by ``subject`` (issuer or holder);
    ``nquads``: the proof-less document's canonical N-Quads when already computed."""
    lookups = await resolve_proof_keys(document, keys, now, purpose)
    outcome = verify_cached(document, lookups, now, purpose=purpose, digest=digest, cache=cache, nquads=nquads)
    identity = await _identity_result(document, subject, lookups, keys, outcome)
    return ProofCheck(_signature_result(outcome, lookups), identity, outcome, lookups)
