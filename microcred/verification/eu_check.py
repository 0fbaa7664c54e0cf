"""EU_ELEMENTS: the 11 mandatory Annex I elements of the Council Recommendation are present.

Applies to credentials that declare themselves EU micro-credentials (an achievement with
``achievementType: MicroCredential``): then every mandatory element must be present (read back with
:func:`microcred.credential.eu_elements.missing_mandatory_elements`), else the check is invalid and lists the
missing ones. Any other credential gets ``unknown`` / NOT_A_MICRO_CREDENTIAL, which the verdict policy treats
as advisory (see :mod:`~.policy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microcred.credential.eu_elements import EUElements, missing_from, missing_mandatory_elements
from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, unknown, valid
from microcred.verification.document import subjects

__all__ = ["MICRO_CREDENTIAL", "check_eu_elements", "is_micro_credential"]

MICRO_CREDENTIAL = "MicroCredential"
_E = CheckId.EU_ELEMENTS


def is_micro_credential(document: Mapping[str, Any]) -> bool:
    """True when an achievement of the credential has ``achievementType: MicroCredential``."""
    for subject in subjects(document):
        achievement = subject.get("achievement")
        if isinstance(achievement, Mapping) and achievement.get("achievementType") == MICRO_CREDENTIAL:
            return True
    return False


def check_eu_elements(document: Mapping[str, Any], elements: EUElements | None = None) -> CheckResult:
    """The EU_ELEMENTS result (``elements``: the document's, when the caller has read them already)."""
    if not is_micro_credential(document):
        return unknown(_E, Reason.NOT_A_MICRO_CREDENTIAL)
    missing = missing_from(elements) if elements is not None else missing_mandatory_elements(document)
    if missing:
        return invalid(_E, Reason.EU_ELEMENTS_MISSING, missing=missing)
    return valid(_E, Reason.EU_ELEMENTS_PRESENT)
