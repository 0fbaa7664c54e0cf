"""The registry projection: ``microcred.registry.v1`` -> :class:`~microcred.registry.redis_registry.RedisRegistry`.

Used by the issuer service (to enforce accreditation at issuance) and the verifier (to report accreditation and
serve did:web documents)::

    projection = await start_registry_projection(settings.kafka_bootstrap, redis, group_id="issuer-registry")
    reader = projection.registry          # a RegistryReader
    ...
    await projection.stop()

With an empty Redis the runner starts from the beginning of the topic, so the read model is rebuilt by replay;
a Redis emptied while the projection runs is noticed within a second (:class:`ProjectionEpoch`) and rebuilt
the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis

from microcred.kafka.consumer import ConsumerRunner
from microcred.kafka.topics import REGISTRY
from microcred.registry.redis_registry import RedisRegistry
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
        self._task: asyncio.Task[None] | None = None

    async def available(self) -> bool:
        """False while the read model is lost (Redis wiped) or being rebuilt: an empty answer then means
        "not known yet", not "not registered", and callers should answer UNAVAILABLE rather than deny."""
        return await self.guard.ready() is not None

    @property
    def running(self) -> bool:
        """True while the consumer loop runs."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Join the consumer group and start applying records in the background (idempotent)."""
        if self._task is not None:
            return
        await self.runner.start()
        self._task = asyncio.create_task(self.runner.run(), name=f"registry-projection-{self.registry.namespace}")
        self._task.add_done_callback(self._report_end)

    async def stop(self) -> None:
        """Finish the current batch, leave the group and wait for the loop to end."""
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


async def start_registry_projection(bootstrap: str, redis: Redis, group_id: str, *, namespace: str = "registry",
                                    topic: str = REGISTRY.name) -> RegistryProjection:
    """Create and start the registry projection; ``projection.registry`` is the read side."""
    projection = RegistryProjection(bootstrap, redis, group_id, namespace, topic)
    await projection.start()
    return projection
