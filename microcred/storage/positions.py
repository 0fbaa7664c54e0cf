"""Kafka positions stored with the Redis state they produced, so that replays change nothing.

A projector applies a record with :func:`apply_at_position`: inside one ``MULTI`` it writes its change and
``offsets:{projection}:{topic}[partition] = offset + 1``. A record at or before the stored position is
skipped, which makes redelivery (rebalance, crash before commit, replay) harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from microcred.kafka.consumer import Position


def _key(projection: str, topic: str) -> str:
    return f"offsets:{projection}:{topic}"


async def stored_position(redis: Redis, projection: str, topic: str, partition: int) -> int | None:
    """The next offset to read for ``topic/partition``, or None when this projection has no state."""
    value = await redis.hget(_key(projection, topic), str(partition))
    return None if value is None else int(value)


async def apply_at_position(redis: Redis, projection: str, position: Position,
                            write: Callable[[Pipeline], Any]) -> bool:
    """Run ``write`` on a transaction together with the new position; False when already applied."""
    key = _key(projection, position.topic)
    field = str(position.partition)
    while True:
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                current = await pipe.hget(key, field)
                if current is not None and int(current) > position.offset:
                    return False
                pipe.multi()  # type: ignore[no-untyped-call]
                result = write(pipe)
                if hasattr(result, "__await__"):
                    await result
                pipe.hset(key, field, str(position.offset + 1))
                await pipe.execute()
                return True
            except WatchError:
                continue
