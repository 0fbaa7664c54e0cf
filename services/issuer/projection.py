"""Rebuilds the issuer's credential store from ``microcred.credentials.v1``.

The issuer writes an issued record right after Kafka acknowledged it; this projection writes the same record
from the topic, so that a crash between "published" and "recorded", or a lost Redis, is repaired by replay.
It applies whole batches per partition: all records and the batch's last position in one transaction
(:func:`microcred.storage.positions.apply_at_position`); the writes are idempotent (same key, same bytes),
so a batch replayed after a crash changes nothing. On every partition assignment it seeks to the position
stored with the data, or to the beginning when Redis has none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from google.protobuf.message import DecodeError
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.events.envelope import EventEnvelope
from microcred.kafka.consumer import Position
from microcred.kafka.topics import CREDENTIALS
from microcred.storage.positions import apply_at_position, stored_position
from services.issuer.store import cred_key, pending_key

__all__ = ["CredentialStoreProjection"]

log = logging.getLogger(__name__)
ISSUED = "CredentialIssued"
# KEYS: issued-record keys. Returns the 1-based numbers of those that do not exist.
_MISSING = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then out[#out + 1] = i end
end
return out
"""


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projection: CredentialStoreProjection) -> None:
        self._projection = projection

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        consumer = self._projection.consumer
        for tp in assigned:
            stored = await stored_position(self._projection.redis, self._projection.name, tp.topic, tp.partition)
            if stored is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, stored)


class CredentialStoreProjection:
    """``CredentialIssued`` records -> issued records (see :mod:`services.issuer.store`), pending ones dropped."""

    def __init__(self, bootstrap: str, redis: Redis, *, group_id: str, prefix: str = "issuer",
                 topic: str = CREDENTIALS.name) -> None:
        self.redis, self.name, self.topic, self._prefix = redis, f"{prefix}-credentials", topic, prefix
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
                                         auto_offset_reset="earliest", isolation_level="read_committed")
        self.applied = 0
        self._missing = redis.register_script(_MISSING)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Join the group and apply records in the background."""
        await self.consumer.start()
        self.consumer.subscribe([self.topic], listener=_SeekToStored(self))
        self._task = asyncio.create_task(self._run(), name="issuer-credential-store")

    async def stop(self) -> None:
        """Finish the current batch and leave the group."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        await self.consumer.stop()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=1000)
                for tp, records in batches.items():
                    await self._apply(tp, records)
                    await self.consumer.commit({tp: records[-1].offset + 1})
            except Exception as exc:  # Redis or Kafka hiccup: log, wait, continue from the stored position
                log.error("credential store projection failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)

    async def _apply(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        values: dict[str, bytes] = {}
        pending: list[str] = []
        for record in records:
            if record.value is None:
                continue
            try:
                envelope = EventEnvelope.FromString(record.value)
            except DecodeError:
                log.error("undecodable record skipped", extra={"partition": tp.partition, "offset": record.offset})
                continue
            if envelope.event_type != ISSUED or not envelope.issuer_id or not envelope.subject:
                continue
            values[cred_key(self._prefix, envelope.issuer_id, envelope.subject)] = record.value
            pending.append(pending_key(self._prefix, envelope.issuer_id, envelope.subject))

        if values:  # normally the issuer recorded them already: write only what is missing (no 10 kB resends)
            keys = list(values)
            missing = await self._missing(keys=keys)
            values = {keys[int(n) - 1]: values[keys[int(n) - 1]] for n in missing}

        def write(pipe: Pipeline) -> None:
            if values:
                pipe.mset(values)
            if pending:
                pipe.delete(*pending)

        if await apply_at_position(self.redis, self.name, Position(tp.topic, tp.partition, records[-1].offset),
                                   write):
            self.applied += len(values)
