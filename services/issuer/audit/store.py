"""The audit read model in Redis: one time-ordered index per agency, rebuilt from Kafka by replay.

``{ns}:{agency}`` is a sorted set of event ids scored by the time of the action in microseconds, and
``{ns}:entry:{event_id}`` holds the serialized entry (``ns`` is the namespace, ``audit`` by default; it also
names the projection's stored positions and epoch, so instances reading different clusters never mix).
Adding the same event twice changes nothing, so redelivery and replay are harmless even without positions;
positions are stored anyway (one ``MULTI``) so a restart resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import audit_pb2
from microcred.kafka.consumer import Position
from microcred.storage.positions import apply_at_position, apply_batch_at_positions, stored_position
from microcred.storage.slot_groups import queue_set_many
from services.issuer.audit.entries import audit_entry

PROJECTION = "audit"  # the default namespace
MAX_PAGE = 10_000


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


class RedisAuditLog:
    """Projection (``apply``) and query (``list``) of the agencies' audit trails."""

    def __init__(self, redis: Redis, namespace: str = PROJECTION) -> None:
        self._redis, self.namespace = redis, namespace

    async def position(self, topic: str, partition: int) -> int | None:
        """Where this projection resumes on ``topic/partition``."""
        return await stored_position(self._redis, self.namespace, topic, partition)

    def _write(self, pipe: Pipeline, entry: audit_pb2.AuditEntry | None) -> None:
        if entry is None or not entry.agency_id:
            return
        score = entry.occurred_at.seconds * 1_000_000 + entry.occurred_at.nanos // 1000
        pipe.set(f"{self.namespace}:entry:{entry.event_id}", entry.SerializeToString(deterministic=True))
        pipe.zadd(f"{self.namespace}:{entry.agency_id}", {entry.event_id: score})

    async def apply(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """Record the event's audit entry (if it is an audited action) together with its position."""
        entry = audit_entry(envelope, payload)
        await apply_at_position(self._redis, self.namespace, position, lambda pipe: self._write(pipe, entry))

    async def apply_batch(self, items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        """:meth:`apply` for a whole fetch, in one transaction with the positions (one per fetch, not per record:
        the projection follows every credential issued)."""
        entries = [audit_entry(envelope, payload) for envelope, payload, _ in items]

        def write(pipe: Pipeline, fresh: list[int]) -> None:
            # What _write queues per entry, as one MSET (SETs on a cluster) and one ZADD per agency for the whole
            # fetch: the issuer process projects every credential it issues, and redis-py's cost is per command,
            # not per key.
            values: dict[str, bytes] = {}
            scores: dict[str, dict[str, int]] = {}
            for i in fresh:
                entry = entries[i]
                if entry is None or not entry.agency_id:
                    continue
                values[f"{self.namespace}:entry:{entry.event_id}"] = entry.SerializeToString(deterministic=True)
                scores.setdefault(f"{self.namespace}:{entry.agency_id}", {})[entry.event_id] = (
                    entry.occurred_at.seconds * 1_000_000 + entry.occurred_at.nanos // 1000)
            queue_set_many(pipe, values)
            for key, members in scores.items():
                pipe.zadd(key, members)

        await apply_batch_at_positions(self._redis, self.namespace, [p for _, _, p in items], write)

    async def list(self, agency_id: str, since: datetime | None, until: datetime | None,
                   offset: int = 0, limit: int = 1000) -> tuple[list[audit_pb2.AuditEntry], int | None]:
        """Entries of ``agency_id`` in [since, until), oldest first; returns them and the next offset."""
        limit = max(1, min(limit, MAX_PAGE))
        low = _micros(since) if since else "-inf"
        high = f"({_micros(until)}" if until else "+inf"
        found = cast(list[bytes], await self._redis.zrangebyscore(f"{self.namespace}:{agency_id}", low, high,
                                                                  start=offset, num=limit + 1))
        more = len(found) > limit
        ids = [i.decode() for i in found[:limit]]
        keys = [f"{self.namespace}:entry:{i}" for i in ids]
        raw = cast(list[bytes | None], await self._redis.mget(keys) if keys else [])
        entries = []
        for blob in raw:
            if blob is not None:
                entry = audit_pb2.AuditEntry()
                entry.ParseFromString(blob)
                entries.append(entry)
        return entries, (offset + limit if more else None)
