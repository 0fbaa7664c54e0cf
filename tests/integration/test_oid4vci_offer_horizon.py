"""A replay of the offers after a Redis loss reads the topic no further back than its horizon (real Kafka, real
Redis; services/issuer/events/offer_projection.py): the offer events of records older than the horizon (by their
Kafka timestamps) are never handed to the projection, a partition holding nothing that young starts at its end,
and with a horizon that reaches them the same records are all read."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import cast

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.gen.microcred.v1.events_pb2 import EventEnvelope
from microcred.kafka.consumer import Position
from microcred.kafka.topics import TopicSpec, ensure_topics
from services.issuer.adapters.offer_replay import RedisOfferReplay
from services.issuer.application.offer_replay import OfferReplay
from services.issuer.events.offer_projection import OfferProjection
from tests.conftest import Infrastructure

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000


class Recording:
    """The projection's handler, recording the offer refs it is handed (and storing their positions, as the real
    one does, so the replay ends)."""

    def __init__(self, store: RedisOfferReplay) -> None:
        self.store = store
        self.refs: list[str] = []

    async def position(self, topic: str, partition: int) -> int | None:
        return await self.store.position(topic, partition)

    async def apply(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        await self.apply_batch([(envelope, payload, position)])

    async def apply_batch(self, items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        self.refs += [str(getattr(payload, "offer_ref", "")) for _, payload, _ in items]
        await self.store.replay([position for _, _, position in items], [None] * len(items), {})


async def replayed(infrastructure: Infrastructure, redis: Redis, topic: str, horizon_seconds: float
                   ) -> tuple[list[str], dict[int, int | None]]:
    """What a replay from an empty Redis hands over, and where it leaves the positions."""
    store = RedisOfferReplay(redis, f"iss-{uuid.uuid4().hex[:8]}")
    recording = Recording(store)
    projection = OfferProjection(infrastructure.kafka_bootstrap, redis, store, cast("OfferReplay", recording),
                                 f"horizon-{uuid.uuid4().hex[:8]}", topic=topic, horizon_seconds=horizon_seconds)
    await projection.start()
    try:
        assert await projection.wait_caught_up(60), "the replay never ended"
        return recording.refs, {p: await store.position(topic, p) for p in (0, 1)}
    finally:
        await projection.stop()


async def test_a_replay_reads_no_record_older_than_its_horizon(infrastructure: Infrastructure, redis: Redis,
                                                               unique: str) -> None:
    topic = f"microcred.credentials.horizon-{unique}"
    await ensure_topics(infrastructure.kafka_bootstrap, topics=(TopicSpec(topic, 2, "credential id", "test"),))
    now_ms = int(time.time() * 1000)
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        # partition 0: three records of two hours ago, then two of now; partition 1: only old ones
        for partition, ref, at in [(0, "old-a", now_ms - 2 * HOUR_MS), (0, "old-b", now_ms - 2 * HOUR_MS),
                                   (0, "old-c", now_ms - 2 * HOUR_MS), (0, "young-a", now_ms),
                                   (0, "young-b", now_ms), (1, "old-d", now_ms - 3 * HOUR_MS),
                                   (1, "old-e", now_ms - 2 * HOUR_MS)]:
            payload = events_pb2.CredentialOfferExpired(offer_ref=ref, issuer_id="did:web:uni.example")
            await producer.send_and_wait(topic, new_envelope(payload, subject=ref).SerializeToString(),
                                         partition=partition, timestamp_ms=at)
    finally:
        await producer.stop()

    refs, positions = await replayed(infrastructure, redis, topic, horizon_seconds=3600)
    assert refs == ["young-a", "young-b"]
    assert positions == {0: 5, 1: 2}  # partition 1 started at its end: nothing on it is that young

    refs, positions = await replayed(infrastructure, redis, topic, horizon_seconds=4 * 3600)
    assert sorted(refs) == ["old-a", "old-b", "old-c", "old-d", "old-e", "young-a", "young-b"]
    assert positions == {0: 5, 1: 2}
