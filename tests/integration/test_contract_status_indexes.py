"""The StatusIndexSource contract against GrpcStatusIndexSource and a real revocation service (real Kafka, Redis,
gRPC over mTLS with the issuer service's ``service`` certificate), as the issuer reserves in production."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from microcred import pki
from microcred.gen.microcred.v1 import revocation_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel
from services.issuer.adapters.status_pool import GrpcStatusIndexSource
from services.issuer.application.ports import StatusIndexSource
from services.revocation.domain import LIST_SIZE
from tests.conftest import Infrastructure
from tests.contract.status_indexes import StatusIndexSourceContract, StatusSourceHarness
from tests.harness.revocation import Harness, start_harness

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def revocation(infrastructure: Infrastructure,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                            Path(tmp_path_factory.mktemp("contract-revocation")))
    try:
        yield h
    finally:
        await h.close()


class GrpcHarness:
    """The issuer's GrpcStatusIndexSource on the harness's service stub; issuer ids unique to the test."""

    list_size = LIST_SIZE

    def __init__(self, revocation: Harness) -> None:
        self.revocation = revocation
        self.source = GrpcStatusIndexSource(revocation.service_stub())
        self.tag = uuid.uuid4().hex[:8]
        self._channels: list[grpc.aio.Channel] = []

    def issuer(self, name: str) -> str:
        return f"uni-{name}-{self.tag}"

    async def unavailable(self) -> StatusIndexSource:
        with socket.socket() as probe:  # a port nothing listens on any more
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cert = pki.create_client_cert(self.revocation.ca, "issuer-service", "platform", pki.ROLE_SERVICE)
        channel = client_channel(f"127.0.0.1:{port}", TlsFiles(self.revocation.ca.cert_pem, cert.cert_pem,
                                                                  cert.key_pem))
        self._channels.append(channel)
        return GrpcStatusIndexSource(revocation_pb2_grpc.RevocationServiceStub(channel), timeout=10.0)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


class TestGrpcStatusIndexSource(StatusIndexSourceContract):
    @pytest.fixture
    async def harness(self, revocation: Harness) -> AsyncIterator[StatusSourceHarness]:
        harness = GrpcHarness(revocation)
        try:
            yield harness
        finally:
            await harness.close()


