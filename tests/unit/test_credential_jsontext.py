"""Credential JSON text through orjson is byte for byte what the standard library writes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from microcred.credential.jsontext import compact

_SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text()
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                              max_size=4),
                     max_leaves=30)


def _stdlib(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@given(_JSON)
def test_compact_is_the_standard_library_text(value: Any) -> None:
    assert compact(value) == _stdlib(value)


def test_controls_quotes_and_line_separators_are_escaped_alike() -> None:
    value = {"s": "\x00\x01\x1f\x7f\t\n\r\b\f\"\\/\u2028\u2029é😀"}
    assert compact(value) == _stdlib(value)


def test_what_orjson_refuses_goes_to_the_standard_library() -> None:
    for value in ({"n": 2**70}, {1: "int key"}):
        assert compact(value) == _stdlib(value)
