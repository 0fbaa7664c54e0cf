"""Where a topic ends now, asked of the broker on a connection kept open (one ``ListOffsets`` request a call).

Used by the revocation service (read your writes) and the issuer's offer projection (its replay targets).

For read-your-writes checks: a service that does not find what a client was just answered for waits until its
projection has applied every record that was on the topic at that moment (:meth:`TopicEnds.last_records`),
then looks again. :func:`microcred.status.cache.topic_end_offsets` answers the same once, on a new connection.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from microcred.kafka.publisher import Published
from microcred.status.cache import topic_partitions

__all__ = ["TopicEnds"]


class TopicEnds:
    """The last record of each partition of one topic, on demand."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap, self._topic = bootstrap, topic
        # No group: this consumer never fetches, it only asks for offsets.
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                          isolation_level="read_committed")
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        """Learn the topic's partitions and connect."""
        self._partitions = await topic_partitions(self._bootstrap, [self._topic])
        await self._consumer.start()

    async def stop(self) -> None:
        """Close the connection."""
        await self._consumer.stop()

    async def ends(self) -> dict[int, int]:
        """Each partition's end offset (the offset the next record will get), now."""
        ends = await self._consumer.end_offsets(self._partitions)
        return {tp.partition: int(end) for tp, end in ends.items()}

    async def last_records(self) -> list[Published]:
        """Where the last record of each non-empty partition is, now."""
        return [Published(self._topic, partition, end - 1) for partition, end in sorted((await self.ends()).items())
                if end > 0]

    async def first_offsets_since(self, timestamp_ms: int) -> dict[int, int | None]:
        """Each partition's first offset whose record time is ``timestamp_ms`` or later (None: no such record)."""
        found = await self._consumer.offsets_for_times({tp: timestamp_ms for tp in self._partitions})
        return {tp.partition: None if hit is None else int(hit.offset) for tp, hit in found.items()}
