"""The audit log over real Kafka, Redis and gRPC (mTLS): the exact sequence of actions, per agency only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from redis.asyncio import Redis

from microcred import pki
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import audit_pb2, audit_pb2_grpc, events_pb2
from microcred.grpc_server import TlsFiles, client_channel, create_server
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import CREDENTIALS, REGISTRY, STATUS
from microcred.lifecycle import one_slot
from services.issuer.audit.api import AuditApi
from services.issuer.audit.projector import audit_runner
from services.issuer.audit.store import PROJECTION
from tests.conftest import Infrastructure

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]


@pytest.fixture
async def audit_server(infrastructure: Infrastructure, tmp_path: Path, unique: str,
                       redis: Redis) -> AsyncIterator[tuple[int, Path]]:
    ca = pki.create_ca("test CA")
    ca.write(tmp_path, "ca")
    pki.create_server_cert(ca, "issuer").write(tmp_path, "server")
    for name, agency, role in (("pl-op", f"PL{unique}", pki.ROLE_AGENCY), ("cz-op", f"CZ{unique}", pki.ROLE_AGENCY)):
        cert = pki.create_client_cert(ca, name, agency, role)
        (tmp_path / name).mkdir()
        cert.write(tmp_path / name, "client")
        (tmp_path / name / "ca.crt").write_bytes(ca.cert_pem)
    # the namespace as the issuer lays it out on this topology (one slot on a cluster)
    log, runner = audit_runner(infrastructure.kafka_bootstrap, redis, group_id=f"audit-{unique}",
                               namespace=one_slot(redis, PROJECTION))
    await runner.start()
    task = asyncio.create_task(runner.run())
    server = create_server(TlsFiles.from_dir(tmp_path), "127.0.0.1:0", ["microcred.v1.AuditService"],
                           lambda s: audit_pb2_grpc.add_AuditServiceServicer_to_server(AuditApi(log), s))
    await server.start()
    try:
        yield server.port, tmp_path
    finally:
        await server.stop(0)
        await runner.stop()
        await task


async def test_audit_log_returns_the_exact_sequence(infrastructure: Infrastructure, audit_server: tuple[int, Path],
                                                    unique: str) -> None:
    port, certs = audit_server
    agency = f"PL{unique}"
    start = datetime.now(UTC)
    publisher = KafkaEventPublisher(infrastructure.kafka_bootstrap)
    await publisher.start()
    actions: list[tuple[str, str, str, str]] = []
    try:
        steps = [
            (REGISTRY.name, events_pb2.IssuerAccredited(issuer_id="uni-a", framework="ESG"), "pl-op", ""),
            (CREDENTIALS.name, events_pb2.CredentialIssued(credential_id="urn:uuid:c1", issuer_id="uni-a"),
             "uni-a", ""),
            (STATUS.name, events_pb2.CredentialSuspended(credential_id="urn:uuid:c1", issuer_id="uni-a",
                                                         actor="uni-a", reason="under review"),
             "uni-a", "under review"),
            (STATUS.name, events_pb2.CredentialReinstated(credential_id="urn:uuid:c1", issuer_id="uni-a",
                                                          actor="uni-a", reason="cleared"), "uni-a", "cleared"),
            (STATUS.name, events_pb2.CredentialRevoked(credential_id="urn:uuid:c1", issuer_id="uni-a",
                                                       actor="pl-op", reason="fraud"), "pl-op", "fraud"),
            (REGISTRY.name, events_pb2.AccreditationWithdrawn(issuer_id="uni-a", actor="pl-op", reason="expired QA"),
             "pl-op", "expired QA"),
        ]
        for topic, payload, actor, reason in steps:
            subject = getattr(payload, "credential_id", "") or payload.issuer_id
            await publisher.publish(topic, subject, new_envelope(payload, subject=subject, tenant=agency,
                                                                 issuer_id="uni-a", actor=actor))
            actions.append((payload.DESCRIPTOR.name, subject, actor, reason))
        # Another agency's action must not show up in PL's trail.
        other = events_pb2.CredentialRevoked(credential_id="urn:uuid:x", issuer_id="uni-z", actor="uni-z")
        await publisher.publish(STATUS.name, "urn:uuid:x", new_envelope(other, tenant=f"CZ{unique}", actor="uni-z"))
    finally:
        await publisher.stop()

    request = audit_pb2.ListAuditEntriesRequest(agency_id=agency)
    request.since.FromDatetime(start - timedelta(seconds=1))
    async with client_channel(f"localhost:{port}", TlsFiles.from_dir(certs / "pl-op", "client")) as channel:
        stub = audit_pb2_grpc.AuditServiceStub(channel)
        got: list[tuple[str, str, str, str]] = []
        for _ in range(100):
            reply = await stub.ListAuditEntries(request)
            got = [(e.action, e.subject, e.actor, e.reason) for e in reply.entries]
            if len(got) >= len(actions):
                break
            await asyncio.sleep(0.1)
        assert got == actions
        # Paging walks the same sequence.
        page = await stub.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(agency_id=agency, page_size=4))
        assert len(page.entries) == 4 and page.next_page_token
        rest = await stub.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(
            agency_id=agency, page_size=4, page_token=page.next_page_token))
        assert [e.action for e in [*page.entries, *rest.entries]] == [a[0] for a in actions]
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(agency_id=f"CZ{unique}"))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        beyond = audit_pb2.ListAuditEntriesRequest(agency_id=agency)
        beyond.until.seconds = 10**15  # not an instant (reading it raised: the call failed UNKNOWN)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListAuditEntries(beyond)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "until" in (refused.value.details() or "")
