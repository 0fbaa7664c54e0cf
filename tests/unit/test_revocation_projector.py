"""Read-your-writes: the command side waits until its events are projected, locally or by another instance."""

from __future__ import annotations

import asyncio

from microcred.kafka.consumer import Position
from microcred.kafka.publisher import Published
from services.revocation.events.projector import ProjectionTracker, purpose_name


async def test_wait_returns_once_every_partition_has_applied_its_records() -> None:
    tracker = ProjectionTracker(lambda topic, partition: _none(), poll_seconds=0.01)
    records = [Published("status", 0, 5), Published("status", 1, 2), Published("status", 0, 3)]
    waiter = asyncio.create_task(tracker.wait(records, timeout=2))
    await asyncio.sleep(0.02)
    tracker.advance(Position("status", 0, 5))
    await asyncio.sleep(0.02)
    assert not waiter.done()
    tracker.advance(Position("status", 1, 2))
    assert await waiter
    assert await tracker.wait([Published("status", 0, 4)], timeout=0.01)  # already applied


async def test_wait_falls_back_to_positions_stored_by_another_instance() -> None:
    stored: dict[tuple[str, int], int | None] = {("status", 2): None}

    async def lookup(topic: str, partition: int) -> int | None:
        return stored[(topic, partition)]

    tracker = ProjectionTracker(lookup, poll_seconds=0.01)
    waiter = asyncio.create_task(tracker.wait([Published("status", 2, 9)], timeout=2))
    await asyncio.sleep(0.03)
    stored[("status", 2)] = 10
    assert await waiter


async def test_wait_times_out() -> None:
    tracker = ProjectionTracker(lambda topic, partition: _none(), poll_seconds=0.01)
    assert not await tracker.wait([Published("status", 0, 0)], timeout=0.05)


def test_purpose_names() -> None:
    assert [purpose_name(p) for p in (0, 1, 2, 7)] == ["", "revocation", "suspension", ""]


async def _none() -> None:
    return None
