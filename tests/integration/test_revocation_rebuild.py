"""Kafka is the source of truth: wiping Redis and restarting the service rebuilds identical lists.

The test runs the service, with the session's Kafka, against a Redis server of its own (so it can wipe it without
touching anyone else's data), and against the session's 3-master Redis Cluster (issue 24), where the service keeps
its read model in one slot and the test deletes every key of it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from microcred import pki
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.did_key import resolve_key
from microcred.crypto.keystore import InMemoryKeyStore
from microcred.gen.microcred.v1 import revocation_pb2, status_pb2
from microcred.infra.redis_local import LocalRedis
from microcred.status.bitstring import decode_list
from tests.conftest import Infrastructure
from tests.harness.redis_cluster import cluster_url
from tests.harness.revocation import Harness, start_harness, write_server_pki

pytestmark = pytest.mark.integration

REVOCATION = status_pb2.STATUS_PURPOSE_REVOCATION
SUSPENSION = status_pb2.STATUS_PURPOSE_SUSPENSION


@dataclass
class Topology:
    """Where the service keeps its read model, and how the test wipes it."""

    url: str
    wipe: Callable[[str], Awaitable[int]]  # wipe everything of the read model named by the tag; keys before
    cluster: bool = False


@pytest.fixture(params=["single", "cluster"])
async def topology(request: pytest.FixtureRequest, own_redis: LocalRedis) -> AsyncIterator[Topology]:
    """The service's own single node (wiped whole, FLUSHALL), or the session's 3-master cluster, shared with other
    tests, where the read model's keys are deleted (every key naming the test's tag: state, positions, epochs,
    the registry's), on every master."""
    if request.param == "single":
        single = Redis.from_url(own_redis.url)

        async def flush(_: str) -> int:
            keys = int(await single.dbsize())
            await single.flushall()
            assert await single.dbsize() == 0
            return keys
        try:
            yield Topology(own_redis.url, flush)
        finally:
            await single.aclose()
        return
    nodes: list[tuple[str, int]] = request.getfixturevalue("redis_cluster")
    cluster = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in nodes])
    await cluster.initialize()

    async def delete(tag: str) -> int:
        keys = [key async for key in cluster.scan_iter(match=f"*{tag}*", count=1000)]
        for key in keys:
            await cluster.delete(key)
        assert [key async for key in cluster.scan_iter(match=f"*{tag}*")] == []
        return len(keys)
    try:
        yield Topology(cluster_url(nodes), delete, cluster=True)
    finally:
        await cluster.aclose()


async def lists_by_id(h: Harness, list_ids: set[str]) -> dict[str, dict[str, Any]]:
    return {list_id: await h.fetch_list(f"{h.app.base_url}/status/{list_id}") for list_id in sorted(list_ids)}


async def test_wiping_redis_and_restarting_rebuilds_identical_lists(
        infrastructure: Infrastructure, topology: Topology, tmp_path: Path) -> None:
    keystore = InMemoryKeyStore()
    ca = write_server_pki(tmp_path / "pki")
    tag = uuid.uuid4().hex[:8]
    options: dict[str, Any] = {"prefix": f"rebuild-{tag}", "group": f"rebuild-{tag}", "keystore": keystore, "ca": ca}
    issuer = f"uni-{tag}"

    first = await start_harness(infrastructure.kafka_bootstrap, topology.url, tmp_path, **options)
    try:
        assert isinstance(first.app.redis, RedisCluster) is topology.cluster
        assert first.app.prefix == (f"{{rebuild-{tag}}}" if topology.cluster else f"rebuild-{tag}")
        credentials = await first.issue(issuer, "PL", 40)
        stub = first.stub(issuer, "PL", pki.ROLE_ISSUER)
        for c in credentials[:10]:
            await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                credential_id=c.credential_id, reason="issued in error"))
        for c in credentials[10:20]:
            await stub.SuspendCredential(revocation_pb2.SuspendCredentialRequest(
                credential_id=c.credential_id, reason="under investigation"))
        for c in credentials[10:15]:
            await stub.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
                credential_id=c.credential_id, reason="cleared"))
        list_ids = {e.status_list_id for c in credentials for e in c.entries}
        assert first.app.publisher is not None
        await first.app.publisher.publish(list_ids)  # make sure the last changes are signed before we stop
        before = await lists_by_id(first, list_ids)
        http_port = first.app.http_port
        reserved_before = {(e.status_list_id, e.status_list_index) for c in credentials for e in c.entries}
    finally:
        await first.close()

    assert await topology.wipe(tag) > 0

    second = await start_harness(infrastructure.kafka_bootstrap, topology.url, tmp_path, http_port=http_port,
                                 **options)
    try:
        after = await lists_by_id(second, list_ids)
        for list_id in list_ids:
            old, new = before[list_id], after[list_id]
            assert new["credentialSubject"]["encodedList"] == old["credentialSubject"]["encodedList"], list_id
            assert new["id"] == old["id"]
            assert verify_data_integrity(new, resolve_key).verified is True
        revoked = decode_list(after[f"{issuer}-revocation-0"]["credentialSubject"]["encodedList"]).bits
        suspended = decode_list(after[f"{issuer}-suspension-0"]["credentialSubject"]["encodedList"]).bits
        assert revoked.count() == 10 and suspended.count() == 5
        assert all(revoked.get(c.entry(REVOCATION).status_list_index) for c in credentials[:10])
        assert all(suspended.get(c.entry(SUSPENSION).status_list_index) for c in credentials[15:20])

        # The rebuilt service still knows every credential, its state and who may change it...
        stub = second.stub(issuer, "PL", pki.ROLE_ISSUER)
        status = await stub.GetCredentialStatus(revocation_pb2.GetCredentialStatusRequest(
            credential_id=credentials[0].credential_id))
        assert status.status.revoked and status.status.updated_at.seconds > 0
        reply = await stub.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
            credential_id=credentials[15].credential_id, reason="cleared after rebuild"))
        assert not reply.status.suspended
        # ...and never hands out an index that was reserved before the wipe.
        more = await second.issue(issuer, "PL", 2_000)
        reserved_after = {(e.status_list_id, e.status_list_index) for c in more for e in c.entries}
        assert not reserved_after & reserved_before
    finally:
        await second.close()
