"""An in-process revocation service with a throwaway PKI, for integration tests, benchmarks and trials.

:func:`start_harness` starts :class:`~services.revocation.app.RevocationApp` on free ports against a given
Kafka and Redis (with its own Redis key prefix and consumer group, so several can share one Redis), and
offers what a test needs around it: gRPC stubs presenting client certificates of any identity, simulated
issuance (reserve indexes as the issuer service would, then publish ``CredentialIssued``), and HTTP fetches
of the published lists. Nothing here is used by the running service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import grpc
import httpx

from microcred import pki
from microcred.crypto.keystore import InMemoryKeyStore, KeyStore
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2, revocation_pb2, revocation_pb2_grpc, status_pb2
from microcred.grpc_server import TlsFiles, client_channel
from microcred.kafka.publisher import KafkaEventPublisher, Published
from microcred.kafka.topics import CREDENTIALS
from services.revocation.app import RevocationApp
from services.revocation.config import Settings

__all__ = ["Harness", "IssuedCredential", "start_harness"]

BOTH_PURPOSES: tuple[status_pb2.StatusPurpose, ...] = (status_pb2.STATUS_PURPOSE_REVOCATION,
                                                       status_pb2.STATUS_PURPOSE_SUSPENSION)


@dataclass(frozen=True)
class IssuedCredential:
    """A simulated credential: its id, issuer, agency and status entries."""

    credential_id: str
    issuer_id: str
    agency_id: str
    entries: tuple[status_pb2.StatusEntry, ...]

    def entry(self, purpose: int) -> status_pb2.StatusEntry:
        """The entry for a ``StatusPurpose``."""
        return next(e for e in self.entries if e.status_purpose == purpose)


@dataclass
class Harness:
    """A started service plus the clients around it."""

    app: RevocationApp
    settings: Settings
    ca: pki.CertifiedKey
    work_dir: Path
    events: KafkaEventPublisher
    http: httpx.AsyncClient
    _channels: dict[tuple[str, str, str], grpc.aio.Channel] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """The gRPC address."""
        return f"localhost:{self.app.grpc_port}"

    def stub(self, subject: str, agency: str, role: str) -> revocation_pb2_grpc.RevocationServiceAsyncStub:
        """A RevocationService stub presenting a client certificate ``CN=subject, O=agency, OU=role``."""
        key = (subject, agency, role)
        if key not in self._channels:
            cert = pki.create_client_cert(self.ca, subject, agency, role)
            self._channels[key] = client_channel(self.target, TlsFiles(self.ca.cert_pem, cert.cert_pem, cert.key_pem))
        return cast("revocation_pb2_grpc.RevocationServiceAsyncStub",
                    revocation_pb2_grpc.RevocationServiceStub(self._channels[key]))

    def service_stub(self) -> revocation_pb2_grpc.RevocationServiceAsyncStub:
        """The issuer service's identity (``service`` role)."""
        return self.stub("issuer-service", "platform", pki.ROLE_SERVICE)

    async def issue(self, issuer_id: str, agency_id: str, count: int,
                    purposes: tuple[status_pb2.StatusPurpose, ...] = BOTH_PURPOSES, *,
                    wait: bool = True) -> list[IssuedCredential]:
        """Simulate the issuer service: reserve ``count`` indexes per purpose, publish ``CredentialIssued``
        (``wait``: until the service has projected them; else only until Kafka acknowledged them, as the issuer
        answers its client)."""
        issued: list[IssuedCredential] = []
        stub = self.service_stub()
        for start in range(0, count, 10_000):
            size = min(10_000, count - start)
            reply = await stub.ReserveStatusIndexes(revocation_pb2.ReserveStatusIndexesRequest(
                issuer_id=issuer_id, status_purposes=list(purposes), count=size))
            for i in range(size):
                entries = tuple(status_pb2.StatusEntry(
                    status_list_id=b.status_list_id, status_list_index=b.indexes[i], status_purpose=b.status_purpose,
                    status_list_credential=b.status_list_credential) for b in reply.blocks)
                issued.append(IssuedCredential(f"urn:uuid:{uuid.uuid4()}", issuer_id, agency_id, entries))
        await self.publish_issued(issued, wait=wait)
        return issued

    async def publish_issued(self, credentials: list[IssuedCredential], *, wait: bool = True) -> list[Published]:
        """Publish ``CredentialIssued`` for each credential and wait until the service has projected them
        (``wait``) or only until Kafka acknowledged them."""
        items = [(c.credential_id, new_envelope(events_pb2.CredentialIssued(
            credential_id=c.credential_id, issuer_id=c.issuer_id, credential_json="{}",
            status_entries=list(c.entries)), subject=c.credential_id, tenant=c.agency_id, issuer_id=c.issuer_id))
            for c in credentials]
        published: list[Published] = []
        for start in range(0, len(items), 5_000):
            published += await self.events.publish_many(CREDENTIALS.name, items[start:start + 5_000])
        assert self.app.projector is not None
        if wait and not await self.app.projector.tracker.wait(published, timeout=60):
            raise TimeoutError("the revocation service did not project the issued credentials")
        return published

    async def fetch(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """GET a URL of the service's HTTP side."""
        return await self.http.get(url, headers=headers)

    async def fetch_list(self, url: str) -> dict[str, Any]:
        """The published list credential at ``url`` (raises unless 200)."""
        response = await self.fetch(url)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    async def close(self) -> None:
        """Close the clients and stop the service."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        await self.http.aclose()
        await self.events.stop()
        await self.app.stop()


def write_server_pki(directory: Path) -> pki.CertifiedKey:
    """A CA plus the server certificate the service needs under ``directory``; returns the CA."""
    ca = pki.create_ca("revocation test CA")
    ca.write(directory, "ca")
    pki.create_server_cert(ca, "revocation").write(directory, "server")
    return ca


async def start_harness(kafka_bootstrap: str, redis_url: str, work_dir: Path, *, prefix: str | None = None,
                        group: str | None = None, keystore: KeyStore | None = None,
                        ca: pki.CertifiedKey | None = None, **overrides: Any) -> Harness:
    """Start a revocation service in this event loop on free ports; ``overrides`` are :class:`Settings`."""
    tls_dir = work_dir / "pki"
    if ca is None:
        ca = write_server_pki(tls_dir)
    tag = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap, "redis_url": redis_url, "tls_dir": tls_dir, "grpc_port": 0,
        "http_port": 0, "environment": "test", "data_dir": work_dir / "data",
        "revocation_redis_prefix": prefix or f"rev-{tag}", "revocation_consumer_group": group or f"revocation-{tag}",
        **overrides}
    if "token_status_cert_file" not in overrides:  # a Token Status List signer under the test CA
        signer = pki.create_signing_cert(ca, issuer_uri="https://revocation.test", common_name="token status")
        values["token_status_cert_file"], values["token_status_key_file"] = signer.write(work_dir / "token-signer",
                                                                                          "signer")
    settings = Settings(**values)
    app = RevocationApp(settings, keystore if keystore is not None else InMemoryKeyStore())
    await app.start()
    events = KafkaEventPublisher(kafka_bootstrap, client_id="revocation-harness")
    await events.start()
    return Harness(app, settings, ca, work_dir, events, httpx.AsyncClient(timeout=10))
