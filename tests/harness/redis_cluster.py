"""A local Redis Cluster for the tests: three masters (Debian's ``redis-server`` in cluster mode), no replicas.

:class:`LocalRedisCluster` starts three ``redis-server --cluster-enabled yes`` processes on loopback ports chosen
at run time (a client port and a cluster-bus port each, ``cluster-port``, so no fixed ``port + 10000``), joins
them with ``redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`` (16384 slots split in three)
and waits until every node reports ``cluster_state:ok``. :func:`redis_cluster` is the session fixture and
:func:`redis_clients` a test's clients parametrised over the single node and the cluster (``tests/conftest.py``
makes both visible); set ``MICROCRED_TEST_REDIS_CLUSTER`` to ``host:port`` of a running
cluster to reuse it instead. As the single node (``microcred.infra.redis_local``): AOF on, ``appendfsync
everysec``, stopped with SIGTERM at the end of the session.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from microcred.infra.ports import free_ports
from microcred.infra.redis_local import RedisStartError, redis_server_binary

__all__ = ["LocalRedisCluster", "RedisClients", "cluster_url", "redis_clients", "redis_cluster"]

MASTERS = 3


def cluster_url(nodes: list[tuple[str, int]]) -> str:
    """A service's ``MICROCRED_REDIS_URL`` for a cluster with these startup nodes (``redis+cluster://``)."""
    return "redis+cluster://" + ",".join(f"{host}:{port}" for host, port in nodes)


@dataclass
class LocalRedisCluster:
    """Three cluster-mode redis-server processes under ``data_dir`` (one directory each)."""

    data_dir: Path
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        """(host, port) of every master."""
        return [("127.0.0.1", port) for port in self.ports]

    @property
    def service_url(self) -> str:
        """What a service's ``MICROCRED_REDIS_URL`` is for this cluster (``redis+cluster://``)."""
        return cluster_url(self.startup_nodes)

    @property
    def url(self) -> str:
        """A ``redis://`` URL of one node (a cluster client discovers the others from it)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, timeout: float = 60.0) -> None:
        """Start the nodes, create the cluster and wait until it serves every slot."""
        binary = redis_server_binary()
        chosen = free_ports([f"{kind}{i}" for i in range(MASTERS) for kind in ("port", "bus")])
        self.ports = [chosen[f"port{i}"] for i in range(MASTERS)]
        for i, port in enumerate(self.ports):
            node_dir = self.data_dir / f"node-{port}"
            node_dir.mkdir(parents=True, exist_ok=True)
            args = [binary, "--port", str(port), "--cluster-port", str(chosen[f"bus{i}"]), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf"),
                    "--cluster-node-timeout", "5000", "--dir", str(node_dir), "--appendonly", "yes",
                    "--appendfsync", "everysec", "--save", "", "--logfile", str(node_dir / "redis.log"),
                    "--daemonize", "no", "--protected-mode", "yes"]
            self.processes.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                                   start_new_session=True))
        deadline = time.monotonic() + timeout
        for port in self.ports:
            self._wait(port, deadline, lambda client: bool(client.ping()))
        create = subprocess.run(
            ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
             "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=max(5.0, deadline - time.monotonic()), check=False)
        if create.returncode != 0:
            raise RedisStartError(f"redis-cli --cluster create failed: {create.stdout[-2000:]}{create.stderr[-2000:]}")
        for port in self.ports:  # every node must agree, or a client may be sent to one that does not know yet
            self._wait(port, deadline, lambda client: "cluster_state:ok" in client.execute_command(
                "CLUSTER", "INFO").decode())

    def _wait(self, port: int, deadline: float, ready: object) -> None:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=2.0)
        try:
            while time.monotonic() < deadline:
                if any(p.poll() is not None for p in self.processes):
                    raise RedisStartError(f"a cluster node exited; see the logs under {self.data_dir}")
                try:
                    if ready(client):  # type: ignore[operator]
                        return
                except redis.RedisError:
                    pass
                time.sleep(0.1)
        finally:
            client.close()
        raise RedisStartError(f"Redis Cluster node {port} not ready in time; see {self.data_dir}")

    def stop(self, grace: float = 10.0) -> None:
        """Stop every node (SIGTERM flushes the AOF), SIGKILL after ``grace`` seconds."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_cluster(session_dir: Path) -> Iterator[list[tuple[str, int]]]:
    """The session's 3-master Redis Cluster: its nodes' (host, port), started on first use, stopped at the end."""
    reuse = os.environ.get("MICROCRED_TEST_REDIS_CLUSTER")
    if reuse:
        host, port = reuse.rsplit(":", 1)
        yield [(host, int(port))]
        return
    cluster = LocalRedisCluster(session_dir / "redis-cluster")
    try:
        cluster.start()
        yield cluster.startup_nodes
    finally:
        cluster.stop()


class RedisClients:
    """Clients of one Redis topology (``single``: the session's node; ``cluster``: the session's cluster, through
    :class:`redis.asyncio.cluster.RedisCluster`), each closed at the end of the test."""

    def __init__(self, topology: str, url: str, nodes: list[tuple[str, int]]) -> None:
        self.topology, self.url, self.nodes = topology, url, nodes
        self.opened: list[Redis | RedisCluster] = []

    @property
    def service_url(self) -> str:
        """What a service's ``MICROCRED_REDIS_URL`` is on this topology (``redis+cluster://`` on the cluster)."""
        return cluster_url(self.nodes) if self.topology == "cluster" else self.url

    async def new(self, **options: Any) -> Redis | RedisCluster:
        """One more client (its own connection pool, as another replica has), ready for concurrent commands."""
        client: Redis | RedisCluster
        if self.topology == "cluster":
            client = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in self.nodes], **options)
            self.opened.append(client)
            # redis-py's asyncio cluster client must be initialised before use: commands started concurrently on
            # a fresh one race its lazy initialisation (AttributeError on a connection without a writer; see
            # redis/redis-py#3032: "you must call initialize before any other function")
            await client.initialize()
        else:
            client = Redis.from_url(self.url, **options)
            self.opened.append(client)
        return client

    async def close(self) -> None:
        for client in self.opened:
            await client.aclose()


@pytest.fixture(params=["single", "cluster"])
async def redis_clients(request: pytest.FixtureRequest, infrastructure: Any) -> AsyncIterator[RedisClients]:
    """Parametrised over the single node and the 3-master cluster (started only when a test asks for it)."""
    nodes = request.getfixturevalue("redis_cluster") if request.param == "cluster" else []
    clients = RedisClients(request.param, infrastructure.redis_url, nodes)
    try:
        yield clients
    finally:
        await clients.close()
