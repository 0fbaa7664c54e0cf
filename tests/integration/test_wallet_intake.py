"""Duplicate delivery and replay of the wallet's projection over real Kafka and Redis.

The same events delivered twice (again at new offsets, and again at the same offsets after a position
reset) leave the same wallet state; an empty Redis is rebuilt by replay to the same projection, the learner's
account, holder key, binding and share links included.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.topics import CREDENTIALS, PATHWAYS, STATUS
from services.wallet.adapters.sealing import Sealer
from services.wallet.adapters.secret_keys import load_email_index_key
from services.wallet.adapters.store import CredentialStore
from services.wallet.domain.pathway_codec import published_envelope
from services.wallet.domain.stacking import Pathway
from services.wallet.events.intake import WALLET_TOPICS, WalletIntake, build_intake
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet, wait_for
from tests.harness.wallet.snapshot import dump

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]


async def publish_history(w: WalletUnderTest, learner_did: str, email: str) -> list[tuple[str, str, EventEnvelope]]:
    """A small history on all three topics; returns (topic, key, envelope) as published."""
    issuer = TestIssuer.new("issuer-dup")
    a = issuer.issue(learner_did=learner_did, achievement_id="urn:ach:1")
    b = issuer.issue(email=email, achievement_id="urn:ach:2")
    c = issuer.issue(learner_did=learner_did, email=email, achievement_id="urn:ach:3")
    # Out of reach (100 ECTS), so no PathwayCompleted joins the history while the test compares states.
    pathway = Pathway("urn:pathway:dup", "agency-pl", {"en": "Dup"}, {}, ("urn:ach:1", "urn:ach:2"),
                      Decimal("100"), 5, ("issuer-dup",))
    history: list[tuple[str, str, EventEnvelope]] = []
    for issued in (a, b, c):
        history.append((CREDENTIALS.name, issued.credential_id, await w.issue(issued)))
    history.append((STATUS.name, c.credential_id, await w.status(c.credential_id, events_pb2.CredentialRevoked(
        credential_id=c.credential_id, issuer_id="issuer-dup", reason="error"))))
    history.append((STATUS.name, b.credential_id, await w.status(b.credential_id, events_pb2.CredentialSuspended(
        credential_id=b.credential_id, issuer_id="issuer-dup", reason="check"))))
    history.append((PATHWAYS.name, pathway.pathway_id,
                    await w.publish_envelope(PATHWAYS.name, pathway.pathway_id, published_envelope(pathway))))
    return history


async def records_in(w: WalletUnderTest) -> int:
    """How many records the wallet's three topics hold."""
    consumer = AIOKafkaConsumer(bootstrap_servers=w.settings.kafka_bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(w.topic(t.name), p) for t in WALLET_TOPICS for p in range(t.partitions)]
        ends = await consumer.end_offsets(partitions)
        begins = await consumer.beginning_offsets(partitions)
        return sum(ends[tp] - begins[tp] for tp in partitions)
    finally:
        await consumer.stop()


async def run_intake(w: WalletUnderTest, redis: Redis, name: str, group: str, until_processed: int,
                     settle: float = 0.0) -> WalletIntake:
    """A separate intake (no completion policy) over the wallet's topics, into read model ``name`` laid out as
    the wallet lays it out on this Redis, until it processed enough records."""
    assert w.settings.kek is not None
    sealer = Sealer(base64.b64decode(w.settings.kek.get_secret_value()))
    topics = [w.topic(t.name) for t in WALLET_TOPICS]
    store = CredentialStore.laid_out(redis, name, load_email_index_key(w.settings))
    intake, runner = build_intake(redis, store.prefix, store.index_key, w.settings.kafka_bootstrap, group,
                                  topics, sealer=sealer, store=store)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        async def done() -> bool:
            return runner.processed >= until_processed
        await wait_for(done, timeout=60)
        await asyncio.sleep(settle)
    finally:
        await runner.stop()
        await task
    return intake


async def state(redis: Redis, intake: WalletIntake, projection_only: bool = False) -> dict[str, Any]:
    """The read model of ``intake``, its records in their slot groups included (named ``cred:<id>`` either way)."""
    return await dump(redis, intake.projection, projection_only, documents=intake.store.documents)


async def test_same_events_delivered_twice_leave_the_same_wallet_state(
        infrastructure: Infrastructure, unique: str, tmp_path: Path, redis: Redis, redis_service_url: str) -> None:
    async with running_wallet(infrastructure, unique, tmp_path, redis_url=redis_service_url) as w:
        headers = w.auth("dup-learner", "dup@example.org")
        did = (await w.http.post("/v1/holder-keys", headers=headers)).json()["did"]
        start = w.intake.applied
        history = await publish_history(w, did, "dup@example.org")
        await w.applied(start + len(history))
        # The learner's own state (account, key, binding, share links) is on Kafka too.
        credential_id = history[0][1]
        bound = await w.http.post("/v1/bindings", headers=headers, json={"credential_id": credential_id, "did": did})
        assert bound.status_code == 200, bound.text
        for withdraw in (False, True):
            share = (await w.http.post("/v1/share-links", headers=headers,
                                       json={"credential_ids": [credential_id]})).json()
            if withdraw:
                await w.http.delete(f"/v1/share-links/{share['share_id']}", headers=headers)
        await asyncio.sleep(0.5)  # the policy step (owner lookups) runs after each write
        name, live = w.settings.wallet_redis_prefix, w.intake
        first = await state(w.redis, live)
        listed = (await w.http.get("/v1/credentials", headers=headers)).json()
        assert {c["status"] for c in listed["credentials"]} == {"ACTIVE", "SUSPENDED", "REVOKED"}
        assert "emails" in first and any(k.startswith("did-owner:") for k in first)
        assert any(k.startswith("share:") for k in first) and any(k.startswith("holder-key:") for k in first)

        # 1. The very same events (same event ids) again, at new offsets: state unchanged.
        start = w.intake.applied
        for topic, key, envelope in history:
            await w.publisher.publish(w.topic(topic), key, envelope)
        await w.applied(start + len(history))
        await asyncio.sleep(0.5)
        assert await state(w.redis, live) == first
        assert (await w.http.get("/v1/credentials", headers=headers)).json() == listed

    # 2. A second member with a fresh group resumes at the positions stored with the state: nothing re-applied.
    again = await run_intake(w, redis, name, f"again-{unique}", 0, settle=3.0)
    assert again.applied == 0
    assert await state(redis, again) == first

    # 3. Positions lost (the core's and every slot group's): everything is delivered again at the same offsets
    # and re-applied; state unchanged.
    async for key in redis.scan_iter(match=f"offsets:*{name}*"):
        await redis.delete(key)
    total = await records_in(w)
    assert total == 2 * len(history) + 6  # account, key, binding, two links created, one withdrawn
    replayed = await run_intake(w, redis, name, f"replay-{unique}", total)
    assert replayed.applied == total
    assert await state(redis, replayed) == first

    # 4. An empty Redis (a new prefix) is rebuilt by replay to the same projection.
    fresh = await run_intake(w, redis, f"fresh{uuid.uuid4().hex[:8]}", f"fresh-{unique}", total)
    assert await state(redis, fresh, projection_only=True) == await state(redis, replayed, projection_only=True)
    assert await state(redis, fresh, projection_only=True)  # not trivially empty
