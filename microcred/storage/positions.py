"""Kafka positions stored with the Redis state they produced, so that replays change nothing.

A projector applies a record with :func:`apply_at_position`: inside one ``MULTI`` it writes its change and
``offsets:{projection}:{topic}[partition] = offset + 1``. A record at or before the stored position is
skipped, which makes redelivery (rebalance, crash before commit, replay) harmless.
:func:`apply_batch_at_positions` does the same for a whole fetch in one ``MULTI`` (fast replays).

:class:`ProjectionEpoch` is the :class:`~microcred.kafka.consumer.StateGuard` of such a projection: a sentinel
``epoch:{projection}`` holding a random token. The runner checks it every second; when it is gone (Redis wiped,
failover to an empty replica) or holds another token (another instance saw the loss first and started the
rebuild), the runner's stored positions are dropped and its partitions replayed from the beginning. It also
stores the position past a record the runner dead-lettered (:meth:`ProjectionEpoch.skip`).
Until that replay has caught up, :attr:`ProjectionEpoch.rebuilding` is true, and :meth:`ProjectionEpoch.ready`
lets a command side refuse (retriably) to act on a read model that is missing or still incomplete.
"""

from __future__ import annotations

import inspect
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from microcred.kafka.consumer import Position


def _nothing(_: Pipeline) -> None:
    return None


def position_key(projection: str, topic: str) -> str:
    """The hash of ``projection``'s positions on ``topic`` (field: the partition, value: the next offset)."""
    return f"offsets:{projection}:{topic}"


def epoch_key(projection: str) -> str:
    """The Redis key of ``projection``'s sentinel."""
    return f"epoch:{projection}"


async def stored_position(redis: Redis, projection: str, topic: str, partition: int) -> int | None:
    """The next offset to read for ``topic/partition``, or None when this projection has no state."""
    value = await redis.hget(position_key(projection, topic), str(partition))
    return None if value is None else int(value)


async def _finish(result: Any) -> None:
    """Await what a write function returned when it is a coroutine (an ``async def`` write), and nothing else.

    A write that queues one command often returns what the command returned: the pipeline itself. A cluster
    pipeline is awaitable (``await pipe`` initialises it again, dropping every command queued so far), so
    "awaitable" is the wrong test: on a Redis Cluster it silently emptied the transaction of such a write
    (the revocation projector's published lists were lost on replay)."""
    if inspect.iscoroutine(result):
        await result


async def apply_at_position(redis: Redis, projection: str, position: Position,
                            write: Callable[[Pipeline], Any]) -> bool:
    """Run ``write`` on a transaction together with the new position; False when already applied."""
    key = position_key(projection, position.topic)
    field = str(position.partition)
    while True:
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                current = await pipe.hget(key, field)
                if current is not None and int(current) > position.offset:
                    return False
                pipe.multi()  # type: ignore[no-untyped-call]
                await _finish(write(pipe))
                pipe.hset(key, field, str(position.offset + 1))
                await pipe.execute()
                return True
            except WatchError:
                continue


async def apply_batch_at_positions(redis: Redis, projection: str, positions: Sequence[Position],
                                   write: Callable[[Pipeline, list[int]], Any],
                                   prepare: Callable[[Pipeline, list[int]], Awaitable[None]] | None = None,
                                   watch: Sequence[str] = ()) -> list[int]:
    """Apply the records at ``positions`` not applied yet, in one transaction together with their new positions.

    ``fresh``, the indexes into ``positions`` of the records not applied yet, is passed to ``prepare(pipe,
    fresh)``, which may read (the pipeline is still in immediate mode; keys it reads belong in ``watch``), and
    then to ``write(pipe, fresh)``, which queues the writes. The batch is retried as a whole when a watched key
    changed in between. Returns ``fresh`` (empty when every record was applied before).
    """
    topics = sorted({p.topic for p in positions})
    keys = [position_key(projection, topic) for topic in topics]
    while True:
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(*keys, *watch)
                stored: dict[tuple[str, int], int] = {}
                for topic, key in zip(topics, keys, strict=True):
                    for field, value in (await pipe.hgetall(key)).items():
                        stored[(topic, int(field))] = int(value)
                fresh = [i for i, p in enumerate(positions) if p.offset >= stored.get((p.topic, p.partition), -1)]
                if not fresh:
                    return []
                if prepare is not None:
                    await prepare(pipe, fresh)
                pipe.multi()  # type: ignore[no-untyped-call]
                await _finish(write(pipe, fresh))
                ends: dict[tuple[str, int], int] = {}
                for i in fresh:
                    p = positions[i]
                    ends[(p.topic, p.partition)] = max(ends.get((p.topic, p.partition), 0), p.offset + 1)
                for (topic, partition), end in sorted(ends.items()):
                    pipe.hset(position_key(projection, topic), str(partition), str(end))
                await pipe.execute()
                return fresh
            except WatchError:
                continue


class ProjectionEpoch:
    """:class:`~microcred.kafka.consumer.StateGuard` of a Redis projection (see the module docstring)."""

    def __init__(self, redis: Redis, projection: str) -> None:
        self._redis, self.projection = redis, projection
        self._key = epoch_key(projection)
        self._token: bytes | str | None = None
        self.rebuilding = False

    @property
    def key(self) -> str:
        """The sentinel's Redis key."""
        return self._key

    @property
    def token(self) -> bytes | str | None:
        """The token this guard adopted (None before :meth:`open`)."""
        return self._token

    async def open(self) -> None:
        """Create the sentinel unless it exists, and adopt whatever token it holds."""
        await self.adopt()

    async def adopt(self) -> bool:
        """:meth:`open`, answering whether this call created the sentinel (Redis is new, or lost what it held)."""
        created = bool(await self._redis.set(self._key, uuid.uuid4().hex, nx=True))
        self._token = await self._redis.get(self._key)
        return created

    async def intact(self) -> bool:
        """True while the sentinel holds the token this guard adopted."""
        current = await self._redis.get(self._key)
        return current is not None and current == self._token

    async def reset(self, partitions: Sequence[tuple[str, int]]) -> None:
        """Drop the stored positions of ``partitions``, then adopt a (new or another instance's) sentinel."""
        by_topic: defaultdict[str, list[str]] = defaultdict(list)
        for topic, partition in partitions:
            by_topic[topic].append(str(partition))
        for topic, fields in by_topic.items():
            await self._redis.hdel(position_key(self.projection, topic), *fields)
        self.rebuilding = True
        await self.open()

    def rebuilt(self) -> None:
        """The replay after the last reset caught up."""
        self.rebuilding = False

    async def skip(self, position: Position) -> None:
        """Store the position past a record that changes no state (the runner dead-lettered it)."""
        await apply_at_position(self._redis, self.projection, position, _nothing)

    async def ready(self) -> bytes | str | None:
        """The adopted token while the state is complete and current; None while it is lost or rebuilding.

        A command side that writes ahead of its events can pass the token to a script that checks the sentinel
        atomically with the write, closing the window between this check and the write."""
        if self.rebuilding or self._token is None:
            return None
        intact = await self.intact()
        # Checked again after the read: a reset that ran meanwhile adopted a new sentinel (so the read saw it
        # intact) and marked the state rebuilding before it did; the answer must not be "complete" then.
        if not intact or self.rebuilding:
            return None
        return self._token
