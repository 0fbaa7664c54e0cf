"""The thin Kafka loop under every projector: decode, apply, dead-letter poison, remember the position.

Consumers are at-least-once on the wire and exactly-once in effect: a handler writes its state change and the
record's position in one Redis transaction (see :mod:`microcred.storage.positions`), and on every partition
assignment the runner seeks to the position stored *with the state*. When Redis is empty, there is no
position, so the runner starts from the beginning of the topic and the read model is rebuilt by replay.
Kafka commits are kept too, but only as a progress signal for lag monitoring.

Seeking on assignment is not enough when the state is lost while the consumer runs (``FLUSHALL``, a failover
to an empty replica): the consumer would go on from its in-memory offset and the earlier state would never be
replayed. A runner given a :class:`StateGuard` (:class:`microcred.storage.positions.ProjectionEpoch` for Redis
projections) asks it every ``guard_interval`` seconds, between batches, whether the state is still the one it
has been building; when it is not, the guard forgets the stored positions of the runner's partitions (those
written since the loss would hide the lost records) and the runner seeks them back to the beginning, so the
read model is rebuilt by replay while the service keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from google.protobuf.message import Message

from microcred.events.envelope import EventEnvelope, PoisonEvent, open_envelope, record_trace_context
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


class StateGuard(Protocol):
    """Detects that the store holding a projection's state and positions lost them while the runner ran."""

    async def open(self) -> None:
        """Mark the state as the one this runner builds (called once, before the first poll)."""
        ...

    async def intact(self) -> bool:
        """False when the state was lost (or replaced) since :meth:`open` or the last :meth:`reset`."""
        ...

    async def reset(self, partitions: Sequence[tuple[str, int]]) -> None:
        """Forget the stored positions of ``partitions`` and mark the state as the one being rebuilt."""
        ...

    def rebuilt(self) -> None:
        """The replay started by the last :meth:`reset` has reached the end offsets seen at the reset."""
        ...


class _SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: AIOKafkaConsumer, lookup: PositionLookup) -> None:
        self._consumer, self._lookup = consumer, lookup

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        for tp in assigned:
            stored = await self._lookup(tp.topic, tp.partition)
            if stored is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, stored)


class StateWatch:
    """Between batches, asks a :class:`StateGuard` whether the state is intact and, when it is not, replays.

    :class:`ConsumerRunner` uses it when given a guard; a projection with its own consumer loop can too::

        watch = StateWatch(consumer, ProjectionEpoch(redis, name), lookup, name)
        await watch.open()                  # before subscribing
        while running:
            await watch.poll()              # before each getmany (checks at most every ``interval`` seconds)
            batches = await consumer.getmany(...)
    """

    def __init__(self, consumer: AIOKafkaConsumer, guard: StateGuard, positions: PositionLookup, name: str,
                 interval: float = 1.0) -> None:
        self._consumer, self._guard, self._name, self._interval = consumer, guard, name, interval
        self._seek = _SeekToStoredPositions(consumer, positions)
        self._targets: dict[TopicPartition, int] = {}
        self._next_check = 0.0
        self.rebuilds = 0

    @property
    def rebuilding(self) -> bool:
        """True from the moment the guard reported the state lost until the replay caught up."""
        return bool(self._targets)

    async def open(self) -> None:
        """Adopt the guard's sentinel (before the first poll)."""
        await self._guard.open()
        self._next_check = asyncio.get_running_loop().time() + self._interval

    async def poll(self) -> None:
        """Note replay progress; every ``interval`` seconds, check the state and replay it if it was lost."""
        if self._targets:
            await self._progress()
        now = asyncio.get_running_loop().time()
        if now < self._next_check:
            return
        self._next_check = now + self._interval
        try:
            if await self._guard.intact():
                return
            assigned = sorted(self._consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
            ends = await self._consumer.end_offsets(assigned) if assigned else {}
            await self._guard.reset([(tp.topic, tp.partition) for tp in assigned])
            self._targets = {tp: int(end) for tp, end in ends.items() if end > 0}
            await self._seek.on_partitions_assigned(assigned)
        except Exception as exc:  # the store is unreachable: the handlers retry; look again next time
            log.warning("could not check the projection state", extra={"group": self._name,
                                                                       "error": type(exc).__name__})
            return
        self.rebuilds += 1
        log.warning("projection state lost; rebuilding by replay",
                    extra={"group": self._name, "partitions": len(assigned)})
        await self._progress()

    async def _progress(self) -> None:
        for tp, target in list(self._targets.items()):
            try:
                done = await self._consumer.position(tp) >= target
            except Exception:  # the partition was revoked meanwhile: its new owner replays it
                done = True
            if done:
                del self._targets[tp]
        if not self._targets:
            self._guard.rebuilt()
            log.info("projection rebuilt", extra={"group": self._name})


class ConsumerRunner:
    """Runs one consumer group member over ``topics`` until :meth:`stop` is called."""

    def __init__(self, bootstrap: str, group_id: str, topics: Sequence[str], handler: Handler,
                 positions: PositionLookup, max_records: int = 500, options: Mapping[str, Any] | None = None, *,
                 guard: StateGuard | None = None, guard_interval: float = 1.0) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", max_poll_interval_ms=300000,
            **(options or {}),
        )
        self._dead_letters = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, **(options or {}))
        self._topics, self._handler, self._positions = list(topics), handler, positions
        self._group, self._max_records = group_id, max_records
        self._listener = _SeekToStoredPositions(self._consumer, self._positions)
        self._watch = None if guard is None else StateWatch(self._consumer, guard, positions, group_id,
                                                            guard_interval)
        self._stopping = asyncio.Event()
        self.processed = 0
        self.dead_lettered = 0

    async def start(self) -> None:
        """Connect and join the group (partitions are assigned on the first poll)."""
        if self._watch is not None:
            await self._watch.open()
        await self._dead_letters.start()
        await self._consumer.start()
        self._consumer.subscribe(self._topics, listener=self._listener)

    async def stop(self) -> None:
        """Ask :meth:`run` to finish its batch and leave the group."""
        self._stopping.set()

    @property
    def rebuilding(self) -> bool:
        """True from the moment the guard reported the state lost until the replay caught up."""
        return self._watch is not None and self._watch.rebuilding

    @property
    def rebuilds(self) -> int:
        """How many times the state was found lost and replayed."""
        return 0 if self._watch is None else self._watch.rebuilds

    async def run(self) -> None:
        """Poll, apply and commit until stopped; handler errors that are retriable are retried in place."""
        try:
            while not self._stopping.is_set():
                if self._watch is not None:
                    await self._watch.poll()
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
                with consumer_span(tp.topic, record_trace_context(record.headers, envelope),
                                   envelope.event_type, envelope.event_id, self._group):
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
