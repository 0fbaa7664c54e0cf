"""A poison record is dead-lettered once per consumer group, however often a replay meets it again.

A Redis wipe (or lost positions) makes a projection replay its topics from the beginning, poison included. The
runner must recognise a record it dead-lettered before, by reading the dead-letter topic itself (Redis is
exactly what was lost). And once a record is dead-lettered, a projection's stored position moves past it, so a
partition ending with poison still counts as caught up and a restart does not meet the record again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import ConsumerRunner, Position
from microcred.kafka.dead_letters import dead_letter_key
from microcred.kafka.topics import DEAD_LETTER, TopicSpec, ensure_topics
from microcred.lifecycle import one_slot
from microcred.storage.positions import ProjectionEpoch, apply_at_position, stored_position
from tests.conftest import Infrastructure
from tests.harness.kafka import read_topic
from tests.harness.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]


async def dead_letters_of(bootstrap: str, group: str, topic: str) -> list[tuple[bytes | None, dict[str, bytes]]]:
    """(key, headers) of every dead letter ``group`` wrote for records of ``topic``."""
    return [(record.key, record.headers) for record in await read_topic(bootstrap, DEAD_LETTER.name)
            if record.headers.get("consumer_group") == group.encode()
            and record.headers.get("source_topic") == topic.encode()]


@pytest.mark.parametrize("batched", [False, True], ids=["per-record", "batched"])
async def test_a_replay_does_not_dead_letter_a_record_twice(infrastructure: Infrastructure, unique: str,
                                                            batched: bool) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    prefix = f"t{unique}{int(batched)}."
    await ensure_topics(bootstrap, topics=(TopicSpec("dlq-source", 1, "-", "-"),), prefix=prefix)
    topic = prefix + "dlq-source"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        poison = await producer.send_and_wait(topic, b"\xff\x00 not an envelope", key=b"k")
        valid = new_envelope(events_pb2.CredentialRevoked(credential_id="urn:uuid:x"), subject="urn:uuid:x")
        await producer.send_and_wait(topic, valid.SerializeToString(), key=b"urn:uuid:x")
    finally:
        await producer.stop()

    group = f"dlq-{unique}-{int(batched)}"
    applied: list[int] = []

    async def handler(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        applied.append(position.offset)

    async def batch(items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        applied.extend(position.offset for _, _, position in items)

    async def nowhere(topic: str, partition: int) -> int | None:
        return None  # no positions stored with any state: every run replays from the beginning, like after a wipe

    runs = []
    for run in range(3):
        runner = ConsumerRunner(bootstrap, group, [topic], handler, nowhere, batch_handler=batch if batched else None)
        await runner.start()
        task = asyncio.create_task(runner.run())
        try:
            async def replayed(expected: int = run + 1) -> bool:
                return applied.count(1) >= expected
            await eventually(replayed, timeout=60)
        finally:
            await runner.stop()
            await task
        runs.append((runner.dead_lettered, runner.already_dead_lettered))

    assert runs == [(1, 0), (0, 1), (0, 1)]
    letters = await dead_letters_of(bootstrap, group, topic)
    assert len(letters) == 1, letters
    key, headers = letters[0]
    assert key == dead_letter_key(group, topic, poison.partition, poison.offset)
    assert headers["source_offset"] == str(poison.offset).encode() and headers["source_key"] == b"k"
    assert headers["reason"]


@pytest.mark.parametrize("batched", [False, True], ids=["per-record", "batched"])
async def test_the_stored_position_moves_past_a_trailing_dead_letter(infrastructure: Infrastructure, unique: str,
                                                                     batched: bool, redis: Redis) -> None:
    """A partition ending with poison still counts as caught up, and a restart does not meet it again."""
    bootstrap = infrastructure.kafka_bootstrap
    prefix = f"s{unique}{int(batched)}."
    await ensure_topics(bootstrap, topics=(TopicSpec("trailing", 1, "-", "-"),), prefix=prefix)
    topic = prefix + "trailing"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        valid = new_envelope(events_pb2.CredentialRevoked(credential_id="urn:uuid:y"), subject="urn:uuid:y")
        await producer.send_and_wait(topic, valid.SerializeToString(), key=b"urn:uuid:y")
        poison = await producer.send_and_wait(topic, b"\xff trailing poison", key=b"p")
    finally:
        await producer.stop()

    projection = one_slot(redis, f"trailing-{unique}-{int(batched)}")  # positions and sentinel: one slot
    applied: list[int] = []

    async def handler(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        # Exactly once in effect: a record met again (a rebalance can hand a fetch back) changes nothing.
        if await apply_at_position(redis, projection, position, lambda pipe: None):
            applied.append(position.offset)

    async def batch(items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        for item in items:
            await handler(*item)

    async def lookup(topic: str, partition: int) -> int | None:
        return await stored_position(redis, projection, topic, partition)

    try:
        runs = []
        for _ in range(2):
            runner = ConsumerRunner(bootstrap, f"trailing-{unique}-{int(batched)}", [topic], handler, lookup,
                                    guard=ProjectionEpoch(redis, projection), batch_handler=batch if batched else None)
            await runner.start()
            task = asyncio.create_task(runner.run())
            try:
                async def past_poison() -> bool:
                    return (await lookup(topic, 0) or 0) > poison.offset
                await eventually(past_poison, timeout=60)
                await asyncio.sleep(1.0)  # would it meet the poison again?
            finally:
                await runner.stop()
                await task
            runs.append((runner.dead_lettered, runner.already_dead_lettered))
        assert await lookup(topic, 0) == poison.offset + 1
        assert applied == [0]  # the valid record applied once
        # The second run started past both: it did not meet the poison again.
        assert runs == [(1, 0), (0, 0)]
    finally:
        keys = [k async for k in redis.scan_iter(match=f"*trailing-{unique}-{int(batched)}*")]
        if keys:
            await redis.delete(*keys)


@pytest.mark.parametrize("batched", [False, True], ids=["per-record", "batched"])
async def test_records_of_other_types_are_passed_over_and_the_position_moves_past_them(
        infrastructure: Infrastructure, unique: str, batched: bool, redis: Redis) -> None:
    """A runner given ``payload_types`` hands only those to its handlers; the others (after the last wanted one
    too) are passed over and the stored position reaches the partition's end; poison is still dead-lettered."""
    bootstrap = infrastructure.kafka_bootstrap
    prefix = f"w{unique}{int(batched)}."
    await ensure_topics(bootstrap, topics=(TopicSpec("wanted", 1, "-", "-"),), prefix=prefix)
    topic = prefix + "wanted"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for n, payload in enumerate([events_pb2.CredentialRevoked(credential_id="urn:uuid:a"),
                                     events_pb2.CredentialSuspended(credential_id="urn:uuid:b"),
                                     events_pb2.CredentialRevoked(credential_id="urn:uuid:c")]):
            await producer.send_and_wait(topic, new_envelope(payload, subject=str(n)).SerializeToString(), key=b"k")
        await producer.send_and_wait(topic, b"\xff typed poison", key=b"p")
        last = await producer.send_and_wait(topic, new_envelope(events_pb2.CredentialSuspended(
            credential_id="urn:uuid:d"), subject="d").SerializeToString(), key=b"k")
    finally:
        await producer.stop()

    projection = one_slot(redis, f"wanted-{unique}-{int(batched)}")
    seen: list[tuple[str, int]] = []

    async def handler(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        if await apply_at_position(redis, projection, position, lambda pipe: None):
            seen.append((type(payload).__name__, position.offset))

    async def batch(items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        for item in items:
            await handler(*item)

    async def lookup(topic: str, partition: int) -> int | None:
        return await stored_position(redis, projection, topic, partition)

    runner = ConsumerRunner(bootstrap, f"wanted-{unique}-{int(batched)}", [topic], handler, lookup,
                            guard=ProjectionEpoch(redis, projection), batch_handler=batch if batched else None,
                            payload_types={events_pb2.CredentialRevoked.DESCRIPTOR.full_name})
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        async def at_the_end() -> bool:
            return (await lookup(topic, 0) or 0) > last.offset
        await eventually(at_the_end, timeout=60)
    finally:
        await runner.stop()
        await task
        keys = [k async for k in redis.scan_iter(match=f"*wanted-{unique}-{int(batched)}*")]
        if keys:
            await redis.delete(*keys)
    assert seen == [("CredentialRevoked", 0), ("CredentialRevoked", 2)]
    assert runner.processed == 2 and runner.dead_lettered == 1
