"""What the fault tests share: the running platform, an integrator-like batch client, and the checks.

The platform (:class:`FaultPlatform`) is the real thing: Redis, a three-node Kafka cluster and the four services
as subprocesses (:class:`microcred.infra.platform.Platform`). Each test onboards its own issuer through the
RegistryService and issues to its own learner DID, so counts never mix between tests.

:class:`BatchClient` behaves like a careful integrator: it streams items through ``IssueCredentials`` with one
idempotency key each, keeps every answered credential, and re-sends (same key) whatever got no answer or a
retriable failure. The checks then compare what the client was answered with what is on Kafka, in the wallet,
and what verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import grpc
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from microcred import pki
from microcred.crypto.did_key import did_key_from_public_key
from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import (
    issuer_pb2,
    issuer_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
    revocation_pb2,
    revocation_pb2_grpc,
)
from microcred.grpc_server import TlsFiles, client_channel
from microcred.infra.platform import Platform
from microcred.kafka.topics import CREDENTIALS
from microcred.lifecycle import one_slot, redis_client_from_url
from microcred.registry.did_web import verify_with_registry
from microcred.registry.redis_registry import RedisRegistry
from microcred.storage.frames import unpack
from services.wallet.adapters.store import MAX_DOCUMENT_BYTES, CredentialStore
from tests.harness.factories import valid_micro_credential
from tests.harness.kafka import end_offsets, read_topic
from tests.harness.waiting import eventually

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "artifacts" / "fault-results.json"

#: Credentials issued in the leader-kill test (the issue asks for at least 5,000); ``FAULT_BATCH`` scales it.
FAULT_BATCH = int(os.environ.get("FAULT_BATCH", "5000"))
#: Credentials per batch in the other fault tests (service kills, Redis wipe).
FAULT_SERVICE_BATCH = int(os.environ.get("FAULT_SERVICE_BATCH", "1500"))
#: How many answered credentials are verified with keys from the trust registry (0: all of them).
FAULT_VERIFY_SAMPLE = int(os.environ.get("FAULT_VERIFY_SAMPLE", "200"))

#: Timeouts grow with the batch sizes (CI sizes: 1).
SCALE = max(1.0, FAULT_BATCH / 5000, FAULT_SERVICE_BATCH / 1500)

WALLET_PREFIX = "wallet"
VERIFIER_REGISTRY = "verifier-registry"
#: Failures a careful integrator retries with the same idempotency key.
RETRIABLE = frozenset({code_pb2.UNAVAILABLE, code_pb2.INTERNAL, code_pb2.ABORTED, code_pb2.DEADLINE_EXCEEDED,
                       code_pb2.RESOURCE_EXHAUSTED, code_pb2.UNKNOWN})


#: Small status-index blocks make the issuer reserve often (the revocation kill lands during reservations);
#: the verifier's per-client limit is lifted because every test client calls from 127.0.0.1.
ENV_OVERRIDES = {
    "*": {"MICROCRED_LOG_LEVEL": "INFO"},
    "issuer": {"MICROCRED_STATUS_BLOCK_SIZE": "200"},
    "verifier": {"MICROCRED_RATE_LIMIT_PER_SECOND": "1000000", "MICROCRED_RATE_LIMIT_BURST": "1000000"},
}


@contextlib.asynccontextmanager
async def fault_platform(data_dir: Path, kafka_nodes: int, redis_cluster: bool = False
                         ) -> AsyncIterator[FaultPlatform]:
    """The whole platform started under ``data_dir`` (Kafka with ``kafka_nodes`` brokers; Redis one node or a
    local 3-master cluster), with clients; stopped at the end."""
    platform = Platform(data_dir, kafka_nodes=kafka_nodes, redis_cluster=redis_cluster, env_overrides=ENV_OVERRIDES)
    try:
        await platform.start_infrastructure()
        await platform.start_services(timeout=180)
        assert platform.redis is not None
        redis = redis_client_from_url(platform.redis.service_url)
        if isinstance(redis, RedisCluster):
            await redis.initialize()  # before any concurrent use (tests/harness/redis_cluster.py)
        async with httpx.AsyncClient(timeout=30) as http:
            running = FaultPlatform(platform, pki.CertifiedKey.read(platform.pki_dir, "ca"), cast("Redis", redis),
                                    http, loop=asyncio.get_running_loop())
            try:
                yield running
            finally:
                await running.close()
                await redis.aclose()
    finally:
        platform.stop()


def new_learner_did() -> str:
    """A fresh did:key for a test's learner (the wallet files credentials under the subject DID)."""
    return did_key_from_public_key(Ed25519PrivateKey.generate().public_key())


def _org(name: str) -> pb.Organisation:
    return pb.Organisation(legal_name=pb.LangString(values={"en": name}), country=pb.Country(code="IE"),
                           homepage="https://issuer.example")


@dataclass
class FaultPlatform:
    """The running platform plus clients with certificates from its development CA."""

    platform: Platform
    ca: pki.CertifiedKey
    redis: Redis
    http: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop | None = None  # the tests' loop (the hang detector cancels a hung test on it)
    _channels: dict[tuple[str, str, str, str], grpc.aio.Channel] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------------ addresses

    @property
    def bootstrap(self) -> str:
        assert self.platform.kafka is not None
        return self.platform.kafka.bootstrap

    @property
    def redis_url(self) -> str:
        """The services' ``MICROCRED_REDIS_URL`` (``redis+cluster://`` on a cluster)."""
        assert self.platform.redis is not None
        return self.platform.redis.service_url

    def port(self, name: str) -> int:
        return self.platform.ports[name]

    @property
    def verifier_url(self) -> str:
        return f"http://127.0.0.1:{self.port('verifier')}"

    @property
    def wallet_url(self) -> str:
        return f"http://127.0.0.1:{self.port('wallet')}"

    # ---------------------------------------------------------------------------------------- gRPC clients

    def channel(self, service: str, subject: str, agency: str, role: str) -> grpc.aio.Channel:
        """A cached mTLS channel to ``service`` (``issuer`` or ``revocation``) as ``CN=subject,O=agency,OU=role``."""
        key = (service, subject, agency, role)
        if key not in self._channels:
            cert = pki.create_client_cert(self.ca, subject, agency, role)
            tls = TlsFiles(self.ca.cert_pem, cert.cert_pem, cert.key_pem)
            self._channels[key] = client_channel(f"localhost:{self.port(service)}", tls)
        return self._channels[key]

    async def drop_channels(self, service: str) -> None:
        """Close the channels to a service (after it was killed, so that new calls reconnect at once)."""
        for key in [k for k in self._channels if k[0] == service]:
            await self._channels.pop(key).close()

    def issuer_stub(self, issuer_id: str, agency_id: str) -> issuer_pb2_grpc.IssuerServiceAsyncStub:
        return cast("issuer_pb2_grpc.IssuerServiceAsyncStub", issuer_pb2_grpc.IssuerServiceStub(
            self.channel("issuer", issuer_id, agency_id, pki.ROLE_ISSUER)))

    def revocation_stub(self, issuer_id: str, agency_id: str) -> Any:
        return revocation_pb2_grpc.RevocationServiceStub(
            self.channel("revocation", issuer_id, agency_id, pki.ROLE_ISSUER))

    def registry_stub(self, subject: str, agency: str, role: str) -> registry_pb2_grpc.RegistryServiceAsyncStub:
        return cast("registry_pb2_grpc.RegistryServiceAsyncStub", registry_pb2_grpc.RegistryServiceStub(
            self.channel("issuer", subject, agency, role)))

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()

    # ------------------------------------------------------------------------------------------ onboarding

    async def onboard(self, agency_id: str, issuer_id: str, timeout: float = 60.0) -> None:
        """Register the agency and an accredited (EQF <= 7) issuer through the RegistryService; wait until the
        verifier's read model serves the issuer's DID document."""
        operator = ("platform-operator", "platform", pki.ROLE_SERVICE)
        await self.registry_stub(*operator).RegisterAgency(registry_pb2.RegisterAgencyRequest(
            agency_id=agency_id, organisation=_org(agency_id)), timeout=30)
        agency = self.registry_stub(f"{agency_id}-operator", agency_id, pki.ROLE_AGENCY)
        await agency.RegisterIssuer(registry_pb2.RegisterIssuerRequest(
            issuer_id=issuer_id, agency_id=agency_id, organisation=_org(f"Issuer {issuer_id}")), timeout=30)
        accreditation = registry_pb2.Accreditation(
            type=pb.ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE, framework="ESG 2015",
            accrediting_body=_org("Quality and Qualifications Ireland"), max_eqf_level=cast("pb.EqfLevel", 7),
            decision_reference=f"DEC-{issuer_id}")
        accreditation.valid_from.FromDatetime(datetime(2020, 1, 1, tzinfo=UTC))
        await agency.AccreditIssuer(registry_pb2.AccreditIssuerRequest(issuer_id=issuer_id,
                                                                       accreditation=accreditation), timeout=30)
        await eventually(lambda: self._verifier_knows(issuer_id), timeout, f"verifier never showed issuer {issuer_id}",
                         interval=0.2)

    async def _verifier_knows(self, issuer_id: str) -> bool:
        registry = RedisRegistry(self.redis, one_slot(self.redis, VERIFIER_REGISTRY))
        issuer = await registry.get_issuer(issuer_id)
        return issuer is not None and bool(issuer.accreditations)

    # ------------------------------------------------------------------------------------------- services

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.platform.data_dir / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def restart(self, name: str) -> float:
        """Restart a killed service, wait until it is healthy; return how long that took (seconds)."""
        started = time.monotonic()
        await self.platform.restart_service(name, timeout=120)
        await self.drop_channels(name)
        return time.monotonic() - started


# ------------------------------------------------------------------------------------------------- issuing


@dataclass(frozen=True)
class Answer:
    """What the issuer answered for one idempotency key."""

    credential_id: str
    credential_json: str


@dataclass
class BatchClient:
    """Streams credentials through ``IssueCredentials`` like an integrator that retries with the same keys."""

    stub: Callable[[], issuer_pb2_grpc.IssuerServiceAsyncStub]  # a fresh stub per stream (channels are replaced)
    learner_did: str
    chunk_timeout: float = 120.0
    transient: frozenset[int] = RETRIABLE  # failure codes re-sent with the same key
    answered: dict[str, Answer] = field(default_factory=dict)
    sent: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    failure_messages: dict[str, str] = field(default_factory=dict)
    stream_errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    progress_at: int = 0
    resent: set[str] = field(default_factory=set)

    def credential(self, key: str) -> pb.MicroCredential:
        mc = valid_micro_credential()
        mc.learner.did = self.learner_did
        return mc

    @property
    def retried(self) -> set[str]:
        """Keys sent again because they had no answer (not counting :meth:`resend_answered`)."""
        return {k for k, n in self.sent.items() if n > (2 if k in self.resent else 1)}

    def _record(self, key: str, issued: issuer_pb2.IssuedCredential) -> None:
        answer = Answer(issued.credential_id, issued.credential_json)
        previous = self.answered.get(key)
        if previous is not None and previous != answer:
            same_id = previous.credential_id == answer.credential_id
            self.mismatches.append(f"{key}: answered again with {'another document' if same_id else 'another id'}"
                                   f" ({previous.credential_id} then {answer.credential_id})")
        self.answered.setdefault(key, answer)
        if self.progress_at and len(self.answered) >= self.progress_at:
            self.progress.set()

    async def stream(self, keys: Iterable[str]) -> None:
        """One ``IssueCredentials`` stream over ``keys``; a broken stream is recorded, not raised."""
        keys = list(keys)

        async def requests() -> AsyncIterator[issuer_pb2.IssueCredentialsRequest]:
            for key in keys:
                self.sent[key] += 1
                yield issuer_pb2.IssueCredentialsRequest(idempotency_key=key, credential=self.credential(key),
                                                         client_reference=key)

        call = self.stub().IssueCredentials(requests(), timeout=self.chunk_timeout + len(keys) / 20)
        try:
            async for response in call:
                if response.HasField("issued"):
                    self._record(response.idempotency_key, response.issued)
                elif response.failure.code in self.transient:
                    self.failures[code_pb2.Code.Name(response.failure.code)] += 1
                    self.failure_messages.setdefault(response.failure.message[:120], response.idempotency_key)
                else:
                    raise AssertionError(f"item {response.idempotency_key} refused for good: "
                                         f"{code_pb2.Code.Name(response.failure.code)} {response.failure.message}")
        except grpc.aio.AioRpcError as exc:
            self.stream_errors.append(f"{exc.code().name}: {exc.details()}")

    def missing(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if k not in self.answered]

    async def complete(self, keys: list[str], timeout: float = 180.0) -> int:
        """Re-send every key without an answer until all are answered; return the number of retry passes."""
        timeout *= SCALE
        deadline = time.monotonic() + timeout
        passes = 0
        while missing := self.missing(keys):
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(missing)} items still unanswered after {timeout}s; last stream errors "
                                     f"{self.stream_errors[-3:]}, failures {dict(self.failures)}")
            passes += 1
            await self.stream(missing)
            if self.missing(missing):
                await asyncio.sleep(1.0)
        return passes

    async def resend_answered(self, keys: list[str]) -> None:
        """Send already-answered keys again: idempotency must give back the very same credentials."""
        self.resent.update(keys)
        await self.stream(keys)


@dataclass
class Scenario:
    """One fault test's batch: its own agency, issuer, learner and idempotency keys."""

    fault: FaultPlatform
    outcome: Outcome
    agency: str
    issuer: str
    keys: list[str]
    client: BatchClient
    start: dict[int, int]

    @classmethod
    async def open(cls, fault: FaultPlatform, name: str, size: int) -> Scenario:
        """Onboard a fresh issuer and note where the credentials topic ends before the batch."""
        tag = f"{name[:12]}-{uuid.uuid4().hex[:6]}"
        agency, issuer = f"ag-{tag}", f"uni-{tag}"
        await fault.onboard(agency, issuer)
        start = await end_offsets(fault.bootstrap, CREDENTIALS.name)
        client = BatchClient(lambda: fault.issuer_stub(issuer, agency), new_learner_did())
        keys = [f"{tag}-{i:06d}" for i in range(size)]
        return cls(fault, Outcome(name, size), agency, issuer, keys, client, start)

    async def run(self, inject: Callable[[], Awaitable[None]], at: float = 0.3, resend: int = 50) -> None:
        """Stream the batch, call ``inject`` once ``at`` of it is answered, then re-send what got no answer
        (same keys) and, to check idempotency across the fault, ``resend`` keys that were answered."""
        started = time.monotonic()
        self.client.progress_at = max(1, int(len(self.keys) * at))
        first_pass = asyncio.create_task(self.client.stream(self.keys))
        progress = asyncio.create_task(self.client.progress.wait())
        await asyncio.wait([first_pass, progress], return_when=asyncio.FIRST_COMPLETED)
        progress.cancel()
        assert not first_pass.done(), f"the batch ended before the fault: {self.client.stream_errors[-3:]}"
        self.outcome.notes["answered_before_fault"] = len(self.client.answered)
        await inject()
        await first_pass
        self.outcome.notes["answered_in_first_pass"] = len(self.client.answered)
        self.outcome.retry_passes = await self.client.complete(self.keys)
        await self.client.resend_answered(self.keys[:resend])
        self.outcome.seconds = round(time.monotonic() - started, 1)

    async def check(self, extra_verify: Iterable[str] = ()) -> Outcome:
        """All the checks of :func:`check_batch`, then the acceptance assertions."""
        await check_batch(self.fault, self.client, self.keys, self.issuer, self.start, self.outcome, extra_verify)
        assert_nothing_lost(self.outcome, len(self.keys))
        return self.outcome

    def documents(self) -> list[dict[str, Any]]:
        """The answered credentials, parsed."""
        return [json.loads(self.client.answered[k].credential_json) for k in self.keys if k in self.client.answered]


async def revoke(fault: FaultPlatform, scenario: Scenario, credential_id: str, reason: str,
                 timeout: float = 60.0) -> float:
    """Revoke as the scenario's issuer; return how long the revocation service took to know the credential.

    The revocation service learns of credentials from the credentials topic; right after a large batch its
    projector may still be behind and answer NOT_FOUND, which a client retries."""
    stub = fault.revocation_stub(scenario.issuer, scenario.agency)
    started = time.monotonic()
    while True:
        try:
            await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(credential_id=credential_id,
                                                                               reason=reason), timeout=30)
            return time.monotonic() - started
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE) or \
                    time.monotonic() - started > timeout * SCALE:
                raise
        await asyncio.sleep(0.5)


# -------------------------------------------------------------------------------------------------- checks


@dataclass
class KafkaCount:
    """``CredentialIssued`` records on Kafka for one issuer, by credential id."""

    records: dict[str, list[tuple[str, str]]]  # credential id -> [(event id, sha256 of the value)]

    @property
    def with_copies(self) -> dict[str, int]:
        """Credential ids with more than one record, and how many."""
        return {cid: len(r) for cid, r in self.records.items() if len(r) > 1}

    @property
    def conflicting(self) -> dict[str, int]:
        """Credential ids whose records are not all the same event (same bytes): two different credentials."""
        return {cid: len(set(r)) for cid, r in self.records.items() if len(set(r)) > 1}


async def credential_records(bootstrap: str, issuer_id: str, start: Mapping[int, int]) -> KafkaCount:
    """The issuer's ``CredentialIssued`` records on the credentials topic since ``start``."""
    found: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for _, _, _, value, _ in await read_topic(bootstrap, CREDENTIALS.name, start):
        if value is None:
            continue
        try:
            envelope = EventEnvelope.FromString(value)
        except Exception:  # poison written by the poison test
            continue
        if envelope.issuer_id == issuer_id and envelope.event_type == "CredentialIssued":
            found[envelope.subject].append((envelope.event_id, hashlib.sha256(value).hexdigest()))
    return KafkaCount(dict(found))


def wallet_store(redis: Redis) -> CredentialStore:
    """The live wallet's read model as the wallet lays it out on this Redis (one slot and slot groups on a
    cluster); for its key names only (no index key)."""
    return CredentialStore.laid_out(redis, WALLET_PREFIX, b"")


async def wallet_ids(redis: Redis, learner_did: str) -> set[str]:
    """Credential ids the wallet files under ``learner_did``."""
    members = await redis.smembers(wallet_store(redis).did_key(learner_did))
    return {m.decode() if isinstance(m, bytes) else str(m) for m in members}


async def wallet_documents(redis: Redis, ids: Iterable[str]) -> dict[str, Any]:
    """Credential id -> the signed document the wallet holds (absent ids are left out)."""
    ids, store = list(ids), wallet_store(redis)
    out: dict[str, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        async with redis.pipeline(transaction=False) as pipe:
            for cid in chunk:
                pipe.hget(store.cred_key(cid), "doc")
            values = await pipe.execute()
        # stored as zstd frames (services/wallet/adapters/store.py); MAX_DOCUMENT_BYTES as the wallet reads them
        out.update({cid: json.loads(unpack(v, MAX_DOCUMENT_BYTES)) for cid, v in zip(chunk, values, strict=True)
                    if v is not None})
    return out


async def wait_wallet(redis: Redis, learner_did: str, expected: set[str], timeout: float = 120.0) -> set[str]:
    """Wait until the wallet files at least ``expected`` under the learner (returns what it files)."""
    deadline = time.monotonic() + timeout * SCALE
    while True:
        held = await wallet_ids(redis, learner_did)
        if expected <= held or time.monotonic() > deadline:
            return held
        await asyncio.sleep(0.5)


def status_entries(document: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(purpose, list URL, index) of every status entry of a credential."""
    raw = document.get("credentialStatus") or []
    entries = raw if isinstance(raw, list) else [raw]
    return [(str(e.get("statusPurpose")), str(e.get("statusListCredential")), str(e.get("statusListIndex")))
            for e in entries if isinstance(e, Mapping)]


def duplicate_status_entries(documents: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """Status entries (list, index) used by more than one credential: two credentials sharing a status bit."""
    seen = Counter(e for d in documents for e in status_entries(d))
    return [e for e, n in seen.items() if n > 1]


async def verify_documents(redis: Redis, documents: Iterable[Mapping[str, Any]]) -> tuple[int, list[str]]:
    """Verify Data Integrity proofs with keys from the verifier's trust-registry read model; (verified, failures)."""
    registry = RedisRegistry(redis, one_slot(redis, VERIFIER_REGISTRY))
    ok, bad = 0, []
    for document in documents:
        result = await verify_with_registry(document, registry)
        if result.verified is True:
            ok += 1
        else:
            bad.append(f"{document.get('id')}: {result.reason}")
        await asyncio.sleep(0)
    return ok, bad


def sample(items: list[str], size: int, seed: int = 9) -> list[str]:
    """``size`` random items (all of them when ``size`` is 0 or larger than the list)."""
    if size <= 0 or size >= len(items):
        return list(items)
    return random.Random(seed).sample(items, size)


@dataclass
class Outcome:
    """The figures a fault test reports (and asserts on)."""

    name: str
    batch: int
    answered: int = 0
    in_wallet: int = 0
    wallet_missing: int = 0
    wallet_extra: int = 0
    wallet_differs: int = 0
    kafka_missing: int = 0
    kafka_copies: int = 0
    kafka_conflicts: int = 0
    duplicate_status_entries: int = 0
    verified: int = 0
    verify_failures: int = 0
    retried: int = 0
    retry_passes: int = 0
    retriable_failures: dict[str, int] = field(default_factory=dict)
    stream_errors: int = 0
    idempotency_mismatches: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def save(self) -> None:
        """Print the figures and merge them into ``artifacts/fault-results.json``."""
        save_result(self.name, {k: v for k, v in self.__dict__.items() if k != "name"})


def save_result(name: str, figures: dict[str, Any]) -> None:
    """Print one test's figures (``FAULT name: {...}``) and merge them into ``artifacts/fault-results.json``."""
    print(f"\nFAULT {name}: {json.dumps(figures, sort_keys=True)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(RESULTS.read_text())
    data[name] = {**figures, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


async def check_batch(fault: FaultPlatform, client: BatchClient, keys: list[str], issuer_id: str,
                      start: Mapping[int, int], outcome: Outcome, extra_verify: Iterable[str] = ()) -> Outcome:
    """Everything answered is on Kafka as idempotency promises, in the wallet exactly once, and verifies."""
    answered = {k: client.answered[k] for k in keys if k in client.answered}
    ids = {a.credential_id for a in answered.values()}
    outcome.answered = len(answered)
    outcome.retried = len(client.retried & set(keys))
    outcome.retriable_failures = dict(client.failures)
    if client.failure_messages:
        outcome.notes["failure_messages"] = sorted(client.failure_messages)[:5]
    outcome.stream_errors = len(client.stream_errors)
    outcome.idempotency_mismatches = len(client.mismatches)

    # Kafka: every answered credential is there; several records for one id must be one and the same event.
    kafka = await credential_records(fault.bootstrap, issuer_id, start)
    outcome.kafka_missing = len(ids - set(kafka.records))
    outcome.kafka_copies = len(kafka.with_copies)
    outcome.kafka_conflicts = len(kafka.conflicting)

    # Wallet: exactly the answered credentials under the learner, each the very document answered.
    held = await wait_wallet(fault.redis, client.learner_did, ids)
    outcome.in_wallet = len(held & ids)
    outcome.wallet_missing = len(ids - held)
    outcome.wallet_extra = len(held - ids)
    by_id = {a.credential_id: a for a in answered.values()}
    ordered = sorted(ids)
    for first in range(0, len(ordered), 500):  # in chunks: a large run holds tens of thousands of documents
        documents = await wallet_documents(fault.redis, ordered[first:first + 500])
        outcome.wallet_differs += sum(1 for cid, doc in documents.items()
                                      if doc != json.loads(by_id[cid].credential_json))
    outcome.duplicate_status_entries = len(duplicate_status_entries(
        json.loads(a.credential_json) for a in answered.values()))

    # Signatures: a sample, every retried item, and whatever the test adds, with keys from the trust registry.
    retried_ids = {answered[k].credential_id for k in client.retried if k in answered}
    chosen = set(sample(sorted(ids), FAULT_VERIFY_SAMPLE)) | retried_ids | (set(extra_verify) & ids)
    ok, bad = await verify_documents(fault.redis, (json.loads(by_id[c].credential_json) for c in sorted(chosen)))
    outcome.verified, outcome.verify_failures = ok, len(bad)
    outcome.notes.setdefault("verify_failures_first", bad[:3])
    outcome.notes.setdefault("mismatches_first", client.mismatches[:3])
    outcome.notes.setdefault("kafka_conflicting_first", list(kafka.conflicting)[:3])
    return outcome


def assert_nothing_lost(outcome: Outcome, batch: int) -> None:
    """The acceptance criterion: zero lost, zero duplicated, everything answered, everything checked verifies."""
    outcome.save()
    assert outcome.answered == batch, outcome
    assert outcome.idempotency_mismatches == 0, outcome
    assert outcome.kafka_missing == 0 and outcome.kafka_conflicts == 0, outcome
    assert outcome.in_wallet == batch and outcome.wallet_missing == 0 and outcome.wallet_extra == 0, outcome
    assert outcome.wallet_differs == 0, outcome
    assert outcome.duplicate_status_entries == 0, outcome
    assert outcome.verify_failures == 0 and outcome.verified > 0, outcome


async def wallet_status(redis: Redis, credential_id: str, field_name: str, value: str,
                        timeout: float = 30.0) -> None:
    """Wait until the wallet's status hash of ``credential_id`` has ``field_name == value``."""
    async def there() -> bool:
        current = await redis.hget(wallet_store(redis).status_key(credential_id), field_name)
        return current is not None and (current.decode() if isinstance(current, bytes) else current) == value

    await eventually(there, timeout, f"wallet status of {credential_id} never had {field_name}={value}", interval=0.2)
