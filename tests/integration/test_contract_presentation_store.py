"""The OpenID4VP presentation store (services/verifier/adapters/presentation_store.py) on the real Redis, a single
node and a 3-master Redis Cluster (``redis_clients``): a request and its pending result, the single use of an
answer across two replicas racing, the result; the hash-tagged layout (one request's keys in one slot); and, on a
single node, requests and results written before the hash tags are still served and answered once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from microcred.oid4vp.request import build_request, new_token
from services.verifier.adapters.presentation_store import PresentationStore, StoredRequest
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration

DCQL = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:example:mc"]}}]}


def _stored(now: int) -> StoredRequest:
    request = build_request(client_id="redirect_uri:https://v.example/cb", response_uri="https://v.example/cb",
                            response_mode="direct_post", dcql_query=DCQL, now=now, lifetime=300)
    return StoredRequest(request, new_token(), {"kty": "EC", "crv": "P-256", "d": "secret-part"},
                         "https://jobs.example/apply/1")  # a same-device request: its redirect is kept too


async def test_requests_are_answered_once_across_replicas_on_both_topologies(redis_clients: RedisClients,
                                                                             unique: str) -> None:
    namespace = f"vp-{unique}"
    one, two = (PresentationStore(await redis_clients.new(), namespace, retention=120),
                PresentationStore(await redis_clients.new(), namespace, retention=120))
    now = int(time.time())
    stored = _stored(now)
    request_id = stored.request.request_id
    await one.create(stored, now, "openid4vp://?request_uri=https%3A%2F%2Fv.example%2Fr%2Fx")

    assert await two.get(request_id) == stored  # what the other replica reads is what was stored
    pending = await two.result(stored.result_id)
    assert pending is not None and pending["status"] == "pending" and pending["request_id"] == request_id
    assert pending["request_uri"] == "https://v.example/r/x"
    assert not await two.answered(request_id)

    # a wallet's answer and its replay reach both replicas at once: exactly one takes it
    claims = await asyncio.gather(*(store.claim(request_id, 300) for store in (one, two) * 8))
    assert sorted(claims) == [False] * 15 + [True]
    assert await one.answered(request_id) and await two.answered(request_id)

    await two.finish(stored, {"status": "verified", "claims": {"name": "Ada"}})
    assert await one.result(stored.result_id) == {"status": "verified", "claims": {"name": "Ada"}}
    assert await one.get("unknown") is None and await one.result("unknown") is None

    # layout: the request's keys share its hash tag, the result has its own id's
    redis = one.redis
    req, answered = f"{namespace}:req:{{{request_id}}}", f"{namespace}:answered:{{{request_id}}}"
    assert key_slot(req.encode()) == key_slot(answered.encode())
    assert await redis.exists(req, answered, f"{namespace}:res:{{{stored.result_id}}}") == 3
    assert 300 < await redis.ttl(req) <= 360 and 0 < await redis.ttl(f"{namespace}:res:{{{stored.result_id}}}") <= 120
    assert isinstance(redis, RedisCluster if redis_clients.topology == "cluster" else Redis)


async def test_state_written_before_the_hash_tags_is_still_served_on_a_single_node(infrastructure: Any,
                                                                                   unique: str) -> None:
    redis = Redis.from_url(infrastructure.redis_url)  # a cluster never held the pre-hash-tag layout
    try:
        namespace, now = f"vp-{unique}", int(time.time())
        stored = _stored(now)
        request_id = stored.request.request_id
        await redis.set(f"{namespace}:req:{request_id}", stored.dumps(), ex=360)
        await redis.set(f"{namespace}:res:{stored.result_id}", b'{"status": "pending"}', ex=480)
        store = PresentationStore(redis, namespace, retention=120)
        assert await store.get(request_id) == stored
        assert await store.result(stored.result_id) == {"status": "pending"}

        # a replica of the old version took the answer (plain SET NX on the old name): this one must refuse it
        assert await redis.set(f"{namespace}:answered:{request_id}", b"1", nx=True, ex=300)
        assert await store.answered(request_id)
        assert not await store.claim(request_id, 300)

        # and one this version takes is refused by an old replica (its name is claimed too)
        other = _stored(now)
        await store.create(other, now, "")
        assert await store.claim(other.request.request_id, 300)
        assert not await redis.set(f"{namespace}:answered:{other.request.request_id}", b"1", nx=True, ex=300)

        await store.finish(stored, {"status": "verified"})
        assert await store.result(stored.result_id) == {"status": "verified"}  # the tagged key wins
    finally:
        await redis.aclose()
