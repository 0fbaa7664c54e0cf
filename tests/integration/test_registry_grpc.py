"""The trust registry end to end: gRPC over mutual TLS (certificates made by the `mcred` CLI), real Kafka, Redis.

RegistryApi publishes to ``microcred.registry.v1``; a RegistryProjection feeds a RedisRegistry from it; the tests
read decisions from that read model, polling it until the projector has applied the relevant record (never
sleeping as an assertion). Acceptance criteria of issue 3:

* an agency cannot touch another agency's issuers (every RPC);
* a withdrawn accreditation refuses issuance from the moment its event is processed;
* an issuer accredited up to EQF 5 cannot issue at EQF 6;
* credentials signed before and after a key rotation verify; a retired key signing after retirement does not;
* the read model rebuilt from an empty Redis equals the live one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis
from typer.testing import CliRunner

from microcred import pki
from microcred.cli.main import app as cli
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.keystore import EncryptedFileKeyStore
from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import registry_pb2, registry_pb2_grpc
from microcred.grpc_server import GrpcServer, TlsFiles, client_channel
from microcred.infra.ports import free_port
from microcred.infra.redis_local import LocalRedis
from microcred.kafka.publisher import KafkaEventPublisher, Published
from microcred.kafka.topics import REGISTRY
from microcred.registry.did_web import key_store_id, verify_with_registry
from microcred.registry.ports import IssuanceRefusal, KeyProblem
from microcred.registry.projector import RegistryProjection, start_registry_projection
from microcred.registry.redis_registry import RedisRegistry
from services.issuer.api.registry import RegistryApi
from services.verifier.api.trust import trust_router
from tests.conftest import Infrastructure
from tests.contract.registry import HOST, accreditation, org
from tests.harness.kafka import end_offsets
from tests.harness.waiting import eventually
from tests.unit.test_registry_api import field_violations, rpc_error, start_registry_server
from tests.unit.test_registry_did_web import credential

pytestmark = pytest.mark.integration


class RecordingPublisher:
    """The real Kafka publisher, remembering where each record landed (to know when it was processed)."""

    def __init__(self, inner: KafkaEventPublisher) -> None:
        self.inner = inner
        self.placed: list[tuple[str, EventEnvelope, Published]] = []

    async def publish(self, topic: str, key: str, envelope: EventEnvelope) -> Published:
        placed = await self.inner.publish(topic, key, envelope)
        self.placed.append((key, envelope, placed))
        return placed

    async def publish_many(self, topic: str, items: list[tuple[str, EventEnvelope]]) -> list[Published]:
        return [await self.publish(topic, key, envelope) for key, envelope in items]


@dataclass
class Platform:
    """Everything one test module shares: PKI, the gRPC server, the projection, the clients."""

    server: GrpcServer
    projection: RegistryProjection
    publisher: RecordingPublisher
    keystore: EncryptedFileKeyStore
    stubs: dict[str, Any]
    channels: list[grpc.aio.Channel]
    agency_a: str
    agency_b: str
    pki_dir: Path

    @property
    def registry(self) -> RedisRegistry:
        return self.projection.registry

    async def processed(self, placed: Published) -> bool:
        """Has the projection applied the record at ``placed``?"""
        return (await self.registry.positions()).get(placed.partition, 0) > placed.offset

    async def settle(self) -> None:
        """Wait until the projection has applied every record we published (on every partition)."""
        pending = {placed.partition: placed for _, _, placed in self.publisher.placed}

        async def all_processed() -> bool:
            return all([await self.processed(placed) for placed in pending.values()])

        await eventually(all_processed, message=f"projection reaches {list(pending.values())}", interval=0.02)

    async def register_issuer(self, issuer_id: str, who: str = "agency_a", max_eqf: int | None = 5) -> None:
        await self.stubs[who].RegisterIssuer(registry_pb2.RegisterIssuerRequest(
            issuer_id=issuer_id, organisation=org(f"Uni {issuer_id}")))
        if max_eqf is not None:
            await self.stubs[who].AccreditIssuer(registry_pb2.AccreditIssuerRequest(
                issuer_id=issuer_id, accreditation=accreditation(max_eqf=max_eqf, accreditation_id="acc-1",
                                                                 valid_from=datetime.now(UTC) - timedelta(days=1))))
        await self.settle()


def make_certificates(base: Path, agency_a: str, agency_b: str, issuer: str) -> dict[str, TlsFiles]:
    """The CLI flow of issue 3: platform CA, two agency operators, one issuer."""
    runner = CliRunner()
    ca_dir = base / "pki"
    commands = [["agency", "init-ca", "--out", str(ca_dir)],
                ["agency", "cert", agency_a, "--ca-dir", str(ca_dir), "--out", str(base / "a")],
                ["agency", "cert", agency_b, "--ca-dir", str(ca_dir), "--out", str(base / "b")],
                ["issuer", "cert", issuer, "--agency", agency_a, "--ca-dir", str(ca_dir), "--out", str(base / "i")]]
    for command in commands:
        result = runner.invoke(cli, command)
        assert result.exit_code == 0, result.output
    return {"server": TlsFiles.from_dir(ca_dir, "server"), "platform": TlsFiles.from_dir(ca_dir, "platform-operator"),
            "agency_a": TlsFiles.from_dir(base / "a", agency_a), "agency_b": TlsFiles.from_dir(base / "b", agency_b),
            "issuer": TlsFiles.from_dir(base / "i", issuer)}


@pytest.fixture(scope="module")
async def platform(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[Platform]:
    unique = os.urandom(4).hex()
    base = tmp_path_factory.mktemp("registry")
    agency_a, agency_b = f"ie-{unique}", f"pl-{unique}"
    tls = make_certificates(base, agency_a, agency_b, f"uni-self-{unique}")
    redis = Redis.from_url(infrastructure.redis_url)
    projection = await start_registry_projection(infrastructure.kafka_bootstrap, redis, f"issuer-registry-{unique}",
                                                 namespace=f"registry-{unique}")
    kafka = KafkaEventPublisher(infrastructure.kafka_bootstrap, client_id="registry-test")
    await kafka.start()
    publisher = RecordingPublisher(kafka)
    keystore = EncryptedFileKeyStore(base / "keys", os.urandom(32))
    api = RegistryApi(publisher, projection.registry, keystore, HOST)
    server = await start_registry_server(api, tls["server"])
    channels = {name: client_channel(f"127.0.0.1:{server.port}", files) for name, files in tls.items()
                if name != "server"}
    stubs = {name: registry_pb2_grpc.RegistryServiceStub(ch) for name, ch in channels.items()}
    p = Platform(server, projection, publisher, keystore, stubs, list(channels.values()), agency_a, agency_b,
                 base / "pki")
    try:
        for agency in (agency_a, agency_b):
            await stubs["platform"].RegisterAgency(registry_pb2.RegisterAgencyRequest(
                agency_id=agency, organisation=org(f"Agency {agency}")))
        await p.settle()
        yield p
    finally:
        for channel in p.channels:
            await channel.close()
        await server.stop(0)
        await projection.stop()
        await kafka.stop()
        await redis.aclose()


# ------------------------------------------------------------------------------------------------ tenancy


async def test_agency_b_cannot_touch_agency_a_issuers(platform: Platform) -> None:
    issuer_id = f"uni-tenancy-{os.urandom(3).hex()}"
    await platform.register_issuer(issuer_id)
    before = await platform.registry.get_issuer(issuer_id)
    assert before is not None and before.agency_id == platform.agency_a
    attempts = [
        ("RegisterIssuer", registry_pb2.RegisterIssuerRequest(issuer_id=issuer_id + "-b", agency_id=platform.agency_a,
                                                              organisation=org("Squatter"))),
        ("AccreditIssuer", registry_pb2.AccreditIssuerRequest(issuer_id=issuer_id,
                                                              accreditation=accreditation(max_eqf=8))),
        ("SuspendAccreditation", registry_pb2.SuspendAccreditationRequest(
            issuer_id=issuer_id, accreditation_id="acc-1", reason="hostile")),
        ("WithdrawAccreditation", registry_pb2.WithdrawAccreditationRequest(
            issuer_id=issuer_id, accreditation_id="acc-1", reason="hostile")),
        ("RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(issuer_id=issuer_id)),
        ("GetIssuer", registry_pb2.GetIssuerRequest(issuer_id=issuer_id)),
        ("ListIssuers", registry_pb2.ListIssuersRequest(agency_id=platform.agency_a)),
    ]
    published = len(platform.publisher.placed)
    for method, request in attempts:
        err = await rpc_error(getattr(platform.stubs["agency_b"], method)(request))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED, method
        assert platform.agency_b in (err.details() or ""), method
    listed = await platform.stubs["agency_b"].ListIssuers(registry_pb2.ListIssuersRequest())
    assert issuer_id not in [i.issuer_id for i in listed.issuers]
    assert len(platform.publisher.placed) == published
    # A later command by the owner lands after anything B could have slipped in (same key, same partition).
    await platform.stubs["agency_a"].SuspendAccreditation(registry_pb2.SuspendAccreditationRequest(
        issuer_id=issuer_id, accreditation_id="acc-1", reason="routine audit"))
    await platform.settle()
    after = await platform.registry.get_issuer(issuer_id)
    assert after is not None
    assert [vm.id for vm in after.verification_methods] == [vm.id for vm in before.verification_methods]
    assert [a.status for a in after.accreditations] == [registry_pb2.ACCREDITATION_STATUS_SUSPENDED]
    assert await platform.registry.get_issuer(issuer_id + "-b") is None
    assert key_store_id(issuer_id, 2) not in platform.keystore.list_keys()


async def test_the_issuer_reads_itself_and_bad_input_changes_nothing(platform: Platform) -> None:
    issuer_id = f"uni-self-{platform.agency_a.split('-', 1)[1]}"
    await platform.register_issuer(issuer_id, max_eqf=None)
    got = await platform.stubs["issuer"].GetIssuer(registry_pb2.GetIssuerRequest(issuer_id=issuer_id))
    assert got.issuer.agency_id == platform.agency_a
    err = await rpc_error(platform.stubs["issuer"].RotateIssuerKey(registry_pb2.RotateIssuerKeyRequest(
        issuer_id=issuer_id)))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    published = len(platform.publisher.placed)
    bad = accreditation(max_eqf=9)
    bad.framework = ""
    err = await rpc_error(platform.stubs["agency_a"].AccreditIssuer(
        registry_pb2.AccreditIssuerRequest(issuer_id=issuer_id, accreditation=bad)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err) == {"accreditation.framework": "REQUIRED",
                                     "accreditation.max_eqf_level": "OUT_OF_RANGE"}
    assert len(platform.publisher.placed) == published
    err = await rpc_error(platform.stubs["agency_a"].GetIssuer(registry_pb2.GetIssuerRequest(issuer_id="uni-none")))
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_a_client_certificate_from_another_ca_is_refused(platform: Platform) -> None:
    rogue_ca = pki.create_ca("rogue CA")
    rogue = pki.create_client_cert(rogue_ca, "op", platform.agency_a, pki.ROLE_AGENCY)
    trusted_ca = (platform.pki_dir / "ca.crt").read_bytes()
    channel = client_channel(f"127.0.0.1:{platform.server.port}", TlsFiles(trusted_ca, rogue.cert_pem, rogue.key_pem))
    try:
        err = await rpc_error(registry_pb2_grpc.RegistryServiceStub(channel).ListIssuers(
            registry_pb2.ListIssuersRequest(), timeout=10))
        assert err.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await channel.close()


# ------------------------------------------------------------------------------------------------ accreditation


async def test_withdrawn_accreditation_refuses_issuance_once_the_event_is_processed(platform: Platform) -> None:
    issuer_id = f"uni-withdrawn-{os.urandom(3).hex()}"
    await platform.register_issuer(issuer_id, max_eqf=6)
    now = datetime.now(UTC)
    assert (await platform.registry.authorize_issuance(issuer_id, 6, now)).allowed
    await platform.stubs["agency_a"].WithdrawAccreditation(registry_pb2.WithdrawAccreditationRequest(
        issuer_id=issuer_id, accreditation_id="acc-1", reason="quality assurance failed"))
    _, envelope, placed = platform.publisher.placed[-1]
    assert envelope.event_type == "AccreditationWithdrawn" and envelope.tenant == platform.agency_a

    async def decision_once_processed() -> Any:
        processed = await platform.processed(placed)
        decision = await platform.registry.authorize_issuance(issuer_id, 6, datetime.now(UTC))
        return (processed, decision) if processed else None

    processed, decision = await eventually(decision_once_processed, message="withdrawal processed", interval=0.02)
    assert processed and not decision.allowed
    assert decision.refusal is IssuanceRefusal.ACCREDITATION_WITHDRAWN and "withdrawn" in decision.message
    assert not (await platform.registry.authorize_issuance(issuer_id, None, datetime.now(UTC))).allowed


async def test_an_issuer_accredited_up_to_eqf_5_cannot_issue_eqf_6(platform: Platform) -> None:
    issuer_id = f"uni-eqf-{os.urandom(3).hex()}"
    await platform.register_issuer(issuer_id, max_eqf=5)
    now = datetime.now(UTC)
    assert (await platform.registry.authorize_issuance(issuer_id, 5, now)).allowed
    refused = await platform.registry.authorize_issuance(issuer_id, 6, now)
    assert not refused.allowed and refused.refusal is IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED
    assert refused.accreditation_id == "acc-1"


# ------------------------------------------------------------------------------------------------ keys


async def test_key_rotation_keeps_old_credentials_valid_and_stops_the_retired_key(platform: Platform) -> None:
    issuer_id = f"uni-rotation-{os.urandom(3).hex()}"
    await platform.register_issuer(issuer_id)
    issuer = await platform.registry.get_issuer(issuer_id)
    assert issuer is not None
    did = issuer.did
    key1 = platform.keystore.get_signing_key(key_store_id(issuer_id, 1))
    before = sign_eddsa_rdfc_2022(credential(1), key1, f"{did}#key-1", created=datetime.now(UTC))

    rotated = (await platform.stubs["agency_a"].RotateIssuerKey(registry_pb2.RotateIssuerKeyRequest(
        issuer_id=issuer_id))).issuer
    retired_at = rotated.verification_methods[0].retired_at.ToDatetime(tzinfo=UTC)
    await platform.settle()
    assert await platform.registry.get_issuer(issuer_id) == rotated

    key2 = platform.keystore.get_signing_key(key_store_id(issuer_id, 2))
    after = sign_eddsa_rdfc_2022(credential(2), key2, f"{did}#key-2")
    for document in (before, after):
        result = await verify_with_registry(document, platform.registry)
        assert result.verified is True, result

    late = sign_eddsa_rdfc_2022(credential(3), key1, f"{did}#key-1",
                                created=(retired_at + timedelta(seconds=1)).replace(microsecond=0))
    rejected = await verify_with_registry(late, platform.registry)
    assert rejected.verified is False and rejected.reason == "KEY_RETIRED"
    assert rejected.key_problem is not None and rejected.key_problem.problem is KeyProblem.KEY_RETIRED


# ------------------------------------------------------------------------------------------------ read model


async def _caught_up(registry: RedisRegistry, ends: dict[int, int]) -> bool:
    positions = await registry.positions()
    return all(positions.get(p, 0) >= end for p, end in ends.items() if end)


async def test_read_model_rebuilt_from_an_empty_redis_equals_the_live_one(
        platform: Platform, infrastructure: Infrastructure, tmp_path: Path) -> None:
    issuer_id = f"uni-rebuild-{os.urandom(3).hex()}"
    await platform.register_issuer(issuer_id, max_eqf=7)
    await platform.stubs["agency_a"].RotateIssuerKey(registry_pb2.RotateIssuerKeyRequest(issuer_id=issuer_id))
    await platform.stubs["agency_a"].SuspendAccreditation(registry_pb2.SuspendAccreditationRequest(
        issuer_id=issuer_id, accreditation_id="acc-1", reason="audit"))
    await platform.settle()
    ends = await end_offsets(infrastructure.kafka_bootstrap, REGISTRY.name)
    await eventually(lambda: _caught_up(platform.registry, ends), message="live projection at the end of the topic",
                     interval=0.02)

    empty = LocalRedis(tmp_path / "redis")
    empty.start()
    redis = Redis.from_url(empty.url)
    rebuilt = await start_registry_projection(infrastructure.kafka_bootstrap, redis,
                                              f"rebuild-{os.urandom(4).hex()}", namespace=platform.registry.namespace)
    try:
        await eventually(lambda: _caught_up(rebuilt.registry, ends), message="rebuilt projection at the end",
                         interval=0.02)
        live, replayed = await platform.registry.dump(), await rebuilt.registry.dump()
        assert replayed == live
        assert issuer_id in replayed["issuers"] and platform.agency_b in replayed["agencies"]
        assert await rebuilt.registry.positions() == await platform.registry.positions()
    finally:
        await rebuilt.stop()
        await redis.aclose()
        empty.stop()


async def test_trust_list_and_did_documents_on_a_real_socket(platform: Platform) -> None:
    issuer_id = f"uni-public-{os.urandom(3).hex()}"
    await platform.register_issuer(issuer_id, max_eqf=6)
    await platform.stubs["agency_a"].RotateIssuerKey(registry_pb2.RotateIssuerKeyRequest(issuer_id=issuer_id))
    await platform.settle()
    app = FastAPI()
    app.include_router(trust_router(platform.registry))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), timeout=10, message="uvicorn started",
                         interval=0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            listing = (await client.get("/trust-list", params={"agency": platform.agency_a})).json()
            [agency] = listing["agencies"]
            entry = next(i for i in agency["issuers"] if i["issuer_id"] == issuer_id)
            [acc] = entry["accreditations"]
            assert (acc["framework"], acc["max_eqf_level"], acc["status"], acc["in_force"]) == \
                ("ESG 2015", 6, "active", True)
            page = await client.get("/trust-list.html")
            assert page.status_code == 200 and f"Uni {issuer_id}" in page.text
            doc = (await client.get(f"/issuers/{issuer_id}/did.json")).json()
            assert doc["id"] == entry["did"] and len(doc["assertionMethod"]) == 2
            assert "revoked" in doc["verificationMethod"][0] and "revoked" not in doc["verificationMethod"][1]
    finally:
        server.should_exit = True
        await task
