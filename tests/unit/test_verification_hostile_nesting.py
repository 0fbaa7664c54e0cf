"""Documents nested past Python's stack (a thousand levels fit in a 6 KB body) get a verdict, never an error:
every recursive reader (the digest, the shape, the expansion) is behind an iterative nesting guard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from microcred.credential.jsontext import nested_deeper_than
from microcred.verification import verify
from microcred.verification.cache import document_digest
from microcred.verification.pipeline import MAX_NESTING
from tests.verifier_support import NOW, fixture_ports


def _nested(depth: int, presentation: bool = False) -> dict[str, Any]:
    inner: Any = "x"
    for _ in range(depth):
        inner = {"a": inner}
    kind = "VerifiablePresentation" if presentation else "VerifiableCredential"
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": [kind], "credentialSubject": inner}


def test_the_guard_counts_levels_of_objects_and_arrays() -> None:
    assert not nested_deeper_than({"a": [{"b": 1}]}, 3)
    assert nested_deeper_than({"a": [{"b": {}}]}, 3)
    assert not nested_deeper_than("text", 0) and nested_deeper_than([], 0)
    assert nested_deeper_than(_nested(100_000), MAX_NESTING)  # iterative: no stack to exhaust


@pytest.mark.parametrize("presentation", [False, True])
async def test_a_document_nested_past_the_stack_is_invalid_not_an_error(presentation: bool) -> None:
    document = _nested(5_000, presentation)
    report = await verify(document, fixture_ports(), NOW)
    assert report.verdict.value == "invalid"
    assert [(c.id.value, c.reason_code.value) for c in report.checks] == [("format", "TOO_COMPLEX")]


def test_the_digest_of_such_a_document_is_an_answer_not_an_error() -> None:
    shallow = json.loads(json.dumps(_nested(10)))
    assert document_digest(shallow) == document_digest(_nested(10))
    assert len(document_digest(_nested(5_000))) == 64
