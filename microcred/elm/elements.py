"""Which mandatory EU micro-credential elements (Council Recommendation 2022, Annex I, 1-11) an EDC document has.

The reading mirrors :mod:`microcred.elm.render` (see its table): the same element names as
:data:`microcred.credential.eu_elements.MANDATORY_FIELDS`, so an EDC's EU_ELEMENTS check reads like any other
format's. Pure JSON reading of the (signed) payload; EDC allows a node or a list where one value is expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from microcred.model.validation import MANDATORY_FIELDS

__all__ = ["eqf_level", "issuer_id", "missing_elements"]

_EQF = re.compile(r"^http://data\.europa\.eu/snb/eqf/([1-8])$")


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _node(parent: Any, *path: str) -> Any:
    node = parent
    for key in path:
        node = _first(node.get(key)) if isinstance(node, Mapping) else None
    return node


def _level(spec: Any) -> bool:
    if _node(spec, "eqfLevel") is not None or _node(spec, "nqfLevel") is not None:
        return True
    notes = spec.get("additionalNote") if isinstance(spec, Mapping) else None
    texts = [str(v) for n in (notes if isinstance(notes, list) else [notes]) if isinstance(n, Mapping)
             for v in (n.get("noteLiteral") or {}).values()] if notes else []
    return any("EQF level: not applicable" in t or "QF-EHEA" in t for t in texts)


def missing_elements(document: Mapping[str, Any]) -> list[str]:
    """The mandatory Annex I elements absent from an EDC credential (names as ``MANDATORY_FIELDS``)."""
    subject = _node(document, "credentialSubject")
    claim = _node(subject, "hasClaim")
    spec = _node(claim, "specifiedBy")
    body = _node(claim, "awardedBy", "awardingBody")
    present = {
        "learner": isinstance(subject, Mapping) and any(subject.get(k) for k in ("fullName", "givenName",
                                                                                   "familyName", "nationalID")),
        "title": bool(_node(claim, "title")),
        "countries": _node(body, "location") is not None,
        "awarding_bodies": isinstance(body, Mapping),
        "issued_at": bool(document.get("issued") or document.get("issuanceDate")
                          or _node(claim, "awardedBy", "awardingDate")),
        "learning_outcomes": bool(_node(spec, "learningOutcome") or _node(spec, "learningOutcomeSummary")),
        "workload": bool(_node(spec, "creditPoint") or _node(spec, "volumeOfLearning")),
        "level": _level(spec),
        "assessment": _node(spec, "provenBy") is not None or _node(claim, "provenBy") is not None,
        "participation": bool(_node(spec, "mode") or _node(spec, "learningSetting")),
        "quality_assurance": _node(spec, "accreditation") is not None,
    }
    return [name for name in MANDATORY_FIELDS if not present[name]]


def eqf_level(document: Mapping[str, Any]) -> int | None:
    """The EQF level the credential's specification names (None: none, or not an EQF concept)."""
    level = _node(document, "credentialSubject", "hasClaim", "specifiedBy", "eqfLevel")
    uri = level.get("id") if isinstance(level, Mapping) else level
    found = _EQF.match(uri) if isinstance(uri, str) else None
    return int(found.group(1)) if found else None


def issuer_id(document: Mapping[str, Any]) -> str | None:
    """The issuer's id (``issuer`` is an Organisation node, or its id)."""
    issuer = document.get("issuer")
    value = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return value if isinstance(value, str) else None
