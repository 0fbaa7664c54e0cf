"""The shared token-bucket contract against RedisBucketStore on the real Redis, plus what only Redis shows:
hash-tagged key names without the client's address, and an expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.verifier.adapters.rate_limit import RedisBucketStore, bucket_key
from services.verifier.api.rate_limit import BucketStore
from tests.conftest import Infrastructure
from tests.contract.rate_limit import BucketStoreContract

pytestmark = pytest.mark.integration


class TestRedisBucketStore(BucketStoreContract):
    @pytest.fixture
    async def replicas(self, infrastructure: Infrastructure, unique: str
                       ) -> AsyncIterator[tuple[BucketStore, BucketStore]]:
        one, two = Redis.from_url(infrastructure.redis_url), Redis.from_url(infrastructure.redis_url)
        try:  # two clients (two connection pools), as two gateway replicas have
            yield RedisBucketStore(one, f"rl-{unique}"), RedisBucketStore(two, f"rl-{unique}")
        finally:
            await one.aclose()
            await two.aclose()


async def test_keys_are_hash_tagged_digests_that_expire(redis: Redis, unique: str) -> None:
    store = RedisBucketStore(redis, f"rl-{unique}")
    assert await store.take("198.51.100.23", 0.5, 3) == 0.0
    keys = [key.decode() async for key in redis.scan_iter(match=f"rl-{unique}:*")]
    assert keys == [bucket_key(f"rl-{unique}", "198.51.100.23")]
    tag = keys[0].split("{", 1)[1]
    assert tag.endswith("}") and len(tag) == 33 and "198.51.100.23" not in keys[0]
    assert 0 < await redis.pttl(keys[0]) <= 7000  # an empty bucket refills in 3 / 0.5 = 6 s (+ 1 s)
