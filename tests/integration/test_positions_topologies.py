"""``apply_at_position`` and ``apply_batch_at_positions`` on both Redis topologies: what a write queues is applied
with the position, whatever the write returns (microcred.storage.positions).

A write that queues one command returns what redis-py returned for it: the pipeline. A cluster pipeline is
awaitable (awaiting it initialises it again and drops the queued commands), so a write of that shape once
applied only the position on a cluster: the revocation projector's published lists were lost on replay.
"""

from __future__ import annotations

import uuid

import pytest

from microcred.kafka.consumer import Position
from microcred.lifecycle import one_slot
from microcred.storage.positions import apply_at_position, apply_batch_at_positions, position_key, stored_position
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration

SCRIPT = "return redis.call('HSET', KEYS[1], 'value', ARGV[1])"


async def test_a_write_returning_the_pipeline_is_applied_with_its_position(redis_clients: RedisClients) -> None:
    redis = await redis_clients.new()
    projection = one_slot(redis, f"pos-{uuid.uuid4().hex[:8]}")
    key = f"{projection}:state"
    try:
        assert await apply_at_position(redis, projection, Position("t", 0, 4),
                                       lambda pipe: pipe.eval(SCRIPT, 1, key, "one"))
        assert await redis.hget(key, "value") == b"one"

        async def queue_later(pipe: object) -> None:  # an ``async def`` write is awaited
            pipe.hset(key, "later", "yes")  # type: ignore[attr-defined]

        assert await apply_at_position(redis, projection, Position("t", 0, 5), queue_later)
        assert await redis.hget(key, "later") == b"yes"

        fresh = await apply_batch_at_positions(redis, projection, [Position("t", 0, 6), Position("t", 0, 7)],
                                               lambda pipe, fresh: pipe.eval(SCRIPT, 1, key, "two"))
        assert fresh == [0, 1] and await redis.hget(key, "value") == b"two"
        assert await stored_position(redis, projection, "t", 0) == 8  # type: ignore[arg-type]
    finally:
        await redis.delete(key, position_key(projection, "t"))
