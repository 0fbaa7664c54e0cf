"""The verification pipeline: a credential or a presentation in, a :class:`~.report.VerificationReport` out.

A credential goes through FORMAT, EU_ELEMENTS, SIGNATURE, ISSUER_IDENTITY, ACCREDITATION, VALIDITY_WINDOW,
REVOCATION and SUSPENSION, each reported on its own (a failed signature does not hide a revoked status); a
presentation through FORMAT, SIGNATURE (``authentication`` purpose) and HOLDER_BINDING, and every credential
it embeds through the credential pipeline. The verdict follows :mod:`~.policy`.

Nothing here raises on content: a check that breaks unexpectedly is reported ``unknown`` / INTERNAL_ERROR
(hence "undetermined", never "valid"); a document that is not a JSON object gets a report with FORMAT
invalid. All I/O goes through :class:`~.ports.VerificationPorts`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from microcred.credential.eu_elements import EUElements, read_eu_elements
from microcred.jsonld.loader import CanonicalizationError, ContextIntegrityError, RemoteContextRefused
from microcred.verification.accreditation import TrustDirectory, check_accreditation
from microcred.verification.cache import document_digest
from microcred.verification.canonical import Processed, default_canonicalizer
from microcred.verification.checks import CheckId, CheckResult, Reason, unknown
from microcred.verification.document import as_list, issuer_id, types
from microcred.verification.eu_check import check_eu_elements, is_micro_credential
from microcred.verification.format_check import check_format, refusal
from microcred.verification.holder import check_holder_binding, holder_id
from microcred.verification.policy import combine, decide, required_checks
from microcred.verification.ports import VerificationPorts
from microcred.verification.report import VerificationReport
from microcred.verification.signature import ProofCheck, check_proofs
from microcred.verification.status_checks import check_statuses
from microcred.verification.summary import summarize
from microcred.verification.validity import check_validity_window

__all__ = ["is_presentation", "verify", "verify_credential", "verify_presentation"]

log = logging.getLogger(__name__)
_CREDENTIAL_ORDER = (CheckId.FORMAT, CheckId.EU_ELEMENTS, CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY,
                     CheckId.ACCREDITATION, CheckId.VALIDITY_WINDOW, CheckId.REVOCATION, CheckId.SUSPENSION)


def is_presentation(document: Any) -> bool:
    """True when ``document`` is typed as a VerifiablePresentation."""
    return isinstance(document, Mapping) and "VerifiablePresentation" in types(document)


async def _guarded(checks: tuple[CheckId, ...], run: Callable[[], Awaitable[list[CheckResult]]]) -> list[CheckResult]:
    try:
        return await run()
    except Exception as exc:  # a check must never crash the report: it becomes "could not check"
        log.exception("verification check failed", extra={"checks": [c.value for c in checks]})
        return [unknown(c, Reason.INTERNAL_ERROR, problem=type(exc).__name__) for c in checks]


T = TypeVar("T")


def _cached(ports: VerificationPorts, key: tuple[str, str], compute: Callable[[], T]) -> T:
    """A pure function of the document (same digest, same value), through the result cache when there is one."""
    if ports.cache is None:
        return compute()
    hit = ports.cache.get(key)
    if hit is None:
        hit = compute()
        ports.cache.put(key, hit)
    return cast("T", hit)


# FORMAT refusals after which nothing else is read (see microcred.jsonld.compacted): the JSON may not say what
# was signed, or the document is beyond the verifier's limits (and canonicalising it could cost without bound).
_REFUSED = frozenset({Reason.NOT_COMPACTED, Reason.TOO_COMPLEX})


async def _process(document: Mapping[str, Any], ports: VerificationPorts,
                   digest: str) -> Processed | Exception:
    """The proof-less document's canonical N-Quads and expansion (once per document; the canonicaliser keeps
    the last few by digest, for documents posted again), or the error that processing it raised."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        return await (ports.canon or default_canonicalizer()).process(unsecured, digest=digest)
    except (CanonicalizationError, RemoteContextRefused, ContextIntegrityError) as exc:
        return exc


def _elements(document: Mapping[str, Any]) -> EUElements | None:
    try:
        return read_eu_elements(document)
    except Exception:  # each reader reads again and reports (or tolerates) the problem itself
        return None


def _not_checked(ids: tuple[CheckId, ...]) -> list[CheckResult]:
    return [unknown(c, Reason.NOT_CHECKED, problem="the format check refused the document") for c in ids]


def _document_id(document: Mapping[str, Any]) -> str | None:
    value = document.get("id")
    return value if isinstance(value, str) else None


def _directory(ports: VerificationPorts) -> TrustDirectory | None:
    if ports.trust is None:
        return None
    if ports.directory is None or ports.directory.registry is not ports.trust:
        ports.directory = TrustDirectory(ports.trust)
    return ports.directory


async def verify_credential(document: Any, ports: VerificationPorts, now: datetime | None = None, *,
                            digest: str | None = None) -> VerificationReport:
    """Verify one credential at ``now`` (default: the current time); ``digest`` is its
    :func:`~.cache.document_digest` when the caller already has it."""
    return await _verify_credential(document, ports, now or datetime.now(UTC), digest, walked=False)


async def _verify_credential(document: Any, ports: VerificationPorts, now: datetime, digest: str | None, *,
                             walked: bool) -> VerificationReport:
    """:func:`verify_credential`; ``walked``: the compaction rule already passed the credential, as part of the
    presentation that embeds it (that walk judges each embedded credential as it would on its own, within
    limits counted over the whole presentation: a credential it passes, it passes alone)."""
    required = required_checks(presentation=False, micro_credential=False)
    if not isinstance(document, Mapping):
        bad: tuple[CheckResult, ...] = (check_format(document),)
        return VerificationReport("credential", decide(bad, required), bad, now, required)
    digest = digest or document_digest(document)
    micro = is_micro_credential(document)
    required = required_checks(presentation=False, micro_credential=micro)
    issuer = issuer_id(document)

    async def sync(check: CheckId, fn: Callable[[], CheckResult]) -> list[CheckResult]:
        async def run() -> list[CheckResult]:
            return [fn()]
        return await _guarded((check,), run)

    async def proofs() -> list[CheckResult]:
        result = await check_proofs(document, issuer, ports.keys, now, digest=digest, cache=ports.cache,
                                    nquads=nquads)
        return [result.signature, result.identity]

    async def accreditation() -> list[CheckResult]:
        return [await check_accreditation(document, _directory(ports), now)]

    async def status() -> list[CheckResult]:
        return await check_statuses(document, ports, now)

    refused = None if walked else refusal(document)
    if refused is not None:
        checks = (refused, *_not_checked(_CREDENTIAL_ORDER[1:]))
        return VerificationReport("credential", decide(checks, required), checks, now, required,
                                  _document_id(document), issuer, micro)
    processed = await _process(document, ports, digest)
    expanded = processed.expanded if isinstance(processed, Processed) else processed
    nquads = processed.nquads if isinstance(processed, Processed) else processed
    fmt = await sync(CheckId.FORMAT, lambda: check_format(document, digest=digest, cache=ports.cache,
                                                          expanded=expanded, compacted=True))
    read: list[EUElements | None] = []

    def elements() -> EUElements | None:  # read once for EU_ELEMENTS and the summary, when not cached
        if not read:
            read.append(_elements(document))
        return read[0]
    results = [
        *fmt,
        *await sync(CheckId.EU_ELEMENTS, lambda: _cached(ports, ("eu", digest),
                                                         lambda: check_eu_elements(document, elements()))),
        *await _guarded((CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY), proofs),
        *await _guarded((CheckId.ACCREDITATION,), accreditation),
        *await sync(CheckId.VALIDITY_WINDOW, lambda: check_validity_window(document, now)),
        *await _guarded((CheckId.REVOCATION, CheckId.SUSPENSION), status),
    ]
    checks = tuple(sorted(results, key=lambda c: _CREDENTIAL_ORDER.index(c.id)))
    document_id = _document_id(document)
    summary = _cached(ports, ("summary", digest), lambda: summarize(document, elements()))
    return VerificationReport("credential", decide(checks, required), checks, now, required, document_id, issuer,
                              micro, summary=summary)


async def verify_presentation(presentation: Any, challenge: str | None, domain: str | None,
                              ports: VerificationPorts, now: datetime | None = None, *,
                              digest: str | None = None) -> VerificationReport:
    """Verify a presentation and every credential it embeds, with the verifier's ``challenge`` and ``domain``
    (``digest``: the presentation's :func:`~.cache.document_digest` when the caller already has it)."""
    now = now or datetime.now(UTC)
    required = required_checks(presentation=True, micro_credential=False)
    if not isinstance(presentation, Mapping):
        bad: tuple[CheckResult, ...] = (check_format(presentation, presentation=True),)
        return VerificationReport("presentation", decide(bad, required), bad, now, required)
    digest = digest or document_digest(presentation)
    embedded = [vc for vc in as_list(presentation.get("verifiableCredential")) if isinstance(vc, Mapping)]
    holder = holder_id(presentation)
    proof: list[ProofCheck] = []

    processed: list[Processed | Exception] = []
    walked: list[bool] = []  # the compaction rule passed the presentation, embedded credentials included

    async def run_format() -> list[CheckResult]:
        refused = refusal(presentation)
        if refused is not None:
            return [refused]
        walked.append(True)
        processed.append(await _process(presentation, ports, digest))
        given = processed[0].expanded if isinstance(processed[0], Processed) else processed[0]
        return [check_format(presentation, presentation=True, digest=digest, cache=ports.cache, expanded=given,
                             compacted=True)]

    async def run_proofs() -> list[CheckResult]:
        nquads: str | Exception | None = None
        if processed:
            nquads = processed[0].nquads if isinstance(processed[0], Processed) else processed[0]
        proof.append(await check_proofs(presentation, holder, ports.keys, now, purpose="authentication",
                                        digest=digest, cache=ports.cache, nquads=nquads))
        return [proof[0].signature]

    async def run_binding() -> list[CheckResult]:
        if not proof:
            return [unknown(CheckId.HOLDER_BINDING, Reason.PRESENTATION_SIGNATURE_UNKNOWN, problem="not checked")]
        return [check_holder_binding(presentation, proof[0], embedded, challenge, domain,
                                     holder_must_be_subject=ports.holder_must_be_subject)]

    fmt = await _guarded((CheckId.FORMAT,), run_format)
    if fmt[0].reason_code in _REFUSED:
        checks: tuple[CheckResult, ...] = (fmt[0], *_not_checked((CheckId.SIGNATURE, CheckId.HOLDER_BINDING)))
        return VerificationReport("presentation", decide(checks, required), checks, now, required,
                                  _document_id(presentation), holder)
    checks = (*fmt, *await _guarded((CheckId.SIGNATURE,), run_proofs),
              *await _guarded((CheckId.HOLDER_BINDING,), run_binding))
    reports = tuple([await _verify_credential(vc, ports, now, None, walked=bool(walked)) for vc in embedded])
    own = decide(checks, required)
    # A presentation with no credentials (verifiableCredential is optional) stands on its own checks.
    verdict = combine([own, *(r.verdict for r in reports)])
    return VerificationReport("presentation", verdict, checks, now, required, _document_id(presentation), holder,
                              credentials=reports)


async def verify(document: Any, ports: VerificationPorts, now: datetime | None = None, *,
                 challenge: str | None = None, domain: str | None = None,
                 digest: str | None = None) -> VerificationReport:
    """Verify a credential or a presentation, detected from its ``type`` (``digest``: its
    :func:`~.cache.document_digest`, when the caller already has it)."""
    if is_presentation(document):
        return await verify_presentation(document, challenge, domain, ports, now, digest=digest)
    return await verify_credential(document, ports, now, digest=digest)
