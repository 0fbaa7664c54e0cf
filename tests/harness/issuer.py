"""An in-process issuer service (plus a real revocation service) with a throwaway PKI, for tests and benchmarks.

:func:`start_issuer_harness` writes one test CA with the server and service certificates both services need,
starts :mod:`tests.harness.revocation` (unless a ``status_source`` replaces it) and an
:class:`~services.issuer.app.IssuerApp` on free ports against the given Kafka and Redis, each with its own
Redis prefix and consumer groups. :meth:`IssuerHarness.onboard` then goes through the real RegistryService
(platform operator registers the agency, agency operator registers and accredits issuers) and waits until the
issuer's registry projection shows the result. Nothing here is used by the running service.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from microcred import pki
from microcred.crypto.keystore import KeyStore
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2_grpc, registry_pb2, registry_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel
from microcred.infra.ports import free_port
from services.issuer.app import IssuerApp
from services.issuer.application.ports import StatusIndexSource
from services.issuer.config import Settings
from tests.harness.revocation import Harness, start_harness
from tests.harness.waiting import eventually

__all__ = ["IssuerHarness", "RevocationProcess", "spawn_revocation", "start_issuer_harness"]

PLATFORM = ("platform-operator", pki.ROLE_PLATFORM, pki.ROLE_SERVICE)
REPO = Path(__file__).resolve().parents[2]


def _org(name: str, country: str = "IE") -> pb.Organisation:
    return pb.Organisation(legal_name=pb.LangString(values={"en": name}), country=pb.Country(code=country),
                           homepage="https://issuer.example")


@dataclass
class RevocationProcess:
    """The revocation service as its own process (``python -m services.revocation.main``), as deployed."""

    process: asyncio.subprocess.Process
    target: str
    log_path: Path

    async def close(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; always waited for."""
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def spawn_revocation(ca: pki.CertifiedKey, work_dir: Path, kafka_bootstrap: str, redis_url: str,
                           timeout: float = 60.0) -> RevocationProcess:
    """Start the revocation service in a child process on free ports and wait until it reports SERVING."""
    tls_dir = work_dir / "pki"
    _write_pki(ca, tls_dir, service_client=True)
    tag = uuid.uuid4().hex[:10]
    port = free_port()
    env = {**os.environ, "MICROCRED_KAFKA_BOOTSTRAP": kafka_bootstrap, "MICROCRED_REDIS_URL": redis_url,
           "MICROCRED_TLS_DIR": str(tls_dir), "MICROCRED_GRPC_PORT": str(port), "MICROCRED_HTTP_PORT": "0",
           "MICROCRED_ENVIRONMENT": "test", "MICROCRED_DATA_DIR": str(work_dir / "data"),
           "MICROCRED_REVOCATION_REDIS_PREFIX": f"rev-{tag}", "MICROCRED_REVOCATION_CONSUMER_GROUP": f"rev-{tag}",
           "MICROCRED_LOG_LEVEL": "WARNING"}
    log_path = work_dir / "revocation.log"
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.revocation.main", env=env,
                                                       stdout=log, stderr=log, cwd=REPO)
    running = RevocationProcess(process, f"localhost:{port}", log_path)
    deadline = asyncio.get_running_loop().time() + timeout
    async with client_channel(running.target, TlsFiles.from_dir(tls_dir, "client")) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"the revocation service exited; see {log_path}")
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return running
            except grpc.aio.AioRpcError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                await running.close()
                raise TimeoutError(f"the revocation service did not start; see {log_path}")
            await asyncio.sleep(0.2)


@dataclass
class IssuerHarness:
    """A started issuer (and revocation) service plus clients with certificates of any identity."""

    app: IssuerApp
    revocation: Harness | None
    ca: pki.CertifiedKey
    work_dir: Path
    revocation_process: RevocationProcess | None = None
    _channels: dict[tuple[str, str, str], grpc.aio.Channel] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """The issuer's gRPC address."""
        return f"localhost:{self.app.port}"

    def tls(self, subject: str, agency: str, role: str) -> TlsFiles:
        """Client TLS files for ``CN=subject, O=agency, OU=role`` (a new certificate each call)."""
        cert = pki.create_client_cert(self.ca, subject, agency, role)
        return TlsFiles(self.ca.cert_pem, cert.cert_pem, cert.key_pem)

    def channel(self, subject: str, agency: str, role: str) -> grpc.aio.Channel:
        """A cached channel to the issuer service for that identity."""
        key = (subject, agency, role)
        if key not in self._channels:
            self._channels[key] = client_channel(self.target, self.tls(subject, agency, role))
        return self._channels[key]

    def issuer_stub(self, issuer_id: str, agency_id: str,
                    role: str = pki.ROLE_ISSUER) -> issuer_pb2_grpc.IssuerServiceAsyncStub:
        """IssuerService as the issuer ``issuer_id`` of ``agency_id``."""
        return cast("issuer_pb2_grpc.IssuerServiceAsyncStub",
                    issuer_pb2_grpc.IssuerServiceStub(self.channel(issuer_id, agency_id, role)))

    def registry_stub(self, subject: str, agency: str, role: str) -> registry_pb2_grpc.RegistryServiceAsyncStub:
        """RegistryService as any identity."""
        return cast("registry_pb2_grpc.RegistryServiceAsyncStub",
                    registry_pb2_grpc.RegistryServiceStub(self.channel(subject, agency, role)))

    async def _wait(self, what: str, ready: Any, deadline: float) -> None:
        await eventually(ready, max(0.0, deadline - time.monotonic()),
                         f"{what} never reached the issuer's registry projection", interval=0.05)

    async def onboard(self, agency_id: str, issuers: dict[str, int | None], timeout: float = 30.0) -> None:
        """Register the agency and ``issuers`` (id -> highest EQF level, None = not accredited) and wait for them.

        Registry commands read the projection, so each step waits until the previous one has been applied.
        """
        registry = self.app_registry()
        deadline = time.monotonic() + timeout  # one budget for the three waits
        if await registry.get_agency(agency_id) is None:
            await self.registry_stub(*PLATFORM).RegisterAgency(registry_pb2.RegisterAgencyRequest(
                agency_id=agency_id, organisation=pb.Organisation(legal_name=pb.LangString(values={"en": agency_id}))))

        async def agency_ready() -> bool:
            return await registry.get_agency(agency_id) is not None

        await self._wait(f"agency {agency_id}", agency_ready, deadline)
        operator = self.registry_stub(f"{agency_id}-operator", agency_id, pki.ROLE_AGENCY)
        for issuer_id in issuers:
            await operator.RegisterIssuer(registry_pb2.RegisterIssuerRequest(
                issuer_id=issuer_id, agency_id=agency_id, organisation=_org(f"Issuer {issuer_id}")))

        async def registered() -> bool:
            return all([await registry.get_issuer(i) is not None for i in issuers])

        await self._wait("issuers", registered, deadline)
        for issuer_id, max_eqf in issuers.items():
            if max_eqf is None:
                continue
            accreditation = registry_pb2.Accreditation(
                type=pb.ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE, framework="ESG 2015",
                accrediting_body=_org("Quality and Qualifications Ireland"),
                max_eqf_level=cast("pb.EqfLevel", max_eqf), decision_reference=f"DEC-{issuer_id}")
            accreditation.valid_from.FromDatetime(datetime(2020, 1, 1, tzinfo=UTC))
            await operator.AccreditIssuer(registry_pb2.AccreditIssuerRequest(issuer_id=issuer_id,
                                                                             accreditation=accreditation))

        async def accredited() -> bool:
            return all([bool((await registry.get_issuer(i)).accreditations)
                        for i, level in issuers.items() if level is not None])

        await self._wait("accreditations", accredited, deadline)

    def app_registry(self) -> Any:
        """The issuer service's registry read model."""
        assert self.app.registry_projection is not None
        return self.app.registry_projection.registry

    async def close(self) -> None:
        """Close clients, stop the issuer, then the revocation service."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        await self.app.stop()
        if self.revocation is not None:
            await self.revocation.close()
        if self.revocation_process is not None:
            await self.revocation_process.close()


def _write_pki(ca: pki.CertifiedKey, directory: Path, *, service_client: bool) -> None:
    ca.write(directory, "ca")
    pki.create_server_cert(ca, "microcred-services").write(directory, "server")
    if service_client:
        pki.create_client_cert(ca, "issuer-service", pki.ROLE_PLATFORM, pki.ROLE_SERVICE).write(directory, "client")


async def start_issuer_harness(kafka_bootstrap: str, redis_url: str, work_dir: Path, *,
                               status_source: StatusIndexSource | None = None, keystore: KeyStore | None = None,
                               did_web_host: str = "trust.example.test", revocation_process: bool = False,
                               revocation_settings: dict[str, Any] | None = None,
                               **overrides: Any) -> IssuerHarness:
    """Start revocation (unless ``status_source`` is given; in-process, or as its own process with
    ``revocation_process``) and the issuer service in-process; ``overrides`` are issuer Settings,
    ``revocation_settings`` the in-process revocation service's."""
    ca = pki.create_ca("issuer harness CA")
    tag = uuid.uuid4().hex[:10]
    revocation: Harness | None = None
    child: RevocationProcess | None = None
    target = "unused:1"
    if status_source is None and revocation_process:
        child = await spawn_revocation(ca, work_dir / "revocation", kafka_bootstrap, redis_url)
        target = child.target
    elif status_source is None:
        _write_pki(ca, work_dir / "revocation" / "pki", service_client=False)
        revocation = await start_harness(kafka_bootstrap, redis_url, work_dir / "revocation", ca=ca,
                                         **(revocation_settings or {}))
        target = revocation.target
    tls_dir = work_dir / "issuer-pki"
    _write_pki(ca, tls_dir, service_client=True)
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, tls_dir=tls_dir, grpc_port=0, environment="test",
        data_dir=work_dir / "issuer", revocation_target=target, did_web_host=did_web_host,
        issuer_redis_prefix=f"iss-{tag}", issuer_consumer_group=f"issuer-{tag}", registry_namespace=f"reg-{tag}",
        audit_namespace=f"audit-{tag}",
        **overrides)
    app = IssuerApp(settings, keystore=keystore, status_source=status_source)
    try:
        await app.start()
    except BaseException:
        if revocation is not None:
            await revocation.close()
        if child is not None:
            await child.close()
        raise
    return IssuerHarness(app, revocation, ca, work_dir, child)


async def start_issuer_with_document_ca(kafka_bootstrap: str, redis_url: str, work_dir: Path, agency: str,
                                        **overrides: Any) -> tuple[IssuerHarness, pki.CertifiedKey]:
    """:func:`start_issuer_harness` with a document-signing CA of ``agency`` (the x5c chain of SD-JWT VCs), its
    REST app on port 0 unless ``overrides`` say otherwise; the harness and the CA."""
    document_ca = pki.create_ca("Agency document-signing CA", agency=agency)
    cert_file, key_file = document_ca.write(work_dir / "document-ca", "ca")
    harness = await start_issuer_harness(kafka_bootstrap, redis_url, work_dir, **{
        "rest_port": 0, "document_signing_ca_cert_file": cert_file, "document_signing_ca_key_file": key_file,
        **overrides})
    return harness, document_ca
