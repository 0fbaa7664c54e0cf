"""The issuer's REST API (VC-API POST /credentials/issue) end to end: HTTPS over a real socket with client
certificates (mTLS) or OAuth 2.0 client credentials, real Kafka and Redis, the registry and revocation services.

The EU-element model issues exactly what gRPC issues (same credential, event and status entries: the same
idempotency key over REST and gRPC answers the same credential); a caller-written VC 2.0 credential goes through
the same registry checks, status pool and CredentialIssued event. Authentication and issuer scoping are tested
as for the gRPC API.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format

from microcred import pki
from microcred.credential.ids import credential_id_for
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.events.envelope import open_envelope
from microcred.gen.microcred.v1 import events_pb2, issuer_pb2
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.integration.test_issuer_grpc import kafka_records

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"ie-{TAG}"
UNI_A, UNI_B, UNI_C = f"rest-a-{TAG}", f"rest-b-{TAG}", f"rest-c-{TAG}"
SECRET_A, SECRET_C = "secret-a-" + TAG, "secret-c-" + TAG


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    work = tmp_path_factory.mktemp("issuer-rest")
    clients = work / "oauth-clients.json"
    clients.write_text(json.dumps([
        {"client_id": "client-a", "client_secret_sha256": hashlib.sha256(SECRET_A.encode()).hexdigest(),
         "issuer_id": UNI_A, "agency_id": AGENCY},
        {"client_id": "client-c", "client_secret_sha256": hashlib.sha256(SECRET_C.encode()).hexdigest(),
         "issuer_id": UNI_C, "agency_id": AGENCY}]))
    harness = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, work,
                                         status_block_size=50, rest_port=0, oauth_clients_file=clients)
    try:
        await harness.onboard(AGENCY, {UNI_A: 7, UNI_B: 5})
        yield harness
    finally:
        await harness.close()


def https(stack: IssuerHarness, identity: tuple[str, str, str] | None = None) -> httpx.AsyncClient:
    """A client of the REST port, trusting the test CA, presenting a certificate for ``identity`` if given."""
    context = ssl.create_default_context(cadata=stack.ca.cert_pem.decode())
    if identity is not None:
        cert = pki.create_client_cert(stack.ca, *identity)
        directory = Path(stack.work_dir) / f"client-{uuid.uuid4().hex[:8]}"
        cert_path, key_path = cert.write(directory, "client")
        context.load_cert_chain(str(cert_path), str(key_path))
    assert stack.app.rest is not None
    return httpx.AsyncClient(base_url=f"https://localhost:{stack.app.rest.port}", verify=context, timeout=30)


async def token(stack: IssuerHarness, client_id: str, secret: str) -> httpx.Response:
    async with https(stack) as http:
        return await http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))


async def issuer_did(stack: IssuerHarness, issuer_id: str) -> str:
    assert stack.app.registry_projection is not None
    issuer = await stack.app.registry_projection.registry.get_issuer(issuer_id)
    assert issuer is not None
    return str(issuer.did)


def eu_body(key: str) -> dict[str, Any]:
    return {"credential": json_format.MessageToDict(valid_micro_credential()), "options": {"idempotencyKey": key}}


async def test_eu_model_over_rest_is_exactly_what_grpc_issues(stack: IssuerHarness) -> None:
    key = f"rest-{uuid.uuid4()}"
    async with https(stack, (UNI_A, AGENCY, pki.ROLE_ISSUER)) as http:
        response = await http.post("/credentials/issue", json=eu_body(key))
    assert response.status_code == 201, response.text
    issued = response.json()["verifiableCredential"]
    cid = credential_id_for(UNI_A, key)
    assert issued["id"] == cid
    # gRPC with the same idempotency key answers this very credential: one pipeline, one store.
    reply = await stack.issuer_stub(UNI_A, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
        idempotency_key=key, credential=valid_micro_credential()))
    assert json.loads(reply.credential.credential_json) == issued
    # The CredentialIssued event carries the same credential text, the EU model and both status entries.
    [record] = (await kafka_records(stack.app.settings.kafka_bootstrap, {cid}))[cid]
    envelope, event = open_envelope(record)
    assert isinstance(event, events_pb2.CredentialIssued)
    assert event.sealed_personal and not event.credential_json  # sealed on Kafka (issue 18): open it to compare
    assert stack.app.privacy is not None
    event = (await stack.app.privacy.open([(envelope, event)]))[0].payload
    assert json.loads(event.credential_json) == issued and event.credential == valid_micro_credential()
    assert list(event.status_entries) == list(reply.credential.status_entries) and len(event.status_entries) == 2
    assert [s["id"] for s in issued["credentialStatus"]] == [
        f"{e.status_list_credential}#{e.status_list_index}" for e in event.status_entries]
    # ...and a second gRPC credential from the same input has the same shape (only ids, indexes, proof differ).
    other = await stack.issuer_stub(UNI_A, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
        idempotency_key=f"grpc-{uuid.uuid4()}", credential=valid_micro_credential()))
    grpc_doc = json.loads(other.credential.credential_json)
    assert sorted(grpc_doc) == sorted(issued) and grpc_doc["credentialSubject"].keys() == issued[
        "credentialSubject"].keys()


async def test_invalid_eu_model_names_every_violation(stack: IssuerHarness) -> None:
    body = eu_body(f"bad-{uuid.uuid4()}")
    body["credential"].pop("title", None)
    body["credential"]["learningOutcomes"] = []
    async with https(stack, (UNI_A, AGENCY, pki.ROLE_ISSUER)) as http:
        response = await http.post("/credentials/issue", json=body)
        missing_key = await http.post("/credentials/issue", json={"credential": body["credential"]})
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert len(response.json()["violations"]) >= 1
    assert missing_key.status_code == 400 and missing_key.json()["field"] in ("options.idempotencyKey", "title",
                                                                              "learning_outcomes")
    async with https(stack, (UNI_A, AGENCY, pki.ROLE_ISSUER)) as http:  # nested past the parser's stack
        deep = await http.post("/credentials/issue", content=b"[" * 30000 + b"]" * 30000)
    assert deep.status_code == 400 and deep.json()["field"] == "body"


async def test_authentication_is_required(stack: IssuerHarness) -> None:
    async with https(stack) as http:
        anonymous = await http.post("/credentials/issue", json=eu_body("k"))
        forged = await http.post("/credentials/issue", json=eu_body("k"), headers={"Authorization": "Bearer nope"})
    assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers
    assert forged.status_code == 401


async def test_a_certificate_from_another_ca_fails_the_handshake(stack: IssuerHarness) -> None:
    stranger = pki.create_ca("someone else")
    cert = pki.create_client_cert(stranger, UNI_A, AGENCY, pki.ROLE_ISSUER)
    cert_path, key_path = cert.write(Path(stack.work_dir) / f"stranger-{TAG}", "client")
    context = ssl.create_default_context(cadata=stack.ca.cert_pem.decode())
    context.load_cert_chain(str(cert_path), str(key_path))
    assert stack.app.rest is not None
    async with httpx.AsyncClient(base_url=f"https://localhost:{stack.app.rest.port}", verify=context) as http:
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            await http.post("/credentials/issue", json=eu_body("k"))


async def test_an_issuer_acts_only_in_its_own_name(stack: IssuerHarness) -> None:
    async with https(stack, (f"{AGENCY}-operator", AGENCY, pki.ROLE_AGENCY)) as http:
        agency = await http.post("/credentials/issue", json=eu_body(f"k-{uuid.uuid4()}"))
    assert agency.status_code == 403
    async with https(stack, (UNI_A, "pl-other", pki.ROLE_ISSUER)) as http:
        wrong_agency = await http.post("/credentials/issue", json=eu_body(f"k-{uuid.uuid4()}"))
    assert wrong_agency.status_code == 403 and wrong_agency.json()["reason"] == "AGENCY_MISMATCH"
    # A VC naming another issuer is refused, never re-issued in the caller's name.
    other_did = await issuer_did(stack, UNI_B)
    async with https(stack, (UNI_A, AGENCY, pki.ROLE_ISSUER)) as http:
        mismatch = await http.post("/credentials/issue", json={"credential": vc(other_did)})
    assert mismatch.status_code == 400 and mismatch.json()["reason"] == "ISSUER_MISMATCH"
    assert mismatch.json()["field"] == "credential.issuer"


async def test_an_unregistered_issuer_is_refused(stack: IssuerHarness) -> None:
    got = (await token(stack, "client-c", SECRET_C)).json()["access_token"]
    async with https(stack) as http:
        response = await http.post("/credentials/issue", json={"credential": vc("did:web:nowhere.example")},
                                   headers={"Authorization": f"Bearer {got}"})
    assert response.status_code == 403 and response.json()["reason"] == "ISSUER_NOT_REGISTERED"


def vc(issuer: str, **extra: Any) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "issuer": issuer, "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner", "name": "Alice"}, **extra}


async def test_oauth_client_issues_a_vc2_credential_with_status_and_event(stack: IssuerHarness) -> None:
    assert (await token(stack, "client-a", "wrong")).status_code == 401
    granted = await token(stack, "client-a", SECRET_A)
    assert granted.status_code == 200 and granted.json()["token_type"] == "Bearer"
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    did = await issuer_did(stack, UNI_A)
    async with https(stack) as http:
        response = await http.post("/credentials/issue", headers=bearer, json={
            "credential": vc(did), "options": {"credentialId": f"vc-{uuid.uuid4()}"}})
        invalid = await http.post("/credentials/issue", headers=bearer, json={
            "credential": vc(did, termsOfUse={"id": "https://example.org/tou"})})
    assert response.status_code == 201, response.text
    issued = response.json()["verifiableCredential"]
    assert issued["issuer"] == did and issued["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert [s["statusPurpose"] for s in issued["credentialStatus"]] == ["revocation", "suspension"]
    assert stack.app.registry_projection is not None
    registry = stack.app.registry_projection.registry
    method = issued["proof"]["verificationMethod"]
    resolved = await registry.resolve_verification_method(method, datetime.now(UTC))
    assert verify_data_integrity(issued, lambda vm: resolved.public_key if vm == method else None).verified is True
    [record] = (await kafka_records(stack.app.settings.kafka_bootstrap, {issued["id"]}))[issued["id"]]
    envelope, event = open_envelope(record)
    assert isinstance(event, events_pb2.CredentialIssued) and event.sealed_personal and not event.credential_json
    assert stack.app.privacy is not None
    event = (await stack.app.privacy.open([(envelope, event)]))[0].payload  # sealed on Kafka (issue 18)
    assert json.loads(event.credential_json) == issued
    assert len(event.status_entries) == 2 and event.issuer_id == UNI_A
    assert invalid.status_code == 400 and invalid.json()["reason"] == "terms_of_use.type"


async def test_the_same_credential_id_answers_the_same_credential_once(stack: IssuerHarness) -> None:
    granted = (await token(stack, "client-a", SECRET_A)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {granted}"}
    body = {"credential": vc(await issuer_did(stack, UNI_A)), "options": {"credentialId": f"once-{uuid.uuid4()}"}}
    async with https(stack) as http:
        first, again = [await http.post("/credentials/issue", headers=bearer, json=body) for _ in range(2)]
    assert first.status_code == again.status_code == 201
    issued = first.json()["verifiableCredential"]
    assert again.json()["verifiableCredential"] == issued
    records = (await kafka_records(stack.app.settings.kafka_bootstrap, {issued["id"]}))[issued["id"]]
    assert len(records) == 1
    # gRPC GetCredential finds it too: one store for both APIs.
    got = await stack.issuer_stub(UNI_A, AGENCY).GetCredential(issuer_pb2.GetCredentialRequest(
        credential_id=issued["id"]))
    assert json.loads(got.credential.credential_json) == issued
