"""The plaintext health port: grpc.health.v1 only (what a kubelet gRPC probe needs), nothing else without mTLS."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from microcred import pki
from microcred.gen.microcred.v1 import audit_pb2, audit_pb2_grpc
from microcred.grpc_server import TlsFiles, create_server

pytestmark = pytest.mark.integration


class _Audit(audit_pb2_grpc.AuditServiceServicer):
    async def ListAuditEntries(self, request: audit_pb2.ListAuditEntriesRequest,
                               context: object) -> audit_pb2.ListAuditEntriesResponse:
        return audit_pb2.ListAuditEntriesResponse()


async def test_health_port_answers_health_and_nothing_else(tmp_path: Path) -> None:
    ca = pki.create_ca("test CA")
    ca.write(tmp_path, "ca")
    pki.create_server_cert(ca, "svc").write(tmp_path, "server")
    server = create_server(TlsFiles.from_dir(tmp_path), "127.0.0.1:0", ["microcred.v1.AuditService"],
                           lambda s: audit_pb2_grpc.add_AuditServiceServicer_to_server(_Audit(), s),
                           health_address="127.0.0.1:0")
    assert server.health_port and server.health_port != server.port
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.health_port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for name in ("", "microcred.v1.AuditService"):
                reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await audit_pb2_grpc.AuditServiceStub(channel).ListAuditEntries(
                    audit_pb2.ListAuditEntriesRequest(agency_id="x"), timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
        # The mutual-TLS port refuses a plaintext client outright.
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as plain:
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert plain.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await server.stop(0)


async def test_without_a_health_address_there_is_no_second_port(tmp_path: Path) -> None:
    ca = pki.create_ca("test CA")
    ca.write(tmp_path, "ca")
    pki.create_server_cert(ca, "svc").write(tmp_path, "server")
    server = create_server(TlsFiles.from_dir(tmp_path), "127.0.0.1:0", [], lambda s: None)
    assert server.health_server is None and server.health_port is None
