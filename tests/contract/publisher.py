"""The EventPublisher contract: what a publish returns, what lands on the topic, and what a failed one leaves.

Callers rely on it thus: the issuer answers "issued" only after ``publish_many`` returned, one
:class:`~microcred.kafka.publisher.Published` per item in the order given; a failed ``publish_many``
(:class:`~microcred.kafka.publisher.PublishTimeout`) may have landed any subset of its items, so the caller
answers "retry" and the retry publishes the same envelopes (same event ids) again, and consumers dedupe by
event id. Kafka places records by key, so one key's records keep their order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import pytest

from microcred.events.envelope import EventEnvelope, new_envelope, open_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import EventPublisher, Published, PublishTimeout

__all__ = ["EventPublisherContract", "Landed", "PublisherHarness"]


@dataclass(frozen=True)
class Landed:
    """One record as read back from the topic."""

    partition: int
    offset: int
    key: str
    value: bytes


class PublisherHarness(Protocol):
    """A publisher under test, a fresh topic of its own, and how to read that topic back."""

    topic: str

    @property
    def publisher(self) -> EventPublisher:
        """The publisher under test."""
        ...

    async def records(self) -> list[Landed]:
        """Everything on ``topic`` now, in (partition, offset) order."""
        ...

    async def failing(self, landing: int) -> EventPublisher:
        """Another publisher onto the same log whose next ``publish_many`` raises :class:`PublishTimeout`.

        ``landing`` is how many of its records land first where the adapter lets a test choose (the twin);
        a real broker decides that itself."""
        ...

    async def close(self) -> None:
        """Stop whatever :meth:`failing` started."""
        ...


def envelope(n: int) -> EventEnvelope:
    """A distinct envelope (its own event id)."""
    return new_envelope(events_pb2.CredentialRevoked(credential_id=f"urn:uuid:contract-{n}"), subject=f"c{n}")


def event_id(value: bytes) -> str:
    return open_envelope(value)[0].event_id


class EventPublisherContract:
    """Behaviour every EventPublisher adapter must show; subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> PublisherHarness:
        raise NotImplementedError

    @pytest.fixture(params=[0, 1, 2])
    def landing(self, request: pytest.FixtureRequest) -> int:
        """How many records a failing publish lands first (subclasses whose broker decides narrow it)."""
        return int(request.param)

    async def test_publish_many_returns_one_published_per_item_in_order(self, harness: PublisherHarness) -> None:
        items = [("k-a", envelope(1)), ("k-b", envelope(2)), ("k-a", envelope(3)), ("k-c", envelope(4))]
        published = await harness.publisher.publish_many(harness.topic, items)
        assert len(published) == len(items)
        assert all(isinstance(p, Published) and p.topic == harness.topic for p in published)
        assert len({(p.partition, p.offset) for p in published}) == len(items)
        landed = {(r.partition, r.offset): r for r in await harness.records()}
        for (key, env), p in zip(items, published, strict=True):
            record = landed[(p.partition, p.offset)]  # each Published says where its own item is
            assert record.key == key
            assert record.value == env.SerializeToString()  # the envelope as published, trace context and all
        # One key's records share a partition and keep the order given.
        assert published[0].partition == published[2].partition and published[0].offset < published[2].offset

    async def test_publish_lands_one_record_and_says_where(self, harness: PublisherHarness) -> None:
        env = envelope(7)
        published = await harness.publisher.publish(harness.topic, "only", env)
        [record] = await harness.records()
        assert (record.partition, record.offset, record.key) == (published.partition, published.offset, "only")
        assert event_id(record.value) == env.event_id

    async def test_one_keys_records_keep_their_order_across_calls(self, harness: PublisherHarness) -> None:
        envs = [envelope(i) for i in range(6)]
        first = await harness.publisher.publish_many(harness.topic, [("same", e) for e in envs[:3]])
        second = [await harness.publisher.publish(harness.topic, "same", e) for e in envs[3:]]
        places = [(p.partition, p.offset) for p in first + second]
        assert len({partition for partition, _ in places}) == 1
        assert places == sorted(places) and len(set(places)) == len(places)
        read = [event_id(r.value) for r in await harness.records() if r.key == "same"]
        assert read == [e.event_id for e in envs]

    async def test_publishing_nothing_lands_nothing(self, harness: PublisherHarness) -> None:
        assert await harness.publisher.publish_many(harness.topic, []) == []
        assert await harness.records() == []

    async def test_a_failed_publish_may_land_any_subset_and_the_retry_lands_every_item(
            self, harness: PublisherHarness, landing: int) -> None:
        items = [(f"k{i % 2}", envelope(i)) for i in range(4)]
        ids = {env.event_id for _, env in items}
        failing = await harness.failing(landing)
        with pytest.raises(PublishTimeout):
            await failing.publish_many(harness.topic, items)
        after_failure = Counter(event_id(r.value) for r in await harness.records())
        assert set(after_failure) <= ids and all(n == 1 for n in after_failure.values())  # a subset, none twice
        # The caller retries the same envelopes (same event ids) through a working publisher.
        retry = await harness.publisher.publish_many(harness.topic, items)
        assert len(retry) == len(items)
        landed = {(r.partition, r.offset): r for r in await harness.records()}
        for (key, env), p in zip(items, retry, strict=True):
            assert landed[(p.partition, p.offset)].key == key
            assert event_id(landed[(p.partition, p.offset)].value) == env.event_id
        seen = Counter(event_id(r.value) for r in landed.values())
        assert set(seen) == ids and all(1 <= n <= 2 for n in seen.values())  # at least once: consumers dedupe
