"""Dead letters written once per (consumer group, source record), even when a replay meets the record again.

A consumer that cannot apply a record publishes it to ``microcred.deadletter.v1`` and goes on. The record stays
where it is on its own topic, so every replay of that topic (a Redis wipe, lost positions, a restart before a
later record moved the stored position) meets it again. Without a check each of those would add another dead
letter for the same record, and operators would see one poison record as several incidents.

:class:`DeadLetters` therefore

* keys every dead letter deterministically (:func:`dead_letter_key`: group, source topic, partition, offset),
  so even a copy that slips through (two members racing over one partition during a rebalance) is
  recognisable and a consumer of the dead-letter topic can deduplicate by key;
* before publishing, checks whether this group already dead-lettered that source record. Kafka is the
  source of truth here too: the check reads the dead-letter topic itself (headers ``consumer_group``,
  ``source_topic``, ``source_partition``, ``source_offset``, which older records carry as well), not Redis,
  because a Redis wipe is exactly what makes the replay meet the record again. The topic is read once, at
  the first poison record this runner meets (healthy consumers never pay for it), then followed
  incrementally, so a dead letter written meanwhile by another member of the group is seen too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

log = logging.getLogger(__name__)

Source = tuple[str, int, int]

#: How long one check may spend reading the dead-letter topic before it gives up and publishes anyway.
CATCH_UP_SECONDS = 60.0


def dead_letter_key(group: str, topic: str, partition: int, offset: int) -> bytes:
    """The dead-letter record key of ``topic/partition@offset`` as dead-lettered by consumer group ``group``."""
    return f"{group}/{topic}/{partition}/{offset}".encode()


def _source(headers: Mapping[str, bytes]) -> Source | None:
    try:
        return (headers["source_topic"].decode(), int(headers["source_partition"]), int(headers["source_offset"]))
    except (KeyError, ValueError):
        return None


class DeadLetters:
    """Publishes dead letters for one consumer group, skipping source records it already dead-lettered."""

    def __init__(self, bootstrap: str, group: str, topic: str, options: Mapping[str, Any] | None = None) -> None:
        self._bootstrap, self._group, self._topic = bootstrap, group, topic
        self._options = dict(options or {})
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, **self._options)
        self._reader: AIOKafkaConsumer | None = None
        self._seen: set[Source] = set()

    async def start(self) -> None:
        """Connect the producer."""
        await self._producer.start()

    async def stop(self) -> None:
        """Disconnect."""
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None
        await self._producer.stop()

    async def publish(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
                      reason: str) -> bool:
        """Dead-letter ``topic/partition@offset`` unless this group already did; True when published now."""
        source = (topic, partition, offset)
        if source in self._seen or source in await self._catch_up():
            log.info("record already dead-lettered", extra={"topic": topic, "partition": partition, "offset": offset})
            return False
        headers = [
            ("reason", reason.encode()), ("consumer_group", self._group.encode()),
            ("source_topic", topic.encode()), ("source_partition", str(partition).encode()),
            ("source_offset", str(offset).encode()),
        ]
        if key is not None:
            headers.append(("source_key", key))
        await self._producer.send_and_wait(self._topic, value, key=dead_letter_key(self._group, topic, partition,
                                                                                   offset), headers=headers)
        self._seen.add(source)
        return True

    async def _catch_up(self) -> set[Source]:
        """Read the dead-letter topic up to its current end (from where the last call stopped)."""
        if self._reader is None:
            self._reader = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None,
                                            enable_auto_commit=False, isolation_level="read_committed",
                                            **self._options)
            await self._reader.start()
            partitions = [TopicPartition(self._topic, p) for p in sorted(await self._producer.partitions_for(
                self._topic))]
            self._reader.assign(partitions)
            await self._reader.seek_to_beginning(*partitions)
        reader = self._reader
        ends = await reader.end_offsets(list(reader.assignment()))
        deadline = asyncio.get_running_loop().time() + CATCH_UP_SECONDS
        while [tp for tp, end in ends.items() if await reader.position(tp) < end]:
            if asyncio.get_running_loop().time() > deadline:
                # A duplicate dead letter (recognisable by its key) is better than a consumer that stops.
                log.warning("dead-letter topic not read to its end; not deduplicating this one")
                break
            batches = await reader.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    headers = {k: v for k, v in record.headers or ()}
                    source = _source(headers)
                    if source is not None and headers.get("consumer_group") == self._group.encode():
                        self._seen.add(source)
        return self._seen
