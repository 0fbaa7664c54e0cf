"""Undecodable records on every consumed topic go to the dead-letter topic with their reason; consumers go on.

Garbage is written to every partition of the credentials, status, registry and pathways topics. Every consumer
built on ``ConsumerRunner`` (wallet intake, revocation projector, the issuer's and the verifier's registry
projections, the verifier's status-list cache), and the issuer's credential-store projection, must dead-letter
each record it reads (``microcred.deadletter.v1``, headers ``reason``, ``consumer_group``, ``source_topic``,
``source_partition``, ``source_offset``) and keep applying the valid events that follow on the same
partitions: a new issuer is onboarded, a batch is issued and lands in the wallet, a revocation reaches the
wallet and the verifier, a pathway reaches the wallet.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaProducer

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.topics import CREDENTIALS, DEAD_LETTER, PATHWAYS, REGISTRY, STATUS
from tests.fault.support import (
    SCALE,
    FaultPlatform,
    Scenario,
    revoke,
    wallet_status,
)
from tests.harness.kafka import end_offsets, read_topic
from tests.harness.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600 * SCALE)]

TOPICS = (CREDENTIALS.name, STATUS.name, REGISTRY.name, PATHWAYS.name)
#: Consumer groups (prefix for the verifier's per-process status-list cache) and the topics each reads.
CONSUMERS = {
    "microcred-wallet": (CREDENTIALS.name, STATUS.name, PATHWAYS.name),
    "microcred-revocation": (CREDENTIALS.name, STATUS.name),
    "issuer-registry": (REGISTRY.name,),
    "issuer-credentials": (CREDENTIALS.name,),  # the issuer's credential-store projection (its own loop)
    "verifier-registry": (REGISTRY.name,),
    "issuer-audit": (CREDENTIALS.name, STATUS.name, REGISTRY.name),  # the audit log's projection
    # (the issuer's OpenID4VCI offer projection reads only while it replays a lost Redis: it dead-letters then)
    "status-list-cache": (STATUS.name,),  # per-process groups, one stable dead-letter name
}


def consumer_of(group: str) -> str | None:
    return next((name for name in CONSUMERS if group == name or (name.endswith("-") and group.startswith(name))),
                None)


async def test_poison_is_dead_lettered_and_consumers_go_on(fault: FaultPlatform) -> None:
    tag = uuid.uuid4().hex[:8]
    garbage = b"\xff\x00 fault-test poison " + tag.encode()
    dead_start = await end_offsets(fault.bootstrap, DEAD_LETTER.name)
    poison: set[tuple[str, int, int]] = set()
    producer = AIOKafkaProducer(bootstrap_servers=fault.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for topic in TOPICS:
            for partition in sorted(await producer.partitions_for(topic)):
                meta = await producer.send_and_wait(topic, garbage, key=f"poison-{tag}".encode(), partition=partition)
                poison.add((topic, meta.partition, meta.offset))
    finally:
        await producer.stop()

    # Valid events after the poison: registry (onboarding), credentials (a batch), status (a revocation),
    # pathways (a pathway published straight to Kafka).
    scenario = await Scenario.open(fault, "poison", 60)
    await scenario.client.complete(scenario.keys)
    first = scenario.client.answered[scenario.keys[0]]
    revoke_wait = await revoke(fault, scenario, first.credential_id, "poison test")
    pathway = events_pb2.PathwayPublished(pathway_id=f"pw-{tag}", issuer_id=scenario.issuer,
                                          title=pb.LangString(values={"en": "Poison test pathway"}),
                                          required_achievement_ids=[f"urn:test:{tag}"])
    producer = AIOKafkaProducer(bootstrap_servers=fault.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(PATHWAYS.name, new_envelope(pathway, subject=pathway.pathway_id)
                                     .SerializeToString(), key=pathway.pathway_id.encode())
    finally:
        await producer.stop()

    # Every consumer dead-lettered every poison record it reads, with a reason.
    expected = {(name, topic, p, o) for name, topics in CONSUMERS.items() for (topic, p, o) in poison
                if topic in topics}
    found: dict[tuple[str, str, int, int], str] = {}
    other_groups: defaultdict[str, int] = defaultdict(int)

    async def all_dead_lettered() -> bool:
        for _, _, _, value, headers in await read_topic(fault.bootstrap, DEAD_LETTER.name, dead_start):
            source = (headers.get("source_topic", b"").decode(), int(headers.get("source_partition", b"-1")),
                      int(headers.get("source_offset", b"-1")))
            group = headers.get("consumer_group", b"").decode()
            if source not in poison or value != garbage:
                continue
            name = consumer_of(group)
            if name is None:
                other_groups[group] += 1
                continue
            found[(name, *source)] = headers.get("reason", b"").decode()
        return expected <= set(found)

    started = time.monotonic()
    await eventually(all_dead_lettered, 90, "not every consumer dead-lettered every poison record", interval=1.0)
    missing_reason = [k for k, reason in found.items() if not reason]
    assert not missing_reason, missing_reason

    # ... and went on: the revocation and the pathway reached the wallet, the revocation the verifier.
    await wallet_status(fault.redis, first.credential_id, "revoked", "1")
    await eventually(lambda: _exists(fault, f"wallet:pathway:{pathway.pathway_id}"), 30,
                     "pathway never reached the wallet", interval=0.2)

    async def verifier_sees_revocation() -> bool:
        response = await fault.http.post(f"{fault.verifier_url}/v1/verify", json=json.loads(first.credential_json))
        report = response.json()
        return bool(next(c for c in report["checks"] if c["id"] == "revocation")["reason_code"] == "REVOKED")

    await eventually(verifier_sees_revocation, 30, "the verifier never saw the revocation", interval=0.2)
    scenario.outcome.notes.update(
        poison_records=len(poison), dead_letters_expected=len(expected), dead_letters_found=len(found),
        dead_lettered_within_s=round(time.monotonic() - started, 1), reasons=sorted(set(found.values()))[:3],
        revocation_service_knew_credential_after_s=round(revoke_wait, 2),
        # consumers outside ConsumerRunner that read the topics but do not dead-letter (see the report)
        other_groups=dict(other_groups))
    await scenario.check()


async def _exists(fault: FaultPlatform, key: str) -> bool:
    await asyncio.sleep(0)
    return bool(await fault.redis.exists(key))
