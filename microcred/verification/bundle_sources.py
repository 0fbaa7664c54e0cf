"""The verification ports over a trust bundle (:mod:`~.trust_bundle`): offline, nothing is fetched.

The same ports the gateway's sources implement, so the same checks and verdict policy run:

* :class:`BundleRegistry` (``RegistryReader``, the ``trust`` port): the bundle's registry snapshot, read through
  :class:`~microcred.registry.memory.InMemoryRegistry` (the same :mod:`microcred.registry.domain` rules as the
  gateway's Redis read model). When the snapshot is older than its limit at the verification time, every read
  raises :class:`TrustBundleTooOld`: ACCREDITATION is then ``unknown`` (REGISTRY_UNAVAILABLE).
* :class:`BundleKeyResolver` (``KeyResolver``): the platform's did:web keys from that snapshot, through
  :class:`~microcred.verification.keys.RegistryKeyResolver`; a stale snapshot answers LOOKUP_FAILED with the
  bundle's reason, so SIGNATURE and ISSUER_IDENTITY are ``unknown``. :func:`bundle_ports` chains it after
  :class:`~microcred.verification.keys.DidKeyResolver` (the status lists' did:key signer).
* :class:`BundleStatusSource` (``StatusListSource``): the bundle's lists with their fetch times; a list older than
  its limit raises :class:`TrustBundleTooOld`, which the status checks report as ``unknown``
  (STATUS_RETRIEVAL_ERROR, "trust bundle too old (age X > limit Y)"); a list the bundle lacks is None.

:func:`freshness` says how old each part used was, for the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from microcred.gen.microcred.v1 import registry_pb2
from microcred.registry.memory import InMemoryRegistry
from microcred.registry.ports import IssuanceDecision, KeyResolution, Logo
from microcred.verification.keys import ChainKeyResolver, DidKeyResolver, RegistryKeyResolver
from microcred.verification.ports import KeyLookup, KeyLookupProblem, VerificationPorts
from microcred.verification.trust_bundle import (
    FetchedList,
    FetchedToken,
    TrustBundle,
    freshness_problem,
    human_duration,
)

__all__ = ["BundleKeyResolver", "BundleRegistry", "BundleStatusSource", "BundleTokenSource", "TrustBundleTooOld",
           "bundle_ports",
           "freshness"]


class TrustBundleTooOld(Exception):
    """A part of the bundle may not be used at the verification time; the text says why (age and limit)."""


class BundleRegistry:
    """RegistryReader over the bundle's registry snapshot, refusing every read once the snapshot is too old."""

    def __init__(self, bundle: TrustBundle, at: datetime) -> None:
        self._registry = InMemoryRegistry()
        self._registry.state.agencies = {a.agency_id: a for a in bundle.agencies}
        self._registry.state.issuers = {i.issuer_id: i for i in bundle.issuers}
        self.problem = freshness_problem(bundle.registry_fetched_at, bundle.registry_max_age, at)
        self.used = False

    def _read(self) -> InMemoryRegistry:
        self.used = True
        if self.problem is not None:
            raise TrustBundleTooOld(self.problem)
        return self._registry

    async def get_issuer(self, issuer_id: str) -> registry_pb2.Issuer | None:
        """The issuer as the snapshot holds it."""
        return await self._read().get_issuer(issuer_id)

    async def list_issuers(self, agency_id: str | None = None) -> list[registry_pb2.Issuer]:
        """The snapshot's issuers (of one agency), ordered by id."""
        return await self._read().list_issuers(agency_id)

    async def get_agency(self, agency_id: str) -> registry_pb2.Agency | None:
        """The agency, when the snapshot has it (an agency operator's export holds its issuers only)."""
        return await self._read().get_agency(agency_id)

    async def list_agencies(self) -> list[registry_pb2.Agency]:
        """The snapshot's agencies."""
        return await self._read().list_agencies()

    async def get_issuer_logo(self, issuer_id: str) -> Logo | None:
        """None: a trust bundle carries no logos (an offline report shows none)."""
        return None

    async def authorize_issuance(self, issuer_id: str, eqf_level: int | None, at: datetime) -> IssuanceDecision:
        """The registry's rule on the snapshot."""
        return await self._read().authorize_issuance(issuer_id, eqf_level, at)

    async def resolve_verification_method(self, verification_method_id: str, signed_at: datetime) -> KeyResolution:
        """A did:web key of the snapshot, valid at ``signed_at``."""
        return await self._read().resolve_verification_method(verification_method_id, signed_at)


class BundleKeyResolver:
    """KeyResolver for the bundle's did:web issuers; a stale snapshot is LOOKUP_FAILED with the bundle's reason."""

    source = "did:web (trust bundle)"

    def __init__(self, registry: BundleRegistry) -> None:
        self._registry = registry
        self._keys = RegistryKeyResolver(registry)

    async def resolve(self, verification_method: str, signed_at: datetime,
                      purpose: str = "assertionMethod") -> KeyLookup:
        """The key from the snapshot, or why there is none."""
        if self._registry.problem is not None and verification_method.startswith("did:web:"):
            self._registry.used = True
            return KeyLookup(None, problem=KeyLookupProblem.LOOKUP_FAILED, message=self._registry.problem,
                             source=self.source)
        lookup = await self._keys.resolve(verification_method, signed_at, purpose)
        return KeyLookup(lookup.public_key, lookup.controllers, lookup.problem, lookup.message,
                         self.source if lookup.source else "")

    async def knows_issuer(self, issuer_id: str) -> bool:
        """True when the (fresh) snapshot holds ``issuer_id``."""
        return await self._keys.knows_issuer(issuer_id)


@dataclass
class ListUse:
    """A status list the verification asked for: when it was fetched, its limit, and whether it was usable."""

    url: str
    fetched_at: datetime | None
    limit: timedelta | None
    problem: str | None


class BundleTokenSource:
    """TokenStatusSource over the bundle's Status List Tokens (SD-JWT VCs). No age limit is added here: a token
    carries its own ``exp``, which the status check holds against the verification time (expired: unknown)."""

    def __init__(self, tokens: Mapping[str, FetchedToken]) -> None:
        self._tokens = tokens

    async def get(self, uri: str) -> tuple[str, datetime] | None:
        """The token for ``uri`` and when it was fetched, or None when the bundle has none."""
        kept = self._tokens.get(uri)
        return None if kept is None else (kept.token, kept.fetched_at)


class BundleStatusSource:
    """StatusListSource over the bundle's lists; records every list asked for (:attr:`used`)."""

    def __init__(self, lists: Mapping[str, FetchedList], at: datetime, fallback_limit: timedelta) -> None:
        """``fallback_limit`` applies to a list that states no limit of its own (the registry's)."""
        self._lists, self._at, self._fallback = lists, at, fallback_limit
        self.used: dict[str, ListUse] = {}

    async def get(self, url: str) -> tuple[Mapping[str, Any], datetime] | None:
        """The list and when it was fetched; None when the bundle lacks it; TrustBundleTooOld when too old."""
        fetched = self._lists.get(url)
        if fetched is None:
            self.used[url] = ListUse(url, None, None, "not in the trust bundle")
            return None
        limit = fetched.max_age if fetched.max_age is not None else self._fallback
        problem = freshness_problem(fetched.fetched_at, limit, self._at)
        self.used[url] = ListUse(url, fetched.fetched_at, limit, problem)
        if problem is not None:
            raise TrustBundleTooOld(problem)
        return fetched.credential, fetched.fetched_at


@dataclass
class BundlePorts:
    """The ports over one bundle at one verification time, and what they were asked for."""

    bundle: TrustBundle
    at: datetime
    registry: BundleRegistry
    status: BundleStatusSource
    ports: VerificationPorts = field(init=False)

    def __post_init__(self) -> None:
        self.ports = VerificationPorts(
            keys=ChainKeyResolver(DidKeyResolver(), BundleKeyResolver(self.registry)),
            status=self.status, trust=self.registry,
            # lists must be signed by the revocation service's did:key as the gateway requires (when recorded)
            status_list_signers=self.bundle.status_signers or None,
            token_status=BundleTokenSource(self.bundle.token_status_lists))


def bundle_ports(bundle: TrustBundle, at: datetime) -> BundlePorts:
    """Verification ports reading only ``bundle``, judged at ``at``."""
    return BundlePorts(bundle, at, BundleRegistry(bundle, at),
                       BundleStatusSource(bundle.status_lists, at, bundle.registry_max_age))


def _age(at: datetime, fetched_at: datetime) -> float:
    return round((at - fetched_at).total_seconds(), 1)


def freshness(used: BundlePorts) -> dict[str, Any]:
    """How fresh the bundle was for this verification: its creation, the registry snapshot and each status list
    asked for (age, limit, whether it was used or refused and why)."""
    bundle, at = used.bundle, used.at
    registry = used.registry
    lists = []
    for use in used.status.used.values():
        entry: dict[str, Any] = {"url": use.url, "usable": use.problem is None}
        if use.fetched_at is not None:
            entry.update(fetched_at=use.fetched_at.isoformat(), age_seconds=_age(at, use.fetched_at),
                         age=human_duration(at - use.fetched_at))
        if use.limit is not None:
            entry.update(limit_seconds=int(use.limit.total_seconds()), limit=human_duration(use.limit))
        if use.problem is not None:
            entry["problem"] = use.problem
        lists.append(entry)
    seal = bundle.seal
    return {
        "digest": bundle.digest,
        "seal": {"sealed": False, "checked": False} if seal is None else
        {"sealed": True, "checked": seal.checked, "sealed_by": seal.sealed_by,
         "certificate_sha256": seal.certificate_sha256,
         **({} if seal.checked else {"note": "who sealed the bundle was not checked: give --trust-ca"})},
        "created_at": bundle.created_at.isoformat(),
        "age_seconds": _age(at, bundle.created_at),
        "age": human_duration(at - bundle.created_at),
        "verified_at": at.isoformat(),
        "registry": {"fetched_at": bundle.registry_fetched_at.isoformat(),
                     "age_seconds": _age(at, bundle.registry_fetched_at),
                     "age": human_duration(at - bundle.registry_fetched_at),
                     "limit_seconds": int(bundle.registry_max_age.total_seconds()),
                     "limit": human_duration(bundle.registry_max_age),
                     "usable": registry.problem is None, "used": registry.used,
                     **({"problem": registry.problem} if registry.problem else {})},
        "status_lists": lists,
    }
