"""A publish Kafka does not acknowledge ends with PublishTimeout instead of waiting forever (real Kafka).

An idempotent aiokafka producer never expires a record: it retries timeouts and ``NotEnoughReplicas`` without
end, so before the bound a publish to a broker that stopped answering waited for as long as the broker did, and
so did its caller (a batch chunk, a registry command). Here the broker is frozen (SIGSTOP) for the length of
the publish: it must end with PublishTimeout, and once the broker answers again the same publisher publishes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.infra.kafka_local import LocalKafka
from microcred.kafka.publisher import KafkaEventPublisher, PublishTimeout
from microcred.kafka.topics import TopicSpec, ensure_topics
from tests.conftest import Infrastructure

pytestmark = pytest.mark.integration


@pytest.fixture
async def broker(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[tuple[str, int]]:
    """(bootstrap, pid) of a single broker this test may freeze: the session's, or its own when that is external."""
    if infrastructure.kafka is not None:
        node = infrastructure.kafka.members[0]
        assert node.process is not None
        yield infrastructure.kafka.bootstrap, node.process.pid
        return
    own = LocalKafka(tmp_path / "kafka")
    await own.start()
    try:
        process = own.members[0].process
        assert process is not None
        yield own.bootstrap, process.pid
    finally:
        own.stop()


def thread_states(pid: int) -> set[str]:
    """The scheduler states (R, S, T, …) of the threads of ``pid``, from /proc."""
    states = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # the state is the field after the parenthesised command name
            states.add((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
    return states


async def frozen(pid: int, timeout: float = 10.0) -> None:
    """Return once every thread of ``pid`` is stopped: kill() only queues SIGSTOP, and a JVM thread already
    running may still answer a request before it takes the stop (a run once saw the publish acknowledged)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (states := thread_states(pid)) <= {"T", "t"}:
        assert asyncio.get_running_loop().time() < deadline, f"broker {pid} not stopped: thread states {states}"
        await asyncio.sleep(0.01)


def event(n: int) -> events_pb2.CredentialRevoked:
    return events_pb2.CredentialRevoked(credential_id=f"urn:uuid:bounded-{n}")


async def test_an_unacknowledged_publish_is_bounded_and_the_publisher_keeps_working(
        broker: tuple[str, int]) -> None:
    bootstrap, pid = broker
    topic = f"test.bounded.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, topics=(TopicSpec(topic, 1, "test key", "test events"),))
    publisher = KafkaEventPublisher(bootstrap, client_id=f"bounded-{topic}", delivery_timeout=3.0)
    await publisher.start()
    try:
        await publisher.publish(topic, "k", new_envelope(event(0)))
        os.kill(pid, signal.SIGSTOP)  # the broker stops answering (its socket stays open)
        try:
            await frozen(pid)
            with pytest.raises(PublishTimeout, match="not acknowledged within 3s"):
                # The outer bound only keeps a regression from hanging the session.
                await asyncio.wait_for(publisher.publish(topic, "k", new_envelope(event(1))), 30)
        finally:
            os.kill(pid, signal.SIGCONT)
        published = await asyncio.wait_for(publisher.publish(topic, "k", new_envelope(event(2))), 90)
        assert published.topic == topic
    finally:
        await asyncio.wait_for(publisher.stop(), 90)
