"""``POST /v1/verify`` on the fast path answers exactly what the FastAPI route answers, and sees revocations.

Every request is sent to two gateways over the same in-memory world: one with the fast path, one without
(``create_gateway_app(..., fast_path=False)``: the FastAPI route only). Their answers must be equal except
for the clock-dependent fields. Requests the fast path passes on (CORS, odd content types, invalid bodies,
unknown query parameters) must get the route's own answers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from microcred.telemetry import configure_telemetry
from services.verifier.api.edge import GatewayApp
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.unit.test_verification_gateway import Limits
from tests.unit.test_verification_presentation import presentation
from tests.verifier_support import World

_CLOCK_FIELDS = {"verified_at", "checked_at", "age_seconds", "obtained_at"}


def _timeless(value: Any) -> Any:
    """``value`` without the fields that depend on when it was computed."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in _CLOCK_FIELDS and k != "message"}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))
    return world


def _app(world: World, *, fast_path: bool, limits: Limits | None = None) -> GatewayApp:
    app = create_gateway_app(limits or Limits(), fast_path=fast_path)
    app.state.gateway = Gateway(world.ports())
    return app


Pair = tuple[httpx.AsyncClient, httpx.AsyncClient, GatewayApp]


@pytest.fixture
async def pair(world: World) -> AsyncIterator[Pair]:
    fast, full = _app(world, fast_path=True), _app(world, fast_path=False)
    async with (httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url="http://gw.test") as a,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=full), base_url="http://gw.test") as b):
        yield a, b, fast


async def _both(pair: Pair, url: str, content: bytes, headers: dict[str, str]
                ) -> tuple[httpx.Response, httpx.Response, int]:
    """Both answers, and how many requests the fast path answered itself (0 or 1)."""
    fast, full, app = pair
    assert app.fast_verify is not None
    before = app.fast_verify.answered
    return (await fast.post(url, content=content, headers=headers),
            await full.post(url, content=content, headers=headers), app.fast_verify.answered - before)


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(("url", "body", "headers"), [
    ("/v1/verify", "credential", JSON),
    ("/v1/verify?lang=pl", "credential", JSON),
    ("/v1/verify", "credential", {**JSON, "accept-language": "pl-PL,pl;q=0.9"}),
    ("/v1/verify", "wrapped", {"content-type": "application/ld+json; charset=utf-8"}),
    ("/v1/verify?challenge=c-123&domain=employer.example", "presentation", JSON),
    ("/v1/verify?challenge=other", "presentation", JSON),
    ("/v1/verify", "tampered", JSON),
    ("/v1/verify", "revoked", JSON),
])
async def test_fast_path_answers_what_the_route_answers(world: World, pair: Pair, url: str, body: str,
                                                        headers: dict[str, str]) -> None:
    documents: dict[str, Any] = {
        "credential": world.credential(),
        "wrapped": {"credential": world.credential(), "challenge": "c"},
        "presentation": presentation([world.credential()]),
        "tampered": {**world.credential(), "name": "Something else"},
        "revoked": world.credential(index=17),
    }
    world.revocation.set(17, True)
    world.publish(datetime.now(UTC))
    fast, full, answered = await _both(pair, url, json.dumps(documents[body]).encode(), headers)
    assert answered == 1
    assert (fast.status_code, fast.headers["content-type"]) == (full.status_code, full.headers["content-type"]) == (
        200, "application/json")
    assert fast.headers.get("vary") == full.headers.get("vary")
    assert _timeless(fast.json()) == _timeless(full.json())
    assert [c["message"] for c in fast.json()["checks"] if c["id"] != "revocation" and c["id"] != "suspension"] == [
        c["message"] for c in full.json()["checks"] if c["id"] != "revocation" and c["id"] != "suspension"]


@pytest.mark.parametrize(("content", "headers", "url"), [
    (b"{nope", JSON, "/v1/verify"),
    (b"[1, 2]", JSON, "/v1/verify"),
    (b'{"foo": 1}', JSON, "/v1/verify"),
    (b'{"credential": 5}', JSON, "/v1/verify"),
    (b'{"@context": []}', {"content-type": "text/plain"}, "/v1/verify"),
    (b'{"@context": []}', {}, "/v1/verify"),
    (b'{"@context": []}', JSON, "/v1/verify?challenge=" + b"x".decode() * 600),
    (b'{"@context": []}', JSON, "/v1/verify?lang=en&lang=pl"),
    (b'{"@context": []}', JSON, "/v1/verify?foo=1"),
    (b'{"@context": []}', {**JSON, "accept-language": "x" * 600}, "/v1/verify"),
])
async def test_what_the_fast_path_passes_on_gets_the_routes_answer(pair: Pair, content: bytes,
                                                                   headers: dict[str, str], url: str) -> None:
    fast, full, answered = await _both(pair, url, content, headers)
    assert answered == 0 and fast.status_code == full.status_code
    assert fast.headers["content-type"] == full.headers["content-type"]
    assert _timeless(fast.json()) == _timeless(full.json())


async def test_cross_origin_requests_get_their_cors_headers(world: World, pair: Pair) -> None:
    fast, full, answered = await _both(pair, "/v1/verify", json.dumps(world.credential()).encode(),
                                       {**JSON, "origin": "https://employer.example"})
    assert answered == 0 and fast.status_code == full.status_code == 200
    assert fast.headers["access-control-allow-origin"] == full.headers["access-control-allow-origin"] == "*"


async def test_body_limit_on_the_fast_path(world: World) -> None:
    app = _app(world, fast_path=True, limits=Limits(max_body_bytes=2048))
    big = json.dumps({"@context": ["x" * 5000]}).encode()

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit applies while it streams in
        for start in range(0, len(big), 1000):
            yield big[start:start + 1000]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
        declared = await http.post("/v1/verify", content=big, headers=JSON)
        streamed = await http.post("/v1/verify", content=chunks(), headers=JSON)
    for response in (declared, streamed):
        assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/body-too-large")


async def test_a_repeated_body_is_parsed_once_but_its_status_is_read_fresh() -> None:
    world = World()
    world.publish(datetime.now(UTC))
    app = _app(world, fast_path=True)
    body = json.dumps(world.credential(index=99)).encode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
        first = (await http.post("/v1/verify", content=body, headers=JSON)).json()
        assert app.fast_verify is not None and len(app.fast_verify._memo) == 1
        world.revocation.set(99, True)
        world.publish(datetime.now(UTC))  # the revocation service published a new list version
        second = (await http.post("/v1/verify", content=body, headers=JSON)).json()
    assert first["verdict"] == "valid"
    assert second["verdict"] == "invalid"
    revocation = next(c for c in second["checks"] if c["id"] == "revocation")
    assert (revocation["status"], revocation["reason_code"]) == ("invalid", "REVOKED")
    assert world.status.calls.count(world.revocation_url) >= 2  # the list was asked for on both requests


async def test_one_server_span_per_verification_continuing_the_callers_trace(world: World) -> None:
    exporter = InMemorySpanExporter()
    configure_telemetry("verifier-test", exporter)
    app = _app(world, fast_path=True)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
        exporter.clear()
        response = await http.post("/v1/verify", content=json.dumps(world.credential()).encode(),
                                   headers={**JSON, "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert response.status_code == 200
    spans = [s for s in exporter.get_finished_spans() if s.name == "POST /v1/verify"]
    assert len(spans) == 1, [s.name for s in exporter.get_finished_spans()]
    span = spans[0]
    assert span.kind is SpanKind.SERVER and span.context is not None
    assert format(span.context.trace_id, "032x") == trace_id
    assert dict(span.attributes or {}) == {"http.request.method": "POST", "http.route": "/v1/verify",
                                           "url.path": "/v1/verify", "url.scheme": "http",
                                           "http.response.status_code": 200}
