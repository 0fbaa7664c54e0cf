"""The learner data-key store on a real Kafka and Redis: created once, reloaded after a Redis wipe, and a
destroyed key gone from every log segment file of its topic within the bound its compaction settings give.

The cache's behaviour runs on a single Redis node and on a 3-master Redis Cluster (``redis_clients``); the
segment-file bound (Kafka's side, a minute of waiting) on the single node only."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot

from microcred.kafka.topics import LEARNER_KEYS, ensure_topics
from microcred.lifecycle import RedisClient
from microcred.privacy.datakeys import new_data_key
from microcred.privacy.kafka_datakeys import KafkaDataKeys
from microcred.privacy.wrapping import AesGcmKeyWrapper
from microcred.status.cache import topic_end_offsets
from tests.conftest import Infrastructure
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.timeout(240)

# The production settings (microcred.kafka.topics.LEARNER_KEYS) with the hour-long times scaled to seconds; the
# broker's own log.cleaner.backoff.ms stays at Kafka's default (15 s), as in production.
FAST = {**LEARNER_KEYS.config, "segment.ms": "2000", "max.compaction.lag.ms": "2000",
        "file.delete.delay.ms": "1000", "delete.retention.ms": "1000"}
CLEANER_BACKOFF_S = 15.0
NUDGE_S = 1.0


def bound_seconds(config: dict[str, str]) -> float:
    """docs/privacy.md's erasure bound: roll (max of the roll deadline and the lag, plus one nudge interval),
    the cleaner's next pass, the delayed file deletion, and a margin for the cleaning itself."""
    roll = max(int(config["segment.ms"]), int(config["max.compaction.lag.ms"])) / 1000 + NUDGE_S
    return roll + CLEANER_BACKOFF_S + int(config["file.delete.delay.ms"]) / 1000 + 30.0


def topic_files(infrastructure: Infrastructure, topic: str) -> list[Path]:
    assert infrastructure.kafka is not None, "this test reads the broker's log directory: run it on its own Kafka"
    files = []
    for node in infrastructure.kafka.members:
        files += [f for d in (node.directory / "data").glob(f"{topic}-*") for f in d.iterdir() if f.is_file()]
    return files


def holding(files: list[Path], needle: bytes) -> list[Path]:
    found = []
    for f in files:
        try:
            if needle in f.read_bytes():
                found.append(f)
        except FileNotFoundError:  # deleted by the cleaner while we looked
            continue
    return found


@pytest.fixture
async def client(redis_clients: RedisClients) -> RedisClient:
    """The Redis the store caches in: the single node, then the cluster."""
    return await redis_clients.new()


@pytest.fixture
async def keys(infrastructure: Infrastructure, client: RedisClient, unique: str) -> KafkaDataKeys:
    store = await _started(infrastructure, client, unique)
    yield store  # type: ignore[misc]
    await store.stop()


@pytest.fixture
async def single_node_keys(infrastructure: Infrastructure, redis: Redis, unique: str) -> KafkaDataKeys:
    store = await _started(infrastructure, redis, unique)
    yield store  # type: ignore[misc]
    await store.stop()


async def _started(infrastructure: Infrastructure, redis: RedisClient, unique: str) -> KafkaDataKeys:
    spec = replace(LEARNER_KEYS, name=f"{unique}.learnerkeys", partitions=2, config=FAST)
    await ensure_topics(infrastructure.kafka_bootstrap, topics=(spec,))
    for _ in range(100):  # a new topic's metadata reaches the broker's cache a moment after its creation
        try:
            await topic_end_offsets(infrastructure.kafka_bootstrap, [spec.name])
            break
        except RuntimeError:
            await asyncio.sleep(0.1)
    store = KafkaDataKeys(infrastructure.kafka_bootstrap, redis, AesGcmKeyWrapper(bytes(range(32))),
                          topic=spec.name, prefix=f"privacy-{unique}")
    await store.start()
    return store


async def test_keys_survive_a_redis_wipe_and_a_destroyed_key_stays_destroyed(keys: KafkaDataKeys,
                                                                            client: RedisClient) -> None:
    learners = [f"lp_{i}" for i in range(40)]  # in many slots, on every master of a cluster
    made = await keys.ensure(["lp_a", "lp_b", *learners])
    assert (await keys.ensure(["lp_a"]))["lp_a"] == made["lp_a"]
    assert await keys.destroy("lp_b")
    prefix = keys.sentinel.split(":")[0]
    # the cache is lost (this store's keys, on every node): the next call reloads it from Kafka
    await client.delete(*[k async for k in client.scan_iter(match=f"{prefix}:dk:*")])
    again = await keys.get(["lp_a", "lp_b", "lp_c", *learners])
    assert again == {"lp_a": made["lp_a"], **{p: made[p] for p in learners}}
    assert await client.exists(keys.sentinel)
    assert not await keys.destroy("lp_c")
    # lost again, and the next call creates keys: the cache is reloaded first, so a learner keeps its key
    await client.delete(*[k async for k in client.scan_iter(match=f"{prefix}:dk:*")])
    ensured = await keys.ensure(["lp_a", "lp_new", *learners])
    assert {p: ensured[p] for p in ["lp_a", *learners]} == {"lp_a": made["lp_a"], **{p: made[p] for p in learners}}
    assert ensured["lp_new"] not in made.values() and await client.exists(keys.sentinel)


async def test_concurrent_creators_agree_on_one_key(keys: KafkaDataKeys, infrastructure: Infrastructure,
                                                    redis_clients: RedisClients) -> None:
    other = KafkaDataKeys(infrastructure.kafka_bootstrap, await redis_clients.new(), AesGcmKeyWrapper(bytes(range(32))),
                          topic=keys.topic, prefix=keys.sentinel.split(":")[0])
    await other.start()
    try:
        first, second = await asyncio.gather(keys.ensure(["lp_x"]), other.ensure(["lp_x"]))
        assert first["lp_x"] == second["lp_x"]
    finally:
        await other.stop()


async def test_a_destroyed_key_leaves_every_segment_file_within_the_bound(
        single_node_keys: KafkaDataKeys, redis: Redis, infrastructure: Infrastructure) -> None:
    keys = single_node_keys
    pseudonym = "lp_" + secrets.token_hex(32)
    await keys.ensure([pseudonym])
    cached = bytes(await redis.get(f"{keys.sentinel.split(':')[0]}:dk:{{{pseudonym}}}"))
    assert cached[:1] == b"O"  # on Kafka, at its offset (20 digits), then the wrapped key
    wrapped = cached[21:]
    files = topic_files(infrastructure, keys.topic)
    deadline = time.monotonic() + 20
    while not holding(files, wrapped):  # the broker writes the record out within moments
        assert time.monotonic() < deadline, "the wrapped key never reached a segment file"
        await asyncio.sleep(0.2)
        files = topic_files(infrastructure, keys.topic)
    assert await keys.destroy(pseudonym)
    destroyed = time.monotonic()
    bound = bound_seconds(FAST)
    while holding(topic_files(infrastructure, keys.topic), wrapped):
        assert time.monotonic() - destroyed < bound, f"the destroyed key is still on disk after {bound:.0f}s"
        await keys.nudge()  # the key store's roll_nudger, at NUDGE_S
        await asyncio.sleep(NUDGE_S)
    took = time.monotonic() - destroyed
    print(f"destroyed key gone from every segment file after {took:.1f}s (bound {bound:.0f}s)")
    assert await keys.get([pseudonym]) == {}


async def test_a_reload_that_read_a_key_before_its_tombstone_does_not_restore_it(keys: KafkaDataKeys,
                                                                                 client: RedisClient) -> None:
    redis = client
    prefix = keys.sentinel.split(":")[0]
    made = await keys.ensure(["lp_r", "lp_s"])
    # What a destroy leaves in Redis while a reload is still replaying records written before its tombstone.
    await redis.delete(f"{prefix}:dk:{{lp_r}}")
    await redis.set(f"{prefix}:dk-gone:{{lp_r}}", b"1")
    await keys.load()  # the topic still holds lp_r's record (no tombstone was written in this simulation)
    assert await keys.get(["lp_r", "lp_s"]) == {"lp_s": made["lp_s"]}
    # A new key for the same learner (a credential issued after the erasure) lifts the marker.
    newer = await keys.ensure(["lp_r"])
    assert newer["lp_r"] != made["lp_r"] and not await redis.exists(f"{prefix}:dk-gone:{{lp_r}}")
    await redis.delete(keys.sentinel)
    assert await keys.get(["lp_r"]) == newer  # reloaded from the topic: the newest record


async def test_a_service_on_another_redis_follows_the_topic(infrastructure: Infrastructure, redis: Redis,
                                                            redis_cluster: list[tuple[str, int]], unique: str) -> None:
    """The issuer caches in one Redis, the wallet in another (a cluster): the wallet learns keys made after its
    load, adopts the issuer's key instead of making a second one, and sees an erasure, all through the topic."""
    issuer = await _started(infrastructure, redis, unique)
    cluster = RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in redis_cluster])
    await cluster.initialize()
    wallet = KafkaDataKeys(infrastructure.kafka_bootstrap, cluster, AesGcmKeyWrapper(bytes(range(32))),
                           topic=issuer.topic, prefix=issuer.sentinel.split(":")[0], follow_interval=0.2)
    await wallet.start()  # loaded now: nothing on the topic yet
    try:
        made = await issuer.ensure(["lp_new", "lp_gone"])
        assert await wallet.get(["lp_new", "lp_gone", "lp_never"]) == made  # not "erased": read on the miss
        both = await issuer.ensure(["lp_both"])
        assert await wallet.ensure(["lp_both"]) == both  # adopted: one key per learner

        assert await issuer.destroy("lp_gone")
        deadline = time.monotonic() + 10
        while await wallet.get(["lp_gone"]):  # the background catch-up reads the tombstone
            assert time.monotonic() < deadline, "the erasure never reached the other Redis"
            await asyncio.sleep(0.1)
        assert await wallet.get(["lp_new"]) == {"lp_new": made["lp_new"]}
    finally:
        await wallet.stop()
        await cluster.aclose()
        await issuer.stop()


async def test_a_tombstone_read_late_never_drops_a_key_made_after_it(keys: KafkaDataKeys, client: RedisClient,
                                                                      infrastructure: Infrastructure) -> None:
    """A catch-up that reads a learner's tombstone while the cache already holds a key made after the erasure
    (whose record the catch-up has not reached) keeps that key; a key older than the tombstone goes."""
    prefix = keys.sentinel.split(":")[0]
    first = await keys.ensure(["lp_t", "lp_p", "lp_o"])
    for p in ("lp_t", "lp_p", "lp_o"):
        assert await keys.destroy(p)
    wrapper = AesGcmKeyWrapper(bytes(range(32)))
    newer = {p: new_data_key(p) for p in ("lp_t", "lp_p")}
    # lp_t: made again and on Kafka at an offset later than anything read below; lp_p: being made now (pending);
    # lp_o: a cache that never saw the erasure still holds the old key.
    await client.set(f"{prefix}:dk:{{lp_t}}", b"O" + b"9" * 20 + wrapper.wrap(newer["lp_t"].key, "lp_t"))
    await client.set(f"{prefix}:dk:{{lp_p}}", b"P" + wrapper.wrap(newer["lp_p"].key, "lp_p"))
    await client.set(f"{prefix}:dk:{{lp_o}}", b"O" + b"0" * 20 + wrapper.wrap(first["lp_o"].key, "lp_o"))
    for p in ("lp_t", "lp_p", "lp_o"):
        await client.delete(f"{prefix}:dk-gone:{{{p}}}")
    # Another process on this Redis (it did not write these records itself, so it reads them), whose cache has
    # not read the topic since before the tombstones.
    other = KafkaDataKeys(infrastructure.kafka_bootstrap, client, wrapper, topic=keys.topic, prefix=prefix,
                          follow_interval=None)
    await other.start()
    try:
        await client.delete(keys.cursor)
        assert await other.catch_up()
        assert await other.get(["lp_t", "lp_p", "lp_o"]) == newer
    finally:
        await other.stop()


async def test_a_master_restarting_empty_takes_the_sentinel_with_the_keys(keys: KafkaDataKeys,
                                                                        client: RedisClient) -> None:
    """On a cluster the cache is one slot: losing the keys loses the "loaded" sentinel too, so the cache reloads
    instead of reading the lost learners as erased (keys spread over the masters once could)."""
    learners = [f"lp_m{i}" for i in range(40)]
    made = await keys.ensure(learners)
    prefix = keys.sentinel.split(":")[0]
    names = [keys.sentinel, keys.cursor, *(f"{prefix}:dk:{{{p}}}" for p in learners)]
    if isinstance(client, RedisCluster):
        assert len({key_slot(n.encode()) for n in names}) == 1
        node = client.get_node_from_key(keys.sentinel)
        await client.execute_command("FLUSHALL", target_nodes=node)  # that master restarted empty
    else:  # one node: this cache's keys lost (not the session's other data)
        await client.delete(*[k async for k in client.scan_iter(match=f"{prefix}:*", count=2000)])
    assert not await client.exists(keys.sentinel)
    assert await keys.get(learners) == made  # reloaded from the topic, none taken for erased
