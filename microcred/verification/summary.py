"""What a credential says, in readable form, for the report and the employer page.

Built on :func:`microcred.credential.eu_elements.read_eu_elements` (our OB 3.0 layout, tolerant of any other
credential), flattened into plain JSON values: strings, numbers, lists of strings. Empty values are left out,
so a third-party badge shows what it carries and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microcred.credential.eu_elements import Concept, EUElements, OrganisationView, read_eu_elements

__all__ = ["FIELDS", "summarize"]

#: Display order of the summary fields (the page labels them; see services/verifier/api/pages.py).
FIELDS: tuple[str, ...] = (
    "title", "learner", "awarding_body", "issuer", "country", "issued_at", "valid_until", "learning_outcomes",
    "credit_points", "workload_hours", "eqf_level", "assessment", "participation", "supervision",
    "quality_assurance", "grade", "stackability", "prerequisites", "further_information",
)


def _org(org: OrganisationView | None) -> str:
    if org is None:
        return ""
    return org.name or org.id


def _label(concept: Concept | None) -> str:
    return concept.label if concept is not None else ""


def _learner(e: EUElements) -> str:
    return e.learner_name or e.learner_did


def _quality(e: EUElements) -> str:
    parts = [_label(e.quality_assurance)]
    if e.qa_body is not None:
        parts.append(_org(e.qa_body))
    if e.qa_decision_reference:
        parts.append(e.qa_decision_reference)
    return " · ".join(p for p in parts if p)


def _credits(e: EUElements) -> str:
    if not e.credit_points:
        return ""
    system = "ECTS" if e.credit_system is not None and "6fcec5c5af" in e.credit_system.uri else (
        _label(e.credit_system) or "credits")
    return f"{e.credit_points} {system}"


#: The words a summary's ``stackability`` starts with (the report's summary is English; pages put them in the
#: reader's language: :func:`microcred.i18n.element_value`).
STACKABLE, STAND_ALONE = "Stackable", "Stand-alone"


def _stackability(e: EUElements) -> str:
    if e.stackable is None:
        return ""
    text = STACKABLE if e.stackable else STAND_ALONE
    return f"{text}: {e.stackability_description}" if e.stackability_description else text


def _grade(e: EUElements) -> str:
    parts = [e.grade, f"({e.grade_scheme})" if e.grade_scheme else "", e.grade_status]
    return " ".join(p for p in parts if p)


def summarize(document: Mapping[str, Any], elements: EUElements | None = None) -> dict[str, Any]:
    """The readable fields of a credential (see :data:`FIELDS`), empty ones omitted; never raises on content
    (``elements``: the document's, when the caller has read them already)."""
    try:
        e = elements if elements is not None else read_eu_elements(document)
    except Exception:  # a summary is a courtesy: a document it cannot read simply has none
        return {}
    countries = list(e.countries) or ([e.issuer.country] if e.issuer is not None and e.issuer.country else [])
    values: dict[str, Any] = {
        "title": e.title,
        "learner": _learner(e),
        "awarding_body": [_org(b) for b in e.awarding_bodies if _org(b)],
        "issuer": _org(e.issuer),
        "country": countries,
        "issued_at": e.issued_at or e.valid_from,
        "valid_until": e.valid_until,
        "learning_outcomes": [o.text for o in e.learning_outcomes],
        "credit_points": _credits(e),
        "workload_hours": e.workload_hours,
        "eqf_level": e.eqf_level,
        "assessment": " · ".join(p for p in (_label(e.assessment_type), e.assessment_description) if p),
        "participation": " · ".join(p for p in (_label(e.learning_mode), _label(e.learning_setting)) if p),
        "supervision": _label(e.supervision),
        "quality_assurance": _quality(e),
        "grade": _grade(e),
        "stackability": _stackability(e),
        "prerequisites": e.prerequisites,
        "further_information": e.further_information,
    }
    return {k: values[k] for k in FIELDS if values[k] not in ("", None, [], ())}
