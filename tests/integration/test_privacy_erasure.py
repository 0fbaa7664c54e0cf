"""Issue 18's acceptance, on real Kafka and Redis: issue to a learner, export, erase, wipe Redis and rebuild.

The platform here is the issuer service (with its registry, credential store and audit projections), the
revocation service and the wallet (consuming the real credentials and status topics of a Kafka broker of the
module's own, so that the rebuild replays this module's records, not the whole test run's), all with the
privacy KEK of one run. After the erasure and a rebuild of every read model from Kafka: no Redis key or value
and no byte of any topic's log segment files holds the learner's name, e-mail, DID, national id or grade; the
credential can still be revoked, and the audit log still counts it. The logs and spans of the whole run never
name the learners.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from microcred import pki
from microcred.crypto.did_key import did_key_from_public_key
from microcred.gen.microcred.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    issuer_pb2,
    privacy_pb2,
    privacy_pb2_grpc,
    revocation_pb2,
)
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.kafka.topics import CREDENTIALS, STATUS
from microcred.status.cache import topic_end_offsets
from microcred.storage.frames import unpack
from microcred.telemetry import configure_telemetry
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.harness.waiting import eventually
from tests.harness.wallet.harness import WalletUnderTest, running_wallet

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies, pytest.mark.timeout(420)]


class Learner:
    """A learner whose every personal value is unique to this test run (so a byte scan can look for it)."""

    def __init__(self, tag: str, first: str) -> None:
        self.name = f"{first} Quillfeather-{tag}"
        self.email = f"{first.lower()}.{tag}@learners.example"
        self.did = did_key_from_public_key(Ed25519PrivateKey.generate().public_key())
        self.national_id = f"NID-{first}-{tag}"
        self.grade = f"Distinction-{first}-{tag}"

    @property
    def secrets(self) -> list[str]:
        return [self.name, self.email, self.did, self.national_id, self.grade]

    def credential(self) -> pb.MicroCredential:
        mc = valid_micro_credential()
        mc.learner.ClearField("hashed_id")
        given, family = self.name.split(" ", 1)
        mc.learner.given_name, mc.learner.family_name, mc.learner.full_name = given, family, self.name
        mc.learner.email, mc.learner.did, mc.learner.national_id.value = self.email, self.did, self.national_id
        mc.grade.value = self.grade
        return mc


def segment_files(infrastructure: Infrastructure) -> list[Path]:
    assert infrastructure.kafka is not None, "this test reads the broker's log directory: run it on its own Kafka"
    return [f for node in infrastructure.kafka.members for f in (node.directory / "data").rglob("*") if f.is_file()]


def files_holding(files: list[Path], values: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    needles = [v.encode() for v in values]
    for f in files:
        try:
            data = f.read_bytes()
        except FileNotFoundError:  # a segment the cleaner deleted meanwhile
            continue
        for value, needle in zip(values, needles, strict=True):
            if needle in data:
                found.setdefault(value, []).append(str(f))
    return found


async def redis_holding(redis: Redis, values: list[str]) -> dict[str, list[str]]:
    """Every key and value in Redis (read by type; zstd frames, as the wallet stores documents, opened) that
    contains one of ``values``."""
    needles = [v.encode() for v in values]
    found: dict[str, list[str]] = {}
    async for key in redis.scan_iter(count=1000):
        kind = (await redis.type(key)).decode()
        parts: list[bytes] = [key]
        if kind == "string":
            parts.append(await redis.get(key) or b"")
        elif kind == "hash":
            for k, v in (await redis.hgetall(key)).items():
                parts += [k, v]
        elif kind == "set":
            parts += list(await redis.smembers(key))
        elif kind == "zset":
            parts += list(await redis.zrange(key, 0, -1))
        elif kind == "list":
            parts += list(await redis.lrange(key, 0, -1))
        blob = b"\x00".join(unpack(part, 64 << 20) for part in parts)
        for value, needle in zip(values, needles, strict=True):
            if needle in blob:
                found.setdefault(value, []).append(key.decode(errors="replace"))
    return found


async def retry(call: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    """Run ``call`` until the service has caught up (NOT_FOUND / UNAVAILABLE while it replays)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            # While the read models replay, the credential or its issuer may not be known yet.
            if exc.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE,
                                  grpc.StatusCode.PERMISSION_DENIED) \
                    or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


def mcred(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "microcred.cli.main", *args], capture_output=True, text=True,
                          timeout=300, check=False)


async def wallet_caught_up(w: WalletUnderTest, bootstrap: str) -> bool:
    """The wallet's stored positions reach the current end of the credentials and status topics."""
    ends = await topic_end_offsets(bootstrap, [CREDENTIALS.name, STATUS.name])
    for tp, end in ends.items():
        stored = await w.intake.stored_position(tp.topic, tp.partition)  # the lowest slot group's on a cluster
        if end and (stored or 0) < end:
            return False
    return True


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span of the test, kept in memory (as tests/integration/test_tracing.py does)."""
    exporter = InMemorySpanExporter()
    configure_telemetry("tests", exporter=exporter)
    yield exporter
    exporter.shutdown()


async def test_an_erased_learner_is_gone_from_kafka_and_every_read_model(
        own_kafka: Infrastructure, redis: Redis, redis_service_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter) -> None:
    caplog.set_level(logging.INFO)
    tag = uuid.uuid4().hex[:10]
    agency, uni, operator = f"pv-{tag}", f"uni-{tag}", f"pv-{tag}-operator"
    ana, bob = Learner(tag, "Anneliese"), Learner(tag, "Bartholomew")
    bootstrap = own_kafka.kafka_bootstrap
    certs = tmp_path / "operator-certs"
    stack: IssuerHarness = await start_issuer_harness(bootstrap, redis_service_url, tmp_path,
                                                      status_block_size=20)
    try:
        assert stack.revocation is not None and stack.app.data_keys is not None
        cert = pki.create_client_cert(stack.ca, operator, agency, pki.ROLE_AGENCY)
        cert.write(certs, "operator")
        (certs / "ca.crt").write_bytes(stack.ca.cert_pem)
        await stack.onboard(agency, {uni: 8})
        issuer = stack.issuer_stub(uni, agency)
        replies = [await issuer.IssueCredential(issuer_pb2.IssueCredentialRequest(
            idempotency_key=f"{who.name}-first", credential=who.credential())) for who in (ana, ana, bob)]
        issued = [r.credential.credential_id for r in replies]
        ana_ids, bob_id = sorted(set(issued[:2])), issued[2]
        assert len(ana_ids) == 1  # same key: the second is the first, answered again
        replies.append(await issuer.IssueCredential(issuer_pb2.IssueCredentialRequest(
            idempotency_key=f"{ana.name}-second", credential=ana.credential())))
        ana_ids = sorted({*ana_ids, replies[-1].credential.credential_id})

        async with running_wallet(own_kafka, tag, tmp_path / "wallet", wallet_topic_prefix="",
                                  redis_url=redis_service_url) as w:
            store = w.intake.store

            async def filed(did: str) -> set[str]:
                return await store.ids_for([did], [])

            assert await eventually(lambda: filed(ana.did), 90, "the wallet never filed Ana's credentials",
                                    until=lambda ids: ids == set(ana_ids))
            assert await eventually(lambda: filed(bob.did), 90, until=lambda ids: ids == {bob_id})

            # Access: everything about Ana, nothing about Bob.
            exported = await asyncio.to_thread(mcred, "learner", "export", "--email", ana.email, "--server",
                                               stack.target, "--tls-dir", str(certs))
            assert exported.returncode == 0, exported.stdout + exported.stderr
            document = json.loads(exported.stdout)
            assert sorted(c["credential_id"] for c in document["credentials"]) == ana_ids
            assert all(c["credential"]["credentialSubject"]["id"] == ana.did for c in document["credentials"])
            assert ana.name in exported.stdout and ana.grade in exported.stdout
            assert not any(value in exported.stdout for value in [*bob.secrets, bob_id])

            # Erasure, by an agency operator, with a reason.
            erased = await asyncio.to_thread(mcred, "learner", "erase", "--email", ana.email, "--did", ana.did,
                                             "--reason", "GDPR Art. 17 request", "--server", stack.target,
                                             "--tls-dir", str(certs), "--json")
            assert erased.returncode == 0, erased.stdout + erased.stderr
            answer = json.loads(erased.stdout)
            assert answer["key_destroyed"] is True and sorted(answer["credential_ids"]) == ana_ids
            await eventually(lambda: filed(ana.did), 60, "the wallet kept Ana's credentials", until=lambda ids: not ids)
            assert await filed(bob.did) == {bob_id}

            # Wipe Redis: every read model is rebuilt from Kafka.
            await redis.flushall()
            await eventually(lambda: filed(bob.did), 120, "the wallet was not rebuilt",
                             until=lambda ids: ids == {bob_id})
            await eventually(lambda: wallet_caught_up(w, bootstrap), 120, "the wallet never caught up")
            projection = stack.app.store_projection
            assert projection is not None

            async def store_rebuilt() -> bool:
                return all(projection.token(g) is not None for g in projection.groups.groups)

            await eventually(store_rebuilt, 120, "the issuer's credential store was not rebuilt")
            assert await filed(ana.did) == set()

            # The credential is still revocable, and the audit still counts it (under the pseudonym only).
            revocation = stack.revocation.stub(uni, agency, pki.ROLE_ISSUER)
            await retry(lambda: revocation.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                credential_id=ana_ids[0], reason="issued in error")))
            audit = audit_pb2_grpc.AuditServiceStub(stack.channel(operator, agency, pki.ROLE_AGENCY))

            async def audited() -> list[tuple[str, str]]:
                page = await audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(agency_id=agency))
                return [(e.action, e.subject) for e in page.entries]

            wanted = {("CredentialIssued", cid) for cid in ana_ids} | {("CredentialRevoked", ana_ids[0])}
            await eventually(audited, 180, "the rebuilt audit log lacks Ana's credentials",
                             until=lambda got: wanted <= set(got))
            await eventually(lambda: wallet_caught_up(w, bootstrap), 120, "the wallet never caught up")

            # Nothing of Ana anywhere: Redis (every read model), every topic's log segment files.
            assert await redis_holding(redis, ana.secrets) == {}
            assert bob.name in await redis_holding(redis, [bob.name])  # (the scan sees what is there: Bob's wallet)
            files = segment_files(own_kafka)
            on_disk = await asyncio.to_thread(files_holding, files, ana.secrets + bob.secrets)
            assert on_disk == {}, on_disk
            assert uni in await asyncio.to_thread(files_holding, files, [uni])  # routing fields are in clear
            # Her data key is gone from the cache and the store answers it has none.
            pseudonyms = answer["learner_pseudonyms"]
            assert await stack.app.data_keys.get(pseudonyms) == {}

            # Erasing again is harmless; an issuer may not erase a learner it never issued to.
            again = await asyncio.to_thread(mcred, "learner", "erase", "--email", ana.email, "--reason", "again",
                                            "--server", stack.target, "--tls-dir", str(certs), "--json")
            assert again.returncode == 0 and json.loads(again.stdout).get("key_destroyed") is not True
    finally:
        await stack.close()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records and not [v for v in ana.secrets + bob.secrets if v in logged]
    traced = [span.to_json() for span in spans.get_finished_spans()]
    assert len(traced) > 10 and not [v for v in ana.secrets + bob.secrets if any(v in t for t in traced)]


async def test_erasure_requests_are_checked(infrastructure: Infrastructure, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    agency, uni = f"pc-{tag}", f"uni-{tag}"
    stack = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path,
                                       status_block_size=20)
    try:
        await stack.onboard(agency, {uni: 8})
        as_issuer = privacy_pb2_grpc.PrivacyServiceStub(stack.channel(uni, agency, pki.ROLE_ISSUER))
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await as_issuer.DeleteLearnerData(privacy_pb2.DeleteLearnerDataRequest(
                learner=privacy_pb2.LearnerRef(email="not-an-address"), reason=""))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "learner.email" in bad.value.details() and "reason" in bad.value.details()
        with pytest.raises(grpc.aio.AioRpcError) as denied:  # an issuer that never issued to this learner
            await as_issuer.DeleteLearnerData(privacy_pb2.DeleteLearnerDataRequest(
                learner=privacy_pb2.LearnerRef(email=f"nobody.{tag}@learners.example"), reason="test"))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        as_agency = privacy_pb2_grpc.PrivacyServiceStub(stack.channel(f"{agency}-operator", agency,
                                                                      pki.ROLE_AGENCY))
        with pytest.raises(grpc.aio.AioRpcError) as unknown:  # no credential under this agency names them
            await as_agency.DeleteLearnerData(privacy_pb2.DeleteLearnerDataRequest(
                learner=privacy_pb2.LearnerRef(email=f"nobody.{tag}@learners.example"), reason="test"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await stack.close()
