"""The verification checks as a declared table: one row per :class:`~.checks.CheckId`.

Each row states its id, which documents it applies to (a credential on its own, a credential embedded in a
presentation, a presentation), which VC Data Model versions, whether it is fatal, and the step it runs.
:mod:`~.pipeline` walks :data:`CHECKS` in order for every document; a report lists its checks in this order.

* **Steps** take the :class:`Subject` (the document and what earlier steps left for later ones) and return
  results. Rows that name the same step run it once, together: SIGNATURE and ISSUER_IDENTITY come from one
  proof verification, REVOCATION and SUSPENSION from one pass over the status entries. A step that raises
  makes each of its rows ``unknown`` / INTERNAL_ERROR (never "valid").
* **Fatal**: when a fatal row's step refuses the document (``Subject.refused``: not compacted, or beyond the
  verifier's limits), nothing after it is read; each later row is reported ``unknown`` / NOT_CHECKED.

A new Data Integrity check is a new row here with its own step; which checks are *required* for a verdict stays
in :mod:`~.policy`. SD-JWT VCs are not JSON-LD documents: :mod:`~.sd_jwt` runs their checks (the format's own in
:mod:`microcred.sdjwt.verify`, the shared ones such as accreditation through the same functions) in its ``ORDER``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from microcred.credential.eu_elements import EUElements, read_eu_elements
from microcred.jsonld.compacted import ShapeKey
from microcred.jsonld.loader import CanonicalizationError, ContextIntegrityError, RemoteContextRefused
from microcred.vcdm import version_of
from microcred.verification.accreditation import check_accreditation
from microcred.verification.canonical import Processed, default_canonicalizer
from microcred.verification.checks import CheckId, CheckResult, Reason, unknown
from microcred.verification.eu_check import check_eu_elements
from microcred.verification.format_check import check_format, refusal
from microcred.verification.holder import check_holder_binding
from microcred.verification.ports import VerificationPorts
from microcred.verification.signature import ProofCheck, check_proofs
from microcred.verification.status_checks import check_statuses
from microcred.verification.validity import check_validity_window

__all__ = ["CHECKS", "CREDENTIALS", "Check", "Scope", "Step", "Subject", "in_table_order", "process", "read_credential",
           "refused_checks", "rows_for"]


class Scope(StrEnum):
    """Which document a row applies to."""

    CREDENTIAL = "credential"
    """A credential verified on its own."""
    EMBEDDED = "embedded"
    """A credential inside a presentation (verified after the presentation's own checks)."""
    PRESENTATION = "presentation"


CREDENTIALS = frozenset({Scope.CREDENTIAL, Scope.EMBEDDED})
ANY_VERSION = frozenset({"1.1", "2.0"})

# FORMAT refusals after which nothing else is read (see microcred.jsonld.compacted): the JSON may not say what
# was signed, or the document is beyond the verifier's limits (and canonicalising it could cost without bound).
_REFUSED = frozenset({Reason.NOT_COMPACTED, Reason.TOO_COMPLEX})

T = TypeVar("T")


@dataclass(eq=False)
class Subject:
    """One document going through the table, and what a step leaves for a later one."""

    scope: Scope
    document: Mapping[str, Any]
    ports: VerificationPorts
    now: datetime
    digest: str
    signer: str | None
    """Whom the proofs should be by: the issuer of a credential, the holder of a presentation."""
    challenge: str | None = None
    domain: str | None = None
    embedded: list[Mapping[str, Any]] = field(default_factory=list)
    processed: Processed | Exception | None = None
    """The proof-less document's canonical N-Quads and expansion, or the error computing them."""
    walked: bool = False
    """The compaction rule passed this document (a presentation's walk covers its embedded credentials)."""
    shape: ShapeKey | None = None
    """The proof-less document's shape, from the compaction walk (None: not taken there)."""
    refused: bool = False
    """A fatal row refused the document: nothing after it is read."""
    proof: ProofCheck | None = None
    _elements: list[EUElements | None] = field(default_factory=list)
    _version: str | None = None

    def vc_version(self) -> str:
        """The data model version, from the first ``@context`` (``2.0`` when it names neither, as FORMAT)."""
        if self._version is None:
            self._version = version_of(self.document) or "2.0"
        return self._version

    def cached(self, key: tuple[str, str], compute: Callable[[], T]) -> T:
        """A pure function of the document (same digest, same value), through the result cache if any."""
        cache = self.ports.cache
        if cache is None:
            return compute()
        hit = cache.get(key)
        if hit is None:
            hit = compute()
            cache.put(key, hit)
        return cast("T", hit)

    def elements(self) -> EUElements | None:
        """The EU elements, read once for EU_ELEMENTS and the summary (None when they cannot be read)."""
        if not self._elements:
            try:
                self._elements.append(read_eu_elements(self.document))
            except Exception:  # each reader reads again and reports (or tolerates) the problem itself
                self._elements.append(None)
        return self._elements[0]

    def nquads(self) -> str | Exception | None:
        """The canonical N-Quads (or the error computing them); None when not processed."""
        return self.processed.nquads if isinstance(self.processed, Processed) else self.processed

    def expanded(self) -> list[Any] | Exception | None:
        """The JSON-LD expansion (or the error computing it); None when not processed."""
        return self.processed.expanded if isinstance(self.processed, Processed) else self.processed


Step = Callable[[Subject], Awaitable[list[CheckResult]]]


@dataclass(frozen=True)
class Check:
    """One row of the table."""

    id: CheckId
    applies_to: frozenset[Scope]
    fatal: bool
    run: Step
    versions: frozenset[str] = ANY_VERSION
    """VC Data Model versions, read from the first ``@context`` (``2.0`` when it names neither, as FORMAT)."""

    def applies(self, subject: Subject) -> bool:
        """Whether the row runs for ``subject``."""
        return subject.scope in self.applies_to and subject.vc_version() in self.versions


async def process(subject: Subject) -> None:
    """Canonicalise and expand the proof-less document once (the canonicaliser keeps the last few by digest, for
    documents posted again); a loader error is kept for the checks to report."""
    unsecured = {k: v for k, v in subject.document.items() if k != "proof"}
    try:
        subject.processed = await (subject.ports.canon or default_canonicalizer()).process(
            unsecured, digest=subject.digest, shape=subject.shape)
    except (CanonicalizationError, RemoteContextRefused, ContextIntegrityError) as exc:
        subject.processed = exc


async def read_credential(subject: Subject) -> CheckResult | None:
    """Before a credential's rows run: FORMAT's refusal of it (unless its presentation's walk passed it), else
    None once it is processed. A presentation is read by its FORMAT row instead."""
    if not subject.walked:
        refused, subject.shape = refusal(subject.document)
        if refused is not None:
            subject.refused = True
            return refused
    await process(subject)
    return None


async def _format(s: Subject) -> list[CheckResult]:
    presentation = s.scope is Scope.PRESENTATION
    if presentation:  # a credential was refused (or walked) and processed before its rows run (pipeline)
        refused, _ = refusal(s.document)
        if refused is not None:
            s.refused = True
            return [refused]
        s.walked = True
        await process(s)
    templated = isinstance(s.processed, Processed) and s.processed.templated and s.shape is not None
    result = check_format(s.document, presentation=presentation, digest=s.digest, cache=s.ports.cache,
                          expanded=s.expanded(), compacted=True, shape=s.shape[0] if templated and s.shape else None)
    if presentation and result.reason_code in _REFUSED:
        s.refused = True
    return [result]


async def _eu_elements(s: Subject) -> list[CheckResult]:
    return [s.cached(("eu", s.digest), lambda: check_eu_elements(s.document, s.elements()))]


async def _proofs(s: Subject) -> list[CheckResult]:
    if s.scope is Scope.PRESENTATION:
        s.proof = await check_proofs(s.document, s.signer, s.ports.keys, s.now, purpose="authentication",
                                     digest=s.digest, cache=s.ports.cache, nquads=s.nquads())
        return [s.proof.signature]
    result = await check_proofs(s.document, s.signer, s.ports.keys, s.now, digest=s.digest, cache=s.ports.cache,
                                nquads=s.nquads())
    return [result.signature, result.identity]


async def _accreditation(s: Subject) -> list[CheckResult]:
    return [await check_accreditation(s.document, s.ports.trust_directory(), s.now)]


async def _validity(s: Subject) -> list[CheckResult]:
    return [check_validity_window(s.document, s.now)]


async def _statuses(s: Subject) -> list[CheckResult]:
    return await check_statuses(s.document, s.ports, s.now)


async def _holder_binding(s: Subject) -> list[CheckResult]:
    if s.proof is None:
        return [unknown(CheckId.HOLDER_BINDING, Reason.PRESENTATION_SIGNATURE_UNKNOWN, problem="not checked")]
    return [check_holder_binding(s.document, s.proof, s.embedded, s.challenge, s.domain,
                                 holder_must_be_subject=s.ports.holder_must_be_subject)]


_ALL = frozenset(Scope)
_PRESENTATION = frozenset({Scope.PRESENTATION})

CHECKS: tuple[Check, ...] = (
    Check(CheckId.FORMAT, _ALL, fatal=True, run=_format),
    Check(CheckId.EU_ELEMENTS, CREDENTIALS, fatal=False, run=_eu_elements),
    Check(CheckId.SIGNATURE, _ALL, fatal=False, run=_proofs),
    Check(CheckId.ISSUER_IDENTITY, CREDENTIALS, fatal=False, run=_proofs),
    Check(CheckId.ACCREDITATION, CREDENTIALS, fatal=False, run=_accreditation),
    Check(CheckId.VALIDITY_WINDOW, CREDENTIALS, fatal=False, run=_validity),
    Check(CheckId.REVOCATION, CREDENTIALS, fatal=False, run=_statuses),
    Check(CheckId.SUSPENSION, CREDENTIALS, fatal=False, run=_statuses),
    Check(CheckId.HOLDER_BINDING, _PRESENTATION, fatal=False, run=_holder_binding),
)
"""The checks, in the order a report lists them."""

_ORDER = {check.id: i for i, check in enumerate(CHECKS)}


def rows_for(subject: Subject) -> list[Check]:
    """The rows that apply to ``subject``, in table order."""
    return [row for row in CHECKS if row.applies(subject)]


def refused_checks(subject: Subject, refused: CheckResult) -> tuple[CheckResult, ...]:
    """``refused`` (a fatal row's refusal) and every other applicable row as ``unknown`` / NOT_CHECKED."""
    rest = [unknown(row.id, Reason.NOT_CHECKED, problem="the format check refused the document")
            for row in rows_for(subject) if row.id is not refused.id]
    return (refused, *rest)


def in_table_order(results: list[CheckResult]) -> tuple[CheckResult, ...]:
    """``results`` sorted by their rows' position."""
    return tuple(sorted(results, key=lambda c: _ORDER[c.id]))
