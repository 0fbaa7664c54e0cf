"""The public verifier gateway is SIGKILLed while it serves verifications, during a batch.

While it is down a credential is revoked; after the restart another one is. The restarted gateway rebuilds its
trust registry (Redis, positions stored with the state) and its status-list cache (memory, replayed from
``microcred.status.v1``), so both read revoked, an untouched credential still reads valid, and it never answered
with a 5xx. The batch keeps the usual guarantee (nothing lost, nothing duplicated, everything verifies).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.fault.support import FAULT_SERVICE_BATCH, SCALE, FaultPlatform, Scenario, revoke, wallet_status
from tests.harness.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600 * SCALE)]


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["id"] == check_id)
    return found


async def verify(fault: FaultPlatform, document: dict[str, Any]) -> dict[str, Any]:
    response = await fault.http.post(f"{fault.verifier_url}/v1/verify", json=document)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def until_report(fault: FaultPlatform, document: dict[str, Any], want: str, timeout: float) -> float:
    """Seconds until the gateway's revocation check reads ``want`` for ``document``."""
    started = time.monotonic()
    await eventually(lambda: verify(fault, document), timeout,
                     lambda report: f"revocation still {check(report, 'revocation')} after {timeout}s",
                     until=lambda report: check(report, "revocation")["reason_code"] == want, interval=0.1)
    return time.monotonic() - started


async def test_verifier_killed_while_serving(fault: FaultPlatform) -> None:
    scenario = await Scenario.open(fault, "kill-verifier", FAULT_SERVICE_BATCH)
    notes = scenario.outcome.notes
    statuses: Counter[int] = Counter()
    verdicts: Counter[str] = Counter()
    transport_errors: Counter[str] = Counter()
    stop = asyncio.Event()
    rng = random.Random(7)

    async def keep_verifying() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while not stop.is_set():
                answered = list(scenario.client.answered.values())
                if not answered:
                    await asyncio.sleep(0.05)
                    continue
                document = json.loads(rng.choice(answered).credential_json)
                try:
                    response = await http.post(f"{fault.verifier_url}/v1/verify", json=document)
                except httpx.TransportError as exc:  # the gateway is down: connection refused
                    transport_errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)
                    continue
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    verdicts[response.json()["verdict"]] += 1

    revoked: list[str] = []

    async def kill_while_serving() -> None:
        await asyncio.sleep(1.0)  # let verifications run against the live gateway
        assert statuses[200] > 0, (statuses, transport_errors)
        fault.platform.kill_service("verifier")
        notes["verifications_before_kill"] = sum(statuses.values())
        key = next(iter(scenario.client.answered))
        await revoke(fault, scenario, scenario.client.answered[key].credential_id,
                     "fault test: while the gateway was down")
        revoked.append(key)
        await asyncio.sleep(1.0)
        notes["restart_seconds"] = round(await fault.restart("verifier"), 1)

    loop = asyncio.create_task(keep_verifying())
    try:
        await scenario.run(kill_while_serving, at=0.2)
    finally:
        stop.set()
        await loop

    # Revoked while the gateway was down: it must have learned it on restart.
    down_doc = json.loads(scenario.client.answered[revoked[0]].credential_json)
    notes["revoked_while_down_visible_after_s"] = round(await until_report(fault, down_doc, "REVOKED", 15), 3)
    # Revoked after the restart: visible within a second or so, from the push-fed cache.
    key = scenario.keys[-1]
    after = scenario.client.answered[key]
    await revoke(fault, scenario, after.credential_id, "fault test: after the restart")
    notes["revoked_after_restart_visible_after_s"] = round(
        await until_report(fault, json.loads(after.credential_json), "REVOKED", 15), 3)
    untouched = json.loads(scenario.client.answered[scenario.keys[len(scenario.keys) // 2]].credential_json)
    report = await verify(fault, untouched)
    assert report["verdict"] == "valid", report
    notes.update(http_statuses=dict(statuses), verdicts=dict(verdicts), transport_errors=dict(transport_errors))
    assert not [s for s in statuses if s >= 500], statuses
    # The wallet learned both revocations too.
    for cid in (scenario.client.answered[revoked[0]].credential_id, after.credential_id):
        await wallet_status(fault.redis, cid, "revoked", "1")
    await scenario.check()
