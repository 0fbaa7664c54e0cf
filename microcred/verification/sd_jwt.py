"""SD-JWT VCs (``dc+sd-jwt``) through the same report and verdict policy as Data Integrity credentials.

The format's own checks are :func:`microcred.sdjwt.verify.verify_sd_jwt_vc` (pure: FORMAT, ISSUER_IDENTITY by
the ``x5c`` chain to :attr:`VerificationPorts.x509_anchors`, SIGNATURE, DISCLOSURES, TYPE_METADATA,
VALIDITY_WINDOW, HOLDER_BINDING by the KB-JWT). This module adds what needs the outside world, through the
ports: REVOCATION and SUSPENSION from the Token Status List the credential names
(:class:`~.ports.TokenStatusSource`, checked by :func:`microcred.status.token_status_list.check_token_status`),
ACCREDITATION of ``iss`` in the trust registry, and EU_ELEMENTS over the disclosed claims read back into the
protobuf model (:func:`microcred.sdjwt.claims.read_micro_credential`), so the summary an employer sees is the
same one a Data Integrity credential gives.

What is required for ``valid`` (see :mod:`~.policy`): the always-required checks, DISCLOSURES; for our EU
micro-credential type also TYPE_METADATA, EU_ELEMENTS and ACCREDITATION (for another ``vct`` they are advisory,
as for a third-party Data Integrity credential); HOLDER_BINDING when the caller gave a nonce (a presentation):
decided by the caller, never by whether a Key Binding JWT came along (RFC 9901 §7.3). Without a nonce a
holder-bound credential (``cnf``) still shows HOLDER_BINDING, as advisory (unknown: not proven, or invalid: a
KB-JWT that fails). REVOCATION and SUSPENSION are not fetched for a credential another check already found
invalid (Token Status List §8.3); a ``status`` of another mechanism than ``status_list`` leaves them unknown.
The learner's identity claims are selectively disclosable: when a holder
withholds them, EU_ELEMENTS stays valid and names them as withheld, since withholding is what the format is for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from microcred.credential.eu_elements import EUElements, missing_from, read_eu_elements
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.sdjwt import result as r
from microcred.sdjwt.claims import read_micro_credential
from microcred.sdjwt.type_metadata import VCT
from microcred.sdjwt.verify import SdJwtVerification, VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.view import compact_of, view_of_claims
from microcred.status.token_status_list import check_token_status
from microcred.verification.accreditation import check_issuer_accreditation
from microcred.verification.checks import CheckId, CheckResult, CheckStatus, Reason, invalid, unknown, valid
from microcred.verification.policy import ALWAYS_REQUIRED, MICRO_CREDENTIAL_REQUIRED, decide
from microcred.verification.ports import VerificationPorts
from microcred.verification.report import VerificationReport
from microcred.verification.summary import summarize

__all__ = ["ORDER", "is_sd_jwt", "sd_jwt_required_checks", "verify_sd_jwt_credential"]

log = logging.getLogger(__name__)

#: The order an SD-JWT VC report lists its checks in (the Data Integrity order, with the format's two own checks
#: after FORMAT). Every check id appears once.
ORDER: tuple[CheckId, ...] = (
    CheckId.FORMAT, CheckId.DISCLOSURES, CheckId.TYPE_METADATA, CheckId.EU_ELEMENTS, CheckId.SIGNATURE,
    CheckId.ISSUER_IDENTITY, CheckId.ACCREDITATION, CheckId.VALIDITY_WINDOW, CheckId.REVOCATION,
    CheckId.SUSPENSION, CheckId.HOLDER_BINDING,
)
_POSITION = {check: i for i, check in enumerate(ORDER)}
#: Annex I elements a holder may withhold (every learner claim is selectively disclosable).
_WITHHOLDABLE = frozenset({"learner"})


def is_sd_jwt(document: Any) -> bool:
    """Whether a request's credential is an SD-JWT VC (:func:`microcred.sdjwt.view.compact_of`: a compact string,
    or a VC 2.0 enveloped credential holding one) rather than JSON-LD."""
    return compact_of(document) is not None


def sd_jwt_required_checks(*, micro_credential: bool, presented: bool) -> frozenset[CheckId]:
    """The checks whose ``unknown`` makes an SD-JWT VC's verdict undetermined (module docstring)."""
    required = ALWAYS_REQUIRED | {CheckId.DISCLOSURES}
    if micro_credential:
        required |= MICRO_CREDENTIAL_REQUIRED | {CheckId.TYPE_METADATA}
    if presented:
        required |= {CheckId.HOLDER_BINDING}
    return frozenset(required)


def _result(check: r.SdJwtCheck) -> CheckResult:
    """The report's form of one SD-JWT check (same ids, statuses and reason codes by construction)."""
    try:
        return CheckResult(CheckId(check.id), CheckStatus(check.status.value), Reason(check.reason_code),
                           check.message, dict(check.details))
    except ValueError:  # a code the report does not know: never passed off as valid
        log.error("unmapped SD-JWT check", extra={"check": check.id, "reason": check.reason_code})
        return unknown(CheckId(check.id) if check.id in CheckId.__members__.values() else CheckId.FORMAT,
                       Reason.INTERNAL_ERROR, problem=f"unmapped result {check.reason_code}")


async def _statuses(verified: SdJwtVerification, ports: VerificationPorts, now: datetime) -> list[CheckResult]:
    reference = verified.status_reference
    status = (verified.claims or {}).get("status")
    if reference is None and status is not None:
        # a status mechanism other than the Token Status List (HAIP requires status_list): the credential may
        # well be revoked there, which this verifier cannot see, so never "no status entry"
        mechanisms = sorted(str(name) for name in status) if isinstance(status, Mapping) else []
        return [unknown(c, Reason.UNSUPPORTED_STATUS_TYPE, problem="the credential's status is not a Token Status "
                        "List (status.status_list), the only mechanism this verifier reads", mechanisms=mechanisms)
                for c in (CheckId.REVOCATION, CheckId.SUSPENSION)]
    if reference is None:
        return [valid(CheckId.REVOCATION, Reason.NO_STATUS_ENTRY, purpose="revocation"),
                valid(CheckId.SUSPENSION, Reason.NO_STATUS_ENTRY, purpose="suspension")]
    source = ports.token_status
    try:
        fetched = None if source is None else await source.get(reference.uri)
    except Exception as exc:  # the source failed: the status is unknown, never assumed
        log.warning("token status list unavailable", extra={"error": type(exc).__name__})
        fetched = None
    if fetched is None:
        problem = "no Token Status List source is configured" if source is None else "the list is unreachable"
        return [unknown(c, Reason.STATUS_RETRIEVAL_ERROR, problem=problem, url=reference.uri)
                for c in (CheckId.REVOCATION, CheckId.SUSPENSION)]
    revocation, suspension = check_token_status(reference, fetched[0], trust_anchors=ports.x509_anchors, now=now)
    return [_result(revocation), _result(suspension)]


def _withheld(mc: pb.MicroCredential) -> list[str]:
    """Learner elements absent from the claims: they are selectively disclosable, so the holder withheld them."""
    return [] if mc.HasField("learner") and mc.learner.ByteSize() else sorted(_WITHHOLDABLE)


def _read_elements(document: Mapping[str, Any] | None) -> EUElements | Exception | None:
    """The view's EU elements, read once for EU_ELEMENTS and the summary (the error reading them, or None
    without a view)."""
    if document is None:
        return None
    try:
        return read_eu_elements(document)
    except Exception as exc:  # EU_ELEMENTS raises it again (as before); the summary shows nothing
        return exc


def _eu_elements(mc: pb.MicroCredential, document: Mapping[str, Any] | None,
                 elements: EUElements | Exception | None) -> CheckResult:
    if document is None:
        return invalid(CheckId.EU_ELEMENTS, Reason.EU_ELEMENTS_MISSING, missing=["(unreadable claims)"])
    if isinstance(elements, Exception):
        raise elements
    withheld = _withheld(mc)
    read = elements if elements is not None else read_eu_elements(document)
    missing = [m for m in missing_from(read) if m not in withheld]
    if missing:
        return invalid(CheckId.EU_ELEMENTS, Reason.EU_ELEMENTS_MISSING, missing=missing)
    return valid(CheckId.EU_ELEMENTS, Reason.EU_ELEMENTS_PRESENT, withheld=withheld)


def _eqf(mc: pb.MicroCredential) -> int | None:
    return int(mc.level.eqf_level) if mc.level.WhichOneof("eqf") == "eqf_level" else None


async def verify_sd_jwt_credential(text: str, ports: VerificationPorts, now: datetime | None = None, *,
                                   nonce: str | None = None, audience: str | None = None,
                                   require_holder_binding: bool | None = None) -> VerificationReport:
    """Verify a compact SD-JWT VC (or SD-JWT+KB with the verifier's ``nonce`` and ``audience``) at ``now``.
    ``require_holder_binding``: whether a valid KB-JWT is required for ``valid``; by default, when a nonce is
    given (a verifier that asked for no holder binding, OpenID4VP's ``require_cryptographic_holder_binding:
    false``, gives its nonce and False: a KB-JWT that comes along is still checked against it)."""
    now = now or datetime.now(UTC)
    policy = VerifierPolicy(trust_anchors=tuple(ports.x509_anchors), expected_nonce=nonce, expected_aud=audience,
                            require_type_metadata=False)
    verified = verify_sd_jwt_vc(text, policy, now)
    micro = verified.vct == VCT
    # Whether holder binding is required is the caller's decision (a challenge given), never whether a KB-JWT
    # came with the credential (RFC 9901 §7.3: stripping it must not change what is asked)
    presented = nonce is not None if require_holder_binding is None else require_holder_binding
    required = sd_jwt_required_checks(micro_credential=micro, presented=presented)
    checks = [_result(c) for c in verified.checks]
    if not presented and not _holder_bound(verified, text):
        # a bearer credential on its own: there is no holder to bind (as for Data Integrity); a holder-bound one
        # keeps the check in the report, advisory, so that what was not proven is said
        checks = [c for c in checks if c.id is not CheckId.HOLDER_BINDING]
    summary: dict[str, Any] = {}
    if verified.claims is None:  # not verified far enough to read: the rest could not be checked
        why = "the issuer's signature and disclosures did not verify"
        checks += [unknown(c, Reason.NOT_CHECKED, problem=why)
                   for c in (CheckId.EU_ELEMENTS, CheckId.ACCREDITATION, CheckId.REVOCATION, CheckId.SUSPENSION)]
    else:
        mc = read_micro_credential(verified.claims)
        document = view_of_claims(verified.claims, verified.issuer, "urn:sd-jwt", mc)
        elements = _read_elements(document)
        checks.append(_eu_elements(mc, document, elements) if micro
                      else unknown(CheckId.EU_ELEMENTS, Reason.NOT_A_MICRO_CREDENTIAL))
        issued = mc.issued_at.ToDatetime(tzinfo=UTC) if mc.HasField("issued_at") else now
        checks.append(await check_issuer_accreditation(verified.issuer or "?", _eqf(mc), issued,
                                                       ports.trust_directory(), now))
        if any(c.status is CheckStatus.INVALID for c in checks):
            # Token Status List §8.3: no status list is fetched for a credential already found invalid (the
            # fetch tells its issuer which credential is being looked at, for nothing)
            checks += [unknown(c, Reason.NOT_CHECKED, problem="the credential already failed another check")
                       for c in (CheckId.REVOCATION, CheckId.SUSPENSION)]
        else:
            checks += await _statuses(verified, ports, now)
        summary = summarize(document, elements) if document is not None and isinstance(elements, EUElements) else {}
    ordered = tuple(sorted(checks, key=lambda c: _POSITION[c.id]))
    return VerificationReport("credential", decide(ordered, required), ordered, now, required, None,
                              verified.issuer, micro, summary=summary)


def _holder_bound(verified: SdJwtVerification, text: str) -> bool:
    """Whether the credential names a holder key (``cnf``), or, when its claims could not be read, carries a
    KB-JWT (an SD-JWT+KB ends with the KB-JWT after the last ``~``; an SD-JWT without one ends with ``~``)."""
    if verified.claims is not None:
        return "cnf" in verified.claims
    return not text.strip().endswith("~")
