"""Each service is SIGKILLed in the middle of a batch and restarted: nothing answered is lost or duplicated.

* issuer: the stream breaks; items without an answer are re-sent with their keys after the restart. A credential
  published before the kill but never answered is found by its deterministic id (pending/issued record, or the
  store projection rebuilt from Kafka) and answered with the very same document.
* wallet: its intake stores state and Kafka position in one ``MULTI``; after the restart it resumes at the stored
  position, so records applied just before the kill are not applied twice and none is skipped.
* revocation: killed right after it published a ``StatusIndexesReserved`` for the batch's issuer (while the
  issuer waits for the reservation's answer). The issuer answers UNAVAILABLE for items it has no indexes for;
  they are re-sent. Indexes reserved but never answered are wasted, never handed out twice.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from microcred.events.envelope import EventEnvelope
from microcred.kafka.topics import STATUS
from tests.fault.support import FAULT_SERVICE_BATCH, SCALE, FaultPlatform, Scenario, credential_records
from tests.harness.kafka import end_offsets

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600 * SCALE)]


async def wait_for_reservation(fault: FaultPlatform, issuer_id: str, timeout: float = 15.0) -> bool:
    """Return as soon as a ``StatusIndexesReserved`` for ``issuer_id`` appears on the status topic."""
    start = await end_offsets(fault.bootstrap, STATUS.name)
    consumer = AIOKafkaConsumer(bootstrap_servers=fault.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(STATUS.name, p) for p in start])
        for p, offset in start.items():
            consumer.seek(TopicPartition(STATUS.name, p), offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=50)).values():
                for record in records:
                    headers = dict(record.headers)
                    if headers.get("event_type") != b"StatusIndexesReserved" or record.value is None:
                        continue
                    if EventEnvelope.FromString(record.value).issuer_id == issuer_id:
                        return True
        return False
    finally:
        await consumer.stop()


@pytest.mark.parametrize("service", ["issuer", "wallet", "revocation"])
async def test_service_killed_mid_batch(fault: FaultPlatform, service: str) -> None:
    scenario = await Scenario.open(fault, f"kill-{service}", FAULT_SERVICE_BATCH)
    notes = scenario.outcome.notes

    async def kill_and_restart() -> None:
        if service == "revocation":
            notes["killed_during_reservation"] = await wait_for_reservation(fault, scenario.issuer)
        fault.platform.kill_service(service)
        notes["answered_at_kill"] = len(scenario.client.answered)
        if service == "issuer":  # published before the kill but never answered: the interesting ones
            on_kafka = await credential_records(fault.bootstrap, scenario.issuer, scenario.start)
            notes["published_but_unanswered_at_kill"] = len(on_kafka.records) - len(scenario.client.answered)
        await asyncio.sleep(2.0)  # down for a moment: the others notice
        notes["restart_seconds"] = round(await fault.restart(service), 1)

    await scenario.run(kill_and_restart, at=0.3)
    await scenario.check()
