"""One platform for the whole fault suite: Redis, a three-node Kafka cluster (replication factor 3,
``min.insync.replicas`` 2) and the four services as subprocesses. Tests kill and restart parts of it, and each
leaves it healthy again for the next one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from microcred import pki
from microcred.infra.platform import Platform
from tests.fault.support import FaultPlatform

#: Small status-index blocks make the issuer reserve often (the revocation kill lands during reservations);
#: the verifier's per-client limit is lifted because every test client calls from 127.0.0.1.
ENV_OVERRIDES = {
    "*": {"MICROCRED_LOG_LEVEL": "INFO"},
    "issuer": {"MICROCRED_STATUS_BLOCK_SIZE": "200"},
    "verifier": {"MICROCRED_RATE_LIMIT_PER_SECOND": "1000000", "MICROCRED_RATE_LIMIT_BURST": "1000000"},
}


@pytest.fixture(scope="package")
async def fault(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultPlatform]:
    platform = Platform(tmp_path_factory.mktemp("fault-platform"), kafka_nodes=3, env_overrides=ENV_OVERRIDES)
    try:
        await platform.start_infrastructure()
        await platform.start_services(timeout=180)
        assert platform.redis is not None
        redis = Redis.from_url(platform.redis.url, decode_responses=False)
        async with httpx.AsyncClient(timeout=30) as http:
            running = FaultPlatform(platform, pki.CertifiedKey.read(platform.pki_dir, "ca"), redis, http)
            try:
                yield running
            finally:
                await running.close()
                await redis.aclose()
    finally:
        platform.stop()


#: The order the fault tests run in: the Redis wipe early, so that the full replay it forces stays short in CI
#: (larger histories: scripts/fault-run.sh); the load run last, on a platform that went through every fault.
ORDER = ("test_poison", "test_redis_wipe", "test_service_kill", "test_verifier_kill", "test_leader_kill",
         "test_gateway_load")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the fault tests (wherever they sit in the session) into :data:`ORDER`."""
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith("tests/fault/")]

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("/")[-1].split(".py")[0]
        return ORDER.index(module) if module in ORDER else len(ORDER)

    ordered = sorted((items[i] for i in slots), key=rank)
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item
