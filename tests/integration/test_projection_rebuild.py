"""A projection whose Redis state vanishes while its consumer runs rebuilds itself by replay.

``FLUSHALL`` (or a failover to an empty replica) removes the state *and* the stored positions, but the consumer
goes on from its in-memory offset; without the sentinel the records before the loss would never be replayed.
Here the projection's keys are deleted (the session Redis is shared, so no FLUSHALL) while records keep coming.
"""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import ConsumerRunner, Position
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import TopicSpec, ensure_topics
from microcred.lifecycle import one_slot
from microcred.storage.positions import ProjectionEpoch, apply_at_position, epoch_key, stored_position
from tests.conftest import Infrastructure
from tests.harness.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]


def revoked(n: int) -> events_pb2.CredentialRevoked:
    return events_pb2.CredentialRevoked(credential_id=f"urn:uuid:{n:08d}", issuer_id="issuer-a", reason="test")


async def test_state_lost_while_running_is_rebuilt_by_replay(infrastructure: Infrastructure, unique: str,
                                                             redis: Redis) -> None:
    # one slot on a cluster: state, positions and sentinel change in one transaction
    topic, projection = f"test.rebuild.{unique}", one_slot(redis, f"rebuild-{unique}")
    await ensure_topics(infrastructure.kafka_bootstrap, topics=(TopicSpec(topic, 3, "id", "test"),))
    state = f"{projection}:ids"

    async def handle(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        assert isinstance(payload, events_pb2.CredentialRevoked)
        await apply_at_position(redis, projection, position, lambda pipe: pipe.sadd(state, payload.credential_id))

    async def lookup(t: str, p: int) -> int | None:
        return await stored_position(redis, projection, t, p)

    publisher = KafkaEventPublisher(infrastructure.kafka_bootstrap)
    await publisher.start()
    guard = ProjectionEpoch(redis, projection)
    runner = ConsumerRunner(infrastructure.kafka_bootstrap, f"g-{unique}", [topic], handle, lookup, guard=guard,
                            guard_interval=0.3)
    await runner.start()
    task = asyncio.create_task(runner.run())

    async def count() -> int:
        return int(await redis.scard(state))

    async def wait_for(n: int) -> None:
        await eventually(count, 15, lambda applied: f"{applied} applied, expected {n}",
                         until=lambda applied: applied == n)

    try:
        await publisher.publish_many(topic, [(f"k{i}", new_envelope(revoked(i))) for i in range(60)])
        await wait_for(60)
        assert await guard.ready() is not None and not runner.rebuilding
        # Lose everything the projection had (state, positions, sentinel), then keep publishing.
        await redis.delete(state, f"offsets:{projection}:{topic}", epoch_key(projection))
        assert await guard.ready() is None  # a command side would refuse now
        await publisher.publish_many(topic, [(f"k{i}", new_envelope(revoked(i))) for i in range(60, 80)])
        await wait_for(80)
        assert runner.rebuilds == 1
        for _ in range(50):
            if not runner.rebuilding:
                break
            await asyncio.sleep(0.1)
        assert not runner.rebuilding and await guard.ready() is not None
        assert sum([await lookup(topic, p) or 0 for p in range(3)]) == 80
    finally:
        await runner.stop()
        await task
        await publisher.stop()
        await redis.delete(state, f"offsets:{projection}:{topic}", epoch_key(projection))
