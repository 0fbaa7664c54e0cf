"""The whole flow over the running platform: issue -> verify valid -> revoke -> revoked within a second ->
suspend / reinstate round trip.

Real services in process: the issuer and revocation services (``tests.harness.issuer``: gRPC over mutual TLS,
a test CA, issuers onboarded through the real RegistryService), and the verifier gateway on a real uvicorn
socket consuming the registry and the status lists from Kafka.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2, revocation_pb2
from services.verifier.app import create_app
from services.verifier.config import Settings
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.harness.waiting import eventually
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY, ISSUER = f"vf-ag-{TAG}", f"vf-uni-{TAG}"


@dataclass
class Platform:
    issuer: IssuerHarness
    gateway: str
    http: httpx.AsyncClient

    async def issue(self, key: str) -> dict[str, Any]:
        reply = await self.issuer.issuer_stub(ISSUER, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
            idempotency_key=key, credential=valid_micro_credential()))
        document: dict[str, Any] = json.loads(reply.credential.credential_json)
        return document

    def revocation(self) -> Any:
        assert self.issuer.revocation is not None
        return self.issuer.revocation.stub(ISSUER, AGENCY, pki.ROLE_ISSUER)

    async def verify(self, document: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{self.gateway}/v1/verify", json=document)
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report


@pytest.fixture(scope="module")
async def platform(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[Platform]:
    issuer = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                                        tmp_path_factory.mktemp("verifier-platform"), status_block_size=20)
    try:
        await issuer.onboard(AGENCY, {ISSUER: 7})
        assert issuer.revocation is not None and issuer.revocation.app.signer is not None
        settings = Settings(kafka_bootstrap=infrastructure.kafka_bootstrap, redis_url=infrastructure.redis_url,
                            http_port=0, environment="test", registry_namespace=f"vfreg-{TAG}",
                            registry_group=f"vfreg-{TAG}",
                            status_url_prefixes=[issuer.revocation.app.base_url + "/"],
                            status_list_signers=[issuer.revocation.app.signer.did],
                            rate_limit_per_second=1e6, rate_limit_burst=1_000_000)
        async with RunningServer(create_app(settings)) as server, httpx.AsyncClient(timeout=30) as http:
            yield Platform(issuer, server.url, http)
    finally:
        await issuer.close()


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["id"] == check_id)
    return found


async def until(platform: Platform, document: dict[str, Any], predicate: Any,
                timeout: float) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    report = await eventually(lambda: platform.verify(document), timeout,
                              lambda last: f"last report: {json.dumps(last)[:2000]}", until=predicate, interval=0.02)
    return report, time.perf_counter() - start


async def test_issue_verify_revoke_suspend_reinstate(platform: Platform) -> None:
    first = await platform.issue("first")
    report, _ = await until(platform, first, lambda r: r["verdict"] == "valid", timeout=30)
    assert {c["status"] for c in report["checks"]} == {"valid"}
    assert report["micro_credential"] and check(report, "accreditation")["reason_code"] == "ACCREDITED"

    await platform.revocation().RevokeCredential(revocation_pb2.RevokeCredentialRequest(
        credential_id=first["id"], reason="issued in error"))
    report, elapsed = await until(platform, first, lambda r: check(r, "revocation")["reason_code"] == "REVOKED",
                                  timeout=5)
    assert elapsed < 1.0, f"revocation visible after {elapsed:.3f}s"
    assert report["verdict"] == "invalid"

    second = await platform.issue("second")
    await until(platform, second, lambda r: r["verdict"] == "valid", timeout=30)
    await platform.revocation().SuspendCredential(revocation_pb2.SuspendCredentialRequest(
        credential_id=second["id"], reason="investigation"))
    report, elapsed = await until(platform, second, lambda r: check(r, "suspension")["reason_code"] == "SUSPENDED",
                                  timeout=5)
    assert elapsed < 1.0 and report["verdict"] == "invalid"
    await platform.revocation().ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
        credential_id=second["id"], reason="cleared"))
    report, elapsed = await until(platform, second, lambda r: r["verdict"] == "valid", timeout=5)
    assert elapsed < 1.0 and check(report, "suspension")["reason_code"] == "NOT_SUSPENDED"
