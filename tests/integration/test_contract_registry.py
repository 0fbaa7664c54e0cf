"""The registry read-model contract against RedisRegistry on the real Redis, plus what only Redis has to show.

Each test runs on the single node and on the 3-master Redis Cluster (``redis_clients``). On the cluster the
namespace is a hash tag (``{test-registry-...}``), so that every key of the read model and its stored Kafka
positions (``offsets:{ns}:{topic}``) are in one slot and the projection's ``MULTI`` is allowed (docs/redis-keys.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import new_envelope
from microcred.kafka.consumer import Position
from microcred.registry.ports import RegistryReader
from microcred.registry.redis_registry import RedisRegistry
from tests.contract.registry import (
    T0,
    Harness,
    MemoryHarness,
    RegistryContract,
    accredited,
    agency_registered,
    issuer_registered,
    later,
    rotated,
)
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration
TOPIC = "microcred.registry.v1"


class RedisHarness:
    """RedisRegistry fed through its ConsumerRunner handler, one synthetic Kafka position per event."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.registry = RedisRegistry(redis, namespace)
        self.reader: RegistryReader = self.registry
        self.offset = 0

    async def feed(self, payload: Message, at: datetime) -> None:
        await self.registry.handle(new_envelope(payload, occurred_at=at), payload, Position(TOPIC, 0, self.offset))
        self.offset += 1

    async def feed_at(self, payload: Message, at: datetime, offset: int) -> None:
        await self.registry.handle(new_envelope(payload, occurred_at=at), payload, Position(TOPIC, 1, offset))

    async def dump(self) -> dict[str, Any]:
        return await self.registry.dump()


def namespace(clients: RedisClients, unique: str) -> str:
    """The test's namespace: plain on the single node, a hash tag on the cluster (one slot for the read model)."""
    return f"{{test-registry-{unique}}}" if clients.topology == "cluster" else f"test-registry-{unique}"


class TestRedisRegistry(RegistryContract):
    @pytest.fixture
    async def harness(self, redis_clients: RedisClients, unique: str) -> Harness:
        redis: Any = await redis_clients.new()
        return RedisHarness(redis, namespace(redis_clients, unique))


async def test_redis_and_memory_read_models_agree(redis_clients: RedisClients, unique: str) -> None:
    events = [agency_registered(), issuer_registered(), issuer_registered("uni-b"), accredited(),
              rotated(retired_at=later(30)), accredited("uni-b", "acc-9", max_eqf=7, valid_until=later(999))]
    redis: Any = await redis_clients.new()
    memory, stored = MemoryHarness(), RedisHarness(redis, namespace(redis_clients, unique))
    for i, event in enumerate(events):
        await memory.feed(event, later(i))
        await stored.feed(event, later(i))
    assert await stored.dump() == await memory.dump()
    assert (await stored.dump())["method_index"]  # indexes are part of the comparison


async def test_a_record_at_or_before_the_stored_position_is_skipped(redis_clients: RedisClients, unique: str) -> None:
    redis: Any = await redis_clients.new()
    registry = RedisRegistry(redis, namespace(redis_clients, unique))
    for offset, event in enumerate([agency_registered(), issuer_registered(), accredited()]):
        await registry.handle(new_envelope(event, occurred_at=T0), event, Position(TOPIC, 1, offset))
    assert await registry.positions() == {1: 3}
    before = await registry.dump()
    # Same offset, different content: a replayed position is never applied again.
    withdrawal = accredited(accreditation_id="acc-other")
    await registry.handle(new_envelope(withdrawal, occurred_at=T0), withdrawal, Position(TOPIC, 1, 2))
    assert await registry.dump() == before
    assert await registry.stored_position(TOPIC, 1) == 3


async def test_decoding_clients_are_refused(redis_clients: RedisClients) -> None:
    client: Any = await redis_clients.new(decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisRegistry(client)
