"""ACCREDITATION: the issuer is accredited in this platform's trust registry for the credential's EQF level at
the time the credential was issued.

The registry is the read model of the ``microcred.registry.v1`` events (agency, framework, levels, validity,
suspension, withdrawal); :meth:`RegistryReader.authorize_issuance` applies the same rules the issuer service
enforced when issuing (:func:`microcred.registry.domain.authorize`, applied here to the issuer read fresh from the
registry, one read per verification). Outcomes: allowed -> valid ACCREDITED with agency, framework, type and highest EQF
level; refused -> invalid with the registry's reason (suspended, withdrawn, expired, not yet valid, level not
allowed, no accreditation); issuer not in the registry -> unknown ISSUER_NOT_IN_REGISTRY; registry not
readable or not configured -> unknown REGISTRY_UNAVAILABLE.

Credentials name their issuer by DID while the registry keys issuers by id; :class:`TrustDirectory` maps one
to the other from a short-lived snapshot of ``list_issuers()`` (the port has no DID lookup).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from microcred.gen.microcred.v1 import registry_pb2
from microcred.model import vocab
from microcred.registry.did_web import did_web_of_https
from microcred.registry.domain import authorize, standing
from microcred.registry.ports import IssuanceDecision, IssuanceRefusal, RegistryReader
from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, unknown, valid
from microcred.verification.document import as_list, issued_at, issuer_id, subjects

log = logging.getLogger(__name__)

__all__ = ["TrustDirectory", "check_accreditation", "eqf_level"]

_A = CheckId.ACCREDITATION
_EQF_URI = re.compile(r"^http://data\.europa\.eu/snb/eqf/([1-8])$")
_REFUSALS = {
    IssuanceRefusal.ISSUER_NOT_REGISTERED: Reason.ISSUER_NOT_IN_REGISTRY,
    IssuanceRefusal.NOT_ACCREDITED: Reason.NOT_ACCREDITED,
    IssuanceRefusal.ACCREDITATION_SUSPENDED: Reason.ACCREDITATION_SUSPENDED,
    IssuanceRefusal.ACCREDITATION_WITHDRAWN: Reason.ACCREDITATION_WITHDRAWN,
    IssuanceRefusal.ACCREDITATION_EXPIRED: Reason.ACCREDITATION_EXPIRED,
    IssuanceRefusal.ACCREDITATION_NOT_YET_VALID: Reason.ACCREDITATION_NOT_YET_VALID,
    IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED: Reason.EQF_LEVEL_NOT_ALLOWED,
}


def eqf_level(document: Mapping[str, Any]) -> int | None:
    """The EQF level the credential claims (an alignment to an EQF concept URI), or None."""
    for subject in subjects(document):
        achievement = subject.get("achievement")
        if not isinstance(achievement, Mapping):
            continue
        for alignment in as_list(achievement.get("alignment")):
            url = alignment.get("targetUrl") if isinstance(alignment, Mapping) else None
            match = _EQF_URI.match(url) if isinstance(url, str) else None
            if match:
                return int(match.group(1))
    return None


class TrustDirectory:
    """DID -> registry issuer, from a ``list_issuers()`` snapshot.

    The snapshot is refreshed after ``ttl`` seconds, and sooner (at most every ``miss_refresh`` seconds) when a
    DID is not in it, so a newly registered issuer shows within ``ttl`` seconds. Accreditation decisions read
    the issuer again (:meth:`issuer`), kept at most ``fresh_ttl`` seconds (0: read on every verification).
    """

    def __init__(self, registry: RegistryReader, ttl: float = 2.0, miss_refresh: float = 0.2,
                 fresh_ttl: float = 0.0) -> None:
        self.registry = registry
        self._ttl = ttl
        self._miss_refresh = miss_refresh
        self._fresh_ttl = fresh_ttl
        self._issuers: dict[str, tuple[float, registry_pb2.Issuer | None]] = {}
        self._by_did: dict[str, registry_pb2.Issuer] = {}
        self._agencies: dict[str, tuple[float, registry_pb2.Agency | None]] = {}
        self._loaded = float("-inf")
        # Results already computed from these very snapshot objects (see check_issuer_accreditation).
        self.results: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    async def issuer_for(self, did: str) -> registry_pb2.Issuer | None:
        """The registered issuer whose DID (or id) is ``did``."""
        age = time.monotonic() - self._loaded
        if age > self._ttl or (did not in self._by_did and age > self._miss_refresh):
            issuers = await self.registry.list_issuers()
            self._by_did = {i.did: i for i in issuers if i.did}
            self._by_did.update({i.issuer_id: i for i in issuers})
            self._loaded = time.monotonic()
        return self._by_did.get(did)

    async def issuer(self, issuer_id: str) -> registry_pb2.Issuer | None:
        """The issuer as the registry holds it now (kept ``fresh_ttl`` seconds; 0 reads every time)."""
        kept = self._issuers.get(issuer_id)
        if kept is not None and time.monotonic() - kept[0] <= self._fresh_ttl:
            return kept[1]
        found = await self.registry.get_issuer(issuer_id)
        if self._fresh_ttl > 0:
            self._issuers[issuer_id] = (time.monotonic(), found)
        return found

    async def agency(self, agency_id: str) -> registry_pb2.Agency | None:
        """The agency (names change rarely: kept for ``ttl`` seconds)."""
        kept = self._agencies.get(agency_id)
        if kept is not None and time.monotonic() - kept[0] <= self._ttl:
            return kept[1]
        found = await self.registry.get_agency(agency_id)
        self._agencies[agency_id] = (time.monotonic(), found)
        return found


def _details(issuer: registry_pb2.Issuer, agency: registry_pb2.Agency | None, accreditation_id: str,
             eqf: int | None) -> dict[str, Any]:
    details: dict[str, Any] = {"issuer": issuer.did or issuer.issuer_id, "issuer_id": issuer.issuer_id,
                               "agency_id": issuer.agency_id, "eqf_level": eqf,
                               "agency": _name(agency.organisation.legal_name.values) if agency else issuer.agency_id}
    acc = next((a for a in issuer.accreditations if a.accreditation_id == accreditation_id), None)
    if acc is not None:
        concept = vocab.ACCREDITATION_TYPES.concepts.get(acc.type)
        details.update(accreditation_id=acc.accreditation_id, framework=acc.framework,
                       type=concept.label if concept else None,
                       max_eqf_level=acc.max_eqf_level or None,
                       accrediting_body=_name(acc.accrediting_body.legal_name.values),
                       decision_reference=acc.decision_reference or None)
        if acc.HasField("valid_until"):
            details["valid_until"] = acc.valid_until.ToDatetime().isoformat() + "Z"
    return details


def _name(values: Mapping[str, str]) -> str:
    return values.get("en") or next(iter(sorted(values.values())), "")


async def check_accreditation(document: Mapping[str, Any], directory: TrustDirectory | None,
                              now: datetime) -> CheckResult:
    """The ACCREDITATION result of a Data Integrity credential."""
    return await check_issuer_accreditation(issuer_id(document) or "?", eqf_level(document),
                                            issued_at(document) or now, directory, now)


async def check_issuer_accreditation(issuer: str, eqf: int | None, issued: datetime,
                                     directory: TrustDirectory | None, now: datetime) -> CheckResult:
    """The ACCREDITATION result for a credential of ``issuer`` (a DID, or an ``https`` ``iss`` whose did:web
    the registry knows) at EQF level ``eqf``, issued at ``issued``: any format's, the same rules."""
    if directory is None:
        return unknown(_A, Reason.REGISTRY_UNAVAILABLE, issuer=issuer, problem="no trust registry is configured")
    try:
        registered = await directory.issuer_for(did_web_of_https(issuer) or issuer)
        if registered is None:
            return unknown(_A, Reason.ISSUER_NOT_IN_REGISTRY, issuer=issuer)
        fresh = await directory.issuer(registered.issuer_id)  # the current read model (at most ``fresh_ttl`` old)
        # The result is a pure function of the snapshot objects read here (every read is made, as before) and of
        # the credential's issuer, level and date: it is computed once per snapshot (a cohort shares all of
        # them). The objects are held with the result, so their ids are not reused while it is kept; they are
        # never modified (registry readers hand out copies, and the directory keeps them as they came).
        # The issuance date enters the decision only through each accreditation's standing at that date
        # (registry.domain.authorize -> standing): the memo is keyed by those standings, so credentials issued
        # at different moments within the same accreditation period share one result (distinct credentials
        # carry distinct dates: keyed by the date itself, the memo never hit for them).
        standings = tuple(standing(acc, issued) for acc in fresh.accreditations) if fresh is not None else ()
        source, key = registered, (issuer, eqf, standings, id(registered), id(fresh))
        kept = directory.results.get(key)
        known = kept is not None and kept[0] is registered and kept[1] is fresh
        # the registry's own rules (what RegistryReader.authorize_issuance applies), on the issuer just read
        decision = None if known else authorize(fresh, registered.issuer_id, eqf, issued)
        registered = fresh or registered
        agency = await directory.agency(registered.agency_id) if registered.agency_id else None
        if known and kept is not None and kept[2] is agency:
            return cast("CheckResult", kept[3])
        if decision is None:
            decision = authorize(fresh, source.issuer_id, eqf, issued)
    except Exception as exc:  # registry unreadable: could not check
        # The report is public: the error's text (addresses, internals) goes to the log only.
        log.warning("trust registry unreadable", extra={"error": repr(exc)[:300]})
        return unknown(_A, Reason.REGISTRY_UNAVAILABLE, issuer=issuer,
                       problem=f"the trust registry could not be read ({type(exc).__name__})")
    result = _decided(decision, _details(registered, agency, decision.accreditation_id, eqf))
    if len(directory.results) >= _RESULTS_KEPT:
        directory.results.clear()
    directory.results[key] = (source, fresh, agency, result)
    return result


_RESULTS_KEPT = 1024


def _decided(decision: IssuanceDecision, details: dict[str, Any]) -> CheckResult:
    if decision.allowed:
        return valid(_A, Reason.ACCREDITED, **details)
    reason = _REFUSALS.get(decision.refusal or IssuanceRefusal.NOT_ACCREDITED, Reason.NOT_ACCREDITED)
    if reason is Reason.ISSUER_NOT_IN_REGISTRY:
        return unknown(_A, reason, **details)
    return invalid(_A, reason, problem=decision.message, **details)

