"""The issuer's credential store and its projection on both Redis topologies (issue 24).

On the 3-master cluster the issued credentials spread over slot groups, each with its own Kafka positions and
epoch sentinel (:mod:`microcred.storage.slot_groups`). A topic of this test's own stands in for the credentials
topic. The projection records every credential, whichever group holds it; when one group loses its data (a
master restarted empty: its records, positions and sentinel gone) the store refuses there at once, the
projection notices, replays, and every credential is back, while the intact groups never stopped answering.
On the single node the same run loses everything (one group) and rebuilds it.
"""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.topics import TopicSpec, ensure_topics
from microcred.storage.slot_groups import SlotGroups
from services.issuer.adapters.store import RedisCredentialStore
from services.issuer.application.ports import PageCursor, StoreNotReady
from services.issuer.events.projection import CredentialStoreProjection
from tests.conftest import Infrastructure
from tests.harness.redis_cluster import RedisClients
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration

ISSUER = "uni-cluster"
GROUPS = 4


def _issued(n: int) -> tuple[str, bytes]:
    cid = f"urn:uuid:{uuid.uuid4()}"
    event = events_pb2.CredentialIssued(credential_id=cid, issuer_id=ISSUER, credential_json=f'{{"n":{n}}}')
    return cid, new_envelope(event, subject=cid, issuer_id=ISSUER).SerializeToString()


async def _delete_group(redis: Redis | RedisCluster, groups: SlotGroups, group: int) -> int:
    """What a master that restarted empty does to one group: its records, index, positions and sentinel gone."""
    tag = groups.key_prefix(group)
    keys = []
    for pattern in (f"{tag}:*", f"offsets:{tag}-*", f"epoch:{tag}-*"):
        keys += [key async for key in redis.scan_iter(match=pattern)]
    for key in keys:
        await redis.delete(key)
    return len(keys)


async def test_the_store_spreads_and_a_lost_group_is_rebuilt(infrastructure: Infrastructure,
                                                              redis_clients: RedisClients) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    redis = await redis_clients.new()
    topic, prefix = f"test.credentials.{uuid.uuid4().hex[:8]}", f"iss-cl-{uuid.uuid4().hex[:8]}"
    groups = SlotGroups.for_client(redis, prefix, GROUPS)
    await ensure_topics(bootstrap, topics=(TopicSpec(topic, 3, "credential id", "test"),))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    made = dict(_issued(n) for n in range(60))
    projection = CredentialStoreProjection(bootstrap, redis, prefix=groups, topic=topic)
    store = RedisCredentialStore(redis, groups, projection)
    try:
        for cid, value in made.items():
            await producer.send(topic, value, key=cid.encode())
        await producer.flush()
        await projection.start()
        assert await projection.wait_caught_up(60)

        async def all_recorded() -> bool:
            try:
                return (await store.lookup(ISSUER, list(made)))[0] == made
            except StoreNotReady:
                return False

        await eventually(all_recorded, 20, "the projection did not record every credential", interval=0.05)
        listed, _ = await store.page(ISSUER, PageCursor(), 100, None)
        assert sorted(listed) == sorted(made.values())
        if redis_clients.topology == "cluster":
            assert len(groups.split(made)) == GROUPS

        lost = groups.group_of(next(iter(made)))
        assert await _delete_group(redis, groups, lost) > 0
        in_lost = [c for c in made if groups.group_of(c) == lost]
        intact = [c for c in made if groups.group_of(c) != lost]
        with pytest.raises(StoreNotReady):  # at once, before the projection noticed: never "not issued"
            await store.lookup(ISSUER, in_lost)
        if intact:
            assert (await store.lookup(ISSUER, intact))[0] == {c: made[c] for c in intact}

        await eventually(all_recorded, 60, "the lost group was not rebuilt", interval=0.1)
        assert projection.watch.rebuilds >= 1
        listed, _ = await store.page(ISSUER, PageCursor(), 100, None)
        assert sorted(listed) == sorted(made.values())
    finally:
        await projection.stop()
        await producer.stop()
        for group in groups.groups:
            await _delete_group(redis, groups, group)
