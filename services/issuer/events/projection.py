"""Rebuilds the issuer's credential store from ``microcred.credentials.v1``, and says when the store is whole.

The issuer writes an issued record right after Kafka acknowledged it; this projection writes the same record
from the topic, so that a crash between "published" and "recorded", or a lost Redis, is repaired by replay.
It applies whole batches per partition (per slot group on a cluster): normally the issuer recorded them
already, and one script drops their pending records, indexes them and stores the batch's last position; the
records that are missing are written with the rest and the position in one transaction
(:func:`microcred.storage.positions.apply_at_position`). Writes are idempotent (same key, same bytes), so a
replayed batch changes nothing. A record that cannot be decoded goes to the dead-letter topic with
its reason (:class:`~microcred.kafka.dead_letters.DeadLetters`, as every consumer does, once per record even
across replays) before the batch's position moves past it; the projection goes on. A batch that fails (Redis
or Kafka hiccup) is fetched again, never skipped.

Idempotency is only as good as this store, so it must never answer "not issued" for a credential that was
issued. Hence:

* every instance reads *all* partitions (manual assignment, no consumer group; instances share the stored
  positions in Redis and skip what another already applied), so each one knows when the whole store is
  caught up;
* a :class:`~microcred.storage.positions.ProjectionEpoch` sentinel, watched by
  :class:`~microcred.kafka.consumer.StateWatch`, notices a wiped Redis within a second and replays from the
  beginning;
* :meth:`CredentialStoreProjection.token` is the epoch token only while the store is complete (initial catch-up
  done, no rebuild running); the store checks it atomically in Redis with every lookup and pending write, and
  the issuer answers UNAVAILABLE (retriable) otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from google.protobuf.message import DecodeError
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.events.envelope import EventEnvelope
from microcred.kafka.consumer import Position, StateWatch
from microcred.kafka.dead_letters import DeadLetters
from microcred.kafka.topics import CREDENTIALS, DEAD_LETTER
from microcred.lifecycle import RedisClient
from microcred.metrics import DEAD_LETTERS
from microcred.status.cache import topic_end_offsets
from microcred.storage.positions import apply_at_position, position_key
from microcred.storage.slot_groups import GroupEpochs, IdlePositions, SlotGroups, each_group, queue_set_many
from services.issuer.adapters.store import cred_key, index_key, pending_key

__all__ = ["CredentialStoreProjection"]

log = logging.getLogger(__name__)
ISSUED = "CredentialIssued"
# KEYS[1]: the group's positions hash, then n issued-record keys, their n pending keys, their n index keys.
# ARGV[1]: the partition, ARGV[2]: the batch's next offset, then n issue times, then n credential ids.
# Already applied (stored position at or past ARGV[2]): -1. Otherwise, when every issued record exists (the
# issuer recorded them itself, the normal case), drops the pending records, indexes the credentials and stores
# the position, all at once, and answers {}; else changes nothing and answers the 1-based numbers of the
# missing records (the caller writes them, with the rest, in a transaction).
_FINISH = """
local n = (#KEYS - 1) / 3
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored and tonumber(stored) >= tonumber(ARGV[2]) then return -1 end
local missing = {}
for i = 1, n do
  if redis.call('EXISTS', KEYS[1 + i]) == 0 then missing[#missing + 1] = i end
end
if #missing > 0 then return missing end
for i = 1, n do
  redis.call('DEL', KEYS[1 + n + i])
  redis.call('ZADD', KEYS[1 + 2 * n + i], ARGV[2 + i], ARGV[2 + n + i])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {}
"""


class CredentialStoreProjection:
    """``CredentialIssued`` records -> issued records (:mod:`services.issuer.adapters.store`), pending dropped."""

    def __init__(self, bootstrap: str, redis: RedisClient, *, prefix: str | SlotGroups = "issuer",
                 topic: str = CREDENTIALS.name) -> None:
        self.groups = prefix if isinstance(prefix, SlotGroups) else SlotGroups(prefix)
        self.redis, self.topic, self._bootstrap = cast("Redis", redis), topic, bootstrap
        self.name = f"{self.groups.prefix}-credentials"
        # Records are ~10 kB: fetch in large batches so a rebuild replays thousands per second.
        # Nothing waits for this projection in normal operation (the issuer records its credentials itself), so
        # the broker may hold a fetch until 512 kB are there or 100 ms passed: a few fetches a second at full
        # issuance speed instead of one per handful of records, for the broker and for this process.
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                         isolation_level="read_committed", max_partition_fetch_bytes=8 << 20,
                                         fetch_max_bytes=64 << 20, fetch_min_bytes=512 << 10,
                                         fetch_max_wait_ms=100)
        # One position and sentinel per slot group (one group, named as ever, on a single node).
        self.guard = GroupEpochs(redis, self.groups, "credentials")
        self.watch = StateWatch(self.consumer, self.guard, self.guard.position, self.name)
        self._idle = IdlePositions(redis, self.guard.names, generation=lambda: self.guard.resets)
        self.dead_letters = DeadLetters(bootstrap, self.name, DEAD_LETTER.name)
        self.applied = 0
        self.dead_lettered = 0
        self._finish = redis.register_script(_FINISH)
        self._initial: dict[TopicPartition, int] = {}
        self._caught_up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def epoch_key(self, group: int) -> str:
        """The Redis key of slot group ``group``'s sentinel."""
        return self.guard.epochs[group].key

    def token(self, group: int) -> bytes | str | None:
        """Group ``group``'s token while the store is complete; None before catch-up or during a rebuild."""
        if not self._caught_up.is_set() or self.watch.rebuilding:
            return None
        return self.guard.epochs[group].token

    async def wait_caught_up(self, timeout: float) -> bool:
        """Wait until everything in the topic at start has been applied (False on timeout)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        return self._caught_up.is_set()

    async def start(self) -> None:
        """Assign every partition at its stored position (or the beginning) and apply in the background."""
        ends = await topic_end_offsets(self._bootstrap, [self.topic])
        await self.watch.open()
        await self.dead_letters.start()
        await self.consumer.start()
        self.consumer.assign(list(ends))
        for tp in ends:
            stored = await self.guard.position(tp.topic, tp.partition)
            if stored is None:
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, stored)
        self._initial = {tp: end for tp, end in ends.items() if end > 0}
        await self._note_progress()
        self._task = asyncio.create_task(self._run(), name="issuer-credential-store")

    async def stop(self) -> None:
        """Finish the current batch and disconnect."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        await self.consumer.stop()
        await self.dead_letters.stop()

    async def _note_progress(self) -> None:
        for tp, end in list(self._initial.items()):
            if await self.consumer.position(tp) >= end:
                del self._initial[tp]
        if not self._initial and not self._caught_up.is_set():
            self._caught_up.set()
            log.info("credential store caught up", extra={"projection": self.name})

    async def _run(self) -> None:
        while not self._stopping.is_set():
            failed = False
            try:
                await self.watch.poll()
                batches = await self.consumer.getmany(timeout_ms=200, max_records=5000)
                if not batches:  # idle: the groups' held-back positions reach what was applied
                    await self._idle.flush({(tp.topic, tp.partition) for tp in self.consumer.assignment()})
                for tp, records in batches.items():
                    try:
                        await self._apply(tp, records)
                    except Exception as exc:  # Redis or Kafka hiccup: fetch the batch again, skip nothing
                        log.error("credential store projection failed; retrying",
                                  extra={"partition": tp.partition, "error": repr(exc)})
                        self.consumer.seek(tp, records[0].offset)
                        failed = True
                if self._initial:
                    await self._note_progress()
            except Exception as exc:  # Kafka or Redis unreachable while polling: wait, then go on
                log.error("credential store projection failed; retrying", extra={"error": repr(exc)})
                failed = True
            if failed:
                await asyncio.sleep(1.0)

    async def _apply(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        issued: dict[str, tuple[str, int, bytes]] = {}  # credential id -> issuer, issue time, record
        for record in records:
            if record.value is None:
                await self._dead_letter(tp, record, "empty record value")
                continue
            try:
                envelope = EventEnvelope.FromString(record.value)
            except DecodeError as exc:
                await self._dead_letter(tp, record, f"undecodable envelope: {exc}")
                continue
            if envelope.event_type != ISSUED or not envelope.issuer_id or not envelope.subject:
                continue
            at = envelope.occurred_at
            issued[envelope.subject] = (envelope.issuer_id, at.seconds * 1_000_000 + at.nanos // 1000, record.value)
        position = Position(tp.topic, tp.partition, records[-1].offset)
        by_group = self.groups.split(issued)
        if self.groups.count == 1:  # a single node: one transaction, records (if any) and position
            await self._apply_group(0, position, issued)
            return
        # A group with records stores them with the batch's position; one without records of it moves its
        # position now and then (IdlePositions), so that the partition's lowest position moves on.
        await each_group(self._apply_group(g, position, {c: issued[c] for c in by_group[g]})
                         if g in by_group else self._idle.untouched(g, position) for g in self.groups.groups)

    async def _apply_group(self, group: int, position: Position, issued: dict[str, tuple[str, int, bytes]]
                           ) -> None:
        """One slot group's records of a batch, with the group's position, in one transaction of its slot."""
        p = self.groups.key_prefix(group)
        ids = list(issued)
        name = self.guard.names[group]
        # Normally the issuer recorded them already: one script finishes the batch for this group (no 10 kB
        # resends, one round trip); only records that are missing go through the transaction below.
        finished = await self._finish(
            keys=[position_key(name, position.topic), *(cred_key(p, issued[c][0], c) for c in ids),
                  *(pending_key(p, issued[c][0], c) for c in ids), *(index_key(p, issued[c][0]) for c in ids)],
            args=[position.partition, position.offset + 1, *(issued[c][1] for c in ids), *ids])
        if not isinstance(finished, list) or not finished:  # -1: applied before; []: done
            self._idle.touched(group, position)
            return
        missing = {ids[int(n) - 1] for n in finished}
        values = {cred_key(p, issued[c][0], c): issued[c][2] for c in ids if c in missing}
        pending = [pending_key(p, issuer, cid) for cid, (issuer, _, _) in issued.items()]
        indexed: dict[str, dict[str, int]] = {}  # issuer -> credential id -> issue time (ListCredentials)
        for cid, (issuer, at, _) in issued.items():
            indexed.setdefault(issuer, {})[cid] = at

        def write(pipe: Pipeline) -> None:
            queue_set_many(pipe, values)
            if pending:
                pipe.delete(*pending)
            for issuer_id, scores in indexed.items():
                pipe.zadd(index_key(p, issuer_id), scores)

        if await apply_at_position(self.redis, name, position, write):
            self.applied += len(values)
        self._idle.touched(group, position)

    async def _dead_letter(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        """Publish the record to the dead-letter topic (unless done before) before its position is stored."""
        if await self.dead_letters.publish(tp.topic, tp.partition, record.offset, record.key, record.value, reason):
            self.dead_lettered += 1
            DEAD_LETTERS.labels(self.name, tp.topic).inc()
            log.error("dead-lettered record", extra={"topic": tp.topic, "partition": tp.partition,
                                                     "offset": record.offset, "reason": reason})
