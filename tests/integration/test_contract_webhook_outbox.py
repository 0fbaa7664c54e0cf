"""The webhook outbox's leases on the real Redis, a single node and a 3-master Redis Cluster (``redis_clients`` is
parametrised over both; every script names its two keys, which share one hash tag): concurrent claimers get
disjoint entries, an entry claimed and not removed is claimed again once its lease ends, a removed entry never
comes back, and only a lease's holder gives it back (services/verifier/adapters/webhook.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.verifier.adapters.webhook import WebhookOutbox
from tests.harness.redis_cluster import RedisClients
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration

RECORD = {"url": "https://hooks.employer.test/h", "request_id": "R", "expires_at": 0, "status": "pending",
          "attempts": 0, "http_status": None, "error": None}


async def _replicas(redis_clients: RedisClients, unique: str, count: int) -> list[WebhookOutbox]:
    # one client (one connection pool) each, as gateway replicas have
    return [WebhookOutbox(await redis_clients.new(), f"oid4vp-{unique}") for _ in range(count)]


async def test_concurrent_claimers_get_disjoint_entries(redis_clients: RedisClients, unique: str) -> None:
    replicas = await _replicas(redis_clients, unique, 4)
    now = time.time()
    ids = [f"res-{i:03}" for i in range(60)]
    for i, result_id in enumerate(ids):
        await replicas[0].register(result_id, RECORD, now - 100 + i, 600)
    await replicas[0].register("later", RECORD, now + 3600, 600)  # not due: nobody's sweep takes it
    rounds = await asyncio.gather(*(replicas[i % 4].claim_due(now, 30, 7) for i in range(12)))
    claimed = [result_id for found in rounds for result_id, _ in found]
    assert len(claimed) == len(set(claimed)) == len(ids)  # each entry exactly once across 12 concurrent sweeps
    assert set(claimed) == set(ids)
    assert all(len({token for _, token in found}) <= 1 for found in rounds)  # one lease token per claim
    assert len({found[0][1] for found in rounds if found}) == sum(1 for found in rounds if found)
    assert await replicas[1].claim_due(now, 30, 100) == []  # all leased, none due
    # the answering worker's claim of one entry races a sweep that finds it due: one of them wins
    await replicas[0].register("race", RECORD, now - 1, 600)
    one, due = await asyncio.gather(replicas[2].claim("race", now, 30), replicas[3].claim_due(now, 30, 10))
    assert (one is not None) != any(result_id == "race" for result_id, _ in due)


async def test_an_entry_claimed_and_not_removed_is_claimed_again_after_its_lease(redis_clients: RedisClients,
                                                                                  unique: str) -> None:
    first, second = await _replicas(redis_clients, unique, 2)
    await first.register("res", RECORD, time.time() + 3600, 600)  # due in an hour: the answer came first
    token = await first.claim("res", time.time(), 1.0)  # short lease: a test stand-in for lease_seconds()
    assert token is not None
    # the first worker dies holding it; while the lease runs nobody else takes it
    assert await second.claim("res", time.time(), 1.0) is None
    assert await second.claim_due(time.time(), 1.0, 10) == []
    again = await eventually(lambda: second.claim_due(time.time(), 30, 10), timeout=30,
                             message="the lease never ran out")
    assert [result_id for result_id, _ in again] == ["res"] and again[0][1] != token
    assert await first.claim_due(time.time(), 30, 10) == []  # leased again, by the second
    assert not await first.defer("res", time.time(), token)  # the dead worker's token gives nothing back
    assert await second.redis.zscore(second.due_key, "res") is not None


async def test_a_removed_entry_is_never_claimed_again(redis_clients: RedisClients, unique: str) -> None:
    (outbox,) = await _replicas(redis_clients, unique, 1)
    await outbox.register("res", RECORD, time.time() - 1, 600)
    [(result_id, _)] = await outbox.claim_due(time.time(), 0.2, 10)
    await outbox.done(result_id)
    assert await outbox.claim_due(time.time() + 3600, 0.2, 10) == []  # long after any lease would have ended
    assert await outbox.claim("res", time.time() + 3600, 0.2) is None
    assert await outbox.redis.zcard(outbox.due_key) == 0 and await outbox.redis.hlen(outbox.lease_key) == 0
    assert (await outbox.get("res") or {})["status"] == "pending"  # the record itself stays (its outcome)


async def test_only_the_holder_gives_a_lease_back(redis_clients: RedisClients, unique: str) -> None:
    first, second = await _replicas(redis_clients, unique, 2)
    now = time.time()
    await first.register("res", RECORD, now - 1, 600)
    [(_, token)] = await first.claim_due(now, 30, 10)
    assert not await second.defer("res", now, "not-the-token")
    assert await second.claim_due(now + 1, 30, 10) == []  # still leased
    assert await first.defer("res", now + 2, token)  # an answer still being checked: due again in 2 s
    assert await second.redis.zscore(second.due_key, "res") == pytest.approx(now + 2)
    assert await second.claim("res", now, 30) is not None  # given back: the answering worker may take it at once
