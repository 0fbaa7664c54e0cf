"""Stacking: how far a learner's credentials go towards a pathway (a larger credential). Pure, no I/O.

A pathway, published by an issuer or an agency, names the achievements it requires, a minimum total of
ECTS credits, a minimum EQF level for every stacked credential, and the issuers whose credentials it
accepts (none listed: any issuer). :func:`evaluate` says, for every held credential, whether it counts and
if not why, how many ECTS count, what is missing, and whether the pathway is complete.

Rules:

* with required achievements, only credentials for those achievements count (others: ``NOT_REQUIRED``);
  without any, every eligible credential counts towards the ECTS minimum (one without ECTS: ``NO_ECTS``);
* a credential counts only when it is active (``REVOKED``, ``SUSPENDED``), still valid (``EXPIRED``), from
  an accepted issuer (``ISSUER_NOT_ACCEPTED``) and at or above the minimum level (``EQF_LEVEL_TOO_LOW``, or
  ``EQF_LEVEL_NOT_GIVEN`` when it states none); every failing reason is listed, the most telling first;
* one achievement counts once: of several eligible credentials for it, the one with the most ECTS (then the
  earliest issued) counts, the others are ``DUPLICATE_ACHIEVEMENT``;
* complete = every required achievement covered, ECTS gathered >= the minimum, and at least one credential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.wallet.domain.credentials import CredentialStatus, HeldCredential

_ZERO = Decimal(0)


class Reason(StrEnum):
    """Why a held credential does not count towards a pathway."""

    NOT_REQUIRED = "NOT_REQUIRED"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    ISSUER_NOT_ACCEPTED = "ISSUER_NOT_ACCEPTED"
    EQF_LEVEL_TOO_LOW = "EQF_LEVEL_TOO_LOW"
    EQF_LEVEL_NOT_GIVEN = "EQF_LEVEL_NOT_GIVEN"
    NO_ECTS = "NO_ECTS"
    DUPLICATE_ACHIEVEMENT = "DUPLICATE_ACHIEVEMENT"


@dataclass(frozen=True, slots=True)
class Pathway:
    """A larger credential defined by the smaller ones it is made of."""

    pathway_id: str
    issuer_id: str
    title: Mapping[str, str] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    required_achievement_ids: tuple[str, ...] = ()
    min_total_ects: Decimal | None = None
    min_eqf_level: int | None = None
    accepted_issuer_ids: tuple[str, ...] = ()
    awarded_achievement_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (API and Redis)."""
        return {
            "pathway_id": self.pathway_id, "issuer_id": self.issuer_id, "title": dict(self.title),
            "description": dict(self.description), "required_achievement_ids": list(self.required_achievement_ids),
            "min_total_ects": None if self.min_total_ects is None else str(self.min_total_ects),
            "min_eqf_level": self.min_eqf_level, "accepted_issuer_ids": list(self.accepted_issuer_ids),
            "awarded_achievement_id": self.awarded_achievement_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pathway:
        """Inverse of :meth:`to_json`."""
        ects = data.get("min_total_ects")
        return cls(
            pathway_id=str(data["pathway_id"]), issuer_id=str(data.get("issuer_id", "")),
            title=dict(data.get("title") or {}), description=dict(data.get("description") or {}),
            required_achievement_ids=tuple(data.get("required_achievement_ids") or ()),
            min_total_ects=None if ects in (None, "") else Decimal(str(ects)),
            min_eqf_level=data.get("min_eqf_level") or None,
            accepted_issuer_ids=tuple(data.get("accepted_issuer_ids") or ()),
            awarded_achievement_id=data.get("awarded_achievement_id") or None,
        )


@dataclass(frozen=True, slots=True)
class CredentialAssessment:
    """Whether one held credential counts towards the pathway, and why not when it does not."""

    credential_id: str
    achievement_id: str | None
    counts: bool
    ects: Decimal
    reasons: tuple[Reason, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"credential_id": self.credential_id, "achievement_id": self.achievement_id, "counts": self.counts,
                "ects": str(self.ects), "reasons": [r.value for r in self.reasons],
                "reason": self.reasons[0].value if self.reasons else None}


@dataclass(frozen=True, slots=True)
class PathwayProgress:
    """A learner's progress on one pathway."""

    pathway: Pathway
    complete: bool
    ects_gathered: Decimal
    missing_achievement_ids: tuple[str, ...]
    credentials: tuple[CredentialAssessment, ...]

    @property
    def counted_credential_ids(self) -> tuple[str, ...]:
        """The credentials that count, in the order assessed."""
        return tuple(a.credential_id for a in self.credentials if a.counts)

    @property
    def ects_missing(self) -> Decimal:
        """ECTS still needed to reach the minimum (0 when reached or when there is none)."""
        minimum = self.pathway.min_total_ects
        return max(_ZERO, minimum - self.ects_gathered) if minimum is not None else _ZERO

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (the progress endpoint's body for one pathway)."""
        return {
            "pathway": self.pathway.to_json(), "complete": self.complete, "ects_gathered": str(self.ects_gathered),
            "ects_missing": str(self.ects_missing), "missing_achievement_ids": list(self.missing_achievement_ids),
            "credentials": [a.to_json() for a in self.credentials],
        }


def _disqualifications(pathway: Pathway, credential: HeldCredential, now: datetime) -> list[Reason]:
    elements = credential.elements
    reasons: list[Reason] = []
    required = set(pathway.required_achievement_ids)
    if required and elements.achievement_id not in required:
        reasons.append(Reason.NOT_REQUIRED)
    if credential.status is CredentialStatus.REVOKED:
        reasons.append(Reason.REVOKED)
    elif credential.status is CredentialStatus.SUSPENDED:
        reasons.append(Reason.SUSPENDED)
    if elements.valid_until is not None and elements.valid_until <= now:
        reasons.append(Reason.EXPIRED)
    accepted = set(pathway.accepted_issuer_ids)
    if accepted and credential.issuer_id not in accepted and credential.issuer_did not in accepted:
        reasons.append(Reason.ISSUER_NOT_ACCEPTED)
    if pathway.min_eqf_level is not None:
        if elements.eqf_level is None:
            reasons.append(Reason.EQF_LEVEL_NOT_GIVEN)
        elif elements.eqf_level < pathway.min_eqf_level:
            reasons.append(Reason.EQF_LEVEL_TOO_LOW)
    if not required and pathway.min_total_ects is not None and not elements.ects:
        reasons.append(Reason.NO_ECTS)
    return reasons


def _preference(credential: HeldCredential) -> tuple[Decimal, str, str]:
    """Sort key: most ECTS first, then earliest issued, then id (deterministic)."""
    issued = credential.elements.issued_at
    return (-(credential.elements.ects or _ZERO), issued.isoformat() if issued else "~", credential.credential_id)


def evaluate(pathway: Pathway, credentials: Sequence[HeldCredential], now: datetime) -> PathwayProgress:
    """Assess every held credential against ``pathway`` at time ``now`` (timezone-aware)."""
    ordered = sorted(credentials, key=_preference)
    used_achievements: set[str] = set()
    assessed: dict[str, CredentialAssessment] = {}
    for credential in ordered:
        reasons = _disqualifications(pathway, credential, now)
        achievement = credential.elements.achievement_id
        if not reasons and achievement is not None and achievement in used_achievements:
            reasons.append(Reason.DUPLICATE_ACHIEVEMENT)
        counts = not reasons
        if counts and achievement is not None:
            used_achievements.add(achievement)
        ects = (credential.elements.ects or _ZERO) if counts else _ZERO
        assessed[credential.credential_id] = CredentialAssessment(
            credential.credential_id, achievement, counts, ects, tuple(reasons))
    results = tuple(assessed[cid] for cid in dict.fromkeys(c.credential_id for c in credentials))
    gathered = sum((a.ects for a in results if a.counts), _ZERO)
    missing = tuple(a for a in pathway.required_achievement_ids if a not in used_achievements)
    enough_ects = pathway.min_total_ects is None or gathered >= pathway.min_total_ects
    complete = not missing and enough_ects and any(a.counts for a in results)
    return PathwayProgress(pathway, complete, gathered, missing, results)
