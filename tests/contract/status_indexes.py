"""The StatusIndexSource contract: fresh, never reused (revocation, suspension) entry pairs per issuer.

The caller (:class:`~services.issuer.application.status_indexes.StatusIndexPool`) relies on it thus:
``reserve(issuer, n)`` answers exactly ``n`` pairs, each a revocation entry and a suspension entry naming their
list and where its credential is served; no index of a list is handed out twice, whoever asks and however often;
an issuer's lists are its own; indexes are drawn at random (herd privacy), inside the list; a block a list has
no room left for comes from the issuer's next list; ``n = 0`` reserves nothing; and a source that cannot
reserve raises :class:`~services.issuer.application.ports.StatusIndexUnavailable`, never another error.
"""

from __future__ import annotations

from typing import Protocol

import pytest

from microcred.gen.microcred.v1 import status_pb2
from services.issuer.application.ports import StatusIndexSource, StatusIndexUnavailable, StatusPair

__all__ = ["StatusIndexSourceContract", "StatusSourceHarness"]

REVOCATION, SUSPENSION = status_pb2.STATUS_PURPOSE_REVOCATION, status_pb2.STATUS_PURPOSE_SUSPENSION


class StatusSourceHarness(Protocol):
    """A source under test, the size of its lists, an issuer id no other test uses, and a source that is down."""

    list_size: int

    @property
    def source(self) -> StatusIndexSource:
        """The source under test."""
        ...

    def issuer(self, name: str) -> str:
        """An issuer id of this test's own."""
        ...

    async def unavailable(self) -> StatusIndexSource:
        """A source of the same kind whose backend cannot be reached."""
        ...


def used(pairs: list[StatusPair]) -> list[tuple[str, int]]:
    """Every (list, index) the pairs take."""
    return [(e.status_list_id, e.status_list_index) for pair in pairs for e in pair]


class StatusIndexSourceContract:
    """Behaviour every StatusIndexSource adapter must show; subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> StatusSourceHarness:
        raise NotImplementedError

    async def test_a_reservation_is_count_revocation_and_suspension_pairs(self, harness: StatusSourceHarness) -> None:
        pairs = await harness.source.reserve(harness.issuer("a"), 25)
        assert len(pairs) == 25
        for revocation, suspension in pairs:
            assert (revocation.status_purpose, suspension.status_purpose) == (REVOCATION, SUSPENSION)
            for entry in (revocation, suspension):
                assert entry.status_list_id and "://" in entry.status_list_credential
                assert entry.status_list_credential.endswith("/" + entry.status_list_id)
                assert 0 <= entry.status_list_index < harness.list_size
        # The two purposes live in different lists.
        assert {r.status_list_id for r, _ in pairs}.isdisjoint({s.status_list_id for _, s in pairs})

    async def test_no_index_is_handed_out_twice(self, harness: StatusSourceHarness) -> None:
        issuer = harness.issuer("a")
        pairs = [p for n in (1, 40, 7, 40) for p in await harness.source.reserve(issuer, n)]
        assert len(pairs) == 88
        taken = used(pairs)
        assert len(set(taken)) == len(taken)

    async def test_issuers_have_lists_of_their_own(self, harness: StatusSourceHarness) -> None:
        mine = await harness.source.reserve(harness.issuer("a"), 5)
        theirs = await harness.source.reserve(harness.issuer("b"), 5)
        assert {list_id for list_id, _ in used(mine)}.isdisjoint({list_id for list_id, _ in used(theirs)})

    async def test_indexes_are_drawn_at_random(self, harness: StatusSourceHarness) -> None:
        pairs = await harness.source.reserve(harness.issuer("a"), 200)
        for purpose in (0, 1):
            indexes = [pair[purpose].status_list_index for pair in pairs]
            # In issuance order or packed from one end, an index would tell when a credential was issued.
            assert indexes != sorted(indexes) and max(indexes) - min(indexes) > 10 * len(indexes)

    async def test_a_block_a_list_has_no_room_for_comes_from_the_next_list(self, harness: StatusSourceHarness) -> None:
        issuer = harness.issuer("a")
        first = await harness.source.reserve(issuer, harness.list_size - 5)
        [list_id] = {r.status_list_id for r, _ in first}
        more = await harness.source.reserve(issuer, 10)
        assert len(more) == 10
        assert {r.status_list_id for r, _ in more}.isdisjoint({list_id})
        taken = used(first + more)
        assert len(set(taken)) == len(taken)

    async def test_reserving_nothing_reserves_nothing(self, harness: StatusSourceHarness) -> None:
        assert await harness.source.reserve(harness.issuer("a"), 0) == []

    async def test_a_source_that_cannot_reserve_raises_status_index_unavailable(
            self, harness: StatusSourceHarness) -> None:
        down = await harness.unavailable()
        with pytest.raises(StatusIndexUnavailable):
            await down.reserve(harness.issuer("a"), 3)
