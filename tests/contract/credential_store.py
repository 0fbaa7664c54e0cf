"""The CredentialStore contract: pending records settle races, commits make them issued, readiness refuses.

Callers (:mod:`services.issuer.application.issuance`) rely on it thus: ``lookup`` answers (issued, pending)
with an id in at most one of them; ``put_pending`` lets the first writer win and answers the winner per id, an
issued record winning over everything, so one credential id never gets two signed credentials; ``commit``
records published envelopes as issued whether or not their pending record is still there, and may be repeated;
records are per issuer. A store given a :class:`~services.issuer.adapters.store.Readiness` raises
:class:`~services.issuer.application.ports.StoreNotReady` instead of answering while it is incomplete, or
after its data was lost (the epoch sentinel no longer holds the token): never a false "not found" or "new".
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import pytest

from services.issuer.adapters.store import Readiness
from services.issuer.application.ports import CredentialStore, StoreNotReady

__all__ = ["CredentialStoreContract", "Sentinel", "StoreHarness"]

UNI, OTHER = "uni-a", "uni-b"


class Sentinel:
    """A :class:`Readiness` whose token the test controls (the projection's part)."""

    def __init__(self, epoch_key: str, token: bytes | None = b"epoch-1") -> None:
        self.epoch_key = epoch_key
        self.current = token

    def token(self) -> bytes | None:
        return self.current


class StoreHarness(Protocol):
    """Makes the store under test and plays its backend's part around it."""

    epoch_key: str

    def store(self, readiness: Readiness | None = None) -> CredentialStore:
        """The store under test (one per test)."""
        ...

    async def write_epoch(self, token: bytes) -> None:
        """Write the epoch sentinel, as the projection does once it is complete."""
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

    async def test_the_first_pending_record_wins(self, harness: StoreHarness) -> None:
        store = harness.store()
        assert await store.put_pending(UNI, {"a": b"A1", "b": b"B"}) == {"a": b"A1", "b": b"B"}
        assert await store.put_pending(UNI, {"a": b"A2", "c": b"C"}) == {"a": b"A1", "c": b"C"}
        assert await store.lookup(UNI, ["a", "b", "c", "d"]) == ({}, {"a": b"A1", "b": b"B", "c": b"C"})
        assert await store.get(UNI, "a") is None  # pending is not issued

    async def test_concurrent_pending_writes_settle_on_one_record(self, harness: StoreHarness) -> None:
        store = harness.store()
        answers = await asyncio.gather(*(store.put_pending(UNI, {"x": f"v{i}".encode()}) for i in range(8)))
        [winner] = {answer["x"] for answer in answers}
        assert winner in {f"v{i}".encode() for i in range(8)}
        assert await store.lookup(UNI, ["x"]) == ({}, {"x": winner})

    async def test_commit_makes_pending_records_issued(self, harness: StoreHarness) -> None:
        store = harness.store()
        await store.put_pending(UNI, {"a": b"A", "b": b"B"})
        await store.commit(UNI, {"a": b"A"})
        assert await store.lookup(UNI, ["a", "b"]) == ({"a": b"A"}, {"b": b"B"})
        assert await store.get(UNI, "a") == b"A"

    async def test_commit_records_an_envelope_whose_pending_record_is_gone(self, harness: StoreHarness) -> None:
        store = harness.store()  # expired, or the projection recorded it first
        await store.commit(UNI, {"z": b"Z"})
        assert await store.get(UNI, "z") == b"Z"
        assert await store.lookup(UNI, ["z"]) == ({"z": b"Z"}, {})

    async def test_commit_may_be_repeated(self, harness: StoreHarness) -> None:
        store = harness.store()
        await store.put_pending(UNI, {"a": b"A"})
        await store.commit(UNI, {"a": b"A"})
        await store.commit(UNI, {"a": b"A"})
        assert await store.lookup(UNI, ["a"]) == ({"a": b"A"}, {})

    async def test_an_issued_record_wins_over_later_pending_writes(self, harness: StoreHarness) -> None:
        store = harness.store()
        await store.put_pending(UNI, {"a": b"A"})
        await store.commit(UNI, {"a": b"A"})
        # A request that signed before "a" was recorded but stores its pending record after: the issued one wins.
        assert await store.put_pending(UNI, {"a": b"late", "n": b"N"}) == {"a": b"A", "n": b"N"}
        assert await store.lookup(UNI, ["a", "n"]) == ({"a": b"A"}, {"n": b"N"})

    async def test_records_are_per_issuer(self, harness: StoreHarness) -> None:
        store = harness.store()
        await store.put_pending(UNI, {"a": b"A", "p": b"P"})
        await store.commit(UNI, {"a": b"A"})
        assert await store.lookup(OTHER, ["a", "p"]) == ({}, {})
        assert await store.get(OTHER, "a") is None
        assert await store.put_pending(OTHER, {"a": b"theirs"}) == {"a": b"theirs"}
        assert await store.get(UNI, "a") == b"A"

    async def test_writing_nothing_changes_nothing(self, harness: StoreHarness) -> None:
        store = harness.store()
        assert await store.put_pending(UNI, {}) == {}
        await store.commit(UNI, {})
        assert await store.lookup(UNI, ["a"]) == ({}, {})

    async def test_a_complete_store_with_readiness_answers(self, harness: StoreHarness) -> None:
        store = harness.store(Sentinel(harness.epoch_key))
        await harness.write_epoch(b"epoch-1")
        assert await store.put_pending(UNI, {"a": b"A"}) == {"a": b"A"}
        await store.commit(UNI, {"a": b"A"})
        assert await store.lookup(UNI, ["a", "b"]) == ({"a": b"A"}, {})
        assert await store.get(UNI, "a") == b"A" and await store.get(UNI, "b") is None

    async def test_an_incomplete_store_refuses_what_it_cannot_know(self, harness: StoreHarness) -> None:
        sentinel = Sentinel(harness.epoch_key)
        store = harness.store(sentinel)
        await harness.write_epoch(b"epoch-1")
        await store.put_pending(UNI, {"a": b"A"})
        await store.commit(UNI, {"a": b"A"})
        sentinel.current = None  # catching up, or rebuilding
        for attempt in (store.lookup(UNI, ["a"]), store.get(UNI, "b"), store.put_pending(UNI, {"b": b"B"})):
            with pytest.raises(StoreNotReady):
                await attempt
        assert await store.get(UNI, "a") == b"A"  # a record that is there is the answer, complete or not
        assert await store.lookup(UNI, []) == ({}, {})
        sentinel.current = b"epoch-1"
        assert await store.lookup(UNI, ["a", "b"]) == ({"a": b"A"}, {})  # nothing was written while refusing

    async def test_a_store_that_lost_its_data_refuses_until_rebuilt(self, harness: StoreHarness) -> None:
        sentinel = Sentinel(harness.epoch_key)
        store = harness.store(sentinel)
        await harness.write_epoch(b"epoch-1")
        await store.put_pending(UNI, {"a": b"A"})
        await store.commit(UNI, {"a": b"A"})
        await harness.lose_data()  # the projection has not noticed yet: its token is still the old one
        for attempt in (store.lookup(UNI, ["a"]), store.get(UNI, "a"), store.put_pending(UNI, {"a": b"new"})):
            with pytest.raises(StoreNotReady):  # never "not issued yet": that would sign "a" a second time
                await attempt
        await harness.write_epoch(b"epoch-2")  # the rebuild opened a new epoch and caught up
        sentinel.current = b"epoch-2"
        assert await store.put_pending(UNI, {"b": b"B"}) == {"b": b"B"}
