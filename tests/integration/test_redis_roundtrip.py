"""Round-trips through the real Redis server, and position-tracked idempotent projection."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from microcred.kafka.consumer import Position
from microcred.storage.positions import apply_at_position, stored_position
from tests.conftest import Infrastructure

pytestmark = pytest.mark.integration


async def test_values_hashes_and_bitmaps_round_trip(infrastructure: Infrastructure, unique: str) -> None:
    redis = Redis.from_url(infrastructure.redis_url)
    try:
        await redis.set(f"t:{unique}:s", "zażółć".encode())
        await redis.hset(f"t:{unique}:h", mapping={"a": "1", "b": "2"})  # type: ignore[misc]
        await redis.setbit(f"t:{unique}:bits", 131071, 1)
        assert (await redis.get(f"t:{unique}:s")).decode() == "zażółć"
        assert await redis.hgetall(f"t:{unique}:h") == {b"a": b"1", b"b": b"2"}  # type: ignore[misc]
        assert await redis.getbit(f"t:{unique}:bits", 131071) == 1
        assert await redis.getbit(f"t:{unique}:bits", 0) == 0
        assert await redis.strlen(f"t:{unique}:bits") == 16384
    finally:
        await redis.aclose()


async def test_server_runs_with_append_only_file(infrastructure: Infrastructure) -> None:
    redis = Redis.from_url(infrastructure.redis_url, decode_responses=True)
    try:
        config = await redis.config_get("append*")
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "everysec"
    finally:
        await redis.aclose()


async def test_apply_at_position_applies_each_record_once(infrastructure: Infrastructure, unique: str) -> None:
    redis = Redis.from_url(infrastructure.redis_url)
    projection, counter = f"proj-{unique}", f"t:{unique}:count"
    try:
        assert await stored_position(redis, projection, "topic", 0) is None
        for offset in (0, 1, 1, 0, 2, 2):  # redelivered records must change nothing
            await apply_at_position(redis, projection, Position("topic", 0, offset),
                                    lambda pipe: pipe.incr(counter))
        assert int(await redis.get(counter)) == 3
        assert await stored_position(redis, projection, "topic", 0) == 3
        assert await stored_position(redis, projection, "topic", 1) is None
    finally:
        await redis.aclose()
