"""A partition leader of the credentials topic is SIGKILLed during a batch of at least 5,000 credentials.

The cluster has three brokers, topics have replication factor 3 and ``min.insync.replicas`` 2, and producers
are idempotent with ``acks=all``: the issuer answers only for credentials a quorum of replicas holds, so the
failover to another replica loses none of them, and producer retries add no copies. Items whose answers the
failover delayed or broke are re-sent with the same idempotency key.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from microcred.kafka.topics import CREDENTIALS
from tests.fault.support import FAULT_BATCH, SCALE, FaultPlatform, Scenario

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900 * SCALE)]


async def test_partition_leader_killed_during_batch(fault: FaultPlatform) -> None:
    kafka = fault.platform.kafka
    assert kafka is not None and len(kafka.members) == 3
    scenario = await Scenario.open(fault, "leader-kill", FAULT_BATCH)
    notes = scenario.outcome.notes
    victim = 0

    async def kill_leader() -> None:
        nonlocal victim
        leaders = await kafka.partition_leaders(CREDENTIALS.name)
        victim = Counter(leaders.values()).most_common(1)[0][0]
        notes["killed_broker"] = victim
        notes["partitions_it_led"] = sorted(p for p, n in leaders.items() if n == victim)
        kafka.kill_node(victim)

    await scenario.run(kill_leader, at=0.25)
    # The stream itself never broke: every item got an answer (issued, or a retriable failure such as
    # UNAVAILABLE) through the failover. A stalled chunk used to end it with "INTERNAL: Internal error from Core".
    assert not scenario.client.stream_errors, scenario.client.stream_errors
    after = await kafka.partition_leaders(CREDENTIALS.name)
    notes["leaders_after_failover"] = after
    assert victim not in after.values() and -1 not in after.values(), after
    started = time.monotonic()
    await kafka.restart_node(victim)
    notes["broker_restart_seconds"] = round(time.monotonic() - started, 1)
    await scenario.check()
