"""IdlePositions on both Redis topologies: a slot group that a batch left untouched records the batch's position
now and then, in one forward-only script (microcred.storage.slot_groups)."""

from __future__ import annotations

import uuid

import pytest

from microcred.kafka.consumer import Position
from microcred.storage.positions import stored_position
from microcred.storage.slot_groups import IdlePositions, SlotGroups
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration


async def test_untouched_groups_move_forward_now_and_then(redis_clients: RedisClients) -> None:
    redis = await redis_clients.new()
    groups = SlotGroups.for_client(redis, f"idle-{uuid.uuid4().hex[:8]}", 4)
    names = [f"{groups.key_prefix(g)}-docs" for g in groups.groups]
    now = [100.0]
    idle = IdlePositions(redis, names, interval=2.0, clock=lambda: now[0])
    last = groups.count - 1

    await idle.untouched(last, Position("t", 0, 9))  # never written: due at once
    assert await stored_position(redis, names[last], "t", 0) == 10  # type: ignore[arg-type]
    now[0] += 1.0
    await idle.untouched(last, Position("t", 0, 19))  # within the interval: left for later
    assert await stored_position(redis, names[last], "t", 0) == 10  # type: ignore[arg-type]
    now[0] += 1.5
    await idle.untouched(last, Position("t", 0, 29))
    assert await stored_position(redis, names[last], "t", 0) == 30  # type: ignore[arg-type]

    idle.touched(0, Position("t", 1, 50))  # the group wrote it with its records: the clock starts again
    await idle.untouched(0, Position("t", 1, 60))
    assert await stored_position(redis, names[0], "t", 1) is None  # type: ignore[arg-type]

    # Forward only: an older batch's position never moves a newer one back.
    now[0] += 5.0
    await idle.untouched(last, Position("t", 0, 3))
    assert await stored_position(redis, names[last], "t", 0) == 30  # type: ignore[arg-type]
    for name in names:
        await redis.delete(f"offsets:{name}:t")


async def test_an_idle_fetch_writes_what_was_held_back_unless_reset_or_revoked(redis_clients: RedisClients) -> None:
    redis = await redis_clients.new()
    groups = SlotGroups.for_client(redis, f"flush-{uuid.uuid4().hex[:8]}", 4)
    names = [f"{groups.key_prefix(g)}-docs" for g in groups.groups]
    now, resets = [100.0], [0]
    idle = IdlePositions(redis, names, interval=2.0, clock=lambda: now[0], generation=lambda: resets[0])
    last = groups.count - 1
    try:
        await idle.untouched(last, Position("t", 0, 9))  # written at once
        await idle.untouched(last, Position("t", 0, 19))  # held back (within the interval)
        await idle.untouched(last, Position("t", 1, 5))
        await idle.untouched(last, Position("t", 1, 7))  # held back, but partition 1 is revoked before the flush
        await idle.flush({("t", 0)})
        assert await stored_position(redis, names[last], "t", 0) == 20  # type: ignore[arg-type]
        assert await stored_position(redis, names[last], "t", 1) == 6  # type: ignore[arg-type]
        await idle.flush({("t", 0), ("t", 1)})  # forgotten, not written later
        assert await stored_position(redis, names[last], "t", 1) == 6  # type: ignore[arg-type]

        # Held back before a reset: never written after it (the replaying group would skip records).
        await idle.untouched(last, Position("t", 0, 39))
        resets[0] += 1
        await redis.delete(f"offsets:{names[last]}:t")  # what the reset drops
        await idle.flush({("t", 0)})
        assert await stored_position(redis, names[last], "t", 0) is None  # type: ignore[arg-type]
    finally:
        for name in names:
            await redis.delete(f"offsets:{name}:t")
