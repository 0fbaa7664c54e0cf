"""Protobuf event envelopes through the real Kafka broker: idempotent producer, manual commits, dead letters."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import EventEnvelope, new_envelope, open_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import ConsumerRunner, Position
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import DEAD_LETTER, TopicSpec, ensure_topics
from microcred.storage.positions import apply_at_position, stored_position
from tests.conftest import Infrastructure

pytestmark = pytest.mark.integration


def revoked(n: int) -> events_pb2.CredentialRevoked:
    return events_pb2.CredentialRevoked(credential_id=f"urn:uuid:{n:08d}", issuer_id="issuer-a",
                                        reason="issued in error", status_list_index=n)


Record = tuple[TopicPartition, int, bytes]


async def consume(consumer: AIOKafkaConsumer, count: int, timeout: float = 30.0) -> list[Record]:
    got: list[Record] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < count and asyncio.get_running_loop().time() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for tp, records in batches.items():
            got.extend((tp, r.offset, r.value) for r in records if r.value is not None)
    return got


async def test_envelopes_round_trip_with_idempotent_producer_and_manual_commits(
        infrastructure: Infrastructure, unique: str) -> None:
    topic = f"test.events.{unique}"
    await ensure_topics(infrastructure.kafka_bootstrap, topics=(TopicSpec(topic, 3, "id", "test"),))
    publisher = KafkaEventPublisher(infrastructure.kafka_bootstrap, client_id="test")
    await publisher.start()
    try:
        sent = [new_envelope(revoked(i), tenant="PL", issuer_id="issuer-a") for i in range(40)]
        placed = await publisher.publish_many(topic, [(f"cred-{i}", e) for i, e in enumerate(sent)])
        assert {p.partition for p in placed} <= {0, 1, 2}
    finally:
        await publisher.stop()

    group = f"group-{unique}"
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=infrastructure.kafka_bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        records = await consume(consumer, 40)
        decoded = [open_envelope(value) for _, _, value in records]
        assert sorted(e.event_id for e, _ in decoded) == sorted(e.event_id for e in sent)
        payloads = {p.credential_id: p for _, p in decoded if isinstance(p, events_pb2.CredentialRevoked)}
        assert payloads["urn:uuid:00000007"].status_list_index == 7
        assert all(e.event_type == "CredentialRevoked" and e.tenant == "PL" for e, _ in decoded)
        # Commit only half of what we read on one partition: the rest must come back to the next member.
        first_tp = records[0][0]
        on_first = sorted(off for tp, off, _ in records if tp == first_tp)
        commits = {tp: max(off for t, off, _ in records if t == tp) + 1 for tp, _, _ in records}
        commits[first_tp] = on_first[len(on_first) // 2]
        await consumer.commit(commits)
    finally:
        await consumer.stop()

    again = AIOKafkaConsumer(topic, bootstrap_servers=infrastructure.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    await again.start()
    try:
        redelivered = await consume(again, len(on_first) - len(on_first) // 2, timeout=15)
        assert sorted(off for _, off, _ in redelivered) == on_first[len(on_first) // 2:]
        assert {tp for tp, _, _ in redelivered} == {first_tp}
    finally:
        await again.stop()


async def test_runner_dead_letters_poison_and_keeps_going(infrastructure: Infrastructure, unique: str) -> None:
    topic = f"test.poison.{unique}"
    await ensure_topics(infrastructure.kafka_bootstrap, topics=(TopicSpec(topic, 1, "id", "test"),))
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, new_envelope(revoked(1)).SerializeToString(), key=b"a")
        await producer.send_and_wait(topic, b"\xff\x00 not a protobuf envelope", key=b"poison")
        await producer.send_and_wait(topic, new_envelope(revoked(2)).SerializeToString(), key=b"b")
    finally:
        await producer.stop()

    redis = Redis.from_url(infrastructure.redis_url)
    projection = f"test-{unique}"
    seen: list[str] = []

    async def handle(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        assert isinstance(payload, events_pb2.CredentialRevoked)
        if await apply_at_position(redis, projection, position,
                                   lambda pipe: pipe.sadd(f"t:{unique}:seen", payload.credential_id)):
            seen.append(payload.credential_id)

    async def lookup(t: str, p: int) -> int | None:
        return await stored_position(redis, projection, t, p)

    dlq = AIOKafkaConsumer(DEAD_LETTER.name, bootstrap_servers=infrastructure.kafka_bootstrap,
                           auto_offset_reset="latest", enable_auto_commit=False)
    await dlq.start()
    await dlq.seek_to_end()
    runner = ConsumerRunner(infrastructure.kafka_bootstrap, f"runner-{unique}", [topic], handle, lookup)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.2)
        assert seen == ["urn:uuid:00000001", "urn:uuid:00000002"]
        dead = [r for r in await consume(dlq, 1, timeout=10)]
        assert any(value == b"\xff\x00 not a protobuf envelope" for _, _, value in dead)
        assert runner.dead_lettered == 1
    finally:
        await runner.stop()
        await task
        await dlq.stop()

    # A second member with a fresh group resumes from the position stored with the state: nothing re-applied.
    runner2 = ConsumerRunner(infrastructure.kafka_bootstrap, f"runner2-{unique}", [topic], handle, lookup)
    await runner2.start()
    task2 = asyncio.create_task(runner2.run())
    await asyncio.sleep(3)
    await runner2.stop()
    await task2
    assert seen == ["urn:uuid:00000001", "urn:uuid:00000002"]
    assert await redis.scard(f"t:{unique}:seen") == 2  # type: ignore[misc]
    await redis.aclose()
