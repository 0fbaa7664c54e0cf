"""A local Redis Cluster: three masters (Debian's ``redis-server`` in cluster mode), no replicas.

:class:`LocalRedisCluster` starts three ``redis-server --cluster-enabled yes`` processes on loopback ports chosen
at run time (a client port and a cluster-bus port each, ``cluster-port``, so no fixed ``port + 10000``), joins
them with ``redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`` (16384 slots split in three)
and waits until every node reports ``cluster_state:ok``. As the single node (:mod:`microcred.infra.redis_local`):
AOF on, ``appendfsync everysec``, stopped with SIGTERM. The test suite, the benches and a platform started with
``redis_cluster=True`` (:class:`microcred.infra.platform.Platform`) use it; production runs its own cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from microcred.infra.ports import free_ports
from microcred.infra.redis_local import RedisStartError, flush_node, redis_server_binary

__all__ = ["MASTERS", "LocalRedisCluster", "cluster_url"]

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

    @property
    def log_path(self) -> Path:
        """The first node's log (each node logs in its own directory)."""
        return self.data_dir / f"node-{self.ports[0]}" / "redis.log"

    def flush(self) -> None:
        """``FLUSHALL`` on every master (what a fault test does to lose every read model at once)."""
        for port in self.ports:
            flush_node(port)

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
