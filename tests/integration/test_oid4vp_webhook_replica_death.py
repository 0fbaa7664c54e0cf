"""A gateway replica dies in the middle of a webhook delivery and another one delivers it (at least once): two
gateway *processes* (``python -m services.verifier.main``, settings from the environment) over the session's
Kafka and Redis, a receiver HTTP server in this test (port 0) that holds the first POST without answering, and
the spec-written test wallet. The replica the wallet answered claims the delivery (a lease in Redis) and POSTs;
while the receiver holds that POST the test SIGKILLs the replica (no cleanup runs, as when a machine dies); the
other replica's sweep claims the delivery once the lease has run out and POSTs again; the receiver answers 200
and the result ends ``delivered`` with both attempts counted. With the former claim (removal from the due set)
the delivery was lost here: the result stayed ``delivering`` and the receiver saw one POST."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from microcred import pki
from microcred.infra.ports import free_port
from microcred.oid4vp.webhook import SIGNATURE_HEADER, verify_delivery
from services.verifier.adapters.webhook import lease_seconds
from tests.conftest import Infrastructure
from tests.harness.oid4vp_wallet import TestWallet
from tests.harness.waiting import eventually
from tests.verifier_support import RunningServer

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "verifier.test"
HOOKS = "{oid4vp:hooks}"  # the outbox's due set (WebhookOutbox.due_key)
TIMEOUT, ATTEMPTS, BACKOFF = 5.0, 2, 0.2  # per attempt, per claim: a lease of 5*2 + 0.2 + 10 = 20.2 s


@dataclass
class HoldingReceiver:
    """Records every POST; holds the first one unanswered until ``release`` is set, answers the others 200."""

    url: str = ""
    posts: list[tuple[float, dict[str, str], bytes]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def hook(self, request: Request) -> Response:
        self.posts.append((time.time(), dict(request.headers), await request.body()))
        if len(self.posts) == 1:
            await self.release.wait()
        return Response(status_code=200)


@pytest.fixture
async def receiver() -> AsyncIterator[HoldingReceiver]:
    found = HoldingReceiver()
    app = Starlette(routes=[Route("/hook", found.hook, methods=["POST"])])
    async with RunningServer(app) as server:
        found.url = f"{server.url}/hook"
        yield found
        found.release.set()


async def _healthy(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(f"{url}/healthz", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


async def _true(value: bool) -> bool:
    return value


def _identity(tmp: Path) -> tuple[x509.Certificate, Path, Path]:
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{HOST}", common_name="Verifier gateway",
                                   not_before=now - dt.timedelta(days=1))
    cert_file, key_file = cert.write(tmp, "verifier")
    return x509.load_pem_x509_certificate(ca.cert_pem), cert_file, key_file


async def test_a_replica_killed_mid_delivery_leaves_it_to_the_other(
        infrastructure: Infrastructure, receiver: HoldingReceiver, tmp_path: Path, redis: Redis,
        redis_service_url: str) -> None:
    anchor, cert_file, key_file = _identity(tmp_path)
    tag = uuid.uuid4().hex[:8]
    env = {**os.environ, "MICROCRED_KAFKA_BOOTSTRAP": infrastructure.kafka_bootstrap,
           "MICROCRED_REDIS_URL": redis_service_url, "MICROCRED_HTTP_HOST": "127.0.0.1",
           "MICROCRED_ENVIRONMENT": "test", "MICROCRED_REGISTRY_NAMESPACE": f"wh-proc-{tag}",
           "MICROCRED_REGISTRY_GROUP": f"wh-proc-{tag}", "MICROCRED_RATE_LIMIT_PER_SECOND": "1000000",
           "MICROCRED_RATE_LIMIT_BURST": "1000000", "MICROCRED_OID4VP_CLIENT_HOST": HOST,
           "MICROCRED_OID4VP_SIGNING_CERT_FILE": str(cert_file), "MICROCRED_OID4VP_SIGNING_KEY_FILE": str(key_file),
           "MICROCRED_OID4VP_WEBHOOK_HOSTS": '["127.0.0.1"]',
           "MICROCRED_OID4VP_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
           "MICROCRED_OID4VP_WEBHOOK_ATTEMPTS": str(ATTEMPTS), "MICROCRED_OID4VP_WEBHOOK_BACKOFF_SECONDS": str(BACKOFF),
           "MICROCRED_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    processes, urls, logs = [], [], [tmp_path / f"gateway-{i}.log" for i in range(2)]
    try:
        for i in range(2):
            port = free_port()
            with logs[i].open("ab") as log:
                processes.append(await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "services.verifier.main", env={**env, "MICROCRED_HTTP_PORT": str(port)},
                    cwd=REPO_ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(timeout=30) as http:
            for i, url in enumerate(urls):
                await eventually(lambda url=url: _healthy(http, url), 120,
                                 f"gateway {i} never healthy; see {logs[i]}", interval=0.2)
            wallet = TestWallet(http, anchor)
            response = await http.post(f"{urls[0]}/v1/presentation-requests",
                                       json={"template": "micro-credential", "response_mode": "direct_post",
                                             "webhook": receiver.url})
            assert response.status_code == 201, response.text
            created: dict[str, Any] = response.json()
            refused = await wallet.refuse(await wallet.fetch(created["link"]))  # answered at the first replica
            assert refused.status_code == 200, refused.text

            await eventually(lambda: _true(bool(receiver.posts)), 60, "the first replica never POSTed")
            os.killpg(processes[0].pid, signal.SIGKILL)  # mid-delivery: the receiver has not answered
            assert await asyncio.wait_for(processes[0].wait(), 30) == -signal.SIGKILL
            killed_at = time.time()
            held = await http.get(f"{urls[1]}/v1/presentation-results/{created['result_id']}")
            assert held.json()["webhook"] == {
                "status": "delivering", "attempts": 1, "http_status": None, "error": None}
            assert await redis.zscore(HOOKS, created["result_id"]) is not None  # still there, leased

            async def probe() -> dict[str, Any]:
                found: dict[str, Any] = (await http.get(
                    f"{urls[1]}/v1/presentation-results/{created['result_id']}")).json()
                return found

            lease = lease_seconds(ATTEMPTS, TIMEOUT, BACKOFF)
            result = await eventually(probe, lease + 90, lambda r: f"not delivered again: {r.get('webhook')}",
                                      until=lambda r: r["webhook"]["status"] in ("delivered", "failed"),
                                      interval=0.5)
    finally:
        receiver.release.set()
        for process in processes:
            if process.returncode is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            await asyncio.wait_for(process.wait(), 30)
    webhook = result.pop("webhook")
    assert webhook["status"] == "delivered" and webhook["http_status"] == 200
    assert webhook["attempts"] == 2  # the one the dead replica was making counts
    assert result["status"] == "refused" and result["request_id"] == created["request_id"]
    assert len(receiver.posts) == 2  # at least once: the held POST, then the other replica's
    second_at = receiver.posts[1][0]
    assert second_at >= killed_at  # sent after the first replica died, by the second: its log says so
    assert "webhook delivered" in logs[1].read_text() and "webhook delivered" not in logs[0].read_text()
    for _, headers, body in receiver.posts:  # both signed, both the API's result
        assert verify_delivery(body, headers[SIGNATURE_HEADER.lower()], trust_anchors=[anchor], host=HOST,
                               url=receiver.url, now=int(time.time())) == result
    assert await redis.zscore(HOOKS, created["result_id"]) is None  # removed: nobody sends it again
