"""Annex I validation of a batch with the checks of a cohort's shared elements done once per cohort.

The credentials of a batch usually belong to one cohort: title, outcomes, awarding bodies, quality assurance,
workload, level... are identical, and only the :data:`~microcred.model.validation.PER_LEARNER_FIELDS` (the
learner, dates, grade) differ. Checking the shared elements is most of the cost of validation (language tags,
URLs, vocabularies), so :class:`CohortValidator` remembers cohorts whose shared elements passed, keyed by
their serialized bytes, and then checks only the per-learner fields
(:func:`~microcred.model.validation.validate_per_learner`). The answer is always exactly what
:func:`~microcred.model.validation.validate_micro_credential` gives: no rule on the shared elements depends on
the per-learner fields or on the clock, so equal shared bytes pass equally.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model.validation import (
    PER_LEARNER_FIELDS,
    FieldViolation,
    validate_micro_credential,
    validate_per_learner,
)

__all__ = ["CohortValidator", "cohort_key"]


def cohort_key(mc: pb.MicroCredential) -> bytes:
    """The deterministic serialization of ``mc`` without its per-learner fields."""
    shared = pb.MicroCredential()
    shared.CopyFrom(mc)
    for name in PER_LEARNER_FIELDS:
        shared.ClearField(name)
    return shared.SerializeToString(deterministic=True)


class CohortValidator:
    """``validate_micro_credential`` with a memory of cohorts whose shared elements are valid."""

    def __init__(self, max_cohorts: int = 512) -> None:
        self._valid: OrderedDict[bytes, None] = OrderedDict()
        self._max = max_cohorts
        self.hits = 0

    def validate(self, mc: pb.MicroCredential, now: datetime) -> list[FieldViolation]:
        """Every Annex I violation of ``mc`` at ``now`` (empty: valid), as ``validate_micro_credential``."""
        key = cohort_key(mc)
        if key in self._valid:
            self._valid.move_to_end(key)
            self.hits += 1
            return validate_per_learner(mc, now=now)
        violations = validate_micro_credential(mc, now=now)
        # Only the per-learner rules complained (or none did): the shared elements pass, whoever the learner.
        if violations == validate_per_learner(mc, now=now):
            self._valid[key] = None
            while len(self._valid) > self._max:
                self._valid.popitem(last=False)
        return violations
