"""The thin Kafka loop under every projector: decode, apply, dead-letter poison, remember the position.

Consumers are at-least-once on the wire and exactly-once in effect: a handler writes its state change and the
record's position in one Redis transaction (see :mod:`microcred.storage.positions`), and on every partition
assignment the runner seeks to the position stored *with the state*. When Redis is empty, there is no
position, so the runner starts from the beginning of the topic and the read model is rebuilt by replay.
Kafka commits are kept too, but only as a progress signal for lag monitoring.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from google.protobuf.message import Message

from microcred.events.envelope import EventEnvelope, PoisonEvent, open_envelope
from microcred.kafka.topics import DEAD_LETTER
from microcred.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS
from microcred.telemetry import consumer_span

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Position:
    """Where a record sits in Kafka."""

    topic: str
    partition: int
    offset: int


Handler = Callable[[EventEnvelope, Message, Position], Awaitable[None]]
PositionLookup = Callable[[str, int], Awaitable[int | None]]


class _SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: AIOKafkaConsumer, lookup: PositionLookup) -> None:
        self._consumer, self._lookup = consumer, lookup

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        for tp in assigned:
            stored = await self._lookup(tp.topic, tp.partition)
            if stored is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, stored)


class ConsumerRunner:
    """Runs one consumer group member over ``topics`` until :meth:`stop` is called."""

    def __init__(self, bootstrap: str, group_id: str, topics: Sequence[str], handler: Handler,
                 positions: PositionLookup, max_records: int = 500, options: Mapping[str, Any] | None = None) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", max_poll_interval_ms=300000,
            **(options or {}),
        )
        self._dead_letters = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, **(options or {}))
        self._topics, self._handler, self._positions = list(topics), handler, positions
        self._group, self._max_records = group_id, max_records
        self._stopping = asyncio.Event()
        self.processed = 0
        self.dead_lettered = 0

    async def start(self) -> None:
        """Connect and join the group (partitions are assigned on the first poll)."""
        await self._dead_letters.start()
        await self._consumer.start()
        self._consumer.subscribe(self._topics,
                                 listener=_SeekToStoredPositions(self._consumer, self._positions))

    async def stop(self) -> None:
        """Ask :meth:`run` to finish its batch and leave the group."""
        self._stopping.set()

    async def run(self) -> None:
        """Poll, apply and commit until stopped; handler errors that are retriable are retried in place."""
        try:
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200, max_records=self._max_records)
                for tp, records in batches.items():
                    for record in records:
                        await self._apply(tp, record)
                    await self._consumer.commit({tp: records[-1].offset + 1})
                    highwater = self._consumer.highwater(tp)
                    if highwater is not None:
                        CONSUMER_LAG.labels(self._group, tp.topic, str(tp.partition)).set(
                            max(0, highwater - records[-1].offset - 1))
        finally:
            await self._consumer.stop()
            await self._dead_letters.stop()

    async def _apply(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        position = Position(tp.topic, tp.partition, record.offset)
        delay = 0.1
        while True:
            try:
                if record.value is None:
                    raise PoisonEvent("empty record value")
                envelope, payload = open_envelope(record.value)
                with consumer_span(tp.topic, envelope.trace_context, envelope.event_type, envelope.event_id,
                                   self._group):
                    await self._handler(envelope, payload, position)
                self.processed += 1
                EVENTS.labels(self._group, tp.topic, envelope.event_type).inc()
                return
            except PoisonEvent as exc:
                await self._dead_letter(position, record, str(exc))
                return
            except Exception as exc:
                if not getattr(exc, "retriable", True) or self._stopping.is_set():
                    await self._dead_letter(position, record, f"{type(exc).__name__}: {exc}")
                    return
                log.warning("retrying record", extra={"topic": tp.topic, "partition": tp.partition,
                                                      "offset": record.offset, "error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _dead_letter(self, position: Position, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        headers = [
            ("reason", reason.encode()), ("consumer_group", self._group.encode()),
            ("source_topic", position.topic.encode()), ("source_partition", str(position.partition).encode()),
            ("source_offset", str(position.offset).encode()),
        ]
        await self._dead_letters.send_and_wait(DEAD_LETTER.name, record.value, key=record.key, headers=headers)
        self.dead_lettered += 1
        DEAD_LETTERS.labels(self._group, position.topic).inc()
        log.error("dead-lettered record", extra={"topic": position.topic, "partition": position.partition,
                                                 "offset": position.offset, "reason": reason})
