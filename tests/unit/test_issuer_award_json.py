"""A cohort's awards parsed with their repeated parts kept (services.issuer.application.award_json): the same
message as ``ParseDict`` of the whole document, or the same error, whatever the document."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from services.issuer.application.award_json import AwardParser, parse_award
from tests.harness.factories import minimal_micro_credential, valid_micro_credential


def _document() -> dict[str, Any]:
    return json_format.MessageToDict(valid_micro_credential())


def _same(parser: AwardParser, document: Any) -> None:
    """``parser.parse`` answers exactly as ``parse_award``: equal messages, or ValueError with the same text."""
    try:
        expected = parse_award(copy.deepcopy(document))
    except ValueError as exc:
        with pytest.raises(ValueError) as raised:
            parser.parse(document)
        assert str(raised.value) == str(exc)
        return
    got = parser.parse(document)
    # compared as bytes: a NaN value makes two equal messages compare unequal
    assert got.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)


def test_a_cohort_parses_its_repeated_parts_once_and_each_award_as_whole() -> None:
    parser = AwardParser()
    base = _document()
    for n in range(20):
        document = copy.deepcopy(base)
        document["learner"]["fullName"] = f"Learner {n}"
        _same(parser, document)
    parts = sum(1 for v in base.values() if isinstance(v, dict | list) and v)
    assert parts >= 3 and parser.hits >= 19 * (parts - 1)  # all but the learner came from the kept parts


def test_key_order_and_field_name_spelling_give_the_same_award() -> None:
    parser = AwardParser()
    document = _document()
    _same(parser, document)
    reordered = dict(reversed(list(document.items())))
    _same(parser, reordered)
    _same(parser, json_format.MessageToDict(valid_micro_credential(), preserving_proto_field_name=True))


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(noSuchField=1),                                          # unknown key
    lambda d: d.update(learning_outcomes=d.get("learningOutcomes", [])),       # one field under both names
    lambda d: d.update(learner=[1, 2]),                                         # wrong type for a message
    lambda d: d.update(learningOutcomes=[None]),                                # null in a repeated field
    lambda d: d["learner"].update(fullName=12),                                 # wrong type, nested
    lambda d: d["learner"].update(nope="x"),                                    # unknown key, nested
    lambda d: d["learner"].update(fullName="x" * 3, full_name="y"),             # nested field under both names
    lambda d: d.update(learner={"fullName": 2 ** 80}),                          # an int orjson cannot write
    lambda d: d.update(learner=None),                                           # null for a message
    lambda d: d.update(learner={}),                                             # an empty message
])
def test_refusals_and_odd_values_are_parse_dicts_own(mutate: Any) -> None:
    parser = AwardParser()
    _same(parser, _document())  # the parts of the valid award are kept first
    document = _document()
    mutate(document)
    _same(parser, document)


def test_nan_and_null_are_never_confused_through_the_kept_parts() -> None:
    parser = AwardParser()
    first = {"workload": {"creditPoints": "2", "hours": math.nan}}  # orjson writes both as {"...","hours":null}
    second = {"workload": {"creditPoints": "2", "hours": None}}
    for document in (first, second, first):
        _same(parser, document)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        AwardParser().parse([1])


def test_the_kept_parts_are_bounded() -> None:
    parser = AwardParser(entries=3)
    for n in range(10):
        _same(parser, {"learner": {"fullName": f"L{n}"}, "title": {"en": f"T{n}"}})
    assert len(parser._parts) == 3


_json = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=True)
                     | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_change_to_a_valid_award_parses_as_parse_dict_does(data: st.DataObject) -> None:
    parser = AwardParser()
    base = json_format.MessageToDict(data.draw(st.sampled_from([valid_micro_credential(),
                                                                minimal_micro_credential()])))
    _same(parser, base)
    document = copy.deepcopy(base)
    keys = [*sorted(document), "learner", "ects", "noSuch", "learning_outcomes"]
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(keys))
        if isinstance(document.get(key), dict) and document[key] and data.draw(st.booleans()):
            inner = data.draw(st.sampled_from(sorted(document[key])))
            document[key][inner] = data.draw(_json)
        else:
            document[key] = data.draw(_json)
    _same(parser, document)
