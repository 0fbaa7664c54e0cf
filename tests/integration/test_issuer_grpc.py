"""The issuer service end to end: real gRPC over mutual TLS, Kafka, Redis, the registry and the revocation service.

One stack per module (:func:`tests.harness.issuer.start_issuer_harness`): an issuer service and a real
revocation service sharing a test CA, issuers onboarded through the real RegistryService.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from importlib import resources
from typing import Any

import grpc
import pyoxigraph as ox
import pytest
from google.rpc import code_pb2, error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status

from microcred import pki
from microcred.credential.eu_elements import missing_mandatory_elements
from microcred.credential.ids import credential_id_for, issued_event_id
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.multikey import decode_base58btc, decode_ed25519_public_key
from microcred.events.envelope import open_envelope
from microcred.gen.microcred.v1 import (
    events_pb2,
    issuer_pb2,
    registry_pb2,
    revocation_pb2,
    revocation_pb2_grpc,
    status_pb2,
)
from microcred.kafka.topics import CREDENTIALS, REGISTRY
from microcred.storage.positions import epoch_key
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.harness.kafka import read_topic

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"ie-{TAG}"
UNI_A, UNI_B, UNI_C = f"uni-a-{TAG}", f"uni-b-{TAG}", f"uni-c-{TAG}"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    harness = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                                         tmp_path_factory.mktemp("issuer-stack"), status_block_size=50)
    try:
        await harness.onboard(AGENCY, {UNI_A: 7, UNI_B: 5, UNI_C: None})
        yield harness
    finally:
        await harness.close()


async def kafka_records(bootstrap: str, keys: set[str]) -> dict[str, list[bytes]]:
    """Every value on the credentials topic whose key is in ``keys`` (read from the beginning to the end)."""
    found: dict[str, list[bytes]] = {}
    for record in await read_topic(bootstrap, CREDENTIALS.name):
        key = (record.key or b"").decode()
        if key in keys and record.value is not None:
            found.setdefault(key, []).append(record.value)
    return found


def details(exc: grpc.aio.AioRpcError) -> tuple[list[error_details_pb2.BadRequest.FieldViolation], str]:
    status = rpc_status.from_call(exc)
    assert status is not None
    violations, reason = [], ""
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += list(bad.field_violations)
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
    return violations, reason


def replayed(answer: issuer_pb2.IssuedCredential) -> issuer_pb2.IssuedCredential:
    """A replay's answer, flagged as issued before, without the flag (to compare with the first answer)."""
    assert answer.already_issued, answer
    first = issuer_pb2.IssuedCredential()
    first.CopyFrom(answer)
    first.ClearField("already_issued")
    return first


async def issue(stack: IssuerHarness, issuer_id: str, key: str, mc: Any = None) -> issuer_pb2.IssuedCredential:
    reply = await stack.issuer_stub(issuer_id, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
        idempotency_key=key, credential=mc if mc is not None else valid_micro_credential()))
    return reply.credential


async def test_a_valid_credential_issues_and_appears_on_kafka(stack: IssuerHarness,
                                                              infrastructure: Infrastructure) -> None:
    credential = await issue(stack, UNI_A, "valid-1")
    assert credential.credential_id == credential_id_for(UNI_A, "valid-1")
    found = await kafka_records(infrastructure.kafka_bootstrap, {credential.credential_id})
    [raw] = found[credential.credential_id]
    envelope, event = open_envelope(raw)
    assert isinstance(event, events_pb2.CredentialIssued)
    assert envelope.event_id == issued_event_id(credential.credential_id) and envelope.tenant == AGENCY
    # The learner's personal data travels sealed under their data key (issue 18): open it to compare.
    assert event.sealed_personal and not event.credential_json and event.learner_pseudonym.startswith("lp_")
    assert stack.app.privacy is not None
    [opened] = await stack.app.privacy.open([(envelope, event)])
    event = opened.payload
    assert event.credential_json == credential.credential_json and event.issuer_id == UNI_A
    doc = json.loads(credential.credential_json)
    assert missing_mandatory_elements(doc) == []
    assert doc["issuer"]["id"] == f"did:web:trust.example.test:issuers:{UNI_A}"
    lists = {e["statusListCredential"] for e in doc["credentialStatus"]}
    assert stack.revocation is not None and all(url.startswith("http") for url in lists)
    got = await stack.issuer_stub(UNI_A, AGENCY).GetCredential(
        issuer_pb2.GetCredentialRequest(credential_id=credential.credential_id))
    assert got.credential == credential and got.issuer_id == UNI_A
    assert got.micro_credential == valid_micro_credential()


async def test_an_invalid_credential_returns_every_violation_and_nothing_appears(
        stack: IssuerHarness, infrastructure: Infrastructure) -> None:
    mc = valid_micro_credential()
    mc.ClearField("title")
    mc.ClearField("assessment")
    mc.learner.email = "not-an-email"
    mc.workload.credit_points = "0"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await issue(stack, UNI_A, "invalid-1", mc)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations, _ = details(caught.value)
    assert {v.field for v in violations} == {"title", "assessment", "learner.email", "workload.credit_points"}
    assert all(v.description and v.reason for v in violations)
    await issue(stack, UNI_A, "after-invalid")  # published after the invalid one was refused
    found = await kafka_records(infrastructure.kafka_bootstrap, {credential_id_for(UNI_A, "invalid-1"),
                                                                 credential_id_for(UNI_A, "after-invalid")})
    assert list(found) == [credential_id_for(UNI_A, "after-invalid")]


async def test_an_issuer_acts_only_in_its_own_name(stack: IssuerHarness) -> None:
    mine = await issue(stack, UNI_A, "own-1")
    other = await issue(stack, UNI_B, "own-1", _eqf5())
    assert other.credential_id != mine.credential_id
    assert json.loads(other.credential_json)["issuer"]["id"].endswith(UNI_B)  # the certificate decides the issuer
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.issuer_stub(UNI_B, AGENCY).GetCredential(
            issuer_pb2.GetCredentialRequest(credential_id=mine.credential_id))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # an agency operator is not an issuer
        await stack.issuer_stub(f"{AGENCY}-operator", AGENCY, pki.ROLE_AGENCY).IssueCredential(
            issuer_pb2.IssueCredentialRequest(idempotency_key="x", credential=valid_micro_credential()))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # the right CN under another agency
        await stack.issuer_stub(UNI_A, "pl-other").IssueCredential(
            issuer_pb2.IssueCredentialRequest(idempotency_key="x", credential=valid_micro_credential()))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED and details(caught.value)[1] == "AGENCY_MISMATCH"


def _eqf5() -> Any:
    mc = valid_micro_credential()
    mc.level.eqf_level = 5
    mc.level.ClearField("qf_ehea_cycle")
    return mc


@pytest.mark.parametrize(("issuer", "reason"), [(UNI_C, "NOT_ACCREDITED"), (UNI_B, "EQF_LEVEL_NOT_ALLOWED"),
                                                (f"ghost-{TAG}", "ISSUER_NOT_REGISTERED")])
async def test_unaccredited_issuers_are_refused(stack: IssuerHarness, issuer: str, reason: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await issue(stack, issuer, f"refused-{reason}")
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details(caught.value)[1] == reason and caught.value.details()


async def _batch(stack: IssuerHarness, issuer: str, items: list[tuple[str, Any]]
                 ) -> dict[str, issuer_pb2.IssueCredentialsResponse]:
    async def requests() -> AsyncIterator[issuer_pb2.IssueCredentialsRequest]:
        for i, (key, mc) in enumerate(items):
            yield issuer_pb2.IssueCredentialsRequest(idempotency_key=key, credential=mc, client_reference=str(i))

    out = {}
    async for response in stack.issuer_stub(issuer, AGENCY).IssueCredentials(requests()):
        out[response.idempotency_key] = response
    return out


async def test_a_batch_reports_per_item_and_a_replay_issues_nothing_new(
        stack: IssuerHarness, infrastructure: Infrastructure) -> None:
    bad = valid_micro_credential()
    bad.ClearField("learning_outcomes")
    items = [(f"batch-{i}", valid_micro_credential()) for i in range(120)] + [("batch-bad", bad)]
    first = await _batch(stack, UNI_A, items)
    assert len(first) == 121
    assert first["batch-bad"].failure.code == code_pb2.INVALID_ARGUMENT
    assert [v.field for v in first["batch-bad"].failure.field_violations] == ["learning_outcomes"]
    assert all(first[f"batch-{i}"].WhichOneof("result") == "issued" for i in range(120))
    assert first["batch-7"].client_reference == "7"
    again = await _batch(stack, UNI_A, items[::-1])
    assert {k: replayed(r.issued) for k, r in again.items() if k != "batch-bad"} == \
        {k: r.issued for k, r in first.items() if k != "batch-bad"}
    ids = {r.issued.credential_id for r in first.values() if r.WhichOneof("result") == "issued"}
    found = await kafka_records(infrastructure.kafka_bootstrap, ids)
    assert len(found) == 120 and all(len(v) == 1 for v in found.values())


def _inline_contexts(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with each context URL replaced by the vendored file's content (read directly)."""
    package = resources.files("microcred.jsonld.contexts")
    manifest = json.loads(package.joinpath("manifest.json").read_text())
    files = {d["url"]: d["file"] for d in manifest["documents"]}
    contexts = [json.loads(package.joinpath(files[url]).read_text())["@context"] for url in doc["@context"]]
    return {**doc, "@context": contexts}


def _oxigraph_rdfc(doc: dict[str, Any]) -> bytes:
    dataset = ox.Dataset(ox.parse(json.dumps(_inline_contexts(doc)), ox.RdfFormat.JSON_LD))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    serialised = ox.serialize(dataset, format=ox.RdfFormat.N_QUADS)
    assert serialised is not None
    return "".join(sorted(line + "\n" for line in serialised.decode().splitlines() if line)).encode()


async def test_an_issued_credential_verifies_with_an_independent_implementation(stack: IssuerHarness) -> None:
    credential = await issue(stack, UNI_A, "independent-1")
    signed = json.loads(credential.credential_json)
    issuer = await stack.app_registry().get_issuer(UNI_A)
    [method] = [vm for vm in issuer.verification_methods if vm.id == signed["proof"]["verificationMethod"]]
    public_key = decode_ed25519_public_key(method.public_key_multibase)
    proof = signed["proof"]
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"} | {"@context": unsecured["@context"]}
    hash_data = hashlib.sha256(_oxigraph_rdfc(config)).digest() + hashlib.sha256(_oxigraph_rdfc(unsecured)).digest()
    public_key.verify(decode_base58btc(proof["proofValue"]), hash_data)  # raises InvalidSignature


async def test_key_rotation_keeps_old_credentials_verifiable(stack: IssuerHarness) -> None:
    issuer_id = f"uni-rot-{TAG}"
    await stack.onboard(AGENCY, {issuer_id: 7})
    old = json.loads((await issue(stack, issuer_id, "before")).credential_json)
    operator = stack.registry_stub(f"{AGENCY}-operator", AGENCY, pki.ROLE_AGENCY)
    await operator.RotateIssuerKey(registry_pb2.RotateIssuerKeyRequest(issuer_id=issuer_id))
    registry = stack.app_registry()
    for _ in range(200):
        record = await registry.get_issuer(issuer_id)
        if len(record.verification_methods) == 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.1)  # proofs are stamped to the second: sign after the rotation's second
    new = json.loads((await issue(stack, issuer_id, "after")).credential_json)
    assert old["proof"]["verificationMethod"].endswith("#key-1")
    assert new["proof"]["verificationMethod"].endswith("#key-2")
    for doc in (old, new):  # each proof resolves to the key that was current when it was made
        signed_at = datetime.fromisoformat(doc["proof"]["created"].replace("Z", "+00:00"))
        resolution = await registry.resolve_verification_method(doc["proof"]["verificationMethod"], signed_at)
        assert resolution.public_key is not None, resolution
        key = resolution.public_key
        assert verify_data_integrity(doc, lambda vm, key=key: key).verified is True


async def test_the_revocation_service_knows_issued_credentials(stack: IssuerHarness) -> None:
    credential = await issue(stack, UNI_A, "revoke-me")
    assert stack.revocation is not None
    stub: revocation_pb2_grpc.RevocationServiceAsyncStub = stack.revocation.stub(UNI_A, AGENCY, pki.ROLE_ISSUER)
    for _ in range(100):
        try:
            reply = await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                credential_id=credential.credential_id, reason="issued in error"))
            break
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.1)
    assert reply.status.revoked
    entries = {(e.status_list_id, e.status_list_index) for e in reply.status.status_entries}
    assert entries == {(e.status_list_id, e.status_list_index) for e in credential.status_entries}
    assert {e.status_purpose for e in credential.status_entries} == {status_pb2.STATUS_PURPOSE_REVOCATION,
                                                                     status_pb2.STATUS_PURPOSE_SUSPENSION}


async def test_concurrent_streams_with_the_same_keys_issue_each_credential_once(
        stack: IssuerHarness, infrastructure: Infrastructure) -> None:
    items = [(f"race-{i}", valid_micro_credential()) for i in range(60)]
    first, second = await asyncio.gather(_batch(stack, UNI_A, items), _batch(stack, UNI_A, items[::-1]))
    # The same credential on both streams. Which stream answers "already issued" depends on the race (the
    # other stream's record was issued, or still pending, when it looked), but one of them issued it.
    for key in first:
        assert not (first[key].issued.already_issued and second[key].issued.already_issued), key
    for answers in (first, second):
        for r in answers.values():
            r.issued.ClearField("already_issued")
    assert {k: r.issued for k, r in first.items()} == {k: r.issued for k, r in second.items()}
    ids = {r.issued.credential_id for r in first.values()}
    found = await kafka_records(infrastructure.kafka_bootstrap, ids)
    assert len(found) == 60
    for values in found.values():  # a race may publish twice, but always the very same event
        envelopes = [open_envelope(v)[0] for v in values]
        for envelope in envelopes:  # each publish stamps its own PRODUCER span's trace context (when tracing)
            envelope.ClearField("trace_context")
        assert len({e.SerializeToString(deterministic=True) for e in envelopes}) == 1, envelopes


async def test_a_lost_registry_read_model_asks_to_retry_and_never_denies(stack: IssuerHarness) -> None:
    """The registry's Redis state is lost: a registered issuer gets UNAVAILABLE, never PERMISSION_DENIED."""
    redis, projection = stack.app.redis, stack.app.registry_projection
    assert redis is not None and projection is not None
    namespace = projection.registry.namespace
    lost = [k async for k in redis.scan_iter(match=f"{namespace}:*")]
    await redis.delete(*lost, epoch_key(namespace), f"offsets:{namespace}:{REGISTRY.name}")  # wiped
    refused = 0
    deadline = asyncio.get_running_loop().time() + 300  # the replay covers every test's registry events
    while True:
        try:
            credential = await issue(stack, UNI_A, "registry-lost")
            break
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
            assert "rebuilt" in (exc.details() or "")
            refused += 1
        assert asyncio.get_running_loop().time() < deadline, "the registry read model was not rebuilt"
        await asyncio.sleep(0.1)
    assert refused > 0 and projection.runner.rebuilds == 1
    assert credential.credential_id == credential_id_for(UNI_A, "registry-lost")
    with pytest.raises(grpc.aio.AioRpcError) as denied:  # and once whole, a real refusal is a refusal again
        await stack.issuer_stub(UNI_C, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
            idempotency_key="registry-back", credential=valid_micro_credential()))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_lost_store_is_rebuilt_and_never_answers_wrongly_meanwhile(stack: IssuerHarness) -> None:
    """Runs last in this module: it wipes the issuer's state, and the rebuild replays the whole topic."""
    credential = await issue(stack, UNI_A, "rebuild-me")
    redis, projection = stack.app.redis, stack.app.store_projection
    assert redis is not None and projection is not None
    prefix = stack.app.settings.issuer_redis_prefix
    lost = [k async for k in redis.scan_iter(match=f"{prefix}:*")]  # this service's state is lost (Redis
    await redis.delete(*lost, projection.epoch_key(0), f"offsets:{projection.name}:{CREDENTIALS.name}")  # wiped)
    stub = stack.issuer_stub(UNI_A, AGENCY)
    refused = 0
    deadline = asyncio.get_running_loop().time() + 600  # a rebuild replays the whole topic (other tests' too)
    while True:
        try:  # found, or refused retriably: never NOT_FOUND, the credential exists
            got = await stub.GetCredential(issuer_pb2.GetCredentialRequest(credential_id=credential.credential_id))
            assert got.credential == credential
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
        try:  # a retry is refused (retriably) until the store is whole again, then answered with the original
            assert replayed(await issue(stack, UNI_A, "rebuild-me")) == credential
            break
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
            refused += 1
        assert asyncio.get_running_loop().time() < deadline, f"not rebuilt ({projection.applied} replayed)"
        await asyncio.sleep(0.2)
    assert refused > 0 and projection.watch.rebuilds == 1
