"""JWT VC Issuer Metadata (issue 19, draft-ietf-oauth-sd-jwt-vc §3) served by the running issuer service: an SD-JWT VC
issued over gRPC names ``iss``; its metadata is fetched over HTTPS at the well-known URL of that ``iss`` (path part,
on the issuer's REST front), names the same issuer, and its JWKS holds the key of the credential's ``x5c`` leaf,
with the same chain. An unknown issuer is a named 404."""

from __future__ import annotations

import base64
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509

from microcred.gen.microcred.v1 import issuer_pb2
from microcred.sdjwt.issuer_metadata import well_known_url
from microcred.sdjwt.jose import parse_jws, public_jwk
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca

pytestmark = pytest.mark.integration

AGENCY = "agency-md"


@pytest.fixture
async def harness(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[IssuerHarness]:
    running, _ = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path, AGENCY)
    try:
        yield running
    finally:
        await running.close()


async def test_the_metadata_of_the_credentials_iss_publishes_its_x5c_leaf_key(harness: IssuerHarness) -> None:
    issuer_id = f"uni-{uuid.uuid4().hex[:8]}"
    await harness.onboard(AGENCY, {issuer_id: 7})
    response = await harness.issuer_stub(issuer_id, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
        idempotency_key="md-1", credential=valid_micro_credential(), formats=[issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC]))
    jws = parse_jws(response.credential.sd_jwt_vc.split("~", 1)[0], max_length=100_000)
    iss, x5c = jws.payload["iss"], jws.header["x5c"]
    assert iss.endswith(f"/issuers/{issuer_id}")
    leaf_key = public_jwk(x509.load_der_x509_certificate(base64.b64decode(x5c[0])).public_key())

    assert harness.app.rest is not None
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())  # public: no client certificate
    async with httpx.AsyncClient(base_url=f"https://localhost:{harness.app.rest.port}", verify=context,
                                 timeout=30) as http:
        answer = await http.get(urlsplit(well_known_url(iss)).path)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"].startswith("public")
        metadata = answer.json()
        assert metadata["issuer"] == iss
        matching = [k for k in metadata["jwks"]["keys"]
                    if {m: k.get(m) for m in leaf_key} == leaf_key]
        assert len(matching) == 1, (leaf_key, metadata)
        assert matching[0]["x5c"] == x5c and matching[0]["alg"] == jws.header["alg"] and "d" not in matching[0]
        assert matching[0]["kid"] == jws.header["kid"]  # the credential names its key (SD-JWT VC §3.5)

        unknown = await http.get("/.well-known/jwt-vc-issuer/issuers/no-such-issuer")
        assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
        assert unknown.json()["field"] == "issuer_id"
