"""Redis is wiped (``FLUSHALL``) while a batch runs, on the single-node platform: every read model rebuilds from
Kafka and matches a fresh one (the scenario: :mod:`tests.fault.redis_wipe`)."""

from __future__ import annotations

import pytest

from tests.fault.redis_wipe import redis_wiped_during_batch
from tests.fault.support import SCALE, FaultPlatform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900 * SCALE)]


async def test_redis_wiped_during_batch(fault: FaultPlatform) -> None:
    await redis_wiped_during_batch(fault, "redis-wipe")
