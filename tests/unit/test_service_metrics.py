"""The wallet and the verifier gateway count every request on /metrics by route template, never by the concrete
path: the gateway's fast path (``POST /v1/verify``, answered before FastAPI's router) included.

Both apps are built as they run (``create_app``), without their lifespans, as in test_http_span_secrets.py.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from tests.verifier_support import World

TOKEN = "Tq" + "k" * 41  # a share link's token: a secret in the path


def _count(service: str, method: str, code: str) -> float:
    value = REGISTRY.get_sample_value("microcred_requests_total", {"service": service, "method": method, "code": code})
    return value or 0.0


def _client(app: FastAPI, client: tuple[str, int] = ("10.42.1.7", 40000)) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client),
                             base_url="http://service.test")


async def test_gateway_counts_fast_path_and_routed_requests_by_template() -> None:
    from services.verifier.api.edge import GatewayApp
    from services.verifier.app import create_app
    from services.verifier.application import Gateway
    from services.verifier.config import Settings

    world = World()
    world.publish(datetime.now(UTC))
    app = create_app(Settings(kafka_bootstrap="127.0.0.1:9", redis_url="redis://127.0.0.1:9/0",
                              rate_limit_shared=False))
    app.state.gateway = Gateway(world.ports())
    assert isinstance(app, GatewayApp) and app.fast_verify is not None
    fast = _count("verifier", "POST /v1/verify", "200")
    routed = _count("verifier", "GET /v1/shares/{token}/report", "503")  # no wallet configured
    async with _client(app) as http:
        verified = await http.post("/v1/verify", content=json.dumps(world.credential()).encode(),
                                   headers={"content-type": "application/json"})
        assert verified.status_code == 200 and app.fast_verify.answered == 1  # answered by the fast path
        assert (await http.get(f"/v1/shares/{TOKEN}/report")).status_code == 503
        body = (await http.get("/metrics")).text
        outside = await http.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})  # through the ingress
    assert _count("verifier", "POST /v1/verify", "200") == fast + 1
    assert _count("verifier", "GET /v1/shares/{token}/report", "503") == routed + 1
    assert 'code="200",method="POST /v1/verify",service="verifier"' in body
    assert 'method="GET /v1/shares/{token}/report",service="verifier"' in body
    assert TOKEN not in body
    assert outside.status_code == 404 and "microcred_requests_total" not in outside.text


async def test_gateway_refusals_of_the_fast_path_count_under_its_route() -> None:
    from services.verifier.app import create_app
    from services.verifier.config import Settings

    app = create_app(Settings(kafka_bootstrap="127.0.0.1:9", redis_url="redis://127.0.0.1:9/0",
                              rate_limit_shared=False, rate_limit_burst=1, rate_limit_per_second=0.001))
    before = _count("verifier", "POST /v1/verify", "429")
    async with _client(app, ("10.42.9.9", 40000)) as http:
        await http.post("/v1/verify", json={})
        assert (await http.post("/v1/verify", json={})).status_code == 429
        assert (await http.get("/metrics")).status_code == 200  # never shed
    assert _count("verifier", "POST /v1/verify", "429") == before + 1


async def test_wallet_counts_requests_by_template(tmp_path: Path) -> None:
    from services.wallet.app import create_app
    from services.wallet.config import Settings

    app = create_app(Settings(kafka_bootstrap="k:9092", redis_url="redis://r:6379/0", environment="test",
                              oidc_issuer="https://idp.example", oidc_audience="wallet",
                              oidc_jwks_url="https://idp.example/jwks", data_dir=tmp_path,
                              kek=base64.b64encode(os.urandom(32)).decode()))
    before = _count("wallet", "GET /v1/shares/{token}", "500")
    async with _client(app) as http:
        assert (await http.get(f"/v1/shares/{TOKEN}")).status_code == 500  # no lifespan: the handler raises
        body = (await http.get("/metrics")).text
        outside = await http.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})
    assert _count("wallet", "GET /v1/shares/{token}", "500") == before + 1
    assert 'method="GET /v1/shares/{token}",service="wallet"' in body
    assert TOKEN not in body
    assert outside.status_code == 404
