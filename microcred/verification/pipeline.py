"""The verification pipeline: a credential or a presentation in, a :class:`~.report.VerificationReport` out.

A credential goes through FORMAT, EU_ELEMENTS, SIGNATURE, ISSUER_IDENTITY, ACCREDITATION, VALIDITY_WINDOW,
REVOCATION and SUSPENSION, each reported on its own (a failed signature does not hide a revoked status); a
presentation through FORMAT, SIGNATURE (``authentication`` purpose) and HOLDER_BINDING, and every credential
it embeds through the credential pipeline. The verdict follows :mod:`~.policy`.

Nothing here raises on content: a check that breaks unexpectedly is reported ``unknown`` / INTERNAL_ERROR
(hence "undetermined", never "valid"); a document that is not a JSON object gets a report with FORMAT
invalid. All I/O goes through :class:`~.ports.VerificationPorts`.

The checks, what they apply to and their order are declared in :mod:`~.table`; this module walks that
table for each document and turns the results into a report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from microcred.credential.jsontext import nested_deeper_than
from microcred.sdjwt.view import compact_of
from microcred.vcdm import is_presentation
from microcred.verification.cache import document_digest
from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, unknown
from microcred.verification.document import as_list, issuer_id
from microcred.verification.edc import is_jades, verify_edc_credential
from microcred.verification.eu_check import is_micro_credential
from microcred.verification.format_check import check_format
from microcred.verification.holder import holder_id
from microcred.verification.policy import combine, decide, required_checks
from microcred.verification.ports import VerificationPorts
from microcred.verification.report import VerificationReport
from microcred.verification.sd_jwt import verify_sd_jwt_credential
from microcred.verification.summary import summarize
from microcred.verification.table import (
    Scope,
    Step,
    Subject,
    in_table_order,
    read_credential,
    refused_checks,
    rows_for,
)

__all__ = ["is_presentation", "verify", "verify_credential", "verify_presentation"]

log = logging.getLogger(__name__)


async def _guarded(checks: tuple[CheckId, ...], run: Step, subject: Subject) -> list[CheckResult]:
    try:
        return await run(subject)
    except Exception as exc:  # a check must never crash the report: it becomes "could not check"
        log.exception("verification check failed", extra={"checks": [c.value for c in checks]})
        return [unknown(c, Reason.INTERNAL_ERROR, problem=type(exc).__name__) for c in checks]


async def _run_rows(subject: Subject) -> tuple[CheckResult, ...]:
    """Every row of the table that applies to ``subject``, in table order; a step shared by several rows runs
    once, at the first of them. After a fatal row refuses the document, the rows not run are NOT_CHECKED."""
    rows = rows_for(subject)
    results: list[CheckResult] = []
    ran: list[Step] = []
    for row in rows:
        if subject.refused:
            break
        if row.run in ran:
            continue
        ran.append(row.run)
        results += await _guarded(tuple(r.id for r in rows if r.run is row.run), row.run, subject)
    if subject.refused:
        done = {c.id for c in results}
        results += [unknown(r.id, Reason.NOT_CHECKED, problem="the format check refused the document")
                    for r in rows if r.id not in done]
    return in_table_order(results)


#: Nesting beyond which a document is refused before anything reads it (the compaction rule refuses past 24;
#: this guard keeps recursive readers, the digest and the shape among them, from a stack overflow).
MAX_NESTING = 64


def _format_refusal(document: Any, presentation: bool = False) -> CheckResult:
    if isinstance(document, Mapping):
        return invalid(CheckId.FORMAT, Reason.TOO_COMPLEX, problem=f"nested deeper than {MAX_NESTING} levels")
    return check_format(document, presentation=presentation)


def _document_id(document: Mapping[str, Any]) -> str | None:
    value = document.get("id")
    return value if isinstance(value, str) else None


async def verify_credential(document: Any, ports: VerificationPorts, now: datetime | None = None, *,
                            digest: str | None = None) -> VerificationReport:
    """Verify one credential at ``now`` (default: the current time); ``digest`` is its
    :func:`~.cache.document_digest` when the caller already has it."""
    return await _verify_credential(document, ports, now or datetime.now(UTC), digest, scope=Scope.CREDENTIAL,
                                    walked=False)


async def _verify_credential(document: Any, ports: VerificationPorts, now: datetime, digest: str | None, *,
                             scope: Scope, walked: bool) -> VerificationReport:
    """:func:`verify_credential`; ``walked``: the compaction rule already passed the credential, as part of the
    presentation that embeds it (that walk judges each embedded credential as it would on its own, within
    limits counted over the whole presentation: a credential it passes, it passes alone)."""
    sd_jwt = compact_of(document)
    if sd_jwt is not None:  # an SD-JWT VC, on its own or enveloped in a presentation
        return await verify_sd_jwt_credential(sd_jwt, ports, now)
    if is_jades(document):  # a JAdES-sealed European Digital Credential
        return await verify_edc_credential(document, ports, now)
    required = required_checks(presentation=False, micro_credential=False)
    if not isinstance(document, Mapping) or nested_deeper_than(document, MAX_NESTING):
        bad: tuple[CheckResult, ...] = (_format_refusal(document),)
        return VerificationReport("credential", decide(bad, required), bad, now, required)
    digest = digest or document_digest(document)
    micro = is_micro_credential(document)
    required = required_checks(presentation=False, micro_credential=micro)
    issuer = issuer_id(document)
    subject = Subject(scope, document, ports, now, digest, issuer, walked=walked)
    refused = await read_credential(subject)
    if refused is not None:
        checks = refused_checks(subject, refused)
        return VerificationReport("credential", decide(checks, required), checks, now, required,
                                  _document_id(document), issuer, micro)
    checks = await _run_rows(subject)
    summary = subject.cached(("summary", digest), lambda: summarize(document, subject.elements()))
    return VerificationReport("credential", decide(checks, required), checks, now, required, _document_id(document),
                              issuer, micro, summary=summary)


async def verify_presentation(presentation: Any, challenge: str | None, domain: str | None,
                              ports: VerificationPorts, now: datetime | None = None, *,
                              digest: str | None = None) -> VerificationReport:
    """Verify a presentation and every credential it embeds, with the verifier's ``challenge`` and ``domain``
    (``digest``: the presentation's :func:`~.cache.document_digest` when the caller already has it)."""
    now = now or datetime.now(UTC)
    required = required_checks(presentation=True, micro_credential=False)
    if not isinstance(presentation, Mapping) or nested_deeper_than(presentation, MAX_NESTING):
        bad: tuple[CheckResult, ...] = (_format_refusal(presentation, presentation=True),)
        return VerificationReport("presentation", decide(bad, required), bad, now, required)
    digest = digest or document_digest(presentation)
    embedded = [vc for vc in as_list(presentation.get("verifiableCredential")) if isinstance(vc, Mapping)]
    holder = holder_id(presentation)
    subject = Subject(Scope.PRESENTATION, presentation, ports, now, digest, holder, challenge, domain, embedded)
    checks = await _run_rows(subject)
    if subject.refused:
        return VerificationReport("presentation", decide(checks, required), checks, now, required,
                                  _document_id(presentation), holder)
    reports = tuple([await _verify_credential(vc, ports, now, None, scope=Scope.EMBEDDED, walked=subject.walked)
                     for vc in embedded])
    own = decide(checks, required)
    # A presentation with no credentials (verifiableCredential is optional) stands on its own checks.
    verdict = combine([own, *(r.verdict for r in reports)])
    return VerificationReport("presentation", verdict, checks, now, required, _document_id(presentation), holder,
                              credentials=reports)


async def verify(document: Any, ports: VerificationPorts, now: datetime | None = None, *,
                 challenge: str | None = None, domain: str | None = None,
                 digest: str | None = None) -> VerificationReport:
    """Verify a credential or a presentation, detected from its ``type`` (``digest``: its
    :func:`~.cache.document_digest`, when the caller already has it). A compact SD-JWT VC (a string) goes through
    :mod:`~.sd_jwt`, with ``challenge``/``domain`` as the nonce and audience its Key Binding JWT must name."""
    sd_jwt = compact_of(document)
    if sd_jwt is not None:
        return await verify_sd_jwt_credential(sd_jwt, ports, now, nonce=challenge, audience=domain)
    if is_presentation(document):
        return await verify_presentation(document, challenge, domain, ports, now, digest=digest)
    return await verify_credential(document, ports, now, digest=digest)
