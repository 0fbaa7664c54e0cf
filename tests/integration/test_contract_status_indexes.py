"""The StatusIndexSource contract against GrpcStatusIndexSource and a real revocation service (real Kafka, Redis,
gRPC over mTLS with the issuer service's ``service`` certificate), as the issuer reserves in production."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from services.issuer.adapters.status_pool import GrpcStatusIndexSource
from services.issuer.application.ports import StatusIndexSource
from services.revocation.domain import LIST_SIZE
from tests.conftest import Infrastructure
from tests.contract.status_indexes import StatusIndexSourceContract, StatusSourceHarness
from tests.contract.unreachable import unreachable_revocation
from tests.harness.revocation import Harness, start_harness

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def revocation(infrastructure: Infrastructure,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                            Path(tmp_path_factory.mktemp("contract-revocation")),
                            status_list_size=LIST_SIZE)  # small lists: the contract fills one
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
        stub, channel = unreachable_revocation(self.revocation.ca)
        self._channels.append(channel)
        return GrpcStatusIndexSource(stub, timeout=10.0)

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


