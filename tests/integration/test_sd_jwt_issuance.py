"""SD-JWT VCs end to end (issue 19): issued over gRPC by the running issuer (x5c under the agency's document-signing
CA), verified by the gateway (issuer in the trust registry by its https iss, Token Status List over HTTP from the
revocation service), then revoked over gRPC and reported revoked by the gateway within a second."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2, revocation_pb2
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.x5c import load_certificates
from microcred.verification import VerificationPorts
from microcred.verification.keys import ChainKeyResolver, DidKeyResolver
from services.verifier.adapters.sources import PlatformUrls
from services.verifier.adapters.token_status import TokenStatusHttpSource
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.verifier_support import DictStatusSource, Limits, RunningServer

pytestmark = pytest.mark.integration

AGENCY = "agency-sd"


@pytest.fixture
async def platform(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[tuple[IssuerHarness, bytes]]:
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path, AGENCY, rest_port=None)
    try:
        yield harness, document_ca.cert_pem
    finally:
        await harness.close()


async def test_issued_verified_and_revoked_within_a_second(platform: tuple[IssuerHarness, bytes]) -> None:
    harness, document_ca = platform
    assert harness.revocation is not None
    issuer_id = f"uni-{uuid.uuid4().hex[:8]}"
    await harness.onboard(AGENCY, {issuer_id: 7})
    holder = ec.generate_private_key(ec.SECP256R1())
    stub = harness.issuer_stub(issuer_id, AGENCY)
    response = await stub.IssueCredential(issuer_pb2.IssueCredentialRequest(
        idempotency_key="sd-1", credential=valid_micro_credential(),
        formats=[issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC], holder_jwk_json=json.dumps(public_jwk(holder.public_key()))))
    credential = response.credential
    assert credential.credential_json and credential.sd_jwt_vc.count("~") > 5

    base = harness.revocation.app.base_url
    async with httpx.AsyncClient(timeout=10) as http:
        ports = VerificationPorts(
            keys=ChainKeyResolver(DidKeyResolver()), status=DictStatusSource(), trust=harness.app_registry(),
            x509_anchors=(*load_certificates(document_ca), *load_certificates(harness.ca.cert_pem)),
            token_status=TokenStatusHttpSource(http, PlatformUrls([f"{base}/token-status/"]), max_age=0.1))
        gateway = create_gateway_app(Limits())
        gateway.state.gateway = Gateway(ports)
        async with RunningServer(gateway) as server, httpx.AsyncClient(base_url=server.url) as client:
            async def report() -> dict[str, Any]:
                answer: dict[str, Any] = (await client.post("/v1/verify",
                                                            json={"credential": credential.sd_jwt_vc})).json()
                return answer

            first = await report()
            assert first["verdict"] == "valid", first["checks"]
            checks = {c["id"]: c for c in first["checks"]}
            assert checks["accreditation"]["details"]["issuer_id"] == issuer_id
            assert checks["revocation"]["reason_code"] == "NOT_REVOKED"
            assert first["summary"]["title"] == valid_micro_credential().title.values["en"]

            revoker = harness.revocation.stub(issuer_id, AGENCY, pki.ROLE_ISSUER)
            await revoker.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                credential_id=credential.credential_id, reason="issued in error"))
            started = time.monotonic()
            while (latest := await report())["verdict"] != "invalid":
                assert time.monotonic() - started < 1.0, latest["checks"]
            revocation = next(c for c in latest["checks"] if c["id"] == "revocation")
            assert revocation["reason_code"] == "REVOKED"
