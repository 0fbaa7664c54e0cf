"""``changed_fields``: what an idempotency conflict names."""

from __future__ import annotations

from microcred.model.differences import changed_fields
from tests.harness.factories import valid_micro_credential


def test_equal_credentials_differ_nowhere() -> None:
    assert changed_fields(valid_micro_credential(), valid_micro_credential()) == []


def test_changed_added_and_removed_fields_are_named() -> None:
    before, after = valid_micro_credential(), valid_micro_credential()
    after.learner.full_name = "Ana Corrected"
    after.title.values["ga"] = "Teideal"
    after.learning_outcomes[1].text.values["en"] = "Other"
    after.ClearField("prerequisites")
    changed = changed_fields(before, after)
    assert "learner.full_name" in changed and "title.values[ga]" in changed
    assert "learning_outcomes[1].text.values[en]" in changed
    assert any(p.startswith("prerequisites") for p in changed)
    assert not any(p.startswith(("awarding_bodies", "workload", "level")) for p in changed)


def test_ignored_fields_are_not_compared() -> None:
    before, after = valid_micro_credential(), valid_micro_credential()
    after.issued_at.seconds += 86_400
    assert changed_fields(before, after) == ["issued_at"]
    assert changed_fields(before, after, ignore=("issued_at",)) == []
