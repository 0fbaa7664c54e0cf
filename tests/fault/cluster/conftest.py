"""The fault platform over a local 3-master Redis Cluster (issue 24: the Redis-wipe rebuild test on a cluster as
well as on one node). One Kafka broker: what is tested here is Redis, and a second three-broker cluster beside
the single-node platform's would only slow the run. Its tests run first among the fault tests
(``tests/fault/conftest.py``'s ``ORDER``), so this platform is stopped before the other one starts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fault.support import FaultPlatform, fault_platform


@pytest.fixture(scope="package")
async def fault(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultPlatform]:
    async with fault_platform(tmp_path_factory.mktemp("fault-cluster"), kafka_nodes=1, redis_cluster=True) as running:
        yield running
