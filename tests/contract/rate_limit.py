"""One contract for every store of the gateway's shared token buckets (``services.verifier.api.rate_limit``).

:class:`BucketStoreContract` runs against the in-memory twin (``tests/unit/test_contract_rate_limit.py``) and
against :class:`~services.verifier.adapters.rate_limit.RedisBucketStore` on the real single-node Redis and on a
3-master Redis Cluster (``tests/integration/test_contract_rate_limit.py``). A test class provides ``replicas``:
two stores over the same buckets, as two gateway replicas see them (for Redis: two separate clients).
"""

from __future__ import annotations

import asyncio
import uuid

from services.verifier.api.rate_limit import BucketStore

__all__ = ["BucketStoreContract"]


def client() -> str:
    """A client key no other test uses (an address-like string)."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


async def warm(replicas: tuple[BucketStore, BucketStore]) -> None:
    """One take on each store (connections open, script loaded), so that timed steps measure the bucket only."""
    for store in replicas:
        await store.take(client(), 1.0, 1)


class BucketStoreContract:
    """What every bucket store answers; ``replicas`` is a fixture of two stores sharing their buckets."""

    async def test_a_full_bucket_gives_burst_tokens_then_says_how_long_to_wait(
            self, replicas: tuple[BucketStore, BucketStore]) -> None:
        store, _ = replicas
        who = client()
        assert [await store.take(who, 0.01, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
        wait = await store.take(who, 0.01, 3)
        assert 99.0 < wait <= 100.0  # one token at 0.01 a second, minus the little time that passed

    async def test_each_client_has_its_own_bucket(self, replicas: tuple[BucketStore, BucketStore]) -> None:
        store, _ = replicas
        first, second = client(), client()
        assert await store.take(first, 0.01, 1) == 0.0
        assert await store.take(first, 0.01, 1) > 0
        assert await store.take(second, 0.01, 1) == 0.0

    async def test_replicas_share_one_bucket(self, replicas: tuple[BucketStore, BucketStore]) -> None:
        one, two = replicas
        who = client()
        taken = [await (one if i % 2 else two).take(who, 0.001, 4) for i in range(10)]
        assert taken[:4] == [0.0] * 4 and all(w > 0 for w in taken[4:])

    async def test_concurrent_takes_from_both_replicas_never_exceed_the_burst(
            self, replicas: tuple[BucketStore, BucketStore]) -> None:
        one, two = replicas
        who = client()
        waits = await asyncio.gather(*[(one if i % 2 else two).take(who, 0.001, 10) for i in range(60)])
        assert sum(1 for w in waits if w == 0.0) == 10

    async def test_tokens_come_back_at_the_rate(self, replicas: tuple[BucketStore, BucketStore]) -> None:
        one, two = replicas
        await warm(replicas)
        who = client()
        assert await one.take(who, 2.0, 1) == 0.0
        wait = await two.take(who, 2.0, 1)
        assert 0 < wait <= 0.5  # (0 only if the machine stalled half a second between the two)
        await asyncio.sleep(wait + 0.002)  # the wait it said is enough (a loaded machine only sleeps longer)
        assert await one.take(who, 2.0, 1) == 0.0

    async def test_refill_stops_at_the_burst(self, replicas: tuple[BucketStore, BucketStore]) -> None:
        one, two = replicas
        await warm(replicas)
        who = client()
        assert await one.take(who, 1.0, 2) == 0.0
        await asyncio.sleep(2.5)  # 2.5 tokens' worth of time, but the bucket holds two
        waits = await asyncio.gather(one.take(who, 1.0, 2), two.take(who, 1.0, 2), one.take(who, 1.0, 2))
        # the third finds at most what 1 token a second refilled since the first (well under a second apart)
        assert sorted(waits)[:2] == [0.0, 0.0] and sorted(waits)[2] > 0, waits
