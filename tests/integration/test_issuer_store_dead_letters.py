"""The issuer's credential-store projection dead-letters what it cannot decode, with the reason, and goes on.

A topic of this test's own stands in for the credentials topic (other consumers of the session never see the
poison records): valid ``CredentialIssued`` records around an undecodable one and an empty one. The valid
records must all reach the store, each bad one must reach the dead-letter topic once, with its reason and
source, and a replay from scratch must not dead-letter them again.
"""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.topics import DEAD_LETTER, TopicSpec, ensure_topics
from microcred.storage.slot_groups import SlotGroups
from services.issuer.adapters.store import cred_key
from services.issuer.events.projection import CredentialStoreProjection
from tests.conftest import Infrastructure
from tests.harness.kafka import read_topic
from tests.harness.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]

ISSUER = "uni-dead-letters"



def _issued(n: int) -> tuple[bytes, bytes]:
    cid = f"urn:uuid:{uuid.uuid4()}"
    event = events_pb2.CredentialIssued(credential_id=cid, issuer_id=ISSUER, credential_json=f'{{"n":{n}}}')
    return cid.encode(), new_envelope(event, subject=cid, issuer_id=ISSUER).SerializeToString()


async def _dead_letters(bootstrap: str, source_topic: str) -> list[dict[str, str]]:
    """Headers of every dead letter whose source is ``source_topic``."""
    found = []
    for record in await read_topic(bootstrap, DEAD_LETTER.name):
        headers = {k: v.decode() for k, v in record.headers.items()}
        if headers.get("source_topic") == source_topic:
            found.append(headers)
    return found


def _key(groups: SlotGroups, cid: bytes) -> str:
    return cred_key(groups.key_prefix(groups.group_of(cid.decode())), ISSUER, cid.decode())


async def _wait_stored(redis: Redis, groups: SlotGroups, ids: list[bytes]) -> None:
    keys = [_key(groups, cid) for cid in ids]

    async def stored() -> bool:
        return all([await redis.get(key) for key in keys])  # one by one: several slots on a cluster

    await eventually(stored, 10, "valid records did not reach the store", interval=0.05)


async def test_undecodable_records_are_dead_lettered_and_the_projection_goes_on(
        infrastructure: Infrastructure, redis: Redis) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    topic, prefix = f"test.credentials.{uuid.uuid4().hex[:8]}", f"iss-dl-{uuid.uuid4().hex[:8]}"
    groups = SlotGroups.for_client(redis, prefix)  # as the issuer lays its store out on this topology
    await ensure_topics(bootstrap, topics=(TopicSpec(topic, 1, "credential id", "test"),))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    valid = [_issued(n) for n in range(3)]
    try:
        for key, value in [valid[0], (b"poison", b"\xff not an envelope"), valid[1], (b"empty", None)]:
            await producer.send_and_wait(topic, value, key=key)
        projection = CredentialStoreProjection(bootstrap, redis, prefix=groups, topic=topic)
        await projection.start()
        try:
            assert await projection.wait_caught_up(60)
            await _wait_stored(redis, groups, [valid[0][0], valid[1][0]])
            await producer.send_and_wait(topic, valid[2][1], key=valid[2][0])  # still consuming
            await _wait_stored(redis, groups, [valid[2][0]])
            assert projection.dead_lettered == 2
        finally:
            await projection.stop()
        stored = await redis.get(_key(groups, valid[0][0]))
        assert stored == valid[0][1]

        letters = await _dead_letters(bootstrap, topic)
        assert sorted((h["source_offset"], h["reason"].split(":")[0]) for h in letters) == [
            ("1", "undecodable envelope"), ("3", "empty record value")]
        assert {h["consumer_group"] for h in letters} == {projection.name}
        assert {h["source_key"] for h in letters} == {"poison", "empty"}

        # Lose the store (positions and sentinel too): the replay meets the poison again but adds no dead letter.
        for key in [k async for k in redis.scan_iter(match=f"*{prefix}*", count=2000)]:  # records, positions, sentinels
            await redis.delete(key)
        again = CredentialStoreProjection(bootstrap, redis, prefix=groups, topic=topic)
        await again.start()
        try:
            assert await again.wait_caught_up(60)
            await _wait_stored(redis, groups, [cid for cid, _ in valid])
        finally:
            await again.stop()
        assert again.dead_lettered == 0 and len(await _dead_letters(bootstrap, topic)) == 2
    finally:
        await producer.stop()
        for key in [k async for k in redis.scan_iter(match=f"*{prefix}*", count=2000)]:
            await redis.delete(key)
