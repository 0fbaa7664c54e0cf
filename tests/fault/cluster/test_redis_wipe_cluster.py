"""Every master of the Redis Cluster is wiped (``FLUSHALL``) while a batch runs: every read model (the wallet's
records in their slot groups included) rebuilds from Kafka and matches a fresh one, as on a single node (the
scenario: :mod:`tests.fault.redis_wipe`)."""

from __future__ import annotations

import pytest

from tests.fault.redis_wipe import redis_wiped_during_batch
from tests.fault.support import SCALE, FaultPlatform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900 * SCALE)]


async def test_redis_cluster_wiped_during_batch(fault: FaultPlatform) -> None:
    await redis_wiped_during_batch(fault, "redis-wipe-cluster")
