"""Reading the EU micro-credential elements back out of an Open Badges 3.0 credential.

:func:`read_eu_elements` is what a verifier page or a wallet shows: title, learner, issuer and awarding bodies,
countries, dates, outcomes, workload, level, assessment, participation, QA, and the optional elements. It reads
the layout written by :mod:`microcred.credential.ob3` and is tolerant of anything else (a third-party OB 3.0
credential yields whatever it carries; malformed parts are skipped, never raised on).
:func:`missing_mandatory_elements` names the Annex I elements a credential does not carry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from microcred.credential.layout import (
    LINKS_HEADING,
    OUTCOMES_HEADING,
    PREREQUISITES_HEADING,
    QF_EHEA_PREFIX,
    Target,
)
from microcred.model.validation import MANDATORY_FIELDS

__all__ = [
    "Concept",
    "EUElements",
    "IdentityView",
    "OrganisationView",
    "OutcomeView",
    "missing_from",
    "missing_mandatory_elements",
    "read_eu_elements",
]


@dataclass(frozen=True)
class Concept:
    """A controlled-vocabulary concept as carried by an alignment: URI, label and vocabulary name."""

    uri: str
    label: str
    framework: str = ""


@dataclass(frozen=True)
class OrganisationView:
    """An organisation: id, name, ISO country code and homepage when known."""

    id: str
    name: str
    country: str = ""
    url: str = ""


@dataclass(frozen=True)
class IdentityView:
    """One learner identifier (OB 3.0 IdentityObject)."""

    identity_type: str
    identity_hash: str
    hashed: bool
    salt: str = ""


@dataclass(frozen=True)
class OutcomeView:
    """A learning outcome and the ESCO skills aligned with it."""

    text: str
    esco_skill_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class EUElements:
    """The EU elements found in a credential ('' / None / () where absent)."""

    credential_id: str = ""
    title: str = ""
    learner_did: str = ""
    learner_name: str = ""
    learner_identifiers: tuple[IdentityView, ...] = ()
    issuer: OrganisationView | None = None
    awarding_bodies: tuple[OrganisationView, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[Concept, ...] = ()
    issued_at: str = ""
    valid_from: str = ""
    valid_until: str = ""
    achievement_id: str = ""
    achievement_type: str = ""
    description: str = ""
    criteria: str = ""
    learning_outcomes: tuple[OutcomeView, ...] = ()
    credit_system: Concept | None = None
    credit_points: str = ""
    workload_hours: float | None = None
    eqf_level: int | None = None
    level_not_applicable: str | None = None
    qf_ehea_cycle: str = ""
    nqf_level_uri: str = ""
    assessment_type: Concept | None = None
    assessment_description: str = ""
    learning_mode: Concept | None = None
    learning_setting: Concept | None = None
    quality_assurance: Concept | None = None
    qa_decision_reference: str = ""
    qa_description: str = ""
    qa_body: OrganisationView | None = None
    qa_framework: str = ""
    qa_report_url: str = ""
    prerequisites: str = ""
    supervision: Concept | None = None
    supervision_mode: Concept | None = None
    grade: str = ""
    grade_scheme: str = ""
    grade_status: str = ""
    stackable: bool | None = None
    stackability_description: str = ""
    related_ids: tuple[str, ...] = ()
    further_information: str = ""
    further_links: tuple[tuple[str, str], ...] = ()
    language: str = ""
    status_purposes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------------------------- helpers


def _obj(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object, the first object of a list, else an empty mapping."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                return item
    return {}


def _objs(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, Mapping)]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _org(value: Any) -> OrganisationView | None:
    if isinstance(value, str):
        return OrganisationView(value, "")
    node = _obj(value)
    if not node:
        return None
    address = _obj(node.get("address"))
    return OrganisationView(_str(node.get("id")), _str(node.get("name")),
                            _str(address.get("addressCountryCode")), _str(node.get("url")))


def _sections(markdown: str) -> tuple[str, dict[str, str]]:
    """Split ``markdown`` into the text before the first ``## `` heading and the sections by heading."""
    intro: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = intro
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line.strip(), [])
        else:
            current.append(line[1:] if line.startswith("\\## ") else line)  # un-escape (see ob3._markdown_text)
    return "\n".join(intro).strip(), {k: "\n".join(v).strip() for k, v in sections.items()}


def _bullets(section: str) -> list[str]:
    return [line[2:].strip() for line in section.splitlines() if line.startswith("- ")]


def _concept(alignment: Mapping[str, Any]) -> Concept:
    return Concept(_str(alignment.get("targetUrl")), _str(alignment.get("targetName")),
                   _str(alignment.get("targetFramework")))


def _hours(code: str) -> float | None:
    if code.startswith("PT") and code.endswith("H"):
        try:
            return float(code[2:-1])
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------------------------- reading


def _by_target(alignments: list[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for alignment in alignments:
        out.setdefault(_str(alignment.get("targetType")), []).append(alignment)
    return out


def _learner(subject: Mapping[str, Any]) -> dict[str, Any]:
    identifiers = []
    name = ""
    for ident in _objs(subject.get("identifier")):
        view = IdentityView(_str(ident.get("identityType")), _str(ident.get("identityHash")),
                            ident.get("hashed") is True, _str(ident.get("salt")))
        identifiers.append(view)
        if view.identity_type == "name" and not view.hashed and not name:
            name = view.identity_hash
    return {"learner_did": _str(subject.get("id")), "learner_name": name,
            "learner_identifiers": tuple(identifiers)}


def _level(targets: dict[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for alignment in targets.get(Target.EQF_LEVEL, [])[:1]:
        code = _str(alignment.get("targetCode")) or _str(alignment.get("targetUrl")).rpartition("/")[2]
        out["eqf_level"] = int(code) if code.isdigit() else None
        description = _str(alignment.get("targetDescription"))
        if description.startswith(QF_EHEA_PREFIX):
            out["qf_ehea_cycle"] = description[len(QF_EHEA_PREFIX):]
    for alignment in targets.get(Target.LEVEL_NOT_APPLICABLE, [])[:1]:
        out["level_not_applicable"] = _str(alignment.get("targetDescription"))
    for alignment in targets.get(Target.NQF_LEVEL, [])[:1]:
        out["nqf_level_uri"] = _str(alignment.get("targetUrl"))
    return out


def _workload(targets: dict[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for alignment in targets.get(Target.CREDIT_POINTS, [])[:1]:
        out["credit_system"] = _concept(alignment)
        out["credit_points"] = _str(alignment.get("targetCode"))
    for alignment in targets.get(Target.WORKLOAD_HOURS, [])[:1]:
        out["workload_hours"] = _hours(_str(alignment.get("targetCode")))
    return out


def _quality(targets: dict[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for alignment in targets.get(Target.QUALITY_ASSURANCE, [])[:1]:
        out["quality_assurance"] = _concept(alignment)
        out["qa_decision_reference"] = _str(alignment.get("targetCode"))
        out["qa_description"] = _str(alignment.get("targetDescription"))
    for alignment in targets.get(Target.QA_BODY, [])[:1]:
        out["qa_body"] = OrganisationView(_str(alignment.get("targetUrl")), _str(alignment.get("targetName")))
        out["qa_framework"] = _str(alignment.get("targetDescription"))
    for alignment in targets.get(Target.QA_REPORT, [])[:1]:
        out["qa_report_url"] = _str(alignment.get("targetUrl"))
    return out


def _concepts(targets: dict[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, name in ((Target.LEARNING_MODE, "learning_mode"), (Target.LEARNING_SETTING, "learning_setting"),
                         (Target.SUPERVISION, "supervision"), (Target.SUPERVISION_MODE, "supervision_mode"),
                         (Target.ASSESSMENT_TYPE, "assessment_type")):
        for alignment in targets.get(target, [])[:1]:
            out[name] = _concept(alignment)
            if target == Target.ASSESSMENT_TYPE:
                out["assessment_description"] = _str(alignment.get("targetDescription"))
    for alignment in targets.get(Target.STACKABILITY, [])[:1]:
        code = _str(alignment.get("targetCode"))
        out["stackable"] = True if code == "true" else False if code == "false" else None
        out["stackability_description"] = _str(alignment.get("targetDescription"))
    return out


def _outcomes(criteria: str, targets: dict[str, list[Mapping[str, Any]]]) -> tuple[str, str, tuple[OutcomeView, ...]]:
    intro, sections = _sections(criteria)
    skills: dict[str, list[str]] = {}
    for alignment in targets.get(Target.SKILL, []):
        skills.setdefault(_str(alignment.get("targetName")), []).append(_str(alignment.get("targetUrl")))
    texts = _bullets(sections.get(OUTCOMES_HEADING, ""))
    outcomes = [OutcomeView(text, tuple(skills.pop(text, []))) for text in texts]
    outcomes += [OutcomeView(text, tuple(uris)) for text, uris in skills.items()]  # skills without a list item
    return intro, sections.get(PREREQUISITES_HEADING, ""), tuple(outcomes)


def _grade(achievement: Mapping[str, Any], subject: Mapping[str, Any]) -> dict[str, Any]:
    result = _obj(subject.get("result"))
    if not result:
        return {}
    wanted = _str(result.get("resultDescription"))
    descriptions = _objs(achievement.get("resultDescription"))
    scheme = next((rd for rd in descriptions if rd.get("id") == wanted), _obj(descriptions))
    value = result.get("value")
    return {"grade": value if isinstance(value, str) else "", "grade_scheme": _str(scheme.get("name")),
            "grade_status": _str(result.get("status"))}


def _further(description: str) -> dict[str, Any]:
    intro, sections = _sections(description)
    links = []
    for bullet in _bullets(sections.get(LINKS_HEADING, "")):
        title, sep, url = bullet.rpartition(": ")
        if sep:
            links.append((title, url))
    return {"further_information": intro, "further_links": tuple(links)}


def _achievement_fields(achievement: Mapping[str, Any]) -> dict[str, Any]:
    """The elements read from the achievement alone (most of them: a cohort's credentials share it)."""
    targets = _by_target(_objs(achievement.get("alignment")))
    criteria, prerequisites, outcomes = _outcomes(_str(_obj(achievement.get("criteria")).get("narrative")), targets)
    bodies = [body for body in [_org(achievement.get("creator"))] if body is not None]
    bodies += [OrganisationView(_str(a.get("targetUrl")), _str(a.get("targetName")), _str(a.get("targetCode")))
               for a in targets.get(Target.AWARDING_BODY, [])]
    return {
        "awarding_bodies": tuple(bodies),
        "countries": tuple(_str(a.get("targetCode")) for a in targets.get(Target.COUNTRY, [])),
        "regions": tuple(_concept(a) for a in targets.get(Target.REGION, [])),
        "achievement_id": _str(achievement.get("id")),
        "achievement_type": _str(achievement.get("achievementType")),
        "description": _str(achievement.get("description")),
        "criteria": criteria,
        "learning_outcomes": outcomes,
        "prerequisites": prerequisites,
        "related_ids": tuple(_str(r.get("id")) for r in _objs(achievement.get("related"))),
        "language": _str(achievement.get("inLanguage")),
        **_level(targets), **_workload(targets), **_quality(targets), **_concepts(targets),
    }


# The achievement's elements by its JSON text: a pure function of that text (every value is immutable: str,
# int, bool, None, tuples and frozen views), bounded; a verifier sees the same few achievements over and over.
_ACHIEVEMENTS: OrderedDict[bytes, dict[str, Any]] = OrderedDict()
_ACHIEVEMENTS_MAX = 256
_ACHIEVEMENT_MAX_BYTES = 16 * 1024  # larger ones are read each time (they would hold much memory)
_ACHIEVEMENTS_LOCK = threading.Lock()  # the wallet reads on threads


def _achievement_fields_cached(achievement: Mapping[str, Any]) -> dict[str, Any]:
    try:
        key = orjson.dumps(achievement)
    except TypeError:  # not plain JSON (say an int beyond 64 bits, a Mapping that is not a dict): read it
        return _achievement_fields(achievement)
    if len(key) > _ACHIEVEMENT_MAX_BYTES:
        return _achievement_fields(achievement)
    with _ACHIEVEMENTS_LOCK:
        hit = _ACHIEVEMENTS.get(key)
        if hit is not None:
            _ACHIEVEMENTS.move_to_end(key)
            return hit
    fields = _achievement_fields(achievement)
    with _ACHIEVEMENTS_LOCK:
        _ACHIEVEMENTS[key] = fields
        while len(_ACHIEVEMENTS) > _ACHIEVEMENTS_MAX:
            _ACHIEVEMENTS.popitem(last=False)
    return fields


def read_eu_elements(credential: Mapping[str, Any]) -> EUElements:
    """Parse the EU elements of an OB 3.0 credential (see the module docstring); never raises on content."""
    subject = _obj(credential.get("credentialSubject"))
    achievement = _obj(subject.get("achievement"))
    fields: dict[str, Any] = {
        "credential_id": _str(credential.get("id")),
        "title": _str(achievement.get("name")) or _str(credential.get("name")),
        "issuer": _org(credential.get("issuer")),
        "issued_at": _str(credential.get("awardedDate")),
        "valid_from": _str(credential.get("validFrom")),
        "valid_until": _str(credential.get("validUntil")),
        "status_purposes": tuple(_str(s.get("statusPurpose")) for s in _objs(credential.get("credentialStatus"))),
        **_achievement_fields_cached(achievement), **_learner(subject),
        **_grade(achievement, subject), **_further(_str(credential.get("description"))),
    }
    return EUElements(**fields)


def missing_mandatory_elements(credential: Mapping[str, Any]) -> list[str]:
    """Names (as in ``MANDATORY_FIELDS``) of the mandatory Annex I elements the credential lacks."""
    return missing_from(read_eu_elements(credential))


def missing_from(e: EUElements) -> list[str]:
    """:func:`missing_mandatory_elements` of elements already read (by :func:`read_eu_elements`)."""
    issuer_country = e.issuer.country if e.issuer else ""
    present = {
        "learner": bool(e.learner_did or e.learner_identifiers),
        "title": bool(e.title),
        "countries": bool(e.countries or issuer_country),
        "awarding_bodies": bool(e.awarding_bodies),
        "issued_at": bool(e.issued_at),
        "learning_outcomes": bool(e.learning_outcomes),
        "workload": bool(e.credit_points or e.workload_hours),
        "level": e.eqf_level is not None or e.level_not_applicable is not None,
        "assessment": e.assessment_type is not None,
        "participation": e.learning_mode is not None,
        "quality_assurance": e.quality_assurance is not None,
    }
    return [name for name in MANDATORY_FIELDS if not present[name]]
