"""The command side of the wallet's own state: publish a change on ``microcred.wallet.v1``, then read your write.

Accounts, holder keys, bindings, imports and share links are not projections of another service's events;
the wallet is their author. Kafka is their source of truth all the same: a command publishes one event in the
shared envelope (idempotent producer, ``acks=all``) and answers only after Kafka acknowledged it, so an answered
change survives Redis and the machine. The read model is written by the projection alone
(:mod:`services.wallet.events.intake`), as for credentials; the command then waits until the projection has applied
the record (the position stored with the state is past its offset, in whichever wallet instance consumes that
partition), so the learner's next request sees it. When that takes longer than ``wait_seconds`` (projection
far behind) the command still succeeds (the change is durable) and the change appears moments later.

The topic is compacted: every record is the full state of what its key (:func:`record_key`) names, so the
latest record per key is all a rebuild needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import new_envelope
from microcred.kafka.publisher import EventPublisher, Published
from microcred.storage.positions import stored_position

log = logging.getLogger(__name__)


def record_key(kind: str, *parts: str) -> str:
    """The Kafka key of a wallet record: its kind and the id(s) of what it describes (``share:{id}``...)."""
    return f"{kind}:{'/'.join(parts)}"


class Tombstones(Protocol):
    """Port: tombstones (null values) on a compacted topic, durable when ``send`` returns."""

    async def send(self, topic: str, keys: Sequence[str]) -> list[Published]:
        """Append one tombstone per key, in order; return where each landed."""
        ...


class KafkaTombstones:
    """Tombstones through an idempotent producer of their own (``acks=all``): the event publisher's port carries
    envelopes only, and a tombstone is the one record of the wallet topic that has none."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="wallet-tombstones",
                                          enable_idempotence=True)

    async def start(self) -> None:
        """Connect."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def send(self, topic: str, keys: Sequence[str]) -> list[Published]:
        """Append the tombstones (they batch together) and wait for every acknowledgement."""
        futures = [await self._producer.send(topic, None, key=key.encode()) for key in keys]
        metas = await asyncio.gather(*futures)
        return [Published(m.topic, m.partition, m.offset) for m in metas]


class WalletLog:
    """Publishes wallet state changes and waits until the projection applied them."""

    def __init__(self, publisher: EventPublisher, topic: str, redis: Redis, projection: str,
                 wait_seconds: float = 5.0, tombstones: Tombstones | None = None) -> None:
        self.publisher, self.topic, self.redis = publisher, topic, redis
        self.projection, self.wait_seconds, self.tombstones = projection, wait_seconds, tombstones

    async def delete(self, keys: Sequence[str]) -> list[Published]:
        """Publish a tombstone for each record key (durable when this returns) and wait for the projection."""
        if self.tombstones is None:
            raise RuntimeError("this wallet log publishes no tombstones")
        published = await self.tombstones.send(self.topic, keys)
        await asyncio.gather(*(self.applied(p) for p in published))
        return published

    async def publish(self, key: str, payload: Message) -> Published:
        """Publish ``payload`` under ``key`` (durable when this returns) and wait for the projection."""
        published = await self.publisher.publish(self.topic, key, new_envelope(payload, subject=key))
        await self.applied(published)
        return published

    async def applied(self, published: Published) -> bool:
        """Wait until the projection stored a position past ``published``; False when it did not in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        delay = 0.002
        while True:
            position = await stored_position(self.redis, self.projection, published.topic, published.partition)
            if position is not None and position > published.offset:
                return True
            if loop.time() >= deadline:
                log.warning("wallet change published but not yet projected", extra={
                    "topic": published.topic, "partition": published.partition, "offset": published.offset})
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
