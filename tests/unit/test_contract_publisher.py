"""The EventPublisher contract against the in-memory twin (the Kafka run is tests/integration/)."""

from __future__ import annotations

import pytest

from microcred.kafka.publisher import EventPublisher, InMemoryEventPublisher, PublishTimeout
from tests.contract.publisher import EventPublisherContract, Landed, PublisherHarness


class MemoryHarness:
    """InMemoryEventPublisher; a failing publisher shares its topics, as two producers share a cluster."""

    def __init__(self) -> None:
        self.publisher = InMemoryEventPublisher()
        self.topic = "test.contract"

    async def records(self) -> list[Landed]:
        return [Landed(0, offset, key, env.SerializeToString())
                for offset, (key, env) in enumerate(self.publisher.topics.get(self.topic, []))]

    async def failing(self, landing: int) -> EventPublisher:
        return InMemoryEventPublisher(self.publisher.topics, fail_next=PublishTimeout("injected"),
                                      fail_after=landing)

    async def close(self) -> None:
        pass


class TestInMemoryEventPublisher(EventPublisherContract):
    @pytest.fixture
    def harness(self) -> PublisherHarness:
        return MemoryHarness()
