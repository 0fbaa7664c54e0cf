"""Read what is on a Kafka topic: the one topic reader of the tests.

:func:`read_topic` reads every partition of a topic from a start position (default: the beginning) up to the
end offsets taken when it is called, with a group-less consumer that commits nothing, so the groups under test
never see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import NamedTuple

from aiokafka import AIOKafkaConsumer, TopicPartition

from microcred.status.cache import topic_end_offsets

__all__ = ["Record", "end_offsets", "read_topic"]


class Record(NamedTuple):
    """One record read from a topic (unpacks as ``partition, offset, key, value, headers``)."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> end offset of ``topic``."""
    ends = await topic_end_offsets(bootstrap, [topic])
    return {tp.partition: int(offset) for tp, offset in ends.items()}


async def read_topic(bootstrap: str, topic: str, start: Mapping[int, int] | None = None,
                     timeout: float = 120.0) -> list[Record]:
    """Every record of ``topic`` from ``start`` (partition -> offset; a partition it does not name is read from
    its beginning) to the end offsets of now, in partition order; AssertionError after ``timeout`` seconds."""
    start = start or {}
    ends = await end_offsets(bootstrap, topic)
    out: list[Record] = []
    tps = [TopicPartition(topic, p) for p in sorted(ends)]
    todo = {tp for tp in tps if ends[tp.partition] > start.get(tp.partition, 0)}
    if not todo:
        # Nothing new: no consumer (aiokafka raises CancelledError when one is stopped right after its start).
        return out
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    try:
        consumer.assign(list(todo))
        for tp in todo:
            if tp.partition in start:
                consumer.seek(tp, start[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + timeout
        while todo:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end within {timeout}s")
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batches.items():
                out += [Record(tp.partition, r.offset, r.key, r.value, dict(r.headers or ()))
                        for r in records if r.offset < ends[tp.partition]]
            # By position, not by the last offset seen: a compacted topic may have no record at end - 1.
            todo = {tp for tp in todo if await consumer.position(tp) < ends[tp.partition]}
    finally:
        with contextlib.suppress(asyncio.CancelledError):  # aiokafka's group-less coordinator, on close
            await consumer.stop()
    out.sort(key=lambda r: (r.partition, r.offset))
    return out
