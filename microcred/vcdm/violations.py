"""What the data-model validator reports: a named rule that a document breaks, and the signer's error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DataModelError", "Severity", "Violation"]


class Severity(StrEnum):
    """``invalid``: the document breaks the rule. ``unknown``: the rule could not be checked (e.g. a related
    resource that cannot be retrieved offline), so the document cannot be called valid either."""

    INVALID = "invalid"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken (or uncheckable) rule: a stable ``rule`` name, the JSON ``field`` and an English ``message``."""

    rule: str
    field: str
    message: str
    severity: Severity = Severity.INVALID

    def __str__(self) -> str:
        return f"{self.field}: {self.message} [{self.rule}]"


class DataModelError(ValueError):
    """A document the signer refuses, because it breaks the VC data model (the first violation is the message;
    all of them are in ``violations``)."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__(str(self.violations[0]) if self.violations else "invalid credential")

    @property
    def rule(self) -> str:
        """The first violated rule's name."""
        return self.violations[0].rule if self.violations else "unknown"
