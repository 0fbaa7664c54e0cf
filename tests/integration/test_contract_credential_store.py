"""The CredentialStore contract against RedisCredentialStore on the session's real Redis: on the single node (one
plain slot group, the keys as ever) and on the 3-master Redis Cluster (the records spread over tagged slot groups).
"""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from microcred.storage.slot_groups import SlotGroups
from services.issuer.adapters.store import Readiness, RedisCredentialStore
from services.issuer.application.ports import CredentialStore, PageCursor, StoreNotReady
from tests.contract.credential_store import UNI, CredentialStoreContract, Sentinel, StoreHarness, record
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration

#: Groups on the test cluster: few enough that a handful of credentials fills several, more than one per master.
CLUSTER_GROUPS = 4


class RedisHarness:
    """RedisCredentialStore under a key prefix of its own (the sentinels live under it too)."""

    def __init__(self, redis: Redis | RedisCluster) -> None:
        self.redis = redis
        prefix = f"contract-{uuid.uuid4().hex[:10]}"
        self.groups = (SlotGroups(prefix) if isinstance(redis, Redis)
                       else SlotGroups(prefix, CLUSTER_GROUPS, tagged=True))

    def epoch_key(self, group: int) -> str:
        return f"{self.groups.key_prefix(group)}:epoch"

    def store(self, readiness: Readiness | None = None) -> CredentialStore:
        return RedisCredentialStore(self.redis, self.groups, readiness)

    async def write_epoch(self, token: bytes) -> None:
        for group in self.groups.groups:
            await self.redis.set(self.epoch_key(group), token)

    async def keys(self, group: int | None = None) -> list[bytes]:
        """Every key of the store (of one group)."""
        groups = self.groups.groups if group is None else [group]
        return [key for g in groups async for key in self.redis.scan_iter(match=f"{self.groups.key_prefix(g)}:*")]

    async def lose_data(self, group: int | None = None) -> None:
        keys = await self.keys(group)
        assert keys  # there was something to lose
        for key in keys:  # one by one: on a cluster they are in several slots
            await self.redis.delete(key)


class TestRedisCredentialStore(CredentialStoreContract):
    @pytest.fixture
    async def harness(self, redis_clients: RedisClients) -> StoreHarness:
        return RedisHarness(await redis_clients.new())


async def test_the_records_spread_over_the_cluster(redis_clients: RedisClients) -> None:
    """On the cluster, an issuer's credentials land in several slot groups on more than one master, and a listing
    merges them in issue-time order; on the single node everything keeps the plain prefix."""
    harness = RedisHarness(await redis_clients.new())
    store = harness.store()
    made = {f"c{i:02}": record(f"c{i:02}", seconds=i) for i in range(40)}
    await store.commit(UNI, made)
    listed: list[bytes] = []
    cursor: PageCursor | None = PageCursor()
    while cursor is not None:
        page, cursor = await store.page(UNI, cursor, 7, None)
        listed += page
    assert listed == [made[c] for c in sorted(made, reverse=True)]
    keys = await harness.keys()
    if redis_clients.topology == "single":
        assert all(key.startswith(f"{harness.groups.prefix}:".encode()) for key in keys)
        return
    used = {g for g in harness.groups.groups if await harness.keys(g)}
    assert len(used) == CLUSTER_GROUPS
    cluster = harness.redis
    assert isinstance(cluster, RedisCluster)
    masters = {node.name for key in keys if (node := cluster.get_node_from_key(key.decode())) is not None}
    assert len(masters) > 1


async def test_a_lost_slot_group_refuses_and_the_others_answer(redis_clients: RedisClients) -> None:
    """A cluster master that restarted empty loses some groups only: lookups there refuse (never "not issued"),
    and so does a listing (it would miss credentials), while the intact groups answer."""
    harness = RedisHarness(await redis_clients.new())
    store = harness.store(Sentinel(harness))
    await harness.write_epoch(b"epoch-1")
    made = {f"c{i:02}": record(f"c{i:02}") for i in range(20)}
    await store.put_pending(UNI, made)
    await store.commit(UNI, made)
    lost = harness.groups.group_of("c00")
    await harness.lose_data(lost)
    with pytest.raises(StoreNotReady):
        await store.lookup(UNI, ["c00"])
    with pytest.raises(StoreNotReady):
        await store.page(UNI, PageCursor(), 50, None)
    intact = [c for c in made if harness.groups.group_of(c) != lost]
    if redis_clients.topology == "cluster":
        assert intact  # 20 ids over 4 groups
        assert await store.lookup(UNI, intact) == ({c: made[c] for c in intact}, {})
    else:
        assert not intact  # one group: everything was lost
