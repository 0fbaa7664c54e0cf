"""The registry projection: ``microcred.registry.v1`` -> :class:`~microcred.registry.redis_registry.RedisRegistry`.

Used by the issuer service (to enforce accreditation at issuance) and the verifier (to report accreditation and
serve did:web documents)::

    projection = await start_registry_projection(settings.kafka_bootstrap, redis, group_id="issuer-registry")
    reader = projection.registry          # a RegistryReader
    ...
    await projection.stop()

With an empty Redis the runner starts from the beginning of the topic, so the read model is rebuilt by replay;
a Redis emptied while the projection runs is noticed within a second (:class:`ProjectionEpoch`) and rebuilt
the same way. :meth:`RegistryProjection.available` says whether the read model can be trusted right now: not
while it is lost or being rebuilt, and not before it has applied what the topic held when it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import TopicPartition
from redis.asyncio import Redis

from microcred.kafka.consumer import ConsumerRunner
from microcred.kafka.topics import REGISTRY
from microcred.registry.redis_registry import RedisRegistry
from microcred.status.cache import topic_end_offsets
from microcred.storage.positions import ProjectionEpoch

log = logging.getLogger(__name__)


class RegistryProjection:
    """A :class:`ConsumerRunner` feeding a :class:`RedisRegistry`, run as a background task."""

    def __init__(self, bootstrap: str, redis: Redis, group_id: str, namespace: str = "registry",
                 topic: str = REGISTRY.name) -> None:
        self.registry = RedisRegistry(redis, namespace)
        self.topic = topic
        self.guard = ProjectionEpoch(redis, namespace)
        self.runner = ConsumerRunner(bootstrap, group_id, [topic], self.registry.handle,
                                     self.registry.stored_position, guard=self.guard)
        self._bootstrap = bootstrap
        self._task: asyncio.Task[None] | None = None
        self._ends: asyncio.Task[dict[TopicPartition, int]] | None = None
        self._behind: dict[int, int] | None = None  # partition -> end offset at start, until applied

    async def available(self) -> bool:
        """False while the read model is lost (Redis wiped), being rebuilt, or has not yet applied what the topic
        held when the projection started: an empty answer then means "not known yet", not "not registered",
        and callers should answer UNAVAILABLE rather than deny. Call it *after* reading, so that what was read
        is known to come from a whole read model."""
        return await self.guard.ready() is not None and await self._caught_up()

    async def wait_available(self, timeout: float, interval: float = 0.05) -> bool:
        """Wait until :meth:`available` (False when ``timeout`` seconds pass first)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self.available():
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(interval)
        return True

    async def _caught_up(self) -> bool:
        """Whether the stored positions (shared by every member of the group) reached the start's end offsets."""
        if self._behind is None:
            if self._ends is None or self._ends.cancelled():  # not started, failed before, or stopped
                self._ends = asyncio.create_task(topic_end_offsets(self._bootstrap, [self.topic]))
            try:
                ends = await asyncio.shield(self._ends)
            except Exception as exc:  # Kafka unreachable: not known, so not available; ask again next time
                log.warning("registry end offsets unavailable", extra={"error": repr(exc)})
                self._ends = None
                return False
            self._behind = {tp.partition: end for tp, end in ends.items() if end > 0}
        if self._behind:
            applied = await self.registry.positions(self.topic)
            self._behind = {p: end for p, end in self._behind.items() if applied.get(p, 0) < end}
        return not self._behind

    @property
    def running(self) -> bool:
        """True while the consumer loop runs."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Join the consumer group and start applying records in the background (idempotent)."""
        if self._task is not None:
            return
        # The end offsets "caught up" is measured against, taken now but not waited for (the answer is needed
        # only by the first available() call).
        self._ends = asyncio.create_task(topic_end_offsets(self._bootstrap, [self.topic]))
        self._ends.add_done_callback(_retrieved)  # a failure is reported by available(), never as "not retrieved"
        await self.runner.start()
        self._task = asyncio.create_task(self.runner.run(), name=f"registry-projection-{self.registry.namespace}")
        self._task.add_done_callback(self._report_end)

    async def stop(self) -> None:
        """Finish the current batch, leave the group and wait for the loop to end."""
        if self._ends is not None and not self._ends.done():
            self._ends.cancel()
        if self._task is None:
            return
        await self.runner.stop()
        with contextlib.suppress(Exception):  # a crash was already logged by _report_end
            await self._task
        self._task = None

    def _report_end(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("registry projection stopped with an error",
                      extra={"namespace": self.registry.namespace, "error": repr(task.exception())})


def _retrieved(task: asyncio.Task[dict[TopicPartition, int]]) -> None:
    if not task.cancelled():
        task.exception()


async def start_registry_projection(bootstrap: str, redis: Redis, group_id: str, *, namespace: str = "registry",
                                    topic: str = REGISTRY.name) -> RegistryProjection:
    """Create and start the registry projection; ``projection.registry`` is the read side."""
    projection = RegistryProjection(bootstrap, redis, group_id, namespace, topic)
    await projection.start()
    return projection
