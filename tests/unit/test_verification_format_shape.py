"""FORMAT by shape: a credential of a shape whose documents passed every FORMAT rule is checked again on the
values FORMAT reads (id, issuer, dates, related resources), and gets exactly the full check's result."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.jsonld.compacted import read_compacted
from microcred.verification.canonical import Canonicalizer, InProcessRunner, Processed
from microcred.verification.checks import CheckStatus, Reason
from microcred.verification.format_check import check_format
from tests.verifier_support import World

WORLD = World()
CANON = Canonicalizer(InProcessRunner())
_DATES = st.sampled_from(["2025-03-14T10:00:00Z", "2031-01-01T00:00:00Z", "2020-01-01T00:00:00Z",
                          "2025-13-40T10:00:00Z", "2025-03-14T10:00:00", "yesterday", "2025-03-14T24:00:00Z",
                          "2025-03-14T10:00:00+14:00", "0001-01-01T00:00:00Z"])
_IRIS = st.sampled_from(["did:web:trust.example:uni-zed", "https://example.org/issuer", "did:example:other",
                         "urn:uuid:00000000-0000-4000-8000-000000000001"])


def learn() -> None:
    """The platform credential's shape, learnt as the gateway learns it (its first document goes to pyld)."""
    document = WORLD.credential(1)
    asyncio.run(CANON.process({k: v for k, v in document.items() if k != "proof"}, shape=read_compacted(document)[1]))


def both(document: dict[str, Any]) -> tuple[Any, Any]:
    """FORMAT by shape and the full check, over the same template-filled expansion."""
    refused, shape = read_compacted(document)
    assert refused is None and shape is not None
    processed = asyncio.run(CANON.process({k: v for k, v in document.items() if k != "proof"}, shape=shape))
    assert isinstance(processed, Processed) and processed.templated
    shaped = check_format(document, expanded=processed.expanded, compacted=True, shape=shape[0])
    full = check_format(document, expanded=processed.expanded, compacted=True)
    return shaped, full


def test_the_first_credential_of_a_shape_teaches_it_and_the_next_is_valid_by_its_values() -> None:
    learn()
    both(WORLD.credential(1))  # the shape passes FORMAT: remembered
    shaped, full = both(WORLD.credential(2))
    assert shaped == full and (shaped.status, shaped.reason_code) == (CheckStatus.VALID, Reason.FORMAT_OK)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_known_shape_with_other_values_gets_the_full_checks_result(data: st.DataObject) -> None:
    learn()
    both(WORLD.credential(1))
    document = WORLD.credential(3)
    for name in ("validFrom", "validUntil", "awardedDate"):
        if data.draw(st.booleans()):
            document[name] = data.draw(_DATES)
    if data.draw(st.booleans()):
        document["issuer"] = {**document["issuer"], "id": data.draw(_IRIS)}
    if data.draw(st.booleans()):
        document["id"] = data.draw(_IRIS)
    if read_compacted(document)[0] is not None:
        return  # not read at all: FORMAT is never asked
    shaped, full = both(document)
    assert shaped == full
