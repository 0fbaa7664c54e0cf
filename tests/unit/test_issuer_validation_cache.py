"""The cohort validator answers exactly what full validation answers, checking a valid cohort's shared part once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model.validation import validate_micro_credential, validate_per_learner
from services.issuer.application.validation_cache import CohortValidator, cohort_key
from tests.harness.factories import NOW, timestamp, valid_micro_credential

Change = Callable[[pb.MicroCredential], None]


def _learner(n: int) -> Change:
    def change(mc: pb.MicroCredential) -> None:
        mc.learner.full_name = f"Learner {n}"
        mc.learner.email = f"learner{n}@example.org"
    return change


def _bad_email(mc: pb.MicroCredential) -> None:
    mc.learner.email = "not an address"


def _nameless(mc: pb.MicroCredential) -> None:
    mc.learner.full_name = ""
    mc.learner.given_name = ""
    mc.learner.family_name = ""


def _future(mc: pb.MicroCredential) -> None:
    mc.issued_at.CopyFrom(timestamp(NOW + timedelta(days=3)))


def _ends_before_start(mc: pb.MicroCredential) -> None:
    mc.valid_until.CopyFrom(mc.valid_from)


def _ungraded_scheme(mc: pb.MicroCredential) -> None:
    mc.grade.value = " "


def _no_learner(mc: pb.MicroCredential) -> None:
    mc.ClearField("learner")


PER_LEARNER_CHANGES: list[Change] = [_learner(1), _bad_email, _nameless, _future, _ends_before_start,
                                     _ungraded_scheme, _no_learner, _learner(2)]


def _variant(change: Change) -> pb.MicroCredential:
    mc = valid_micro_credential()
    change(mc)
    return mc


def test_per_learner_rules_are_all_a_valid_cohort_can_break() -> None:
    for change in PER_LEARNER_CHANGES:
        mc = _variant(change)
        assert validate_per_learner(mc, now=NOW) == validate_micro_credential(mc, now=NOW)


def test_cached_cohorts_give_the_same_answers_as_full_validation() -> None:
    validator = CohortValidator()
    answers = [validator.validate(_variant(change), NOW) for change in PER_LEARNER_CHANGES]

    assert answers == [validate_micro_credential(_variant(change), now=NOW) for change in PER_LEARNER_CHANGES]
    assert any(answers) and not answers[0]
    assert validator.hits == len(PER_LEARNER_CHANGES) - 1  # the first credential taught it the cohort


@pytest.mark.parametrize("learner_first", [True, False])
def test_a_cohort_with_a_bad_shared_element_is_never_cached(learner_first: bool) -> None:
    def bad_title(mc: pb.MicroCredential) -> None:
        mc.title.values.pop("en")

    validator = CohortValidator()
    first = _variant(_bad_email if learner_first else _learner(1))
    bad_title(first)
    second = _variant(_learner(2))
    bad_title(second)

    for mc in (first, second, first):
        violations = validator.validate(mc, NOW)
        assert violations == validate_micro_credential(mc, now=NOW)
        assert "title" in {v.field for v in violations}
    assert validator.hits == 0


def test_the_cohort_key_ignores_exactly_the_per_learner_fields() -> None:
    base = cohort_key(valid_micro_credential())
    assert all(cohort_key(_variant(change)) == base for change in PER_LEARNER_CHANGES)
    other = valid_micro_credential()
    other.title.values["en"] = "Another course"
    assert cohort_key(other) != base


def test_the_cache_forgets_the_oldest_cohorts() -> None:
    validator = CohortValidator(max_cohorts=2)
    cohorts = []
    for n in range(3):
        mc = valid_micro_credential()
        mc.title.values["en"] = f"Course {n}"
        cohorts.append(mc)
        validator.validate(mc, NOW)
    validator.validate(cohorts[2], NOW)
    validator.validate(cohorts[0], NOW)  # evicted: validated in full again
    assert validator.hits == 1
