"""The registry projection says "available" only for a whole read model: caught up since start, not lost.

A command side (the issuer) asks ``available()`` after reading, and answers UNAVAILABLE instead of "not
registered" when the answer is no; here the projection itself is checked on the session's Kafka and Redis.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import REGISTRY
from microcred.lifecycle import one_slot
from microcred.registry.projector import RegistryProjection
from microcred.storage.positions import epoch_key
from tests.conftest import Infrastructure
from tests.fixtures.issuer.world import agency_event, envelopes

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]


async def _until_available(projection: RegistryProjection, timeout: float = 180.0) -> None:
    """Wait until the projection says it is available. A rebuild replays the whole registry topic, which the
    suite's earlier modules have filled by then (a CI run took longer than the 30 s this waited before)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await projection.available():
        assert asyncio.get_running_loop().time() < deadline, f"not available within {timeout:g} s"
        await asyncio.sleep(0.1)


async def test_available_only_once_caught_up_and_not_while_lost(infrastructure: Infrastructure,
                                                                redis: Redis) -> None:
    agency = f"avail-{uuid.uuid4().hex[:8]}"
    publisher = KafkaEventPublisher(infrastructure.kafka_bootstrap)
    await publisher.start()
    try:
        await publisher.publish_many(REGISTRY.name, envelopes([agency_event(agency)]))
    finally:
        await publisher.stop()
    namespace = one_slot(redis, f"registry-avail-{uuid.uuid4().hex[:8]}")  # as the services lay it out
    projection = RegistryProjection(infrastructure.kafka_bootstrap, redis, namespace, namespace=namespace)
    try:
        # The state is adopted (sentinel in place) but nothing is replayed yet (the consumer is not running):
        # an empty read model must not pass for "nobody is registered".
        await projection.guard.open()
        assert not await projection.available()
        await projection.start()
        await _until_available(projection)
        assert await projection.registry.get_agency(agency) is not None  # caught up means this is in

        await redis.delete(epoch_key(namespace))  # Redis lost the state; the runner has not noticed yet
        assert not await projection.available()
        await _until_available(projection)
        assert projection.runner.rebuilds == 1
    finally:
        await projection.stop()
        keys = [k for p in (f"{namespace}:*", f"offsets:{namespace}:*") async for k in redis.scan_iter(match=p)]
        await redis.delete(*keys, epoch_key(namespace))
