"""The whole platform on one machine: Kafka, Redis, development PKI and the four services.

``make run`` calls :func:`run_platform` through ``mcred dev up``. Everything it starts runs in its own process
group and is stopped on Ctrl-C (or SIGTERM), so nothing is left behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from microcred import pki
from microcred.grpc_server import TlsFiles, client_channel
from microcred.infra.kafka_local import LocalKafka
from microcred.infra.ports import free_port, port_open
from microcred.infra.redis_local import LocalRedis
from microcred.kafka.topics import ensure_topics

REPO_ROOT = Path(__file__).resolve().parents[2]
REVOCATION_HTTP_PORT = 8082


@dataclass(frozen=True)
class ServiceSpec:
    """How to start one service and how to tell that it is up."""

    name: str
    module: str
    kind: str  # "grpc" or "http"
    default_port: int


SERVICES = (
    ServiceSpec("issuer", "services.issuer.main", "grpc", 50051),
    ServiceSpec("revocation", "services.revocation.main", "grpc", 50052),
    ServiceSpec("wallet", "services.wallet.main", "http", 8081),
    ServiceSpec("verifier", "services.verifier.main", "http", 8080),
)


def ensure_dev_pki(directory: Path) -> Path:
    """Create (once) a development CA, a server certificate and an operator client certificate."""
    if not (directory / "ca.crt").exists():
        ca = pki.create_ca("microcred dev platform CA")
        ca.write(directory, "ca")
        # The service names make the same certificate usable inside docker compose.
        hosts = ["localhost", "127.0.0.1", *(spec.name for spec in SERVICES)]
        pki.create_server_cert(ca, "microcred-services", hosts=hosts).write(directory, "server")
        pki.create_client_cert(ca, "platform-operator", "platform", pki.ROLE_SERVICE).write(directory, "client")
    return directory


@dataclass
class RunningService:
    """A started service process and where it listens."""

    spec: ServiceSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def endpoint(self) -> str:
        scheme = "grpcs" if self.spec.kind == "grpc" else "http"
        return f"{scheme}://127.0.0.1:{self.port}"


@dataclass
class Platform:
    """Local infrastructure plus the four services, started and stopped together.

    ``kafka_nodes=3`` starts a three-node KRaft cluster and creates the topics with replication factor 3 and
    ``min.insync.replicas=2`` (fault tests); ``env_overrides`` adds environment variables per service name, or
    for every service under ``"*"``.
    """

    data_dir: Path
    kafka: LocalKafka | None = None
    redis: LocalRedis | None = None
    services: list[RunningService] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    kafka_nodes: int = 1
    env_overrides: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    async def start_infrastructure(self) -> None:
        """Start Redis and Kafka (one node, or a three-node cluster) and create the platform's topics."""
        self.redis = LocalRedis(self.data_dir / "redis")
        self.redis.start()
        if self.kafka_nodes > 1:
            self.kafka = LocalKafka(self.data_dir / "kafka", nodes=self.kafka_nodes, heap="512m")
        else:
            self.kafka = LocalKafka(self.data_dir / "kafka")
        await self.kafka.start()
        await ensure_topics(self.kafka.bootstrap, replication_factor=self.kafka.replication_factor,
                            min_insync=self.kafka.min_insync)

    def wipe_redis(self) -> None:
        """``FLUSHALL`` on the platform's Redis while everything runs (fault tests: read models must rebuild)."""
        import redis

        assert self.redis is not None
        client = redis.Redis(host="127.0.0.1", port=self.redis.port)
        try:
            client.flushall()
        finally:
            client.close()

    def service_env(self) -> dict[str, str]:
        """Environment shared by the service processes."""
        assert self.kafka is not None and self.redis is not None
        return {
            **os.environ,
            "MICROCRED_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "MICROCRED_REDIS_URL": self.redis.url,
            "MICROCRED_TLS_DIR": str(self.pki_dir),
            "PYTHONUNBUFFERED": "1",
        }

    def assign_ports(self) -> dict[str, int]:
        """Each service's main port (and the revocation service's HTTP port): the default, or a free one."""
        wanted = {spec.name: spec.default_port for spec in SERVICES}
        wanted["revocation-http"] = REVOCATION_HTTP_PORT
        return {name: port if not port_open("127.0.0.1", port) else free_port() for name, port in wanted.items()}

    def env_for(self, name: str, ports: dict[str, int], signer: str = "") -> dict[str, str]:
        """The environment of one service: shared settings plus what it needs to find the others."""
        env = self.service_env()
        env["MICROCRED_DATA_DIR"] = str(self.data_dir / name)
        status_base = f"http://127.0.0.1:{ports['revocation-http']}"
        verifier = f"127.0.0.1:{ports['verifier']}"
        if name == "issuer":
            env.update(MICROCRED_GRPC_PORT=str(ports["issuer"]),
                       MICROCRED_REVOCATION_TARGET=f"localhost:{ports['revocation']}",
                       MICROCRED_DID_WEB_HOST=verifier)
        elif name == "revocation":
            env.update(MICROCRED_GRPC_PORT=str(ports["revocation"]), MICROCRED_HTTP_PORT=str(ports["revocation-http"]),
                       MICROCRED_STATUS_BASE_URL=status_base)
        elif name == "wallet":
            env.update(MICROCRED_HTTP_PORT=str(ports["wallet"]),
                       MICROCRED_SHARE_URL_TEMPLATE=f"http://{verifier}/share/{{token}}")
        elif name == "verifier":
            env.update(MICROCRED_HTTP_PORT=str(ports["verifier"]),
                       MICROCRED_WALLET_URL=f"http://127.0.0.1:{ports['wallet']}",
                       MICROCRED_STATUS_URL_PREFIXES=json.dumps([f"{status_base}/status/"]),
                       MICROCRED_STATUS_LIST_SIGNERS=json.dumps([signer] if signer else []))
        env.update(self.env_overrides.get("*", {}))
        env.update(self.env_overrides.get(name, {}))
        return env

    def start_service(self, spec: ServiceSpec, port: int, env: dict[str, str]) -> RunningService:
        """Start one service process in its own process group, logging to ``logs/<name>.log``."""
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{spec.name}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", spec.module], env=env, cwd=REPO_ROOT,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        running = RunningService(spec, port, proc, log_path, env)
        self.services.append(running)
        return running

    async def start_services(self, timeout: float = 90.0) -> dict[str, str]:
        """Start revocation first (its status-list signer is what verifiers trust), then the other three."""
        ensure_dev_pki(self.pki_dir)
        ports = self.assign_ports()
        self.ports = ports
        by_name = {spec.name: spec for spec in SERVICES}
        self.start_service(by_name["revocation"], ports["revocation"], self.env_for("revocation", ports))
        await self.wait_services(timeout)
        signer = await fetch_signer(ports["revocation-http"], timeout)
        for name in ("issuer", "wallet", "verifier"):
            self.start_service(by_name[name], ports[name], self.env_for(name, ports, signer))
        return await self.wait_services(timeout)

    def kill_service(self, name: str, sig: int = signal.SIGKILL) -> RunningService:
        """Kill one service (SIGKILL by default) for fault tests; it stays in the list, dead."""
        svc = next(s for s in self.services if s.spec.name == name and s.process.poll() is None)
        os.killpg(svc.process.pid, sig)
        svc.process.wait(timeout=30)
        return svc

    async def restart_service(self, name: str, timeout: float = 90.0) -> RunningService:
        """Start a killed service again with the same port and environment, and wait until it is healthy."""
        old = next(s for s in reversed(self.services) if s.spec.name == name)
        if old.process.poll() is None:
            raise RuntimeError(f"{name} is still running")
        self.services.remove(old)
        new = self.start_service(old.spec, old.port, old.env)
        await self.wait_services(timeout)
        return new

    async def wait_services(self, timeout: float = 60.0) -> dict[str, str]:
        """Wait until every gRPC service reports SERVING and every HTTP service answers 200 on /healthz."""
        tls = TlsFiles.from_dir(self.pki_dir, "client")
        deadline = time.monotonic() + timeout
        status: dict[str, str] = {}
        for svc in [s for s in self.services if s.process.poll() is None or s.spec.name not in status]:
            while True:
                if svc.process.poll() is not None:
                    raise RuntimeError(f"{svc.spec.name} exited; see {svc.log_path}")
                status[svc.spec.name] = await probe(svc, tls)
                if status[svc.spec.name] in ("SERVING", "200"):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{svc.spec.name} not healthy ({status[svc.spec.name]}); see {svc.log_path}")
                await asyncio.sleep(0.3)
        return status

    def stop(self) -> None:
        """Stop the services (SIGTERM, then SIGKILL), then Kafka and Redis."""
        for svc in self.services:
            if svc.process.poll() is None:
                os.killpg(svc.process.pid, signal.SIGTERM)
        for svc in self.services:
            try:
                svc.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(svc.process.pid, signal.SIGKILL)
                svc.process.wait(timeout=5)
        self.services.clear()
        if self.kafka is not None:
            self.kafka.stop()
        if self.redis is not None:
            self.redis.stop()


async def probe(svc: RunningService, tls: TlsFiles) -> str:
    """One health probe: the gRPC health status name, or the HTTP status code, or the error."""
    if svc.spec.kind == "grpc":
        async with client_channel(f"localhost:{svc.port}", tls) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            except grpc.aio.AioRpcError as exc:
                return str(exc.code().name)
            name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            return name
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            response = await client.get(f"http://127.0.0.1:{svc.port}/healthz")
        return str(response.status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


async def fetch_signer(http_port: int, timeout: float) -> str:
    """The revocation service's status-list signer DID (``GET /signer``), which verifiers must trust."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                response = await client.get(f"http://127.0.0.1:{http_port}/signer")
                if response.status_code == 200:
                    body = response.json()
                    return str(body["did"])
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("revocation service did not report its status-list signer")
            await asyncio.sleep(0.2)


async def run_platform(data_dir: Path, report: Callable[[Platform, dict[str, str]], None]) -> None:
    """Start everything, call ``report`` with the endpoints, and run until SIGINT/SIGTERM."""
    from microcred.lifecycle import wait_for_shutdown_signal

    platform = Platform(data_dir)
    stop_requested = asyncio.Event()
    try:
        await platform.start_infrastructure()
        status = await platform.start_services()
        report(platform, status)
        waiter = asyncio.ensure_future(wait_for_shutdown_signal())
        while not waiter.done() and not stop_requested.is_set():
            for svc in platform.services:
                if svc.process.poll() is not None:
                    raise RuntimeError(f"{svc.spec.name} exited unexpectedly; see {svc.log_path}")
            await asyncio.wait({waiter}, timeout=1.0)
    finally:
        platform.stop()
