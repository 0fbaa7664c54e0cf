"""The revocation read model, projected from Kafka: credentials, lists, index claims, bits, publications.

One :class:`~microcred.kafka.consumer.ConsumerRunner` feeds :meth:`RevocationProjector.handle_batch` with the
``microcred.credentials.v1`` and ``microcred.status.v1`` topics: every record of a fetch is applied in one
``MULTI`` together with the new positions (:func:`~microcred.storage.positions.apply_batch_at_positions`),
including the records it ignores, so the stored positions always reach the end of the topics and replays
change nothing. One transaction per fetch rather than per record matters: the projector sees every
``CredentialIssued``, so at full issuance speed it applies a thousand records a second. :meth:`handle` applies
one record the same way (:func:`~microcred.storage.positions.apply_at_position`); the runner falls back to it
to isolate a record that makes a whole batch fail.

The command side waits for its own events to be projected before it answers (:class:`ProjectionTracker`),
so a caller always reads its own writes, even from another instance sharing the same Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from redis.asyncio.client import Pipeline

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2, status_pb2
from microcred.kafka.consumer import Position
from microcred.kafka.publisher import Published
from microcred.status.bitstring import decode_list
from microcred.storage.positions import apply_at_position, apply_batch_at_positions
from services.revocation.adapters.store import PublishedList, RevocationStore, etag_of
from services.revocation.application import status_write
from services.revocation.domain import LIST_SIZE, CredentialRecord, EntryRef, ListMeta, parse_list_number

__all__ = ["ProjectionTracker", "RevocationProjector", "purpose_name"]

"""Entries per status list: the Recommendation's minimum (131,072), the same for every list, so that a
replay rebuilds each list with the size it was created with."""

log = logging.getLogger(__name__)

_PURPOSES: dict[int, str] = {status_pb2.STATUS_PURPOSE_REVOCATION: "revocation",
                             status_pb2.STATUS_PURPOSE_SUSPENSION: "suspension"}


def purpose_name(purpose: int) -> str:
    """The ``statusPurpose`` string of a protobuf ``StatusPurpose`` ("" when unspecified)."""
    return _PURPOSES.get(purpose, "")


#: The largest list size a reserved block may name (2^24 entries: a 2 MiB bitmap).
MAX_LIST_SIZE = 1 << 24


class ProjectionTracker:
    """Lets the command side wait until a published record has been applied to Redis."""

    def __init__(self, lookup: Callable[[str, int], Any], poll_seconds: float = 0.1) -> None:
        self._lookup = lookup
        self._poll = poll_seconds
        self._applied: dict[tuple[str, int], int] = {}
        self._waiters: dict[tuple[str, int], list[tuple[int, asyncio.Future[None]]]] = {}

    def advance(self, position: Position) -> None:
        """Record that ``position`` is applied (called by the projector) and wake whoever waited for it."""
        key = (position.topic, position.partition)
        self._applied[key] = max(self._applied.get(key, 0), position.offset + 1)
        waiting = self._waiters.get(key)
        if not waiting:
            return
        keep = []
        for offset, future in waiting:
            if future.done():  # a waiter that gave up or polled Redis meanwhile
                continue
            if offset <= position.offset:
                future.set_result(None)
            else:
                keep.append((offset, future))
        self._waiters[key] = keep

    async def wait(self, published: Iterable[Published], timeout: float) -> bool:
        """Wait until every record in ``published`` is applied; False when ``timeout`` runs out first."""
        latest: dict[tuple[str, int], int] = {}
        for p in published:
            key = (p.topic, p.partition)
            latest[key] = max(latest.get(key, -1), p.offset)
        try:
            async with asyncio.timeout(timeout):
                for key, offset in latest.items():
                    await self._wait_one(key, offset)
        except TimeoutError:
            return False
        return True

    async def _wait_one(self, key: tuple[str, int], offset: int) -> None:
        while self._applied.get(key, 0) <= offset:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(key, []).append((offset, future))
            try:
                await asyncio.wait_for(asyncio.shield(future), self._poll)
                return
            except TimeoutError:
                # The partition may be owned by another instance: its position is in Redis too.
                stored = await self._lookup(*key)
                if stored is not None and stored > offset:
                    return
            finally:
                future.cancel()


class RevocationProjector:
    """Applies credential and status events to the Redis read model, each exactly once in effect."""

    def __init__(self, store: RevocationStore, tracker: ProjectionTracker | None = None,
                 on_lists_changed: Callable[[set[str]], None] | None = None) -> None:
        self.store = store
        self.tracker = tracker or ProjectionTracker(store.position)
        self._on_lists_changed = on_lists_changed
        self.applied = 0

    async def lookup(self, topic: str, partition: int) -> int | None:
        """Position lookup for the consumer runner (None: start from the beginning)."""
        return await self.store.position(topic, partition)

    async def handle(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """Apply one record (ignored types only advance the position)."""
        changed: set[str] = set()
        write = self._writer(envelope, payload, position, changed)
        applied = await apply_at_position(self.store.redis, self.store.projection, position, write)
        if applied:
            self.applied += 1
        self.tracker.advance(position)
        if applied and changed and self._on_lists_changed is not None:
            self._on_lists_changed(changed)

    async def handle_batch(self, items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        """Apply a fetch's records (in partition order) in one transaction; equivalent to :meth:`handle` on each."""
        changed: list[set[str]] = [set() for _ in items]
        # CredentialIssued (nearly every record) becomes a CredentialRecord, written together with the ones next to
        # it in a single script call; any other record keeps its own writer, in order between them.
        steps: list[CredentialRecord | Callable[[Pipeline], None] | None] = [
            self._credential_record(envelope, payload) if isinstance(payload, events_pb2.CredentialIssued)
            else self._writer(envelope, payload, position, lists)
            for (envelope, payload, position), lists in zip(items, changed, strict=True)]

        def write(pipe: Pipeline, fresh: list[int]) -> None:
            run: list[CredentialRecord] = []
            for i in fresh:
                step = steps[i]
                if isinstance(step, CredentialRecord):
                    run.append(step)
                elif step is not None:
                    if run:
                        self.store.write_credentials(pipe, run)
                        run = []
                    step(pipe)
            if run:
                self.store.write_credentials(pipe, run)

        positions = [position for _, _, position in items]
        fresh = await apply_batch_at_positions(self.store.redis, self.store.projection, positions, write)
        self.applied += len(fresh)
        ends: dict[tuple[str, int], Position] = {}
        for position in positions:  # records arrive in offset order per partition: the last one is the end
            ends[(position.topic, position.partition)] = position
        for position in ends.values():
            self.tracker.advance(position)
        lists = set().union(*(changed[i] for i in fresh))
        if lists and self._on_lists_changed is not None:
            self._on_lists_changed(lists)

    def _writer(self, envelope: EventEnvelope, payload: Message, position: Position,
                changed: set[str]) -> Callable[[Pipeline], None]:
        if isinstance(payload, events_pb2.CredentialIssued):
            return self._credential_issued(envelope, payload)
        if isinstance(payload, events_pb2.StatusIndexesReserved):
            return self._reserved(payload)
        if isinstance(payload, events_pb2.CredentialRevoked | events_pb2.CredentialSuspended
                      | events_pb2.CredentialReinstated):
            changed.add(payload.status_list_id)
            write = status_write(envelope, payload, position.partition, position.offset)
            return lambda pipe: self.store.write_change(pipe, write)
        if isinstance(payload, events_pb2.StatusListPublished):
            return self._published(payload)
        return _nothing

    def _credential_issued(self, envelope: EventEnvelope,
                           payload: events_pb2.CredentialIssued) -> Callable[[Pipeline], None]:
        record = self._credential_record(envelope, payload)
        if record is None:
            return _nothing
        return lambda pipe: self.store.write_credentials(pipe, [record])

    @staticmethod
    def _credential_record(envelope: EventEnvelope, payload: events_pb2.CredentialIssued) -> CredentialRecord | None:
        if not payload.credential_id or not payload.issuer_id:
            log.warning("CredentialIssued without credential or issuer id ignored",
                        extra={"event_id": envelope.event_id})
            return None
        entries = tuple(EntryRef(e.status_list_id, e.status_list_index, purpose_name(e.status_purpose),
                                 e.status_list_credential)
                        for e in payload.status_entries if e.status_list_id and purpose_name(e.status_purpose))
        return CredentialRecord(payload.credential_id, payload.issuer_id, envelope.tenant, entries)

    def _reserved(self, payload: events_pb2.StatusIndexesReserved) -> Callable[[Pipeline], None]:
        blocks = []
        for block in payload.blocks:
            purpose = purpose_name(block.status_purpose)
            if not block.status_list_id or not purpose:
                continue
            if block.status_list_size > MAX_LIST_SIZE:  # bounded memory: no service creates such a list
                log.warning("status index block with an oversized list ignored",
                            extra={"status_list_id": block.status_list_id, "size": block.status_list_size})
                continue
            meta = ListMeta(block.status_list_id, payload.issuer_id, purpose, block.status_list_credential,
                            parse_list_number(block.status_list_id),
                            block.status_list_size or LIST_SIZE)  # 0: written before sizes travelled
            blocks.append((meta, list(block.indexes)))

        def write(pipe: Pipeline) -> None:
            for meta, indexes in blocks:
                self.store.write_reserved(pipe, meta, indexes)

        return write

    def _published(self, payload: events_pb2.StatusListPublished) -> Callable[[Pipeline], None]:
        body = payload.credential_json.encode()
        try:
            document = json.loads(body)
            bits = decode_list(document["credentialSubject"]["encodedList"], lenient_legacy=False).bits
            valid_until = _parse_time(document["validUntil"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable StatusListPublished ignored",
                        extra={"list_id": payload.status_list_id, "error": str(exc)})
            return _nothing
        published = PublishedList(payload.status_list_id, payload.version, body, etag_of(body), valid_until,
                                  hashlib.sha256(bits.to_bytes()).hexdigest())
        return lambda pipe: self.store.write_published(pipe, published)


def _nothing(pipe: Pipeline) -> None:
    return None


def _parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("validUntil lacks a time zone")
    return parsed
