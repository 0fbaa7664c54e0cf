"""The CredentialStore contract against RedisCredentialStore on the session's real Redis."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from services.issuer.adapters.store import Readiness, RedisCredentialStore
from services.issuer.application.ports import CredentialStore
from tests.contract.credential_store import CredentialStoreContract, StoreHarness

pytestmark = pytest.mark.integration


class RedisHarness:
    """RedisCredentialStore under a key prefix of its own (the sentinel lives under it too)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.prefix = f"contract-{uuid.uuid4().hex[:10]}"
        self.epoch_key = f"{self.prefix}:epoch"

    def store(self, readiness: Readiness | None = None) -> CredentialStore:
        return RedisCredentialStore(self.redis, self.prefix, readiness)

    async def write_epoch(self, token: bytes) -> None:
        await self.redis.set(self.epoch_key, token)

    async def lose_data(self) -> None:
        keys = [key async for key in self.redis.scan_iter(match=f"{self.prefix}:*")]
        assert keys  # there was something to lose
        await self.redis.delete(*keys)


class TestRedisCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def harness(self, redis: Redis) -> StoreHarness:
        return RedisHarness(redis)
