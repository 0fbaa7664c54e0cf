"""Publishing event envelopes: the port, the Kafka adapter and an in-memory twin for unit tests.

The Kafka adapter uses an idempotent producer (which implies ``acks=all``): a publish returns only after the
record is on every in-sync replica, so a service may answer its caller after ``publish`` returns and the
event is never lost.

An idempotent aiokafka producer never expires a record: on a retriable error (``NotEnoughReplicas`` while too
few replicas are in sync, a leader that keeps moving) it retries without end, so a publish could wait forever and
hold its caller with it. :class:`KafkaEventPublisher` bounds every publish (``delivery_timeout``) and raises
:class:`PublishTimeout`; callers answer "retry", and a retry publishes the same event (same event id) again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer

from microcred.events.envelope import EventEnvelope, trace_headers
from microcred.kafka.partitioner import KeyPartitioner
from microcred.telemetry import inject_context, producer_span

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    """Where a record landed."""

    topic: str
    partition: int
    offset: int


class EventPublisher(Protocol):
    """Port: durable publication of event envelopes."""

    async def publish(self, topic: str, key: str, envelope: EventEnvelope) -> Published:
        """Publish one envelope and return once it is durably stored."""
        ...

    async def publish_many(self, topic: str, items: list[tuple[str, EventEnvelope]]) -> list[Published]:
        """Publish several envelopes; return once all are durably stored, in the order given."""
        ...


class PublishTimeout(Exception):
    """Kafka did not acknowledge a publish within the publisher's ``delivery_timeout`` (it may still land)."""


class KafkaEventPublisher:
    """Idempotent Kafka producer (acks=all, retries without duplicates), every publish bounded in time."""

    def __init__(self, bootstrap: str, client_id: str = "microcred", linger_ms: int = 2,
                 options: Mapping[str, Any] | None = None, delivery_timeout: float = 45.0) -> None:
        self._delivery_timeout = delivery_timeout
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, client_id=client_id, enable_idempotence=True,
            linger_ms=linger_ms, max_batch_size=1024 * 1024, request_timeout_ms=30000,
            **{"partitioner": KeyPartitioner(), **(options or {})},  # same placement as the default, cheaper
        )

    async def start(self) -> None:
        """Connect to the cluster."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush pending records (for at most ``delivery_timeout``) and disconnect.

        Records Kafka still has not acknowledged then are dropped: their publish raised :class:`PublishTimeout`
        already, so their callers were told to retry."""
        try:
            await asyncio.wait_for(self._producer.flush(), self._delivery_timeout)
        except TimeoutError:
            log.warning("records not acknowledged at stop are dropped", extra={"seconds": self._delivery_timeout})
            # aiokafka's stop() waits until everything is flushed or its sender task ends, and an idempotent
            # producer retries forever; it has no public abort, so end the sender task for stop() to return.
            task = getattr(getattr(self._producer, "_sender", None), "sender_task", None)
            if isinstance(task, asyncio.Task):
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._producer.stop()

    async def publish(self, topic: str, key: str, envelope: EventEnvelope) -> Published:
        """Publish one envelope keyed by ``key``."""
        return (await self.publish_many(topic, [(key, envelope)]))[0]

    async def publish_many(self, topic: str, items: list[tuple[str, EventEnvelope]]) -> list[Published]:
        """Send all records at once (they batch together) and wait for every acknowledgement.

        The records are sent inside one PRODUCER span whose trace context is written into each envelope, so
        consumers continue the trace. :class:`PublishTimeout` when not all are acknowledged within
        ``delivery_timeout`` seconds.
        """
        with producer_span(topic, len(items)):
            try:
                async with asyncio.timeout(self._delivery_timeout):
                    metas = await self._send_all(topic, items)
            except TimeoutError:
                raise PublishTimeout(f"{len(items)} record(s) to {topic} not acknowledged within "
                                     f"{self._delivery_timeout:g}s") from None
        return [Published(m.topic, m.partition, m.offset) for m in metas]

    async def _send_all(self, topic: str, items: list[tuple[str, EventEnvelope]]) -> list[Any]:
        context: dict[str, str] = {}
        inject_context(context)  # one span, so one context for every record (injected once: it is not free)
        futures = []
        for key, env in items:
            env.trace_context.clear()
            env.trace_context.update(context)
            futures.append(await self._producer.send(
                topic, env.SerializeToString(), key=key.encode(), headers=trace_headers(env)))
        return list(await asyncio.gather(*futures))


@dataclass
class InMemoryEventPublisher:
    """In-memory twin of :class:`KafkaEventPublisher` for unit tests: records land in ``topics``."""

    topics: dict[str, list[tuple[str, EventEnvelope]]] = field(default_factory=dict)
    fail_next: Exception | None = None
    #: How many records of the publish that raises ``fail_next`` land first: Kafka's ``publish_many`` can
    #: half-succeed (a :class:`PublishTimeout` after some records were acknowledged), and callers must cope.
    fail_after: int = 0

    async def publish(self, topic: str, key: str, envelope: EventEnvelope) -> Published:
        """Append one record (or raise ``fail_next`` once, to test failure paths)."""
        return (await self.publish_many(topic, [(key, envelope)]))[0]

    async def publish_many(self, topic: str, items: list[tuple[str, EventEnvelope]]) -> list[Published]:
        """Append all records; when ``fail_next`` is set, append the first ``fail_after`` of them and raise it."""
        log = self.topics.setdefault(topic, [])
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            log.extend(items[:self.fail_after])
            if not log:
                del self.topics[topic]  # nothing landed: the topic stays as it was
            raise error
        start = len(log)
        log.extend(items)
        return [Published(topic, 0, start + i) for i in range(len(items))]
