"""Test-session fixtures: real Kafka and Redis, started once for the whole run.

Integration tests never skip: if Kafka or Redis cannot be started, the fixture raises and the tests fail.
Set ``MICROCRED_TEST_KAFKA`` and ``MICROCRED_TEST_REDIS`` to reuse servers that are already running.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from microcred.infra.kafka_local import LocalKafka
from microcred.infra.redis_local import LocalRedis
from microcred.kafka.topics import ensure_topics
from tests.harness.redis_cluster import cluster_url, redis_clients, redis_cluster  # noqa: F401 - session/param fixtures


@dataclass(frozen=True)
class Infrastructure:
    """Addresses of the running test infrastructure."""

    kafka_bootstrap: str
    redis_url: str
    redis: LocalRedis | None
    kafka: LocalKafka | None


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("infra")


@pytest.fixture(scope="session")
async def infrastructure(session_dir: Path) -> AsyncIterator[Infrastructure]:
    """Start (or reuse) one Kafka node and one Redis server for the whole test session."""
    kafka_env, redis_env = os.environ.get("MICROCRED_TEST_KAFKA"), os.environ.get("MICROCRED_TEST_REDIS")
    redis = kafka = None
    try:
        if redis_env is None:
            redis = LocalRedis(session_dir / "redis")
            redis.start()
        if kafka_env is None:
            kafka = LocalKafka(session_dir / "kafka")
            await kafka.start()
        bootstrap = kafka_env or (kafka.bootstrap if kafka else "")
        await ensure_topics(bootstrap)
        yield Infrastructure(bootstrap, redis_env or (redis.url if redis else ""), redis, kafka)
    finally:
        if kafka is not None:
            kafka.stop()
        if redis is not None:
            redis.stop()


@pytest.fixture(scope="module")
async def own_kafka(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                    ) -> AsyncIterator[Infrastructure]:
    """A Kafka broker of the module's own (its topics start empty), with the session's Redis.

    For tests that consume a topic from its start or read the broker's files: on the session's broker they would
    replay or scan every record the run has written so far (slow late in a run, and a cost that grows with it).
    """
    kafka = LocalKafka(tmp_path_factory.mktemp("own-kafka"))
    await kafka.start()
    try:
        await ensure_topics(kafka.bootstrap)
        yield Infrastructure(kafka.bootstrap, infrastructure.redis_url, infrastructure.redis, kafka)
    finally:
        kafka.stop()


@pytest.fixture(scope="session", autouse=True)
def privacy_kek() -> Iterator[None]:
    """One privacy KEK for every service a test starts, in process or not: the wallet must open what the
    issuer sealed, whatever data directories the test gives them (docs/privacy.md)."""
    os.environ.setdefault("MICROCRED_PRIVACY_KEK", base64.b64encode(os.urandom(32)).decode())
    yield


@pytest.fixture
def unique() -> Iterator[str]:
    """A short random name for topics, keys and groups so tests never see each other's data."""
    yield uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    """A Redis server of the test module's own, for tests that wipe it whole (as a lost node comes back)."""
    redis = LocalRedis(Path(tmp_path_factory.mktemp("own-redis")))
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``@pytest.mark.redis_topologies``: the test's ``redis`` (and ``redis_service_url``) on the single node and
    on the 3-master cluster, in every run (the read models' integration suites, issue 24)."""
    if "redis" in metafunc.fixturenames and metafunc.definition.get_closest_marker("redis_topologies"):
        metafunc.parametrize("redis_topology", ["single", "cluster"], indirect=True)


@pytest.fixture
def redis_topology(request: pytest.FixtureRequest) -> str:
    """``single`` or ``cluster``: the parameter of a ``redis_topologies`` test, else
    ``MICROCRED_TEST_REDIS_TOPOLOGY`` (default ``single``)."""
    return str(getattr(request, "param", None) or os.environ.get("MICROCRED_TEST_REDIS_TOPOLOGY", "single"))


@pytest.fixture
def redis_service_url(infrastructure: Infrastructure, redis_topology: str, request: pytest.FixtureRequest) -> str:
    """What a service's ``MICROCRED_REDIS_URL`` is on the test's topology (``redis+cluster://`` on the cluster)."""
    if redis_topology == "cluster":
        return cluster_url(request.getfixturevalue("redis_cluster"))
    return infrastructure.redis_url


@pytest.fixture
async def redis(infrastructure: Infrastructure, redis_topology: str,
                request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """An asyncio client of the session's Redis, closed after the test: on the cluster (a ``RedisCluster``
    client of the session's 3-master cluster) when the test's topology is ``cluster`` (docs/redis-keys.md)."""
    client: Any = Redis.from_url(infrastructure.redis_url)
    if redis_topology == "cluster":
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        await client.aclose()
        client = RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in request.getfixturevalue("redis_cluster")])
        await client.initialize()  # before any concurrent use (tests/harness/redis_cluster.py)
    try:
        yield client
    finally:
        await client.aclose()
