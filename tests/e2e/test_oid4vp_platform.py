"""OpenID4VP against the platform as `make run` starts it: a holder-bound SD-JWT VC issued over gRPC is presented
through the gateway's OpenID4VP endpoints by the test wallet (written from the spec) and the employer's result is
``valid`` with every check run (issuer in the registry, Token Status List read, holder binding, DCQL satisfied).
Once the issuer revokes it, a new presentation of the same credential reads ``invalid`` with REVOKED.

The integration tests in tests/integration/test_oid4vp_gateway.py cover the protocol's refusals on a gateway
alone; this is the end-to-end proof that a presentation can come out valid, and stops being valid.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.gen.microcred.v1 import issuer_pb2, revocation_pb2
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.type_metadata import VCT
from tests.e2e import devplatform
from tests.e2e.test_platform_restart import _client, _close
from tests.harness.factories import valid_micro_credential
from tests.harness.oid4vp_wallet import TestWallet, sd_jwt_presentation

pytestmark = pytest.mark.integration

AGENCY = "ie-oid4vp"
ISSUER = "ie-oid4vp-uni"
QUERY = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                          "claims": [{"path": ["achievement_title"]},
                                     {"path": ["level_of_learning_experience", "eqf_level"], "values": [6, 7, 8]}]}]}


async def _present(http: httpx.AsyncClient, verifier_url: str, credential: str,
                   holder: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """One whole round trip: the employer asks, the wallet answers, the employer reads the result."""
    created = (await http.post(f"{verifier_url}/v1/presentation-requests", json={"dcql_query": QUERY}))
    assert created.status_code == 201, created.text
    employer = created.json()
    wallet = TestWallet(http)
    request = await wallet.fetch(employer["link"])
    vp = sd_jwt_presentation(credential, holder, nonce=request.nonce, aud=request.client_id,
                             withhold=("given_name", "family_name", "birthdate"))
    answered = await wallet.answer(request, {"mc": [vp]})
    assert answered.status_code == 200, answered.text
    result = (await http.get(employer["result_url"])).json()
    assert result["status"] == "verified", result
    body: dict[str, Any] = result["en"]
    return body


def _not_valid(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["id"], c["reason_code"]) for c in report["checks"] if c["status"] != "valid"}


async def test_a_presentation_is_valid_then_revoked(tmp_path: Path) -> None:
    data_dir = tmp_path / "platform"
    run = devplatform.start(data_dir)
    try:
        client, redis, http = await _client(data_dir)
        try:
            await client.onboard(AGENCY, ISSUER, timeout=120)
            holder = ec.generate_private_key(ec.SECP256R1())
            reply = await client.issuer_stub(ISSUER, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
                idempotency_key=f"oid4vp-{uuid.uuid4()}", credential=valid_micro_credential(),
                formats=[issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC],
                holder_jwk_json=json.dumps(public_jwk(holder.public_key()))), timeout=60)
            credential = reply.credential.sd_jwt_vc

            body = await _present(http, client.verifier_url, credential, holder)
            report = body["presentations"][0]["report"]
            assert report["verdict"] == "valid" and body["verdict"] == "valid", _not_valid(report)
            assert body["query"]["satisfied"] is True, body["query"]
            assert {c["id"] for c in report["checks"]} >= {"signature", "holder_binding", "revocation",
                                                           "accreditation", "issuer_identity"}

            revoker = client.revocation_stub(ISSUER, AGENCY)
            await revoker.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                credential_id=reply.credential.credential_id, reason="issued in error"), timeout=60)
            deadline = time.monotonic() + 30  # the bound asserted here is generous; bench measures the real one
            while True:
                body = await _present(http, client.verifier_url, credential, holder)
                report = body["presentations"][0]["report"]
                if ("revocation", "REVOKED") in _not_valid(report):
                    break
                assert time.monotonic() < deadline, _not_valid(report)
                # four gateway requests a round: pause so the polling stays under the gateway's per-client rate
                # limit (20/s, burst 60), which a slow machine's many rounds otherwise exhaust (429)
                await asyncio.sleep(0.25)
            assert report["verdict"] == "invalid" and body["verdict"] == "invalid"
            # a presentation that fails is discarded (OpenID4VP §8.6): the query is not met by it
            assert body["presentations"][0]["discarded"] is True and body["query"]["satisfied"] is False
        finally:
            await _close(client, redis, http)
    finally:
        run.stop()
