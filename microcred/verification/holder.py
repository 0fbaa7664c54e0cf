"""HOLDER_BINDING (presentations): the holder signed this presentation, for this challenge and domain, and is
the subject of every credential in it (when the verifier's policy requires it; otherwise the report says which
credentials' subject the holder is not: the data model allows holder and subject to differ).

Needs the presentation's proof verified (``proofPurpose: authentication``). Then, in order: the signing key
must belong to the ``holder`` (when the presentation names one); with a verifier ``challenge`` every proof must
carry it, and with a ``domain`` every proof must name it; every credential's ``credentialSubject.id`` must be
the holder. Without a challenge the presentation could be a replay, so the binding is ``unknown``
(NO_CHALLENGE) even when everything else holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from microcred.verification.checks import CheckId, CheckResult, CheckStatus, Reason, invalid, unknown, valid
from microcred.verification.document import as_list, proofs, subjects
from microcred.verification.signature import ProofCheck

__all__ = ["check_holder_binding", "holder_id"]

_H = CheckId.HOLDER_BINDING


def holder_id(presentation: Mapping[str, Any]) -> str | None:
    """The presentation's ``holder`` (a string or ``holder.id``)."""
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) and holder else None


def check_holder_binding(presentation: Mapping[str, Any], proof: ProofCheck,
                         credentials: Sequence[Mapping[str, Any]], challenge: str | None,
                         domain: str | None, *, holder_must_be_subject: bool = False) -> CheckResult:
    """The HOLDER_BINDING result of a presentation whose proofs were checked as ``proof``."""
    outcome = proof.outcome
    if outcome.verified is False:
        return invalid(_H, Reason.PRESENTATION_SIGNATURE_INVALID, problem=outcome.message)
    if outcome.verified is None:
        return unknown(_H, Reason.PRESENTATION_SIGNATURE_UNKNOWN, problem=outcome.message)
    controllers = {c for lookup in proof.lookups.values() for c in lookup.controllers}
    holder = holder_id(presentation)
    signer = outcome.verification_method or "?"
    if holder is not None and holder not in controllers:
        return invalid(_H, Reason.HOLDER_NOT_SIGNER, holder=holder, signer=signer)
    holder = holder or next(iter(sorted(controllers)), "?")
    results = _challenge_results(presentation, challenge, domain, holder)
    not_subject: list[str] = []
    for i, credential in enumerate(credentials):
        name = str(credential.get("id") or f"#{i + 1}")
        ids = {s.get("id") for s in subjects(credential) if isinstance(s.get("id"), str)}
        if holder in ids:
            continue
        if not holder_must_be_subject:
            not_subject.append(name)
        elif not ids:
            results.append(unknown(_H, Reason.SUBJECT_NOT_IDENTIFIABLE, holder=holder, credential=name))
        else:
            results.append(invalid(_H, Reason.HOLDER_NOT_SUBJECT, holder=holder, credential=name))
    for status in (CheckStatus.INVALID, CheckStatus.UNKNOWN):
        for result in results:
            if result.status is status:
                return result
    if not_subject:
        return valid(_H, Reason.HOLDER_BOUND_NOT_SUBJECT, holder=holder, challenge=challenge, domain=domain,
                     credentials=not_subject)
    return valid(_H, Reason.HOLDER_BOUND, holder=holder, challenge=challenge, domain=domain)


def _challenge_results(presentation: Mapping[str, Any], challenge: str | None, domain: str | None,
                       holder: str) -> list[CheckResult]:
    results: list[CheckResult] = []
    vp_proofs = proofs(presentation)
    if challenge is None:
        results.append(unknown(_H, Reason.NO_CHALLENGE, holder=holder))
    elif any(p.get("challenge") != challenge for p in vp_proofs):
        results.append(invalid(_H, Reason.CHALLENGE_MISMATCH, holder=holder))
    if domain is not None and any(domain not in as_list(p.get("domain")) for p in vp_proofs):
        results.append(invalid(_H, Reason.DOMAIN_MISMATCH, holder=holder))
    return results
