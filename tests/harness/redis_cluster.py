"""The tests' Redis Cluster fixtures: :func:`redis_cluster`, the session's 3-master cluster
(:class:`microcred.infra.redis_cluster_local.LocalRedisCluster`, started on first use), and :func:`redis_clients`,
a test's clients parametrised over the single node and the cluster (``tests/conftest.py`` makes both visible).
Set ``MICROCRED_TEST_REDIS_CLUSTER`` to ``host:port`` of a running cluster to reuse it instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from microcred.infra.redis_cluster_local import LocalRedisCluster, cluster_url

__all__ = ["LocalRedisCluster", "RedisClients", "cluster_url", "redis_clients", "redis_cluster"]


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
