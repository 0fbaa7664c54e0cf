"""One platform for the whole fault suite: Redis, a three-node Kafka cluster (replication factor 3,
``min.insync.replicas`` 2) and the four services as subprocesses. Tests kill and restart parts of it, and each
leaves it healthy again for the next one.

Every fault test runs under the hung-service detector (:mod:`tests.fault.hang_detector`): a service that stops
answering its health check during or after the test fails that test, with its stacks in the report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

import pytest

from microcred.grpc_server import TlsFiles
from tests.fault.hang_detector import HangWatch, HungServices, cancel_test_task, failure_message
from tests.fault.support import FaultPlatform, fault_platform

HANG_WATCH = pytest.StashKey[HangWatch]()


@pytest.fixture(scope="package")
async def fault(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultPlatform]:
    async with fault_platform(tmp_path_factory.mktemp("fault-platform"), kafka_nodes=3) as running:
        yield running


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


#: The order the fault tests run in: the cluster platform's (``cluster/``) first, so that it is stopped before the
#: main platform starts; the Redis wipe early, so that the full replay it forces stays short in CI (larger
#: histories: scripts/fault-run.sh); the load run last, on a platform that went through every fault.
ORDER = ("test_redis_wipe_cluster", "test_poison", "test_redis_wipe", "test_service_kill", "test_verifier_kill",
         "test_leader_kill", "test_replica_kill", "test_gateway_load")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the fault tests (wherever they sit in the session) into :data:`ORDER`."""
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith("tests/fault/")]

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("/")[-1].split(".py")[0]
        return ORDER.index(module) if module in ORDER else len(ORDER)

    ordered = sorted((items[i] for i in slots), key=rank)
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item
