"""A real Apache Kafka (KRaft) broker on 127.0.0.1, assembled from Maven Central jars.

There is no Docker engine on the development and CI machines and the Kafka tarball cannot be downloaded,
so ``deploy/kafka/pom.xml`` copies ``kafka_2.13`` and its runtime dependencies into a cache directory once,
and this module formats and starts one combined broker+controller node, or a three-node cluster for fault
tests. Every node runs in its own process group so that :meth:`LocalKafka.stop` leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from microcred.infra.ports import free_port, port_bindable

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
DEFAULT_CACHE = Path(os.environ.get("MICROCRED_CACHE", Path.home() / ".cache" / "microcred"))
STARTED_MESSAGE = "Kafka Server started"

_LOG4J2 = """Configuration:
  status: warn
  Appenders: {Console: {name: STDOUT, PatternLayout: {pattern: "[%d] %p %m (%c)%n"}}}
  Loggers:
    Root: {level: WARN, AppenderRef: [{ref: STDOUT}]}
    Logger: [{name: kafka.server.KafkaRaftServer, level: INFO}]
"""


class KafkaStartError(RuntimeError):
    """The broker could not be built or did not become ready; the message names the log to read."""


def kafka_libs_dir(cache: Path = DEFAULT_CACHE) -> Path:
    """Return the directory of Kafka jars, building it with Maven the first time."""
    libs = cache / "kafka-libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise KafkaStartError("Java 17+ and Maven are required to assemble the Kafka broker (apt-get install maven)")
    libs.mkdir(parents=True, exist_ok=True)
    cmd = ["mvn", "-B", "-q", "-f", str(POM), "package", f"-Dkafka.libs.dir={libs}"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not any(libs.glob("kafka_2.13-*.jar")):
        raise KafkaStartError(f"maven could not assemble Kafka:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    marker.write_text("ok\n")
    return libs


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Only CRITICAL records from ``logger_name`` while the block runs."""
    logger = logging.getLogger(logger_name)
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes as unpadded URL-safe base64, never starting with '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


@dataclass
class KafkaNode:
    """One combined broker+controller process."""

    node_id: int
    port: int
    controller_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / "kafka.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class LocalKafka:
    """A single node (``nodes=1``) or a three-node KRaft cluster on loopback."""

    data_dir: Path
    nodes: int = 1
    heap: str = "768m"
    cluster_id: str = field(default_factory=new_cluster_id)
    members: list[KafkaNode] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.members)

    def _properties(self, node: KafkaNode) -> str:
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.members)
        rf = 3 if self.nodes >= 3 else 1
        isr = 2 if self.nodes >= 3 else 1
        lines = [
            "process.roles=broker,controller",
            f"node.id={node.node_id}",
            f"controller.quorum.voters={voters}",
            f"listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.port}",
            "inter.broker.listener.name=PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={node.directory / 'data'}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            f"default.replication.factor={rf}",
            f"min.insync.replicas={isr}",
            f"offsets.topic.replication.factor={rf}",
            f"transaction.state.log.replication.factor={rf}",
            f"transaction.state.log.min.isr={isr}",
            f"share.coordinator.state.topic.replication.factor={rf}",
            f"share.coordinator.state.topic.min.isr={isr}",
            "group.initial.rebalance.delay.ms=0",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.num.partitions=3",
            "num.network.threads=2",
            "num.io.threads=4",
            "unclean.leader.election.enable=false",
        ]
        if self.nodes >= 3:
            lines += ["broker.session.timeout.ms=4000", "broker.heartbeat.interval.ms=1000"]
        return "\n".join(lines) + "\n"

    def _java(self, main: str, *args: str, heap: str) -> list[str]:
        libs = kafka_libs_dir()
        return [
            "java",
            f"-Xms{heap}" if main == "kafka.Kafka" else "-Xms64m",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.yaml'}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    @property
    def cluster_file(self) -> Path:
        """Where the cluster id and node ports are kept, so that a restart finds its own data again."""
        return self.data_dir / "cluster.json"

    def _adopt_existing(self) -> dict[int, tuple[int, int]]:
        """Take the cluster id of storage formatted before (a second ``make run``), and the node ports it had.

        Kafka refuses to start on storage of another cluster id ("Invalid cluster.id"), so a data directory
        that holds a cluster keeps its id. Older data directories have no ``cluster.json``: their id is read
        from ``meta.properties``.
        """
        previous: dict[int, tuple[int, int]] = {}
        if self.cluster_file.exists():
            saved = json.loads(self.cluster_file.read_text())
            self.cluster_id = str(saved["cluster_id"])
            previous = {int(n["node_id"]): (int(n["port"]), int(n["controller_port"])) for n in saved["nodes"]}
        else:
            meta = self.data_dir / "k1" / "data" / "meta.properties"
            if meta.exists():
                for line in meta.read_text().splitlines():
                    if line.startswith("cluster.id="):
                        self.cluster_id = line.split("=", 1)[1].strip()
        return previous

    def _save_cluster(self) -> None:
        nodes = [{"node_id": n.node_id, "port": n.port, "controller_port": n.controller_port} for n in self.members]
        self.cluster_file.write_text(json.dumps({"cluster_id": self.cluster_id, "nodes": nodes}, indent=2) + "\n")

    def prepare(self) -> None:
        """Choose ports, write configuration and format storage for every node (idempotent: a data directory
        that already holds a cluster keeps its cluster id, and its ports while they are free)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "log4j2.yaml").write_text(_LOG4J2)
        previous = self._adopt_existing()
        if not self.members:
            for i in range(1, self.nodes + 1):
                directory = self.data_dir / f"k{i}"
                directory.mkdir(parents=True, exist_ok=True)
                port, controller_port = previous.get(i, (0, 0))
                if not (port and controller_port and port_bindable(port) and port_bindable(controller_port)):
                    port, controller_port = free_port(), free_port()
                self.members.append(KafkaNode(i, port, controller_port, directory))
        self._save_cluster()
        for node in self.members:
            props = node.directory / "server.properties"
            props.write_text(self._properties(node))
            cmd = self._java(
                "kafka.tools.StorageTool", "format", "-t", self.cluster_id, "-c", str(props),
                "--ignore-formatted", heap="256m",
            )
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise KafkaStartError(f"kafka storage format failed: {result.stdout}{result.stderr}")

    def start_node(self, node: KafkaNode) -> None:
        """Start (or restart) one node's JVM in its own process group, logging to ``node.log_path``."""
        props = node.directory / "server.properties"
        log = node.log_path.open("ab")
        node.process = subprocess.Popen(
            self._java("kafka.Kafka", str(props), heap=self.heap),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()

    async def start(self, timeout: float = 120.0) -> None:
        """Start every node and wait until all brokers are registered and answer metadata requests."""
        self.prepare()
        for node in self.members:
            self.start_node(node)
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait for the started nodes' brokers to register with the controller quorum."""
        deadline = time.monotonic() + timeout
        expected = sum(1 for n in self.members if n.alive)
        # While the broker starts, every probe's refused connection is logged by aiokafka as an ERROR ("Unable
        # connect to ..."): expected here, and reported once as our own error if it lasts past the timeout.
        with _quiet("aiokafka"):
            await self._wait_brokers(deadline, expected, timeout)

    async def _wait_brokers(self, deadline: float, expected: int, timeout: float) -> None:
        from aiokafka.admin import AIOKafkaAdminClient

        last: BaseException | None = None
        while time.monotonic() < deadline:
            for node in self.members:
                if node.process is not None and node.process.poll() is not None:
                    raise KafkaStartError(f"kafka node {node.node_id} exited; see {node.log_path}")
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
            try:
                await admin.start()
                meta = await admin.describe_cluster()
                if len(meta["brokers"]) >= expected:
                    return
            except Exception as exc:
                last = exc
            finally:
                await admin.close()
            await asyncio.sleep(0.5)
        raise KafkaStartError(f"kafka not ready after {timeout}s ({last!r}); see {self.data_dir}/k*/kafka.log")

    @property
    def replication_factor(self) -> int:
        """The replication factor topics should have on this cluster (3 on three nodes, else 1)."""
        return 3 if self.nodes >= 3 else 1

    @property
    def min_insync(self) -> int:
        """``min.insync.replicas`` for topics on this cluster (2 on three nodes, else 1)."""
        return 2 if self.nodes >= 3 else 1

    async def partition_leaders(self, topic: str) -> dict[int, int]:
        """Partition -> node id of its current leader (-1 while it has none), from a metadata request."""
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        await admin.start()
        try:
            described = await admin.describe_topics([topic])
        finally:
            await admin.close()
        for entry in described:
            if entry["topic"] == topic:
                return {int(p["partition"]): int(p["leader"]) for p in entry["partitions"]}
        raise KeyError(f"topic {topic!r} not found")

    async def restart_node(self, node_id: int, timeout: float = 120.0) -> None:
        """Start a killed node again (same configuration and data) and wait until every live broker is back."""
        node = self.members[node_id - 1]
        if node.alive:
            raise RuntimeError(f"kafka node {node_id} is still running")
        self.start_node(node)
        await self.wait_ready(timeout)

    def kill_node(self, node_id: int, sig: int = signal.SIGKILL) -> None:
        """Kill one node (SIGKILL by default) for fault tests."""
        node = self.members[node_id - 1]
        if node.process is not None and node.alive:
            os.killpg(node.process.pid, sig)
            node.process.wait(timeout=30)

    def stop(self, grace: float = 20.0) -> None:
        """Stop every node: SIGTERM (controlled shutdown), then SIGKILL after ``grace`` seconds."""
        for node in self.members:
            if node.alive and node.process is not None:
                os.killpg(node.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for node in self.members:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(timeout=10)
