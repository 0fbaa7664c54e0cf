"""The EventPublisher contract against KafkaEventPublisher on the session's real Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from microcred.kafka.publisher import EventPublisher, KafkaEventPublisher
from microcred.kafka.topics import TopicSpec, ensure_topics
from tests.conftest import Infrastructure
from tests.contract.publisher import EventPublisherContract, Landed, PublisherHarness
from tests.harness.kafka import end_offsets, read_topic
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration


class KafkaHarness:
    """A KafkaEventPublisher and a fresh three-partition topic (so keys really are spread)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.topic = f"test.contract.{uuid.uuid4().hex[:10]}"
        self.publisher = KafkaEventPublisher(bootstrap, client_id=f"contract-{self.topic}")
        self._others: list[KafkaEventPublisher] = []

    async def start(self) -> None:
        await ensure_topics(self.bootstrap, topics=(TopicSpec(self.topic, 3, "test key", "contract records"),))
        # A topic just created may not be described yet (no leader): reading it then would fail, not wait.
        await eventually(self._described, timeout=60, message=f"{self.topic} never got leaders")
        await self.publisher.start()

    async def _described(self) -> bool:
        try:
            await end_offsets(self.bootstrap, self.topic)
        except RuntimeError:
            return False
        return True

    async def records(self) -> list[Landed]:
        return [Landed(r.partition, r.offset, (r.key or b"").decode(), r.value or b"")
                for r in await read_topic(self.bootstrap, self.topic)]

    async def failing(self, landing: int) -> EventPublisher:
        # A delivery bound no acknowledgement can meet: every publish_many ends in PublishTimeout, and whichever
        # of its records the producer had sent by then may still land (the broker decides, not ``landing``).
        failing = KafkaEventPublisher(self.bootstrap, client_id=f"contract-failing-{self.topic}",
                                      delivery_timeout=1e-6)
        await failing.start()
        self._others.append(failing)
        return failing

    async def close(self) -> None:
        for publisher in (*self._others, self.publisher):
            await asyncio.wait_for(publisher.stop(), 90)


class TestKafkaEventPublisher(EventPublisherContract):
    @pytest.fixture
    async def harness(self, infrastructure: Infrastructure) -> AsyncIterator[PublisherHarness]:
        harness = KafkaHarness(infrastructure.kafka_bootstrap)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.close()

    @pytest.fixture
    def landing(self) -> int:
        return 0  # ignored: the broker decides what lands
