"""The issuer service (with its revocation service) on a single Redis node and on the 3-master Redis Cluster.

Issue 24: every read model on a cluster. The issuer connects with ``redis+cluster://`` like the verifier and the
revocation service: its issued credentials spread over slot groups, its registry copy and audit log each in one
slot, its offers and data keys tagged. Over gRPC (TLS, client certificates) a cohort is issued, replayed (the
idempotency record answers, nothing new is signed), read back one by one, listed page by page and found in the
audit log; on the cluster the records must sit on more than one master.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import cast

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from microcred.gen.microcred.v1 import issuer_pb2
from microcred.lifecycle import one_slot
from services.issuer.audit.store import RedisAuditLog
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.harness.redis_cluster import RedisClients
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration

COHORT = 40


async def _batch(stack: IssuerHarness, uni: str, agency: str, keys: list[str]
                 ) -> dict[str, issuer_pb2.IssueCredentialsResponse]:
    async def requests() -> AsyncIterator[issuer_pb2.IssueCredentialsRequest]:
        for key in keys:
            yield issuer_pb2.IssueCredentialsRequest(idempotency_key=key, credential=valid_micro_credential())

    return {r.idempotency_key: r async for r in stack.issuer_stub(uni, agency).IssueCredentials(requests())}


async def test_the_issuer_issues_replays_reads_and_lists_on_both_topologies(
        infrastructure: Infrastructure, redis_clients: RedisClients, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = redis_clients.service_url
    stack = await start_issuer_harness(infrastructure.kafka_bootstrap, url,
                                       tmp_path_factory.mktemp(f"issuer-{redis_clients.topology}"),
                                       status_block_size=50)
    tag = uuid.uuid4().hex[:6]  # the registry on Kafka is shared by both runs: an issuer of each
    agency, uni = f"ie-topo-{tag}", f"uni-topo-{tag}"
    try:
        await stack.onboard(agency, {uni: 7})
        keys = [f"cohort-{i}" for i in range(COHORT)]
        first = await _batch(stack, uni, agency, keys)
        assert all(r.HasField("issued") for r in first.values()), [r.failure for r in first.values()]
        again = await _batch(stack, uni, agency, keys)
        for key in keys:
            assert again[key].issued.already_issued
            assert again[key].issued.credential_id == first[key].issued.credential_id
            assert again[key].issued.credential_json == first[key].issued.credential_json

        stub = stack.issuer_stub(uni, agency)
        for key in keys[:5]:
            got = await stub.GetCredential(issuer_pb2.GetCredentialRequest(
                credential_id=first[key].issued.credential_id))
            assert got.credential.credential_json == first[key].issued.credential_json
        listed: list[str] = []
        token = ""
        while True:
            page = await stub.ListCredentials(issuer_pb2.ListCredentialsRequest(page_size=7, page_token=token))
            listed += [c.credential_id for c in page.credentials]
            token = page.next_page_token
            if not token:
                break
        assert sorted(listed) == sorted(r.issued.credential_id for r in first.values())

        # The audit log (one slot on a cluster) records each issuance for the agency.
        client = await redis_clients.new()
        audit = RedisAuditLog(cast("Redis", client), one_slot(client, stack.app.settings.audit_namespace))

        async def audited() -> bool:
            entries, _ = await audit.list(agency, None, None)
            return sum(e.action == "CredentialIssued" for e in entries) == COHORT

        await eventually(audited, 30, "the audit log did not record the cohort", interval=0.1)

        if redis_clients.topology == "cluster":
            cluster = client
            assert isinstance(cluster, RedisCluster)
            prefix = stack.app.settings.issuer_redis_prefix
            stored = [key async for key in cluster.scan_iter(match=f"{{{prefix}:g*}}:cred:{uni}:*")]
            assert len(stored) == COHORT
            masters = {node.name for key in stored if (node := cluster.get_node_from_key(key.decode())) is not None}
            assert len(masters) > 1
    finally:
        await stack.close()
