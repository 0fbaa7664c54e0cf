"""The CredentialStore contract: pending records settle races, commits make them issued, readiness refuses.

Callers (:mod:`services.issuer.application.issuance`) rely on it thus: ``lookup`` answers (issued, pending)
with an id in at most one of them; ``put_pending`` lets the first writer win and answers the winner per id, an
issued record winning over everything, so one credential id never gets two signed credentials; ``commit``
records published envelopes as issued whether or not their pending record is still there, and may be repeated;
records are per issuer; ``page`` lists an issuer's issued credentials newest first, every one exactly once
across its pages even when a chunk shares one issue time or credentials are issued meanwhile. A store given a
:class:`~services.issuer.adapters.store.Readiness` raises
:class:`~services.issuer.application.ports.StoreNotReady` instead of answering while it is incomplete, or
after its data was lost (the epoch sentinel no longer holds the token): never a false "not found" or "new".
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from services.issuer.adapters.store import Readiness
from services.issuer.application.ports import CredentialStore, PageCursor, StoreNotReady

__all__ = ["CredentialStoreContract", "Sentinel", "StoreHarness"]

UNI, OTHER = "uni-a", "uni-b"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def record(cid: str, seconds: int = 0) -> bytes:
    """A stored value: the ``CredentialIssued`` envelope of ``cid`` issued ``seconds`` after T0 (its own event id,
    so two records of one id differ)."""
    return new_envelope(events_pb2.CredentialIssued(credential_id=cid, issuer_id=UNI),
                        occurred_at=T0 + timedelta(seconds=seconds)).SerializeToString()


def micros(seconds: int) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp()) * 1_000_000


async def all_pages(store: CredentialStore, limit: int, since: int | None = None) -> list[list[bytes]]:
    """Every page of UNI's credentials, following the cursors."""
    pages: list[list[bytes]] = []
    cursor: PageCursor | None = PageCursor()
    while cursor is not None:
        page, cursor = await store.page(UNI, cursor, limit, since)
        pages.append(page)
        assert len(pages) < 50, "the cursors never end"
    return pages


class Sentinel:
    """A :class:`Readiness` whose token the test controls (the projection's part; one token for every slot
    group, whose sentinels the harness names)."""

    def __init__(self, harness: StoreHarness, token: bytes | None = b"epoch-1") -> None:
        self._harness = harness
        self.current = token

    def epoch_key(self, group: int) -> str:
        return self._harness.epoch_key(group)

    def token(self, group: int) -> bytes | None:
        return self.current


class StoreHarness(Protocol):
    """Makes the store under test and plays its backend's part around it."""

    def epoch_key(self, group: int) -> str:
        """The key of slot group ``group``'s sentinel."""
        ...

    def store(self, readiness: Readiness | None = None) -> CredentialStore:
        """The store under test (one per test)."""
        ...

    async def write_epoch(self, token: bytes) -> None:
        """Write every slot group's epoch sentinel, as the projection does once it is complete."""
        ...

    async def lose_data(self) -> None:
        """Every record and the sentinel are gone (Redis restarted empty)."""
        ...


class CredentialStoreContract:
    """Behaviour every CredentialStore adapter must show; subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> StoreHarness:
        raise NotImplementedError

    async def test_unknown_ids_have_no_records(self, harness: StoreHarness) -> None:
        store = harness.store()
        assert await store.lookup(UNI, ["a", "b"]) == ({}, {})
        assert await store.lookup(UNI, []) == ({}, {})
        assert await store.get(UNI, "a") is None
        assert await store.page(UNI, PageCursor(), 10, None) == ([], None)

    async def test_the_first_pending_record_wins(self, harness: StoreHarness) -> None:
        store = harness.store()
        a1, a2, b, c = record("a"), record("a"), record("b"), record("c")
        assert await store.put_pending(UNI, {"a": a1, "b": b}) == {"a": a1, "b": b}
        assert await store.put_pending(UNI, {"a": a2, "c": c}) == {"a": a1, "c": c}
        assert await store.lookup(UNI, ["a", "b", "c", "d"]) == ({}, {"a": a1, "b": b, "c": c})
        assert await store.get(UNI, "a") is None  # pending is not issued
        assert await store.page(UNI, PageCursor(), 10, None) == ([], None)

    async def test_concurrent_pending_writes_settle_on_one_record(self, harness: StoreHarness) -> None:
        store = harness.store()
        values = [record("x") for _ in range(8)]
        answers = await asyncio.gather(*(store.put_pending(UNI, {"x": value}) for value in values))
        [winner] = {answer["x"] for answer in answers}
        assert winner in values
        assert await store.lookup(UNI, ["x"]) == ({}, {"x": winner})

    async def test_commit_makes_pending_records_issued(self, harness: StoreHarness) -> None:
        store = harness.store()
        a, b = record("a"), record("b")
        await store.put_pending(UNI, {"a": a, "b": b})
        await store.commit(UNI, {"a": a})
        assert await store.lookup(UNI, ["a", "b"]) == ({"a": a}, {"b": b})
        assert await store.get(UNI, "a") == a
        assert await store.page(UNI, PageCursor(), 10, None) == ([a], None)

    async def test_commit_records_an_envelope_whose_pending_record_is_gone(self, harness: StoreHarness) -> None:
        store = harness.store()  # expired, or the projection recorded it first
        z = record("z")
        await store.commit(UNI, {"z": z})
        assert await store.get(UNI, "z") == z
        assert await store.lookup(UNI, ["z"]) == ({"z": z}, {})
        assert await store.page(UNI, PageCursor(), 10, None) == ([z], None)  # listed too

    async def test_commit_may_be_repeated(self, harness: StoreHarness) -> None:
        store = harness.store()
        a = record("a")
        await store.put_pending(UNI, {"a": a})
        await store.commit(UNI, {"a": a})
        await store.commit(UNI, {"a": a})
        assert await store.lookup(UNI, ["a"]) == ({"a": a}, {})
        assert await store.page(UNI, PageCursor(), 10, None) == ([a], None)

    async def test_an_issued_record_wins_over_later_pending_writes(self, harness: StoreHarness) -> None:
        store = harness.store()
        a, late, n = record("a"), record("a"), record("n")
        await store.put_pending(UNI, {"a": a})
        await store.commit(UNI, {"a": a})
        # A request that signed before "a" was recorded but stores its pending record after: the issued one wins.
        assert await store.put_pending(UNI, {"a": late, "n": n}) == {"a": a, "n": n}
        assert await store.lookup(UNI, ["a", "n"]) == ({"a": a}, {"n": n})

    async def test_records_are_per_issuer(self, harness: StoreHarness) -> None:
        store = harness.store()
        a, p, theirs = record("a"), record("p"), record("a")
        await store.put_pending(UNI, {"a": a, "p": p})
        await store.commit(UNI, {"a": a})
        assert await store.lookup(OTHER, ["a", "p"]) == ({}, {})
        assert await store.get(OTHER, "a") is None
        assert await store.page(OTHER, PageCursor(), 10, None) == ([], None)
        assert await store.put_pending(OTHER, {"a": theirs}) == {"a": theirs}
        assert await store.get(UNI, "a") == a

    async def test_writing_nothing_changes_nothing(self, harness: StoreHarness) -> None:
        store = harness.store()
        assert await store.put_pending(UNI, {}) == {}
        await store.commit(UNI, {})
        assert await store.lookup(UNI, ["a"]) == ({}, {})

    async def test_pages_list_issued_credentials_newest_first(self, harness: StoreHarness) -> None:
        store = harness.store()
        made = {f"c{i}": record(f"c{i}", seconds=i) for i in range(5)}
        await store.commit(UNI, {c: made[c] for c in ("c3", "c0")})  # commit order is not issue order
        await store.commit(UNI, {c: made[c] for c in ("c4", "c1", "c2")})
        await store.put_pending(UNI, {"p": record("p", seconds=9)})  # pending is not listed
        newest_first = [made[f"c{i}"] for i in (4, 3, 2, 1, 0)]
        assert await all_pages(store, 2) == [newest_first[:2], newest_first[2:4], newest_first[4:]]
        assert await all_pages(store, 5) == [newest_first]
        assert await all_pages(store, 10, since=micros(2)) == [newest_first[:3]]  # issued at or after

    async def test_a_chunk_sharing_one_issue_time_pages_without_loss(self, harness: StoreHarness) -> None:
        store = harness.store()
        chunk = {f"c{i}": record(f"c{i}", seconds=60) for i in range(7)}
        await store.commit(UNI, chunk)
        older = record("old", seconds=1)
        await store.commit(UNI, {"old": older})
        pages = await all_pages(store, 3)
        listed = [value for page in pages for value in page]
        assert sorted(listed[:7]) == sorted(chunk.values()) and listed[7:] == [older]
        assert [len(page) for page in pages] == [3, 3, 2]

    async def test_credentials_issued_meanwhile_never_shift_a_page(self, harness: StoreHarness) -> None:
        store = harness.store()
        made = {f"c{i}": record(f"c{i}", seconds=i) for i in range(4)}
        await store.commit(UNI, made)
        first, cursor = await store.page(UNI, PageCursor(), 2, None)
        assert first == [made["c3"], made["c2"]] and cursor is not None
        await store.commit(UNI, {"new": record("new", seconds=30)})
        second, end = await store.page(UNI, cursor, 2, None)
        assert second == [made["c1"], made["c0"]] and end is None

    async def test_a_complete_store_with_readiness_answers(self, harness: StoreHarness) -> None:
        store = harness.store(Sentinel(harness))
        await harness.write_epoch(b"epoch-1")
        a = record("a")
        assert await store.put_pending(UNI, {"a": a}) == {"a": a}
        await store.commit(UNI, {"a": a})
        assert await store.lookup(UNI, ["a", "b"]) == ({"a": a}, {})
        assert await store.get(UNI, "a") == a and await store.get(UNI, "b") is None
        assert await store.page(UNI, PageCursor(), 10, None) == ([a], None)

    async def test_an_incomplete_store_refuses_what_it_cannot_know(self, harness: StoreHarness) -> None:
        sentinel = Sentinel(harness)
        store = harness.store(sentinel)
        await harness.write_epoch(b"epoch-1")
        a = record("a")
        await store.put_pending(UNI, {"a": a})
        await store.commit(UNI, {"a": a})
        sentinel.current = None  # catching up, or rebuilding
        for attempt in (store.lookup(UNI, ["a"]), store.get(UNI, "b"), store.put_pending(UNI, {"b": record("b")}),
                        store.page(UNI, PageCursor(), 10, None)):
            with pytest.raises(StoreNotReady):
                await attempt
        assert await store.get(UNI, "a") == a  # a record that is there is the answer, complete or not
        assert await store.lookup(UNI, []) == ({}, {})
        sentinel.current = b"epoch-1"
        assert await store.lookup(UNI, ["a", "b"]) == ({"a": a}, {})  # nothing was written while refusing

    async def test_a_store_that_lost_its_data_refuses_until_rebuilt(self, harness: StoreHarness) -> None:
        sentinel = Sentinel(harness)
        store = harness.store(sentinel)
        await harness.write_epoch(b"epoch-1")
        a = record("a")
        await store.put_pending(UNI, {"a": a})
        await store.commit(UNI, {"a": a})
        await harness.lose_data()  # the projection has not noticed yet: its token is still the old one
        for attempt in (store.lookup(UNI, ["a"]), store.get(UNI, "a"), store.put_pending(UNI, {"a": record("a")}),
                        store.page(UNI, PageCursor(), 10, None)):
            with pytest.raises(StoreNotReady):  # never "not issued" or "no credentials": "a" exists
                await attempt
        await harness.write_epoch(b"epoch-2")  # the rebuild opened a new epoch and caught up
        sentinel.current = b"epoch-2"
        b = record("b")
        assert await store.put_pending(UNI, {"b": b}) == {"b": b}
