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

A runner given a ``batch_handler`` hands it every decodable record of a fetch at once (one Redis transaction
for a few hundred records instead of a few round trips each, which is what makes a rebuild fast); when that
fails with a non-retriable error it applies the same records one by one through ``handler``, so that only the
bad record is dead-lettered. Dead letters go through :class:`~microcred.kafka.dead_letters.DeadLetters`, which
writes each (group, source record) once even when a replay meets the record again. Once a record is on the
dead-letter topic, a guard that can (:class:`PositionSkipper`, e.g. ``ProjectionEpoch``) stores the position
past it, as if it had been applied: otherwise a partition whose last record is poison would never look caught
up, and every restart would meet the record again. A runner given ``payload_types`` (a projection of a few event
types on a busy topic) passes over the other records at the cost of an envelope decode, and its guard stores the
position past them in the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from google.protobuf.message import DecodeError, Message

from microcred.events.envelope import EventEnvelope, PoisonEvent, open_envelope, record_trace_context
from microcred.kafka.dead_letters import DeadLetters
from microcred.kafka.topics import DEAD_LETTER
from microcred.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS
from microcred.telemetry import consumer_span, span_exit, start_consumer_span

log = logging.getLogger(__name__)

#: Consumer options for a projection that may trail by a few tens of milliseconds: the broker holds a fetch until
#: 128 kB are there or 50 ms passed. Under load a batch then holds many records, and the per-batch costs (the
#: Redis transaction, the offset commit, the fetch round trip) are paid once for them instead of once a record.
BATCHING_FETCH: dict[str, int] = {"fetch_min_bytes": 128 << 10, "fetch_max_wait_ms": 50}


@dataclass(frozen=True)
class Position:
    """Where a record sits in Kafka."""

    topic: str
    partition: int
    offset: int


Handler = Callable[[EventEnvelope, Message, Position], Awaitable[None]]
#: Applies a tombstone (null value) of a compacted topic: the record key, and where it sits.
TombstoneHandler = Callable[[str, Position], Awaitable[None]]
#: Applies several decoded records at once (in partition order); must be equivalent to ``handler`` on each.
BatchHandler = Callable[[Sequence[tuple[EventEnvelope, Message, Position]]], Awaitable[None]]
PositionLookup = Callable[[str, int], Awaitable[int | None]]
#: Called when a fetch brought nothing, with the (topic, partition)s the member owns.
IdleHandler = Callable[[Collection[tuple[str, int]]], Awaitable[None]]


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


class PositionSkipper(Protocol):
    """A guard that can also store a position past a record that changed nothing (it was dead-lettered)."""

    async def skip(self, position: Position) -> None:
        """Store ``position.offset + 1`` as the partition's position unless the stored one is already past it."""
        ...


class _SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks newly assigned partitions to the positions stored with the state.

    aiokafka rebalances in a background task, while the runner may be applying a fetch. Given the runner's
    ``applying`` lock, a revocation waits for that fetch to be applied (every member revokes before any is
    assigned, so the next owner then reads positions past it), and an assignment reads the positions only
    once no fetch is in flight. ``assignments`` counts the seeks: a fetch returned before one of them is stale
    (the partitions were sought back to their stored positions and will be fetched again from there)."""

    def __init__(self, consumer: AIOKafkaConsumer, lookup: PositionLookup,
                 applying: asyncio.Lock | None = None) -> None:
        self._consumer, self._lookup, self._applying = consumer, lookup, applying
        self.assignments = 0

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        if self._applying is not None:
            async with self._applying:
                return None

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        if self._applying is None:
            await self.seek(assigned)
            return
        async with self._applying:
            await self.seek(assigned)

    async def seek(self, assigned: Sequence[TopicPartition]) -> None:
        """Seek each of ``assigned`` to its stored position, or to the beginning when none is stored."""
        self.assignments += 1
        for tp in assigned:
            stored = await self._lookup(tp.topic, tp.partition)
            # Offset 0 rather than ``seek_to_beginning``: that one awaits the fetcher's offset lookup (up to
            # ``request_timeout_ms`` per partition while a fresh broker elects leaders), here inside a rebalance
            # callback that holds up the group. Where retention has moved the log start past 0, the fetch gets
            # OffsetOutOfRange and ``auto_offset_reset="earliest"`` starts from the oldest record: the same place.
            self._consumer.seek(tp, 0 if stored is None else stored)


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
            await self._seek.seek(assigned)
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
                 guard: StateGuard | None = None, guard_interval: float = 1.0,
                 batch_handler: BatchHandler | None = None, dead_letter_name: str | None = None,
                 tombstones: Mapping[str, TombstoneHandler] | None = None,
                 idle_handler: IdleHandler | None = None, payload_types: Collection[str] | None = None,
                 fetch: Mapping[str, int] | None = None) -> None:
        # ``tombstones``: topic -> handler, for compacted topics where a null value deletes the key's state (a
        # wallet account deletion); elsewhere a null value is poison.
        # ``options``: connection settings, shared with the dead-letter producer; ``fetch``: the consumer's own fetch
        # settings (e.g. BATCHING_FETCH).
        # ``dead_letter_name`` names the consumer in dead letters (default: the group). A consumer whose group
        # is new in every process (e.g. a cache that must see every partition) passes a stable name, so a
        # poison record it meets again after a restart is recognised as already dead-lettered.
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", max_poll_interval_ms=300000,
            **(options or {}), **(fetch or {}),
        )
        self._dead_letters = DeadLetters(bootstrap, dead_letter_name or group_id, DEAD_LETTER.name, options)
        self._topics, self._handler, self._positions = list(topics), handler, positions
        self._batch_handler = batch_handler
        # ``idle_handler``: called with the owned (topic, partition)s when a fetch brings nothing (a projection
        # writes what it held back: slot groups' positions, microcred.storage.slot_groups.IdlePositions).
        self._idle_handler = idle_handler
        # ``payload_types``: only records of these reach the handlers (a projection of a few event types on a busy
        # topic); the others cost an envelope decode, no payload, span or metric, and the guard stores the
        # position past them (as past a dead letter) so that a projection waiting for an end offset sees it.
        self._wanted = frozenset(payload_types) if payload_types is not None else None
        self._tombstones = dict(tombstones or {})
        self._skip: Callable[[Position], Awaitable[None]] | None = getattr(guard, "skip", None)
        self._group, self._max_records = group_id, max_records
        # Held while a fetch is applied: a rebalance waits for it (see _SeekToStoredPositions).
        self._applying = asyncio.Lock()
        self._listener = _SeekToStoredPositions(self._consumer, self._positions, self._applying)
        self._watch = None if guard is None else StateWatch(self._consumer, guard, positions, group_id,
                                                            guard_interval)
        self._stopping = asyncio.Event()
        self.processed = 0
        self.dead_lettered = 0
        self.already_dead_lettered = 0

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
                assignments = self._listener.assignments
                try:
                    batches = await self._consumer.getmany(timeout_ms=200, max_records=self._max_records)
                except KafkaError as exc:
                    # aiokafka hands background failures (a heartbeat, a coordinator lost) to the next getmany;
                    # the projection outlives them, resuming from where it is once the group is back.
                    log.warning("fetch failed; retrying", extra={"group": self._group, "error": type(exc).__name__})
                    await asyncio.sleep(1.0)
                    continue
                async with self._applying:
                    if self._listener.assignments != assignments and batches:
                        # A rebalance came during or after the fetch. Its assignment sought the partitions to
                        # their stored positions, but whether these records were fetched before that seek or
                        # after it cannot be told: seek again (to the stored positions, the truth) and let the
                        # next fetch bring them, rather than apply them now and meet them twice.
                        owned = self._consumer.assignment()
                        await self._listener.seek(sorted(tp for tp in batches if tp in owned))
                        continue
                    # A partition revoked since the fetch is left to its next owner, from the stored position.
                    owned = self._consumer.assignment()
                    batches = {tp: records for tp, records in batches.items() if tp in owned}
                    if self._batch_handler is not None and batches and not self._has_tombstones(batches):
                        await self._apply_batch(batches)
                    elif batches:
                        for tp, records in batches.items():
                            for record in records:
                                await self._apply(tp, record)
                if not batches and self._idle_handler is not None:
                    await self._idle(self._idle_handler)
                if batches:
                    # One commit for the whole fetch (a round trip per partition cost as much as applying it).
                    await self._commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
                for tp, records in batches.items():
                    highwater = self._consumer.highwater(tp)
                    if highwater is not None:
                        CONSUMER_LAG.labels(self._group, tp.topic, str(tp.partition)).set(
                            max(0, highwater - records[-1].offset - 1))
        finally:
            await self._consumer.stop()
            await self._dead_letters.stop()

    async def _idle(self, handler: IdleHandler) -> None:
        async with self._applying:  # not while a rebalance seeks: the assignment read is the one handled
            owned = {(tp.topic, tp.partition) for tp in self._consumer.assignment()}
            try:
                await handler(owned)
            except Exception as exc:  # only positions held back; the next idle fetch tries again
                log.warning("idle handler failed", extra={"group": self._group, "error": type(exc).__name__})

    async def _commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Report progress to Kafka. The positions that count are stored with the state, so a commit refused
        because the group rebalanced meanwhile (the partition moved, the generation changed) is only noted."""
        try:
            await self._consumer.commit(dict(offsets))
        except KafkaError as exc:
            log.info("progress not committed: the group is rebalancing",
                     extra={"group": self._group, "error": type(exc).__name__})

    def _has_tombstones(self, batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> bool:
        """A fetch holding a tombstone the runner applies is applied record by record, in order (rare)."""
        return any(r.value is None and r.key is not None for tp, records in batches.items()
                   if tp.topic in self._tombstones for r in records)

    async def _apply_batch(self, batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        """Decode a whole fetch, dead-letter what cannot be decoded, hand the rest to the batch handler at once."""
        assert self._batch_handler is not None
        items: list[tuple[EventEnvelope, Message, Position]] = []
        sources: list[tuple[TopicPartition, ConsumerRecord[bytes, bytes]]] = []
        contexts: list[dict[str, str]] = []
        trailing: list[Position] = []  # partitions whose fetch ends with a dead-lettered record
        for tp, records in batches.items():
            for record in records:
                position = Position(tp.topic, tp.partition, record.offset)
                try:
                    if record.value is None:
                        raise PoisonEvent("empty record value")
                    if not self._wants(record.value):
                        if record is records[-1]:
                            trailing.append(position)
                        continue
                    envelope, payload = open_envelope(record.value)
                except PoisonEvent as exc:
                    await self._dead_letter(position, record, str(exc), skip=False)
                    if record is records[-1]:
                        trailing.append(position)
                    continue
                items.append((envelope, payload, position))
                sources.append((tp, record))
                contexts.append(record_trace_context(record.headers, envelope))
        if items and not await self._apply_items(items, sources, contexts):
            return
        # Only now, with everything before them applied, may the stored positions move past trailing poison (or
        # records passed over).
        for position in trailing:
            await self._skip_past(position)

    async def _apply_items(self, items: list[tuple[EventEnvelope, Message, Position]],
                           sources: list[tuple[TopicPartition, ConsumerRecord[bytes, bytes]]],
                           contexts: list[dict[str, str]]) -> bool:
        """The batch handler over ``items`` (one by one when it cannot); False when stopping left them unapplied."""
        assert self._batch_handler is not None
        delay = 0.1
        while True:
            try:
                # One CONSUMER span per record, each continuing its own trace and lasting as long as the
                # batch that applied it; the last record's is current while the batch is applied.
                with ExitStack() as spans:
                    for n, ((envelope, _, position), context) in enumerate(zip(items, contexts, strict=True)):
                        if n == len(items) - 1:
                            spans.enter_context(consumer_span(position.topic, context, envelope.event_type,
                                                              envelope.event_id, self._group))
                        else:
                            spans.push(span_exit(start_consumer_span(position.topic, context, envelope.event_type,
                                                                     envelope.event_id, self._group)))
                    await self._batch_handler(items)
                break
            except Exception as exc:
                if getattr(exc, "retriable", True) and self._stopping.is_set():
                    # Not applied, so not recorded at its positions: the next run resumes from those.
                    log.warning("stopping with a batch unapplied", extra={"group": self._group,
                                                                         "error": type(exc).__name__})
                    return False
                if not getattr(exc, "retriable", True):
                    log.warning("batch not applicable as a whole; applying its records one by one",
                                extra={"group": self._group, "records": len(items), "error": type(exc).__name__})
                    for tp, record in sources:
                        await self._apply(tp, record)
                    return True
                log.warning("retrying batch", extra={"group": self._group, "records": len(items),
                                                     "error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.processed += len(items)
        for envelope, _, position in items:
            EVENTS.labels(self._group, position.topic, envelope.event_type).inc()
        return True

    async def _apply(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        position = Position(tp.topic, tp.partition, record.offset)
        delay = 0.1
        while True:
            try:
                tombstone = self._tombstones.get(tp.topic)
                if record.value is None and tombstone is not None and record.key is not None:
                    await tombstone(record.key.decode("utf-8", "replace"), position)
                    self.processed += 1
                    return
                if record.value is None:
                    raise PoisonEvent("empty record value")
                if not self._wants(record.value):
                    await self._skip_past(position)
                    return
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
                    # A retriable failure while stopping is dead-lettered but not skipped: the next run retries it.
                    await self._dead_letter(position, record, f"{type(exc).__name__}: {exc}",
                                            skip=not getattr(exc, "retriable", True))
                    return
                log.warning("retrying record", extra={"topic": tp.topic, "partition": tp.partition,
                                                      "offset": record.offset, "error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _wants(self, value: bytes) -> bool:
        """Whether the record goes to the handlers (:class:`PoisonEvent` when its envelope does not decode)."""
        if self._wanted is None:
            return True
        envelope = EventEnvelope()
        try:
            envelope.ParseFromString(value)
        except DecodeError as exc:
            raise PoisonEvent(f"undecodable envelope: {exc}") from None
        return envelope.payload_type in self._wanted

    async def _skip_past(self, position: Position) -> None:
        if self._skip is None:
            return
        try:
            await self._skip(position)
        except Exception as exc:  # the position stays behind: a replay meets the record again, dead-lettered once
            log.warning("could not store the position past a dead letter", extra={
                "topic": position.topic, "partition": position.partition, "error": type(exc).__name__})

    async def _dead_letter(self, position: Position, record: ConsumerRecord[bytes, bytes], reason: str,
                           skip: bool = True) -> None:
        """Dead-letter ``record`` (once); with ``skip``, every record before it is applied: move past it too."""
        published = await self._dead_letters.publish(position.topic, position.partition, position.offset,
                                                     record.key, record.value, reason)
        if skip:
            await self._skip_past(position)
        if not published:
            self.already_dead_lettered += 1  # a replay met it again: dead-lettered before, not twice
            return
        self.dead_lettered += 1
        DEAD_LETTERS.labels(self._group, position.topic).inc()
        log.error("dead-lettered record", extra={"topic": position.topic, "partition": position.partition,
                                                 "offset": position.offset, "reason": reason})
