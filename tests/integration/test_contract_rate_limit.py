"""The shared token-bucket contract against RedisBucketStore on the real Redis, a single node and a 3-master
Redis Cluster (``redis_clients`` is parametrised over both), plus what only Redis shows: hash-tagged key names
without the client's address, and an expiry."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from services.verifier.adapters.rate_limit import RedisBucketStore, bucket_key
from services.verifier.api.rate_limit import BucketStore
from tests.contract.rate_limit import BucketStoreContract
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration


class TestRedisBucketStore(BucketStoreContract):
    @pytest.fixture
    async def replicas(self, redis_clients: RedisClients, unique: str) -> tuple[BucketStore, BucketStore]:
        # two clients (two connection pools), as two gateway replicas have
        return (RedisBucketStore(await redis_clients.new(), f"rl-{unique}"),
                RedisBucketStore(await redis_clients.new(), f"rl-{unique}"))


async def test_keys_are_hash_tagged_digests_that_expire(redis_clients: RedisClients, unique: str) -> None:
    redis = await redis_clients.new()
    store = RedisBucketStore(redis, f"rl-{unique}")
    assert await store.take("198.51.100.23", 0.5, 3) == 0.0
    keys = [key.decode() async for key in redis.scan_iter(match=f"rl-{unique}:*")]  # every node's, on a cluster
    assert keys == [bucket_key(f"rl-{unique}", "198.51.100.23")]
    tag = keys[0].split("{", 1)[1]
    assert tag.endswith("}") and len(tag) == 33 and "198.51.100.23" not in keys[0]
    assert 0 < await redis.pttl(keys[0]) <= 7000  # an empty bucket refills in 3 / 0.5 = 6 s (+ 1 s)


def test_the_digest_is_the_only_hash_tag() -> None:
    """A namespace written as a hash tag (a registry namespace on a cluster) does not gather every bucket in its
    slot: its braces are dropped."""
    store = RedisBucketStore(Redis(), "{verifier-registry}:ratelimit")
    key = bucket_key(store.namespace, "192.0.2.1")
    assert key.startswith("verifier-registry:ratelimit:{") and key.count("{") == 1
