"""The verifier gateway over a real uvicorn socket, with real Kafka and Redis and the real revocation service.

The gateway (``services.verifier.app.create_app``) consumes the trust registry and the status lists from
Kafka. The test registers and accredits a did:web issuer by publishing registry events, reserves status
indexes from an in-process revocation service (as the issuer service does), signs an OB 3.0 micro-credential
with the issuer's key, and then: verify -> valid; revoke over gRPC -> the gateway reports REVOKED within one
second of the RPC returning; suspend -> SUSPENDED; reinstate -> valid again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred import pki
from microcred.credential.ob3 import issuer_profile, render_achievement_credential
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.multikey import encode_ed25519_public_key
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2, events_pb2, revocation_pb2, status_pb2
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import REGISTRY
from microcred.registry.did_web import did_web_id, method_id
from microcred.registry.domain import timestamp
from microcred.status.build import status_entry
from services.verifier.app import create_app
from services.verifier.config import Settings
from tests.conftest import Infrastructure
from tests.harness.factories import ISSUED_AT, organisation, valid_micro_credential
from tests.harness.revocation import Harness, IssuedCredential, start_harness
from tests.harness.waiting import eventually
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

PURPOSES = {status_pb2.STATUS_PURPOSE_REVOCATION: "revocation", status_pb2.STATUS_PURPOSE_SUSPENSION: "suspension"}


@dataclass
class Stack:
    """The revocation service, the gateway's URL and one accredited did:web issuer."""

    harness: Harness
    gateway: str
    http: httpx.AsyncClient
    issuer_id: str
    agency_id: str
    did: str
    key: Ed25519PrivateKey

    def credential(self, issued: IssuedCredential) -> dict[str, Any]:
        """A signed micro-credential carrying the status entries the revocation service reserved."""
        entries = [status_entry(e.status_list_credential, e.status_list_index, PURPOSES[e.status_purpose])
                   for e in issued.entries]
        doc = render_achievement_credential(valid_micro_credential(), credential_id=issued.credential_id,
                                            issuer=issuer_profile(self.did, organisation()),
                                            status_entries=entries, valid_from=ISSUED_AT)
        return sign_eddsa_rdfc_2022(doc, self.key, method_id(self.did, 1), created=ISSUED_AT)

    async def verify(self, document: Any) -> dict[str, Any]:
        response = await self.http.post(f"{self.gateway}/v1/verify", json=document)
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    def stub(self) -> Any:
        return self.harness.stub(self.issuer_id, self.agency_id, pki.ROLE_ISSUER)


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["id"] == check_id)
    return found


async def publish_registry(bootstrap: str, issuer_id: str, agency_id: str, did: str, key: Ed25519PrivateKey) -> None:
    registered = ISSUED_AT - timedelta(days=30)
    publisher = KafkaEventPublisher(bootstrap, client_id="verifier-test")
    await publisher.start()
    try:
        for subject, payload in (
            (agency_id, events_pb2.AgencyRegistered(agency_id=agency_id, organisation=organisation("Test Agency"))),
            (issuer_id, events_pb2.IssuerRegistered(
                issuer_id=issuer_id, agency_id=agency_id, organisation=organisation(), did=did,
                verification_method_id=method_id(did, 1),
                public_key_multibase=encode_ed25519_public_key(key.public_key()))),
            (issuer_id, events_pb2.IssuerAccredited(
                issuer_id=issuer_id, accreditation_id="acc-1", framework="Test NQF",
                type=elements_pb2.ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE,
                accrediting_body=organisation("QA Body"), max_eqf_level=elements_pb2.EQF_LEVEL_8,
                valid_from=timestamp(registered))),
        ):
            await publisher.publish(REGISTRY.name, subject, new_envelope(payload, subject=subject,
                                                                         occurred_at=registered))
    finally:
        await publisher.stop()


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    tag = uuid.uuid4().hex[:10]
    harness = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                                  Path(tmp_path_factory.mktemp("verifier-revocation")))
    assert harness.app.signer is not None
    issuer_id, agency_id = f"uni-{tag}", f"ag-{tag}"
    did, key = did_web_id("trust.test", issuer_id), Ed25519PrivateKey.generate()
    await publish_registry(infrastructure.kafka_bootstrap, issuer_id, agency_id, did, key)
    settings = Settings(kafka_bootstrap=infrastructure.kafka_bootstrap, redis_url=infrastructure.redis_url,
                        http_port=0, environment="test", registry_namespace=f"vreg-{tag}",
                        registry_group=f"vreg-{tag}", status_url_prefixes=[harness.app.base_url + "/"],
                        status_list_signers=[harness.app.signer.did], rate_limit_per_second=1e6,
                        rate_limit_burst=1_000_000)
    try:
        async with RunningServer(create_app(settings)) as server, httpx.AsyncClient(timeout=30) as http:
            yield Stack(harness, server.url, http, issuer_id, agency_id, did, key)
    finally:
        await harness.close()


async def wait_for(stack: Stack, document: Any, predicate: Any, timeout: float) -> tuple[dict[str, Any], float]:
    """Verify repeatedly until ``predicate(report)``; returns the report and the seconds it took."""
    start = time.perf_counter()
    report = await eventually(lambda: stack.verify(document), timeout, lambda last: f"last report: {last}",
                              until=predicate, interval=0.02)
    return report, time.perf_counter() - start


async def test_health_and_openapi(stack: Stack) -> None:
    health = await stack.http.get(f"{stack.gateway}/healthz")
    assert health.status_code == 200, health.text
    spec = (await stack.http.get(f"{stack.gateway}/openapi.json")).json()
    assert "/v1/verify" in spec["paths"] and "/trust-list" in spec["paths"]


async def test_issue_verify_revoke_within_a_second(stack: Stack) -> None:
    [issued] = await stack.harness.issue(stack.issuer_id, stack.agency_id, 1)
    document = stack.credential(issued)
    report, _ = await wait_for(stack, document, lambda r: r["verdict"] == "valid", timeout=30)
    assert check(report, "accreditation")["details"]["framework"] == "Test NQF"
    # The age the report gives is the age of the copy it names: when that copy arrived, up to now.
    details = check(report, "revocation")["details"]
    since_obtained = (datetime.now(UTC) - datetime.fromisoformat(details["obtained_at"])).total_seconds()
    assert 0 <= details["age_seconds"] <= since_obtained + 0.1
    assert since_obtained - details["age_seconds"] < 5, "the age must be measured from when the copy arrived"

    await stack.stub().RevokeCredential(revocation_pb2.RevokeCredentialRequest(credential_id=issued.credential_id,
                                                                                reason="issued in error"))
    report, elapsed = await wait_for(stack, document, lambda r: check(r, "revocation")["reason_code"] == "REVOKED",
                                     timeout=5)
    assert elapsed < 1.0, f"revocation visible after {elapsed:.3f}s"
    assert report["verdict"] == "invalid" and check(report, "revocation")["status"] == "invalid"


async def test_suspend_and_reinstate_round_trip(stack: Stack) -> None:
    [issued] = await stack.harness.issue(stack.issuer_id, stack.agency_id, 1)
    document = stack.credential(issued)
    await wait_for(stack, document, lambda r: r["verdict"] == "valid", timeout=30)
    await stack.stub().SuspendCredential(revocation_pb2.SuspendCredentialRequest(
        credential_id=issued.credential_id, reason="investigation"))
    report, elapsed = await wait_for(stack, document, lambda r: check(r, "suspension")["reason_code"] == "SUSPENDED",
                                     timeout=5)
    assert elapsed < 1.0 and report["verdict"] == "invalid"
    await stack.stub().ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
        credential_id=issued.credential_id, reason="cleared"))
    report, elapsed = await wait_for(stack, document, lambda r: r["verdict"] == "valid", timeout=5)
    assert elapsed < 1.0 and check(report, "suspension")["reason_code"] == "NOT_SUSPENDED"


async def test_status_list_of_another_platform_is_undetermined(stack: Stack) -> None:
    [issued] = await stack.harness.issue(stack.issuer_id, stack.agency_id, 1)
    document = stack.credential(issued)
    document["credentialStatus"][0]["statusListCredential"] = "https://elsewhere.example/status/1"
    report = await stack.verify(document)
    assert report["verdict"] == "invalid"  # the edit broke the signature: both are reported
    assert check(report, "signature")["status"] == "invalid"
    assert check(report, "revocation")["reason_code"] == "STATUS_RETRIEVAL_ERROR"
    assert check(report, "revocation")["status"] == "unknown"
