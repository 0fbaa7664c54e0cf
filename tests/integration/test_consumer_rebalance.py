"""A rebalance while a runner applies a fetch: a replica joining (scale-out) or dying moves partitions.

The runner must live through it: its Kafka commit after the fetch may be refused (the partition moved, the group
generation changed), which is harmless (Kafka commits are only a progress signal) and must not end the
projection. And the member that is assigned a partition must read its stored position only after the fetch
in flight was applied, so that it does not go back over records applied a moment before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import CommitFailedError, GroupCoordinatorNotAvailableError
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import ConsumerRunner, Position
from microcred.kafka.topics import TopicSpec, ensure_topics
from microcred.storage.positions import ProjectionEpoch, apply_at_position, stored_position
from tests.conftest import Infrastructure
from tests.harness.waiting import eventually


async def _send(bootstrap: str, topic: str, partitions: int, start: int, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for n in range(start, start + count):
            envelope = new_envelope(events_pb2.CredentialRevoked(credential_id=f"urn:uuid:{n}"),
                                    subject=f"urn:uuid:{n}")
            await producer.send_and_wait(topic, envelope.SerializeToString(), partition=n % partitions)
    finally:
        await producer.stop()


async def test_a_rebalance_during_a_fetch_does_not_replay_what_was_applied(
        infrastructure: Infrastructure, unique: str) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    prefix = f"rb{unique}."
    await ensure_topics(bootstrap, topics=(TopicSpec("moves", 2, "-", "-"),), prefix=prefix)
    topic = prefix + "moves"
    await _send(bootstrap, topic, 2, 0, 4)

    redis = Redis.from_url(infrastructure.redis_url)
    projection, group = f"moves-{unique}", f"moves-{unique}"
    invoked: list[tuple[str, Position]] = []
    applied: list[Position] = []
    first_fetch_started, release_first_fetch = asyncio.Event(), asyncio.Event()

    def handler_of(member: str):  # type: ignore[no-untyped-def]
        async def handler(envelope: EventEnvelope, payload: Message, position: Position) -> None:
            invoked.append((member, position))
            if member == "a" and not release_first_fetch.is_set():
                first_fetch_started.set()
                await release_first_fetch.wait()  # the fetch is in flight while the group rebalances
            if await apply_at_position(redis, projection, position, lambda pipe: None):
                applied.append(position)
        return handler

    async def lookup(topic: str, partition: int) -> int | None:
        return await stored_position(redis, projection, topic, partition)

    a = ConsumerRunner(bootstrap, group, [topic], handler_of("a"), lookup)
    b = ConsumerRunner(bootstrap, group, [topic], handler_of("b"), lookup)
    await a.start()
    a_task = asyncio.create_task(a.run())
    b_task: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(first_fetch_started.wait(), timeout=60)
        await b.start()  # b joins: the partitions are shared out again while a is applying its fetch
        b_task = asyncio.create_task(b.run())
        await asyncio.sleep(3.0)
        release_first_fetch.set()

        async def both_members_own_a_partition() -> bool:
            return len(a._consumer.assignment()) == 1 and len(b._consumer.assignment()) == 1
        await eventually(both_members_own_a_partition, timeout=60)
        await _send(bootstrap, topic, 2, 4, 4)  # after the rebalance: each member applies its partition's share

        async def all_applied() -> bool:
            return len(applied) == 8
        await eventually(all_applied, timeout=60)
        assert not a_task.done(), a_task.exception() if a_task.done() else None
        assert sorted((p.partition, p.offset) for p in applied) == sorted((n % 2, n // 2) for n in range(8))
        # What a applied before the rebalance is not met again by whoever owns its partition now.
        first = {(p.partition, p.offset) for m, p in invoked[:2] if m == "a"}
        again = [(m, p) for m, p in invoked[2:] if (p.partition, p.offset) in first]
        assert again == [], invoked
    finally:
        release_first_fetch.set()
        await a.stop()
        await b.stop()
        await a_task if not a_task.done() else None
        if b_task is not None:
            await b_task
        await redis.aclose()


@pytest.mark.parametrize(("method", "error"), [
    # Kafka refuses a commit when the group rebalanced meanwhile.
    ("commit", CommitFailedError("the group has already rebalanced")),
    # aiokafka raises a background failure (heartbeat, coordinator lost) from the next getmany.
    ("getmany", GroupCoordinatorNotAvailableError()),
], ids=["refused-commit", "failed-fetch"])
async def test_a_kafka_failure_does_not_end_the_runner(infrastructure: Infrastructure, unique: str, method: str,
                                                       error: Exception) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    prefix = f"r{method}{unique}."
    await ensure_topics(bootstrap, topics=(TopicSpec("failing", 1, "-", "-"),), prefix=prefix)
    topic, projection = prefix + "failing", f"{method}-{unique}"
    redis = Redis.from_url(infrastructure.redis_url)
    applied: list[int] = []

    async def handler(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        if await apply_at_position(redis, projection, position, lambda pipe: None):
            applied.append(position.offset)

    async def lookup(topic: str, partition: int) -> int | None:
        return await stored_position(redis, projection, topic, partition)

    runner = ConsumerRunner(bootstrap, projection, [topic], handler, lookup)
    failures = 0
    real = getattr(runner._consumer, method)

    async def fails_once(*args: object, **kwargs: object) -> object:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise error
        return await real(*args, **kwargs)

    setattr(runner._consumer, method, fails_once)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        await _send(bootstrap, topic, 1, 0, 1)

        async def first_applied() -> bool:
            return (applied == [0] and failures == 1) or task.done()
        await eventually(first_applied, timeout=60)
        assert (applied, failures) == ([0], 1), task.exception() if task.done() else (applied, failures)
        await _send(bootstrap, topic, 1, 1, 1)

        async def second_applied() -> bool:
            return applied == [0, 1] or task.done()
        await eventually(second_applied, timeout=60)
        assert not task.done(), task.exception()
        assert applied == [0, 1]
    finally:
        await runner.stop()
        await asyncio.gather(task, return_exceptions=True)
        await redis.aclose()


async def test_a_fetch_overtaken_by_a_rebalance_is_not_applied_twice(infrastructure: Infrastructure,
                                                                      unique: str) -> None:
    """The group rebalances after a fetch returns and before it is applied: the assignment seeks the partition
    back to its stored position, so the fetch comes again. It is applied once, and the poison in it is met once
    (a fresh group's first join is often followed by a second, which is how this showed in a full run)."""
    bootstrap = infrastructure.kafka_bootstrap
    prefix = f"ro{unique}."
    await ensure_topics(bootstrap, topics=(TopicSpec("overtaken", 1, "-", "-"),), prefix=prefix)
    topic, projection = prefix + "overtaken", f"overtaken-{unique}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        valid = new_envelope(events_pb2.CredentialRevoked(credential_id="urn:uuid:o"), subject="urn:uuid:o")
        await producer.send_and_wait(topic, valid.SerializeToString(), key=b"urn:uuid:o")
        await producer.send_and_wait(topic, b"\xff poison", key=b"p")
    finally:
        await producer.stop()
    redis = Redis.from_url(infrastructure.redis_url)
    invoked: list[int] = []

    async def batch(items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        for _, _, position in items:
            invoked.append(position.offset)
            await apply_at_position(redis, projection, position, lambda pipe: None)

    async def handler(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        await batch([(envelope, payload, position)])

    async def lookup(topic: str, partition: int) -> int | None:
        return await stored_position(redis, projection, topic, partition)

    runner = ConsumerRunner(bootstrap, projection, [topic], handler, lookup, guard=ProjectionEpoch(redis, projection),
                            batch_handler=batch)
    real = runner._consumer.getmany
    overtaken = 0

    async def then_rebalanced(*args: object, **kwargs: object) -> object:
        nonlocal overtaken
        batches = await real(*args, **kwargs)
        if batches and not overtaken:
            overtaken += 1  # what aiokafka's coordinator task does when the group rebalances right now
            await runner._listener.on_partitions_assigned(sorted(runner._consumer.assignment()))
        return batches

    runner._consumer.getmany = then_rebalanced  # type: ignore[method-assign]
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        async def past_poison() -> bool:
            return (await lookup(topic, 0) or 0) > 1 or task.done()
        await eventually(past_poison, timeout=60)
        await asyncio.sleep(1.0)  # would it meet them again?
        assert not task.done(), task.exception()
        assert overtaken == 1 and invoked == [0]
        assert (runner.dead_lettered, runner.already_dead_lettered) == (1, 0)
    finally:
        await runner.stop()
        await asyncio.gather(task, return_exceptions=True)
        await redis.aclose()


async def test_without_a_stored_position_a_member_starts_at_the_oldest_record_kept(
        infrastructure: Infrastructure, unique: str) -> None:
    """Retention (or a delete-records call) moved the log start past 0: the runner starts at the oldest record
    kept, not at an offset that no longer exists, and applies everything from there once."""
    bootstrap = infrastructure.kafka_bootstrap
    prefix = f"ls{unique}."
    await ensure_topics(bootstrap, topics=(TopicSpec("trimmed", 1, "-", "-"),), prefix=prefix)
    topic = prefix + "trimmed"
    await _send(bootstrap, topic, 1, 0, 6)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(before_offset=4)})
    finally:
        await admin.close()

    redis = Redis.from_url(infrastructure.redis_url)
    projection = f"trimmed-{unique}"
    applied: list[int] = []

    async def handler(envelope: EventEnvelope, payload: Message, position: Position) -> None:
        if await apply_at_position(redis, projection, position, lambda pipe: None):
            applied.append(position.offset)

    async def lookup(topic: str, partition: int) -> int | None:
        return await stored_position(redis, projection, topic, partition)

    runner = ConsumerRunner(bootstrap, f"trimmed-{unique}", [topic], handler, lookup)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        async def two_applied() -> bool:
            return len(applied) >= 2

        await eventually(two_applied, timeout=60)
        await asyncio.sleep(1.0)  # nothing more, nothing twice
        assert applied == [4, 5]
    finally:
        await runner.stop()
        await task
        await redis.aclose()
