"""RedisCredentialStore against a real Redis: pending records settle races, commits move them without resending."""

from __future__ import annotations

import uuid

import pytest

from microcred.lifecycle import connect_redis
from services.issuer.adapters.store import PENDING_TTL_SECONDS, RedisCredentialStore, cred_key, pending_key
from services.issuer.application.ports import StoreNotReady
from tests.conftest import Infrastructure

pytestmark = pytest.mark.integration


async def test_pending_first_writer_wins_and_commit_makes_it_permanent(infrastructure: Infrastructure) -> None:
    redis = await connect_redis(infrastructure.redis_url)
    prefix = f"st-{uuid.uuid4().hex[:8]}"
    store = RedisCredentialStore(redis, prefix)
    try:
        assert await store.lookup("uni", ["a", "b"]) == ({}, {})
        assert await store.put_pending("uni", {"a": b"first", "b": b"B"}) == {"a": b"first", "b": b"B"}
        assert await store.put_pending("uni", {"a": b"second"}) == {"a": b"first"}  # NX: the first one stays
        assert 0 < await redis.ttl(pending_key(prefix, "uni", "a")) <= PENDING_TTL_SECONDS
        assert await store.lookup("uni", ["a", "b", "c"]) == ({}, {"a": b"first", "b": b"B"})
        await redis.delete(pending_key(prefix, "uni", "b"))  # e.g. expired, or already recorded by the projection
        await store.commit("uni", {"a": b"first", "b": b"B"})
        assert await store.lookup("uni", ["a", "b"]) == ({"a": b"first", "b": b"B"}, {})
        assert await redis.ttl(cred_key(prefix, "uni", "a")) == -1  # permanent
        # a request that signed before "a" was recorded, but stores its pending record after: the issued one wins
        assert await store.put_pending("uni", {"a": b"late"}) == {"a": b"first"}
        assert await store.lookup("uni", ["a"]) == ({"a": b"first"}, {})
        assert await store.get("uni", "a") == b"first" and await store.get("other", "a") is None
    finally:
        await redis.aclose()


class Sentinel:
    """A Readiness whose token the test controls."""

    KEY = "epoch:store-test"

    def __init__(self) -> None:
        self.current: bytes | None = b"t1"

    def epoch_key(self, group: int) -> str:
        return self.KEY

    def token(self, group: int) -> bytes | None:
        return self.current


async def test_a_store_with_readiness_refuses_while_incomplete_or_wiped(infrastructure: Infrastructure) -> None:
    redis = await connect_redis(infrastructure.redis_url)
    prefix = f"st-{uuid.uuid4().hex[:8]}"
    sentinel = Sentinel()
    store = RedisCredentialStore(redis, prefix, sentinel)
    try:
        await redis.set(Sentinel.KEY, b"t1")
        assert await store.put_pending("uni", {"a": b"A"}) == {"a": b"A"}
        await store.commit("uni", {"a": b"A"})
        assert await store.get("uni", "a") == b"A" and await store.get("uni", "b") is None
        await redis.delete(Sentinel.KEY)  # Redis lost its data; the projection has not noticed yet
        for attempt in (store.lookup("uni", ["b"]), store.get("uni", "b"), store.put_pending("uni", {"b": b"B"})):
            with pytest.raises(StoreNotReady):
                await attempt
        sentinel.current = None  # the projection noticed and is rebuilding
        with pytest.raises(StoreNotReady):
            await store.lookup("uni", ["a"])
    finally:
        await redis.delete(Sentinel.KEY)
        await redis.aclose()
