"""Two gateway *processes* (``python -m services.verifier.main``, as deployed: settings from the environment,
the shared limit on by default) on their own ports, one deployment (one registry namespace) over the session's
Kafka and Redis: a client alternating between them is admitted the per-client burst once in total, then 429
problem+json with ``Retry-After`` from both."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from microcred.infra.ports import free_port
from tests.conftest import Infrastructure
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
BURST = 4


async def _healthy(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(f"{url}/healthz", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


async def test_two_gateway_processes_admit_the_limit_once_in_total(infrastructure: Infrastructure,
                                                                  tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    env = {**os.environ, "MICROCRED_KAFKA_BOOTSTRAP": infrastructure.kafka_bootstrap,
           "MICROCRED_REDIS_URL": infrastructure.redis_url, "MICROCRED_HTTP_HOST": "127.0.0.1",
           "MICROCRED_RATE_LIMIT_PER_SECOND": "0.001", "MICROCRED_RATE_LIMIT_BURST": str(BURST),
           "MICROCRED_REGISTRY_NAMESPACE": f"rl-proc-{tag}", "MICROCRED_REGISTRY_GROUP": f"rl-proc-{tag}",
           "MICROCRED_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    env.pop("MICROCRED_RATE_LIMIT_SHARED", None)  # the default is what is tested (false fails this test)
    processes, urls = [], []
    try:
        for i in range(2):
            port = free_port()
            with (tmp_path / f"gateway-{i}.log").open("ab") as log:
                processes.append(await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "services.verifier.main", env={**env, "MICROCRED_HTTP_PORT": str(port)},
                    cwd=REPO_ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(timeout=30) as http:
            for i, url in enumerate(urls):  # /healthz is exempt from the limit: waiting takes no token
                await eventually(lambda url=url: _healthy(http, url), 120,
                                 f"gateway {i} never healthy; see {tmp_path / f'gateway-{i}.log'}", interval=0.2)
            responses = [await http.get(f"{urls[i % 2]}/") for i in range(3 * BURST)]
    finally:
        for process in processes:
            if process.returncode is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            await asyncio.wait_for(process.wait(), 30)
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * BURST + [429] * (2 * BURST), statuses
    for response in responses[BURST:]:
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["type"].endswith("rate-limited")
    assert {str(r.url).split("/")[2] for r in responses[BURST:]} == {u.split("/")[2] for u in urls}
