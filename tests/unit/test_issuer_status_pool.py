"""The status-index pool: blocks, prefetching below the low-water mark, shared refills, errors."""

from __future__ import annotations

import asyncio
import threading

import pytest

from microcred.gen.microcred.v1 import status_pb2
from services.issuer.adapters.status_pool import InMemoryStatusIndexSource, _pairs
from services.issuer.application.ports import StatusIndexUnavailable, StatusPair
from services.issuer.application.status_indexes import StatusIndexPool


class SlowSource(InMemoryStatusIndexSource):
    """Counts calls and lets the test decide when a reservation completes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.gate = asyncio.Event()

    async def reserve(self, issuer_id: str, count: int) -> list[StatusPair]:
        self.calls.append(count)
        await self.gate.wait()
        return await super().reserve(issuer_id, count)


async def test_pairs_come_in_blocks_and_are_never_reused() -> None:
    source = InMemoryStatusIndexSource()
    pool = StatusIndexPool(source, block_size=10, low_water=0.0)
    taken = [p for _ in range(5) for p in await pool.take("uni-a", 4)]
    assert source.reservations == 2  # 10 + 10 cover 20 pairs
    revocation = [r.status_list_index for r, _ in taken]
    suspension = [s.status_list_index for _, s in taken]
    assert len(set(revocation)) == 20 and len(set(suspension)) == 20
    assert {r.status_purpose for r, _ in taken} == {status_pb2.STATUS_PURPOSE_REVOCATION}
    assert {s.status_purpose for _, s in taken} == {status_pb2.STATUS_PURPOSE_SUSPENSION}
    assert all(r.status_list_credential.endswith(r.status_list_id) for r, _ in taken)
    await pool.close()


async def test_a_large_request_reserves_what_it_needs() -> None:
    source = InMemoryStatusIndexSource()
    pool = StatusIndexPool(source, block_size=10)
    assert len(await pool.take("uni-a", 25)) == 25
    await pool.close()


async def test_the_pool_prefetches_below_the_low_water_mark() -> None:
    source = SlowSource()
    source.gate.set()
    pool = StatusIndexPool(source, block_size=10, low_water=0.5)
    await pool.take("uni-a", 6)  # 4 left: below 5, a prefetch starts in the background
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert source.calls == [10, 10]
    await asyncio.sleep(0.01)
    assert pool.available("uni-a") == 14
    await pool.close()


async def test_concurrent_takes_share_one_reservation() -> None:
    source = SlowSource()
    pool = StatusIndexPool(source, block_size=100)
    waiting = [asyncio.create_task(pool.take("uni-a", 10)) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert source.calls == [100]
    source.gate.set()
    results = await asyncio.gather(*waiting)
    assert sum(len(r) for r in results) == 30
    await pool.close()


async def test_reservation_errors_reach_the_caller_and_the_next_take_retries() -> None:
    source = InMemoryStatusIndexSource()
    source.fail_next = StatusIndexUnavailable("down")
    pool = StatusIndexPool(source, block_size=10)
    with pytest.raises(StatusIndexUnavailable):
        await pool.take("uni-a", 1)
    assert len(await pool.take("uni-a", 1)) == 1
    await pool.close()


def test_malformed_reservations_are_refused() -> None:
    block = status_pb2.StatusIndexBlock(status_list_id="l", status_purpose=status_pb2.STATUS_PURPOSE_REVOCATION,
                                        status_list_credential="https://s.example/l", indexes=[1, 2])
    with pytest.raises(StatusIndexUnavailable):
        _pairs([block])
    other = status_pb2.StatusIndexBlock(status_list_id="m", status_purpose=status_pb2.STATUS_PURPOSE_SUSPENSION,
                                        status_list_credential="https://s.example/m", indexes=[3])
    with pytest.raises(StatusIndexUnavailable):
        _pairs([block, other])


def test_a_finished_reservation_whose_callback_has_not_run_does_not_spin_the_event_loop() -> None:
    """Issue 13's hang: a reservation has finished (its pairs are in the pool) but its done-callback, queued behind
    other ready work, has not removed it from the pool's refills yet; a taker that needs more than it brought
    must start the next reservation, not await the finished one again and again without yielding.

    Run in a thread of its own: before the fix ``take`` spun forever without yielding, so not even a timeout
    inside its event loop could stop it."""
    outcome: list[object] = []

    def run() -> None:
        async def scenario() -> None:
            source = InMemoryStatusIndexSource()
            pool = StatusIndexPool(source, block_size=10)
            finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            finished.set_result(None)  # a reservation that brought nothing more, callback still pending
            pool._refills["uni"] = finished  # type: ignore[assignment]
            outcome.append(await pool.take("uni", 25))
        asyncio.run(scenario())

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "take() spun on a finished reservation without yielding"
    [pairs] = outcome
    assert isinstance(pairs, list) and len(pairs) == 25
