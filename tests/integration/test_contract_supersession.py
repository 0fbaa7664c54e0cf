"""The Supersession contract against GrpcSupersession and a real revocation service (real Kafka, Redis, gRPC over
mTLS with the issuer service's ``service`` certificate), as the issuer's corrections use it in production."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from services.issuer.adapters.supersession import GrpcSupersession
from services.issuer.application.ports import Supersession
from tests.conftest import Infrastructure
from tests.contract.supersession import SupersessionContract, SupersessionHarness
from tests.contract.unreachable import unreachable_revocation
from tests.harness.revocation import Harness, start_harness

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def revocation(infrastructure: Infrastructure,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                            Path(tmp_path_factory.mktemp("contract-supersession")))
    try:
        yield h
    finally:
        await h.close()


class GrpcHarness:
    """The issuer's GrpcSupersession on the harness's service stub; credentials issued through the harness."""

    def __init__(self, revocation: Harness) -> None:
        self.revocation = revocation
        self.supersession = GrpcSupersession(revocation.service_stub())
        self.tag = uuid.uuid4().hex[:8]
        self._channels: list[grpc.aio.Channel] = []

    def issuer(self, name: str) -> str:
        return f"uni-{name}-{self.tag}"

    async def issued(self, issuer_id: str) -> str:
        [credential] = await self.revocation.issue(issuer_id, "agency-contract", 1)
        return credential.credential_id

    async def unavailable(self) -> Supersession:
        stub, channel = unreachable_revocation(self.revocation.ca)
        self._channels.append(channel)
        return GrpcSupersession(stub, timeout=10.0)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


class TestGrpcSupersession(SupersessionContract):
    @pytest.fixture
    async def harness(self, revocation: Harness) -> AsyncIterator[SupersessionHarness]:
        harness = GrpcHarness(revocation)
        try:
            yield harness
        finally:
            await harness.close()
