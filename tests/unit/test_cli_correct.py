"""``mcred credential correct``'s changes: PATH=TEXT and PATH:=JSON on the issued EU elements, refused clearly."""

from __future__ import annotations

import pytest

from microcred.cli.issued import apply_changes
from microcred.gen.microcred.v1 import elements_pb2 as pb
from tests.harness.factories import valid_micro_credential


def test_changes_apply_to_a_copy_and_keep_everything_else() -> None:
    issued = valid_micro_credential()
    corrected = apply_changes(issued, ["learner.given_name=Anna-Maria", "workload.credit_points=5",
                                       "workload.hours:=125", "title.values.pl=Tworzenie mikropoświadczeń",
                                       "level.eqf_level=EQF_LEVEL_5"])
    assert issued == valid_micro_credential()  # the input is not changed
    assert corrected.learner.given_name == "Anna-Maria" and corrected.workload.credit_points == "5"
    assert corrected.workload.hours == 125 and corrected.level.eqf_level == pb.EQF_LEVEL_5
    assert corrected.title.values["pl"] == "Tworzenie mikropoświadczeń"
    assert corrected.title.values["en"] == issued.title.values["en"]
    rest_before, rest_after = pb.MicroCredential(), pb.MicroCredential()
    rest_before.CopyFrom(issued)
    rest_after.CopyFrom(corrected)
    for name in ("learner", "workload", "title", "level"):
        rest_before.ClearField(name)
        rest_after.ClearField(name)
    assert rest_after == rest_before


def test_a_list_entry_is_reached_by_its_index() -> None:
    issued = valid_micro_credential()
    assert len(issued.learning_outcomes) > 0
    corrected = apply_changes(issued, ["learning_outcomes[0].text.values.en=Builds a credential"])
    assert corrected.learning_outcomes[0].text.values["en"] == "Builds a credential"


@pytest.mark.parametrize(("change", "message"), [
    ("learner.given_name", "write PATH=TEXT or PATH:=JSON"),
    ("learner.nickname=x", "does not fit the model"),
    ("workload.hours:=lots", "is not JSON"),
    ("workload.hours=lots", "does not fit the model"),
    ("learning_outcomes[99].text.values.en=x", "index 99 is not one of them"),
    ("learner..given_name=x", "is not a field name"),
])
def test_a_change_that_cannot_apply_is_refused_by_name(change: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        apply_changes(valid_micro_credential(), [change])
