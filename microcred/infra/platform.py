"""The whole platform on one machine: Kafka, Redis, development PKI and the four services.

``make run`` calls :func:`run_platform` through ``mcred dev up``. Everything it starts runs in its own process
group and is stopped on Ctrl-C (or SIGTERM), so nothing is left behind. Its data directory (Kafka log, Redis AOF,
keys, PKI) is kept, so the next ``make run`` brings back the same platform; ``mcred dev reset`` wipes it.

Ports: ``make run`` uses the documented defaults (:data:`DEFAULT_PORTS`, each changeable through its setting in
:data:`PORT_SETTINGS`) and fails fast, naming the port and the setting, when one is taken. Tests never use fixed
ports: a :class:`Platform` without ``fixed_ports`` takes free ports from the kernel and, should another process
bind one first, starts that service again on new ones.
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
from microcred.infra.ports import free_ports, port_bindable
from microcred.infra.redis_cluster_local import LocalRedisCluster
from microcred.infra.redis_local import LocalRedis
from microcred.kafka.topics import ensure_topics

REPO_ROOT = Path(__file__).resolve().parents[2]
REVOCATION_HTTP_PORT = 8082
ISSUER_REST_PORT = 8443  # the issuer's REST app: OpenID4VCI Credential Issuer (docs/oid4vci.md)
#: How many times a service is started again on fresh ports when a port picked for it was taken meanwhile.
BIND_ATTEMPTS = 4
#: What the services write to their log when their port is taken (gRPC core, uvicorn, our own check).
BIND_FAILURE_MARKERS = ("Address already in use", "Failed to bind", "could not bind", "address already in use")


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


#: ``make run``'s documented ports, by port name (a service, or ``revocation-http`` for status lists).
DEFAULT_PORTS: dict[str, int] = {**{spec.name: spec.default_port for spec in SERVICES},
                                 "revocation-http": REVOCATION_HTTP_PORT, "issuer-rest": ISSUER_REST_PORT}
#: The setting that changes each of ``make run``'s ports (environment variable or ``mcred dev up`` option).
PORT_SETTINGS: dict[str, str] = {
    "issuer": "MICROCRED_DEV_ISSUER_PORT",
    "revocation": "MICROCRED_DEV_REVOCATION_PORT",
    "revocation-http": "MICROCRED_DEV_STATUS_PORT",
    "wallet": "MICROCRED_DEV_WALLET_PORT",
    "verifier": "MICROCRED_DEV_VERIFIER_PORT",
    "issuer-rest": "MICROCRED_DEV_ISSUER_REST_PORT",
}


#: Each service's own ports and the setting that gives each to a process: another replica of the service gets new
#: values of these and keeps the rest of the first replica's environment (fault tests: :meth:`Platform.start_replica`).
REPLICA_PORTS: dict[str, dict[str, str]] = {
    "issuer": {"issuer": "MICROCRED_GRPC_PORT", "issuer-rest": "MICROCRED_REST_PORT"},
    "revocation": {"revocation": "MICROCRED_GRPC_PORT", "revocation-http": "MICROCRED_HTTP_PORT"},
    "wallet": {"wallet": "MICROCRED_HTTP_PORT"},
    "verifier": {"verifier": "MICROCRED_HTTP_PORT"},
}


#: The ``mcred dev up`` option that sets each of ``make run``'s ports.
PORT_OPTIONS: dict[str, str] = {"issuer": "--issuer-port", "revocation": "--revocation-port",
                                "revocation-http": "--status-port", "wallet": "--wallet-port",
                                "verifier": "--verifier-port", "issuer-rest": "--issuer-rest-port"}


class PortInUseError(RuntimeError):
    """A port ``make run`` was told to use is taken; the message names the port and the setting to change."""


def dev_ports(env: dict[str, str] | None = None) -> dict[str, int]:
    """``make run``'s ports: the defaults, each overridden by its setting in :data:`PORT_SETTINGS`."""
    env = dict(os.environ) if env is None else env
    ports = dict(DEFAULT_PORTS)
    for name, setting in PORT_SETTINGS.items():
        if env.get(setting):
            try:
                ports[name] = int(env[setting])
            except ValueError:
                raise PortInUseError(f"{setting}={env[setting]!r} is not a port number") from None
    return ports


def check_ports_free(ports: dict[str, int]) -> None:
    """Fail fast, naming the port and its setting, when one of ``ports`` is already taken on 127.0.0.1."""
    for name, port in ports.items():
        if not port_bindable(port):  # refuses a port something listens on, on loopback or all addresses
            raise PortInUseError(
                f"port {port} ({name}) is already in use on 127.0.0.1: stop what holds it, or choose another "
                f"port with {PORT_SETTINGS[name]}=<port> (or `mcred dev up {PORT_OPTIONS[name]} <port>`)")


def ensure_dev_pki(directory: Path) -> Path:
    """Create (once) a development CA, a server certificate, an operator client certificate, the Token Status
    List signer's document-signing certificate and the gateway's OpenID4VP request-signing certificate (SAN
    ``localhost``). In development the platform CA also certifies issuers' SD-JWT VC keys (in production: the
    agency's document-signing CA)."""
    if not (directory / "ca.crt").exists():
        ca = pki.create_ca("microcred dev platform CA")
        ca.write(directory, "ca")
        # The service names make the same certificate usable inside docker compose.
        hosts = ["localhost", "127.0.0.1", *(spec.name for spec in SERVICES)]
        pki.create_server_cert(ca, "microcred-services", hosts=hosts).write(directory, "server")
        pki.create_client_cert(ca, "platform-operator", "platform", pki.ROLE_SERVICE).write(directory, "client")
    if not (directory / "token-status.crt").exists():  # also for data directories made before it existed
        ca = pki.CertifiedKey((directory / "ca.crt").read_bytes(), (directory / "ca.key").read_bytes())
        pki.create_signing_cert(ca, issuer_uri="https://status.microcred.local",
                                common_name="microcred dev token status lists").write(directory, "token-status")
    if not (directory / "oid4vp.crt").exists():  # the gateway's OpenID4VP request signer (docker compose)
        ca = pki.CertifiedKey((directory / "ca.crt").read_bytes(), (directory / "ca.key").read_bytes())
        pki.create_signing_cert(ca, issuer_uri="https://localhost",
                                common_name="microcred dev OpenID4VP verifier").write(directory, "oid4vp")
    return directory


@dataclass
class RunningService:
    """A started service process and where it listens."""

    spec: ServiceSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)
    #: Where this process's own lines start in the (appended) log file.
    log_offset: int = 0
    #: A replica started by :meth:`Platform.start_replica`: its own ports by port name (empty for the first one).
    own_ports: dict[str, int] = field(default_factory=dict)

    def own_log(self) -> str:
        """What this process has written to its log so far."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    @property
    def endpoint(self) -> str:
        scheme = "grpcs" if self.spec.kind == "grpc" else "http"
        return f"{scheme}://127.0.0.1:{self.port}"


@dataclass
class Platform:
    """Local infrastructure plus the four services, started and stopped together.

    ``kafka_nodes=3`` starts a three-node KRaft cluster and creates the topics with replication factor 3 and
    ``min.insync.replicas=2`` (fault tests); ``redis_cluster=True`` runs the read models on a local 3-master
    Redis Cluster instead of one node (the cluster fault test); ``env_overrides`` adds environment variables per
    service name, or for every service under ``"*"``.
    """

    data_dir: Path
    kafka: LocalKafka | None = None
    redis: LocalRedis | LocalRedisCluster | None = None
    services: list[RunningService] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    kafka_nodes: int = 1
    redis_cluster: bool = False
    env_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    #: ``make run``'s ports (checked, never replaced); ``None`` (tests): free ports from the kernel.
    fixed_ports: dict[str, int] | None = None

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @classmethod
    def attach(cls, data_dir: Path) -> Platform:
        """Describe a platform that ``mcred dev up`` runs on ``data_dir`` (from its ``endpoints.json``), to talk
        to it from another process. Nothing is started, and :meth:`stop` on the result stops nothing."""
        from microcred.infra.kafka_local import KafkaNode

        endpoints = json.loads((data_dir / "endpoints.json").read_text())
        kafka = LocalKafka(data_dir / "kafka")
        for i, address in enumerate(endpoints["kafka_bootstrap"].split(","), start=1):
            kafka.members.append(KafkaNode(i, int(address.rsplit(":", 1)[1]), 0, kafka.data_dir / f"k{i}"))
        redis_port = int(endpoints["redis_url"].rsplit(":", 1)[1].split("/", 1)[0])
        return cls(data_dir, kafka=kafka, redis=LocalRedis(data_dir / "redis", port=redis_port),
                   ports={k: int(v) for k, v in endpoints["ports"].items()})

    async def start_infrastructure(self) -> None:
        """Start Redis and Kafka (one node, or a three-node cluster) and create the platform's topics."""
        self.redis = LocalRedisCluster(self.data_dir / "redis-cluster") if self.redis_cluster \
            else LocalRedis(self.data_dir / "redis")
        self.redis.start()
        if self.kafka_nodes > 1:
            self.kafka = LocalKafka(self.data_dir / "kafka", nodes=self.kafka_nodes, heap="512m")
        else:
            self.kafka = LocalKafka(self.data_dir / "kafka")
        await self.kafka.start()
        await ensure_topics(self.kafka.bootstrap, replication_factor=self.kafka.replication_factor,
                            min_insync=self.kafka.min_insync)

    def wipe_redis(self) -> None:
        """``FLUSHALL`` on the platform's Redis (every master of a cluster) while everything runs (fault tests:
        read models must rebuild)."""
        assert self.redis is not None
        self.redis.flush()

    def service_env(self) -> dict[str, str]:
        """Environment shared by the service processes."""
        assert self.kafka is not None and self.redis is not None
        return {
            **os.environ,
            "MICROCRED_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "MICROCRED_REDIS_URL": self.redis.service_url,
            "MICROCRED_TLS_DIR": str(self.pki_dir),
            "PYTHONUNBUFFERED": "1",
        }

    def assign_ports(self) -> dict[str, int]:
        """Each service's main port (and the revocation service's HTTP port): the fixed ones, checked to be
        free, or distinct free ports from the kernel."""
        if self.fixed_ports is not None:
            check_ports_free(self.fixed_ports)
            return dict(self.fixed_ports)
        return free_ports(DEFAULT_PORTS)

    def env_for(self, name: str, ports: dict[str, int], signer: str = "") -> dict[str, str]:
        """The environment of one service: shared settings plus what it needs to find the others."""
        env = self.service_env()
        env["MICROCRED_DATA_DIR"] = str(self.data_dir / name)
        status_base = f"http://127.0.0.1:{ports['revocation-http']}"
        verifier = f"127.0.0.1:{ports['verifier']}"
        ca_cert, ca_key = str(self.pki_dir / "ca.crt"), str(self.pki_dir / "ca.key")
        # The Credential Issuer identifier: the name the dev server certificate carries (localhost).
        credential_issuer = f"https://localhost:{ports['issuer-rest']}"
        if name == "issuer":
            env.update(MICROCRED_GRPC_PORT=str(ports["issuer"]),
                       MICROCRED_REVOCATION_TARGET=f"localhost:{ports['revocation']}",
                       MICROCRED_DID_WEB_HOST=verifier,
                       MICROCRED_DOCUMENT_SIGNING_CA_CERT_FILE=ca_cert, MICROCRED_DOCUMENT_SIGNING_CA_KEY_FILE=ca_key,
                       MICROCRED_REST_PORT=str(ports["issuer-rest"]), MICROCRED_OID4VCI_ISSUER_URL=credential_issuer)
        elif name == "revocation":
            env.update(MICROCRED_GRPC_PORT=str(ports["revocation"]), MICROCRED_HTTP_PORT=str(ports["revocation-http"]),
                       MICROCRED_STATUS_BASE_URL=status_base,
                       MICROCRED_TOKEN_STATUS_CERT_FILE=str(self.pki_dir / "token-status.crt"),
                       MICROCRED_TOKEN_STATUS_KEY_FILE=str(self.pki_dir / "token-status.key"))
        elif name == "wallet":
            env.update(MICROCRED_HTTP_PORT=str(ports["wallet"]),
                       MICROCRED_SHARE_URL_TEMPLATE=f"http://{verifier}/share/{{token}}",
                       MICROCRED_X509_TRUST_ANCHORS_FILE=ca_cert,
                       # our wallet accepts OpenID4VCI offers of the platform's own issuer (docs/wallet-oid4vci.md)
                       MICROCRED_WALLET_TRUSTED_ISSUERS=credential_issuer, MICROCRED_WALLET_ISSUER_TLS_CA_FILE=ca_cert)
        elif name == "verifier":
            env.update(MICROCRED_HTTP_PORT=str(ports["verifier"]),
                       MICROCRED_WALLET_URL=f"http://127.0.0.1:{ports['wallet']}",
                       MICROCRED_STATUS_URL_PREFIXES=json.dumps([f"{status_base}/status/"]),
                       MICROCRED_TOKEN_STATUS_URL_PREFIXES=json.dumps([f"{status_base}/token-status/"]),
                       MICROCRED_X509_TRUST_ANCHORS_FILE=ca_cert,
                       MICROCRED_STATUS_LIST_SIGNERS=json.dumps([signer] if signer else []))
        env.update(self.env_overrides.get("*", {}))
        env.update(self.env_overrides.get(name, {}))
        return env

    def start_service(self, spec: ServiceSpec, port: int, env: dict[str, str]) -> RunningService:
        """Start one service process in its own process group, logging to ``logs/<name>.log``."""
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{spec.name}.log"
        log_offset = log_path.stat().st_size if log_path.exists() else 0
        with log_path.open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", spec.module], env=env, cwd=REPO_ROOT,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        running = RunningService(spec, port, proc, log_path, env, log_offset)
        self.services.append(running)
        return running

    async def start_services(self, timeout: float = 90.0) -> dict[str, str]:
        """Start revocation first (its status-list signer is what verifiers trust), then the other three.

        With free ports (tests), a service that finds its port taken by another process in the moment between
        the choice and its bind is stopped with the others of its step, and the step starts again on new ports.
        """
        ensure_dev_pki(self.pki_dir)
        self.ports = self.assign_ports()
        await self._start_step(("revocation",), ("revocation", "revocation-http"), timeout)
        signer = await fetch_signer(self.ports["revocation-http"], timeout)
        return await self._start_step(("issuer", "wallet", "verifier"), ("issuer", "issuer-rest", "wallet", "verifier"),
                                      timeout, signer)

    async def _start_step(self, names: tuple[str, ...], port_names: tuple[str, ...], timeout: float,
                          signer: str = "") -> dict[str, str]:
        by_name = {spec.name: spec for spec in SERVICES}
        for attempt in range(1, BIND_ATTEMPTS + 1):
            started = [self.start_service(by_name[n], self.ports[n], self.env_for(n, self.ports, signer))
                       for n in names]
            try:
                return await self.wait_services(timeout)
            except RuntimeError:
                if self.fixed_ports is not None or attempt == BIND_ATTEMPTS or not any(
                        _lost_bind_race(svc) for svc in started):
                    raise
            self._stop_processes(started)
            for svc in started:
                self.services.remove(svc)
            others = [port for name, port in self.ports.items() if name not in port_names]
            self.ports.update(free_ports(port_names, avoid=others))
        raise AssertionError("unreachable")

    async def start_replica(self, name: str, timeout: float = 90.0,
                            env: dict[str, str] | None = None) -> RunningService:
        """Start one more process of service ``name`` and wait until every service is healthy.

        The replica has the first process's environment (data directory and keys, Kafka, Redis, consumer groups,
        the other services' addresses; a load balancer would hide which replica answers), ports of its own
        (:data:`REPLICA_PORTS`, in its ``own_ports``) and ``env`` on top."""
        first = next(s for s in self.services if s.spec.name == name and not s.own_ports)
        taken = [*self.ports.values(), *(port for s in self.services for port in s.own_ports.values())]
        own = free_ports(REPLICA_PORTS[name], avoid=taken)
        replica_env = {**first.env, **{REPLICA_PORTS[name][port]: str(value) for port, value in own.items()},
                       **(env or {})}
        replica = self.start_service(first.spec, own[name], replica_env)
        replica.own_ports = own
        await self.wait_services(timeout)
        return replica

    def kill_process(self, svc: RunningService, sig: int = signal.SIGKILL) -> None:
        """Kill one service process (a given replica); it stays in the list, dead."""
        os.killpg(svc.process.pid, sig)
        svc.process.wait(timeout=30)

    async def restart_process(self, svc: RunningService, timeout: float = 90.0) -> RunningService:
        """Start a killed process again with its ports and environment; wait until every service is healthy."""
        if svc.process.poll() is None:
            raise RuntimeError(f"{svc.spec.name} on port {svc.port} is still running")
        self.services.remove(svc)
        new = self.start_service(svc.spec, svc.port, svc.env)
        new.own_ports = svc.own_ports
        await self.wait_services(timeout)
        return new

    def stop_process(self, svc: RunningService) -> None:
        """Stop one process (SIGTERM, then SIGKILL) and forget it (a replica a test no longer needs)."""
        self._stop_processes([svc])
        self.services.remove(svc)

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
        self._stop_processes(self.services)
        self.services.clear()
        if self.kafka is not None:
            self.kafka.stop()
        if self.redis is not None:
            self.redis.stop()


    @staticmethod
    def _stop_processes(services: list[RunningService]) -> None:
        for svc in services:
            if svc.process.poll() is None:
                os.killpg(svc.process.pid, signal.SIGTERM)
        for svc in services:
            try:
                svc.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(svc.process.pid, signal.SIGKILL)
                svc.process.wait(timeout=5)


def _lost_bind_race(svc: RunningService) -> bool:
    """True when the service exited because the port chosen for it was taken."""
    if svc.process.poll() is None:
        return False
    log = svc.own_log()
    return any(marker in log for marker in BIND_FAILURE_MARKERS)


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


def platform_processes(data_dir: Path) -> list[int]:
    """Pids of live processes that belong to a platform on ``data_dir`` (Kafka and Redis name it on their
    command line; the services get it in their environment)."""
    marker = str(data_dir.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline or marker in environ:
            found.append(int(entry.name))
    return found


def write_endpoints(platform: Platform) -> Path:
    """Write ``<data_dir>/endpoints.json`` (ports, Kafka, Redis, PKI) for scripts and tools that use the platform."""
    assert platform.kafka is not None and platform.redis is not None
    path = platform.data_dir / "endpoints.json"
    path.write_text(json.dumps({"ports": platform.ports, "kafka_bootstrap": platform.kafka.bootstrap,
                                "redis_url": platform.redis.service_url, "pki_dir": str(platform.pki_dir)}, indent=2))
    return path


async def run_platform(data_dir: Path, report: Callable[[Platform, dict[str, str]], None],
                       ports: dict[str, int] | None = None) -> None:
    """Start everything on ``make run``'s ports, call ``report`` with the endpoints, and run until SIGINT/SIGTERM.

    The ports are checked before anything starts, so a taken one fails fast with the setting that changes it.
    """
    from microcred.lifecycle import wait_for_shutdown_signal

    fixed = dev_ports() if ports is None else ports
    check_ports_free(fixed)
    platform = Platform(data_dir, fixed_ports=fixed)
    stop_requested = asyncio.Event()
    try:
        await platform.start_infrastructure()
        status = await platform.start_services()
        write_endpoints(platform)
        report(platform, status)
        waiter = asyncio.ensure_future(wait_for_shutdown_signal())
        while not waiter.done() and not stop_requested.is_set():
            for svc in platform.services:
                if svc.process.poll() is not None:
                    raise RuntimeError(f"{svc.spec.name} exited unexpectedly; see {svc.log_path}")
            await asyncio.wait({waiter}, timeout=1.0)
    finally:
        (data_dir / "endpoints.json").unlink(missing_ok=True)
        platform.stop()
