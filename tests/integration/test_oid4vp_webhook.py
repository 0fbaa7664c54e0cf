"""Signed result webhooks of the OpenID4VP gateway, over real sockets with real Redis (and the Kafka it consumes):
the gateway's x509_san_dns identity signs, a receiver HTTP server in this test (port 0) records what it gets and
answers as scripted, and the test wallet written from the spec (tests/harness/oid4vp_wallet.py) answers.

What is proved: one POST per result whose detached JWS verifies with the gateway's certificate chain (to the
platform CA, its SAN naming the gateway's host) and whose body is the API's result; a 500 is retried and the
next 200 ends it; a 400 is not retried; an unanswered request is delivered once as ``expired`` by two replicas
sweeping the same Redis; a webhook host outside the allow-list is refused when the request is created.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from microcred import pki
from microcred.oid4vp.webhook import SIGNATURE_HEADER, verify_delivery
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.type_metadata import VCT
from services.verifier.app import create_app
from services.verifier.config import Settings
from tests.conftest import Infrastructure
from tests.harness.oid4vp_wallet import TestWallet, sd_jwt_presentation
from tests.harness.sd_jwt import SdWorld, make_world
from tests.harness.waiting import eventually
from tests.verifier_support import RunningServer

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]

HOST = "verifier.test"
HOOKS = "{oid4vp:hooks}"  # the outbox's due set (WebhookOutbox.due_key)
QUERY = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                          "claims": [{"path": ["achievement_title"]}, {"path": ["family_name"]}]}]}


@dataclass
class Receiver:
    """An employer's webhook endpoint: records every POST, answers the scripted statuses (then 200)."""

    url: str = ""
    received: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)
    script: dict[str, list[int]] = field(default_factory=dict)
    hold: dict[str, asyncio.Event] = field(default_factory=dict)

    async def hook(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.received.setdefault(name, []).append((dict(request.headers), await request.body()))
        if name in self.hold:  # answer only once the test lets go
            await self.hold[name].wait()
        statuses = self.script.get(name) or [200]
        return Response(b"x" * 100_000, status_code=statuses.pop(0) if len(statuses) > 1 else statuses[0])

    def hook_url(self, name: str) -> str:
        return f"{self.url}/hooks/{name}?employer=7"

    def posts(self, name: str) -> list[tuple[dict[str, str], bytes]]:
        return self.received.get(name, [])


@dataclass
class Stack:
    url: str
    http: httpx.AsyncClient
    wallet: TestWallet
    receiver: Receiver
    sd: SdWorld
    anchor: x509.Certificate
    holder: ec.EllipticCurvePrivateKey

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post(f"{self.url}/v1/presentation-requests", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def result(self, created: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.get(created["result_url"])
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def webhook_done(self, created: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        async def probe() -> dict[str, Any]:
            return await self.result(created)

        return await eventually(probe, timeout=timeout, message=lambda r: f"webhook not done: {r.get('webhook')}",
                                until=lambda r: r.get("webhook", {}).get("status") in ("delivered", "failed"))

    def verified(self, name: str) -> list[dict[str, Any]]:
        """Each POST to ``name`` checked as a receiver would (raises on any bad one)."""
        out = []
        for headers, body in self.receiver.posts(name):
            assert headers["content-type"] == "application/json"
            out.append(verify_delivery(body, headers[SIGNATURE_HEADER.lower()], trust_anchors=[self.anchor],
                                       host=HOST, url=self.receiver.hook_url(name), now=int(time.time())))
        return out


def _settings(infrastructure: Infrastructure, tmp: Path, **extra: Any) -> Settings:
    tag = uuid.uuid4().hex[:8]
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{HOST}", common_name="Verifier gateway",
                                   not_before=now - dt.timedelta(days=1))
    cert_file, key_file = cert.write(tmp, "verifier")
    (tmp / "ca.pem").write_bytes(ca.cert_pem)
    return Settings(kafka_bootstrap=infrastructure.kafka_bootstrap, redis_url=infrastructure.redis_url, http_port=0,
                    environment="test", registry_namespace=f"vreg-{tag}", registry_group=f"vreg-{tag}",
                    rate_limit_per_second=1e6, rate_limit_burst=1_000_000, oid4vp_client_host=HOST,
                    oid4vp_signing_cert_file=cert_file, oid4vp_signing_key_file=key_file,
                    oid4vp_webhook_hosts=["127.0.0.1"], oid4vp_webhook_backoff_seconds=0.2, **extra)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = Starlette(routes=[Route("/hooks/{name}", found.hook, methods=["POST"])])
    async with RunningServer(app) as server:
        found.url = server.url
        yield found


async def _stack(settings: Settings, receiver: Receiver, tmp: Path, sd: SdWorld) -> AsyncIterator[Stack]:
    async with RunningServer(create_app(settings), proxy_headers=False) as server, \
            httpx.AsyncClient(timeout=30) as http:
        anchor = x509.load_pem_x509_certificate((tmp / "ca.pem").read_bytes())
        yield Stack(server.url, http, TestWallet(http, anchor), receiver, sd, anchor,
                    ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
async def stack(infrastructure: Infrastructure, receiver: Receiver, tmp_path: Path) -> AsyncIterator[Stack]:
    sd_anchors = tmp_path / "sd-anchors.pem"
    sd = make_world()
    sd_anchors.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in sd.anchors))
    async for made in _stack(_settings(infrastructure, tmp_path, x509_trust_anchors_file=sd_anchors), receiver,
                             tmp_path, sd):
        yield made


async def test_the_result_is_posted_once_signed_and_equal_to_the_api_result(stack: Stack, redis: Redis) -> None:
    stack.receiver.hold["a"] = asyncio.Event()
    created = await stack.create(dcql_query=QUERY, webhook=stack.receiver.hook_url("a"))
    assert (await stack.result(created))["webhook"] == {"status": "pending", "attempts": 0, "http_status": None,
                                                        "error": None}
    request = await stack.wallet.fetch(created["link"])
    vp = sd_jwt_presentation(stack.sd.issue(holder_jwk=public_jwk(stack.holder)).compact, stack.holder,
                             nonce=request.nonce, aud=request.client_id, withhold=("given_name",))
    answered = await stack.wallet.answer(request, {"mc": [vp]})
    assert answered.status_code == 200, answered.text  # while the receiver holds the POST (or before it came)
    await eventually(lambda: _now(bool(stack.receiver.posts("a"))), timeout=60)
    assert (await stack.result(created))["webhook"] == {"status": "delivering", "attempts": 1, "http_status": None,
                                                        "error": None}  # counted once sent
    stack.receiver.hold["a"].set()
    result = await stack.webhook_done(created)
    webhook = result.pop("webhook")
    assert webhook["status"] == "delivered" and webhook["attempts"] == 1 and webhook["http_status"] == 200
    assert result["status"] == "verified" and result["en"]["query"]["satisfied"] is True
    assert stack.verified("a") == [result]  # exactly one POST, signed, carrying what the API gives
    assert await redis.zscore(HOOKS, created["result_id"]) is None  # delivered and removed: nobody sends it again


async def test_a_same_device_result_tells_the_receiver_which_response_code_releases_it(stack: Stack) -> None:
    """HAIP §5.1: the outcome counts only for the session whose browser brought the response_code back, so the
    webhook says a code is required and which one (its SHA-256), and the receiver can check it."""
    created = await stack.create(dcql_query=QUERY, webhook=stack.receiver.hook_url("sd"),
                                 redirect_uri="https://jobs.example/apply/42")
    request = await stack.wallet.fetch(created["link"])
    vp = sd_jwt_presentation(stack.sd.issue(holder_jwk=public_jwk(stack.holder)).compact, stack.holder,
                             nonce=request.nonce, aud=request.client_id)
    answered = await stack.wallet.answer(request, {"mc": [vp]})
    assert answered.status_code == 200, answered.text
    code = answered.json()["redirect_uri"].split("#response_code=", 1)[1]

    async def released() -> dict[str, Any]:  # without the code, the API shows the status alone
        response = await stack.http.get(created["result_url"], params={"response_code": code})
        found: dict[str, Any] = response.json()
        return found

    await eventually(released, timeout=60, message="webhook not delivered",
                     until=lambda r: r.get("webhook", {}).get("status") == "delivered")
    [delivered] = stack.verified("sd")
    assert delivered["status"] == "verified" and delivered["en"]["query"]["satisfied"] is True
    assert delivered["response_code_required"] is True
    assert delivered["response_code_sha256"] == hashlib.sha256(code.encode()).hexdigest()


async def _now(value: bool) -> bool:
    return value


async def test_a_500_is_retried_and_a_400_is_not(stack: Stack) -> None:
    stack.receiver.script = {"flaky": [500, 200], "refusing": [400]}
    created = await stack.create(template="micro-credential", response_mode="direct_post",
                                 webhook=stack.receiver.hook_url("flaky"))
    refused = await stack.wallet.refuse(await stack.wallet.fetch(created["link"]))
    assert refused.status_code == 200, refused.text
    result = await stack.webhook_done(created)
    assert result.pop("webhook") | {"finished_at": None} == {
        "status": "delivered", "attempts": 2, "http_status": 200, "error": None, "finished_at": None}
    assert result["status"] == "refused"
    deliveries = stack.verified("flaky")  # both attempts signed (each with its own iat), same body
    assert deliveries == [result, result]

    other = await stack.create(template="micro-credential", response_mode="direct_post",
                               webhook=stack.receiver.hook_url("refusing"))
    assert (await stack.wallet.refuse(await stack.wallet.fetch(other["link"]))).status_code == 200
    webhook = (await stack.webhook_done(other))["webhook"]
    assert webhook["status"] == "failed" and webhook["attempts"] == 1 and webhook["http_status"] == 400
    assert webhook["error"] == "HTTP 400" and len(stack.receiver.posts("refusing")) == 1


async def test_a_webhook_outside_the_allow_list_is_refused_at_creation(stack: Stack, redis: Redis) -> None:
    before = await redis.zcard(HOOKS)
    for url, why in [("http://localhost:9/hook", "host localhost is not in the gateway's webhook allow-list"),
                     ("https://169.254.169.254/latest", "not in the gateway's webhook allow-list"),
                     ("http://user:pw@127.0.0.1:9/hook", "must not carry user information")]:
        response = await stack.http.post(f"{stack.url}/v1/presentation-requests",
                                         json={"template": "micro-credential", "webhook": url})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["field"] == "webhook" and problem["type"].endswith("/invalid-webhook")
        assert why in problem["detail"]
    assert await redis.zcard(HOOKS) == before  # nothing was registered


async def test_an_unanswered_request_is_delivered_expired_once_by_two_replicas(
        infrastructure: Infrastructure, receiver: Receiver, tmp_path: Path, redis: Redis) -> None:
    settings = _settings(infrastructure, tmp_path, oid4vp_request_seconds=10)
    sd = make_world()
    async for first in _stack(settings, receiver, tmp_path, sd):
        async for second in _stack(settings, receiver, tmp_path, sd):
            created = await first.create(template="micro-credential", webhook=receiver.hook_url("late"))
            result = await second.webhook_done(created, timeout=90)  # both replicas sweep the same Redis
            webhook = result.pop("webhook")
            assert webhook["status"] == "delivered" and webhook["attempts"] == 1
            assert result["status"] == "expired" and result["request_id"] == created["request_id"]
            assert first.verified("late") == [result]
            assert await redis.zscore(HOOKS, created["result_id"]) is None
