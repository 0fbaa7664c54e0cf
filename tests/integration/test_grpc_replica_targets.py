"""A gRPC client of several replicas (issue 24): ``ipv4:a,b`` targets pass the servers' TLS check, spread calls
over the replicas and keep answering while one is down; the certificate is still checked."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from microcred import pki
from microcred.grpc_server import GrpcServer, TlsFiles, channel_options, client_channel, create_server

pytestmark = pytest.mark.integration


class Counting(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Counts the calls a server receives, under its name."""

    def __init__(self, name: str, calls: Counter[str]) -> None:
        self.name, self.calls = name, calls

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        self.calls[self.name] += 1
        return await continuation(details)


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[tuple[list[GrpcServer], TlsFiles, Counter[str]]]:
    ca = pki.create_ca("replica test CA")
    ca.write(tmp_path, "ca")
    pki.create_server_cert(ca, "revocation").write(tmp_path, "server")
    pki.create_client_cert(ca, "issuer-service", "PL", pki.ROLE_SERVICE).write(tmp_path, "client")
    calls: Counter[str] = Counter()
    servers = [create_server(TlsFiles.from_dir(tmp_path, "server"), "127.0.0.1:0", [], lambda _: None,
                             interceptors=[Counting(f"replica-{n}", calls)]) for n in range(2)]
    for server in servers:
        await server.start()
    try:
        yield servers, TlsFiles.from_dir(tmp_path, "client"), calls
    finally:
        for server in servers:
            await server.stop(0)


async def _check(channel: grpc.aio.Channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    return int(reply.status)


async def test_a_list_of_replicas_is_reached_and_used_in_turn(
        replicas: tuple[list[GrpcServer], TlsFiles, Counter[str]]) -> None:
    servers, tls, calls = replicas
    target = "ipv4:" + ",".join(f"127.0.0.1:{server.port}" for server in servers)
    async with client_channel(target, tls) as channel:  # refused with "Hostname Verification Check failed" before
        for _ in range(20):
            assert await _check(channel) == health_pb2.HealthCheckResponse.SERVING
    assert calls["replica-0"] >= 5 and calls["replica-1"] >= 5  # spread, not all to the first


async def test_calls_go_on_while_one_replica_is_down(
        replicas: tuple[list[GrpcServer], TlsFiles, Counter[str]]) -> None:
    servers, tls, calls = replicas
    target = "ipv4:" + ",".join(f"127.0.0.1:{server.port}" for server in servers)
    async with client_channel(target, tls) as channel:
        assert await _check(channel) == health_pb2.HealthCheckResponse.SERVING
        await servers[0].stop(0)
        before = calls["replica-1"]
        for _ in range(10):
            assert await _check(channel) == health_pb2.HealthCheckResponse.SERVING
        assert calls["replica-1"] >= before + 10


async def test_the_servers_certificate_is_still_checked(
        replicas: tuple[list[GrpcServer], TlsFiles, Counter[str]]) -> None:
    servers, tls, _ = replicas
    target = "ipv4:" + ",".join(f"127.0.0.1:{server.port}" for server in servers)
    async with client_channel(target, tls, server_name="revocation.other.example") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


def test_the_options_for_each_kind_of_target() -> None:
    assert channel_options("localhost:50051") == []
    assert channel_options("ipv4:127.0.0.1:1") == []
    assert channel_options("ipv4:10.0.0.1:1,10.0.0.2:1") == [
        ("grpc.ssl_target_name_override", "10.0.0.1"), ("grpc.default_authority", "10.0.0.1"),
        ("grpc.lb_policy_name", "round_robin")]
    assert channel_options("ipv6:[::1]:1,[::1]:2")[0] == ("grpc.ssl_target_name_override", "::1")
    assert channel_options("dns:///revocation.microcred.svc:50051") == [("grpc.lb_policy_name", "round_robin")]
    assert channel_options("ipv4:10.0.0.1:1,10.0.0.2:1", "revocation.microcred.svc")[0] == (
        "grpc.ssl_target_name_override", "revocation.microcred.svc")
