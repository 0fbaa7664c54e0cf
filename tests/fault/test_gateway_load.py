"""The public gateway under sustained load from a separate process: it answers in time and sheds the excess
with 429 (with ``Retry-After``), never with a 5xx.

A verifier gateway of its own (a subprocess, same code and platform as the others, its own trust-registry read
model) is started with a low per-client rate limit; ``tests.fault.load_driver`` runs in another process and
posts real credentials to ``/v1/verify`` over 127.0.0.1, bounded in time and in count. The latency target of
an answered verification is 30 ms (p99); the test records the measured figures (and the gateway's CPU per
request) in ``artifacts/fault-results.json``.

What it asserts about latency is chosen to hold on a loaded two-core CI machine and still catch a gateway
that makes admitted requests wait behind the shed ones: the median of the answered requests after the first
second must be within the 30 ms target, and 99 % must be answered within a second. It does not assert the
p99 against the target: with ~300 answered requests the p99 is the 4th-worst, and one moment in which the
operating system does not run the gateway or the driver (measured up to 0.2-0.5 s with other test suites on
the same two cores, also in the unloaded phase before the load) delays the whole burst of requests the
bucket admits right after it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from microcred.infra.ports import free_port
from tests.fault.support import REPO_ROOT, FaultPlatform, Scenario, save_result
from tests.harness.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LOAD_SECONDS = float(os.environ.get("FAULT_LOAD_SECONDS", "15"))
RATE, BURST = 20, 5  # per client address; all load comes from 127.0.0.1
OFFERED = 1000  # requests a second offered: 50 times the limit
TARGET_P99_MS, BOUND_STEADY_P50_MS, BOUND_P99_MS = 30.0, 30.0, 1000.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (the gateway is one process)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_gateway_sheds_load_with_429_and_never_5xx(fault: FaultPlatform, tmp_path: Path) -> None:
    scenario = await Scenario.open(fault, "gateway-load", 8)
    await scenario.client.complete(scenario.keys)
    documents = scenario.documents()
    body = tmp_path / "documents.json"
    body.write_text(json.dumps(documents))

    tag = uuid.uuid4().hex[:6]
    port = free_port()
    platform_verifier = next(s for s in fault.platform.services if s.spec.name == "verifier")
    env = {**platform_verifier.env, "MICROCRED_HTTP_PORT": str(port),
           "MICROCRED_RATE_LIMIT_PER_SECOND": str(RATE), "MICROCRED_RATE_LIMIT_BURST": str(BURST),
           "MICROCRED_REGISTRY_NAMESPACE": f"load-registry-{tag}", "MICROCRED_REGISTRY_GROUP": f"load-registry-{tag}",
           "MICROCRED_LOG_LEVEL": "WARNING"}
    log_path = fault.platform.data_dir / "logs" / "verifier-load.log"
    with log_path.open("ab") as log:
        gateway = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.verifier.main", env=env, cwd=REPO_ROOT, stdout=log,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        async def healthy() -> bool:
            try:
                return (await fault.http.get(f"{url}/healthz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(healthy, 90, f"load gateway never healthy; see {log_path}", interval=0.2)
        for document in documents:  # warm: keys resolved, status lists cached, results cached
            response = await fault.http.post(f"{url}/v1/verify", json=document)
            assert response.status_code == 200 and response.json()["verdict"] == "valid", response.text
            await asyncio.sleep(1.5 / RATE)  # stay under the limit
        quiet = []
        for i in range(40):  # unloaded latency, for comparison (under the limit: 10 a second)
            started = time.perf_counter()
            response = await fault.http.post(f"{url}/v1/verify", json=documents[i % len(documents)])
            quiet.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.1)
        quiet.sort()
        await asyncio.sleep(BURST / RATE)  # refill the bucket

        cpu_before = _cpu_seconds(gateway.pid)
        driver = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fault.load_driver", "--url", url, "--body", str(body),
            "--seconds", str(LOAD_SECONDS), "--concurrency", "16", "--rate", str(OFFERED), "--max-requests", "60000",
            cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(driver.communicate(), LOAD_SECONDS + 60)
        assert driver.returncode == 0, err.decode()[-2000:]
        result = json.loads(out)
        gateway_cpu = _cpu_seconds(gateway.pid) - cpu_before
        assert gateway.returncode is None, f"the gateway died under load; see {log_path}"
    finally:
        if gateway.returncode is None:
            os.killpg(gateway.pid, signal.SIGTERM)
        await asyncio.wait_for(gateway.wait(), 20)

    save_result("gateway-load", dict(
        result, rate_limit=f"{RATE}/s burst {BURST}", target_p99_ms=TARGET_P99_MS,
        unloaded_ms={"p50": round(quiet[len(quiet) // 2], 2), "max": round(quiet[-1], 2)},
        gateway_cpu_ms_per_request=round(gateway_cpu / max(1, result["requests"]) * 1000, 3),
        within_target=result["answered_ms"]["p99"] <= TARGET_P99_MS,
        steady_within_target=result["steady_ms"]["p99"] <= TARGET_P99_MS))
    print(f"gateway under load: answered p50 {result['answered_ms']['p50']} ms, p99 {result['answered_ms']['p99']} ms "
          f"(steady p99 {result['steady_ms']['p99']} ms; target {TARGET_P99_MS} ms), "
          f"{result['statuses']} at {result['rate_per_s']} requests/s")
    statuses = {int(k): v for k, v in result["statuses"].items()}
    assert not [s for s in statuses if s >= 500], result
    assert not result["transport_errors"], result
    assert statuses.get(429, 0) > 0 and result["missing_retry_after"] == 0, result
    assert statuses.get(200, 0) > 0 and set(statuses) <= {200, 429}, result
    assert statuses[200] <= RATE * (result["seconds"] + 2) + BURST, result  # the limit held
    assert result["steady_ms"]["p50"] <= BOUND_STEADY_P50_MS, result
    assert result["answered_ms"]["p99"] <= BOUND_P99_MS, result
