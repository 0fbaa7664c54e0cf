"""One platform for the whole fault suite: Redis, a three-node Kafka cluster (replication factor 3,
``min.insync.replicas`` 2) and the four services as subprocesses. Tests kill and restart parts of it, and each
leaves it healthy again for the next one.

Every fault test runs under the hung-service detector (:mod:`tests.fault.hang_detector`): a service that stops
answering its health check during or after the test fails that test, with its stacks in the report."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator, Iterator

import httpx
import pytest
from redis.asyncio import Redis

from microcred import pki
from microcred.grpc_server import TlsFiles
from microcred.infra.platform import Platform
from tests.fault.hang_detector import HangWatch, HungServices, cancel_test_task, failure_message
from tests.fault.support import FaultPlatform

HANG_WATCH = pytest.StashKey[HangWatch]()

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
            running = FaultPlatform(platform, pki.CertifiedKey.read(platform.pki_dir, "ca"), redis, http,
                                    loop=asyncio.get_running_loop())
            try:
                yield running
            finally:
                await running.close()
                await redis.aclose()
    finally:
        platform.stop()


@pytest.fixture(autouse=True)
def hang_watch(request: pytest.FixtureRequest) -> Iterator[HangWatch | None]:
    """Watch the platform's services while a test that uses ``fault`` runs (see :func:`pytest_runtest_call`)."""
    if "fault" not in request.fixturenames:
        yield None
        return
    fault: FaultPlatform = request.getfixturevalue("fault")
    platform = fault.platform
    watch = HangWatch(lambda: list(platform.services), TlsFiles.from_dir(platform.pki_dir, "client"),
                      platform.data_dir / "logs")
    loop, test_name = fault.loop, getattr(request.node, "originalname", request.node.name)
    watch.start(lambda: None if loop is None else cancel_test_task(loop, test_name))
    request.node.stash[HANG_WATCH] = watch
    yield watch
    watch.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After the test (passed or not): every live service must answer; a hang fails the test with its stacks."""
    watch = item.stash.get(HANG_WATCH, None)
    if watch is None:
        return (yield)
    try:
        return (yield)
    finally:
        watch.stop()
        hangs = watch.final_check()
        if hangs:
            message = failure_message(hangs)
            item.add_report_section("call", "hung services", message)
            raise HungServices(message)  # the test's own error, if any, stays chained below it


#: The order the fault tests run in: the Redis wipe early, so that the full replay it forces stays short in CI
#: (larger histories: scripts/fault-run.sh); the load run last, on a platform that went through every fault.
ORDER = ("test_poison", "test_redis_wipe", "test_service_kill", "test_verifier_kill", "test_leader_kill",
         "test_replica_kill", "test_gateway_load")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the fault tests (wherever they sit in the session) into :data:`ORDER`."""
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith("tests/fault/")]

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("/")[-1].split(".py")[0]
        return ORDER.index(module) if module in ORDER else len(ORDER)

    ordered = sorted((items[i] for i in slots), key=rank)
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item
