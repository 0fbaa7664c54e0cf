"""The server spans of the wallet and the verifier gateway carry the route, never a secret of the request line.

A share link's token, a presentation result id and its ``response_code``, and the authorization code and state
an issuer sends the learner's browser back to the wallet with, all travel in a URL. OpenTelemetry's ASGI
instrumentation copies the request line into ``http.target`` and ``http.url`` (``url.path``, ``url.query``
with the newer conventions); the services' hook (:func:`microcred.telemetry.http_server_request_hook`) puts the
route template there instead, and blanks the client's address and port (personal data). Both apps are built
as they run (``create_app``), without their lifespans: a request that fails for want of Redis is still traced.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from microcred.telemetry import configure_telemetry

TOKEN = "Tq" + "k" * 41  # a share link's token: 43 URL-safe base64 characters
CLIENT = ("203.0.113.77", 50417)  # the caller's address: personal data, not for the trace store either
SECRETS = {"token": TOKEN, "code": "authz-code-7f3a9c", "state": "state-91be02", "rc": "response-code-5d1e",
           "rid": "res_c0ffee4242", "client address": CLIENT[0], "client port": str(CLIENT[1])}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_telemetry("tests", exporter=exporter)
    yield exporter
    exporter.shutdown()


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=CLIENT),
                             base_url="http://service.test")


def _text(span: ReadableSpan) -> str:
    """Everything a span exports that a request can put a value into."""
    return json.dumps({"name": span.name, "attributes": {k: str(v) for k, v in (span.attributes or {}).items()},
                       "status": span.status.description,
                       "events": [[e.name, {k: str(v) for k, v in (e.attributes or {}).items()}]
                                  for e in span.events]})


def _servers(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


def _assert_no_secret(exporter: InMemorySpanExporter) -> None:
    finished = exporter.get_finished_spans()
    assert finished
    for span in finished:
        text = _text(span)
        assert not [name for name, value in SECRETS.items() if value in text], text


async def test_verifier_spans_name_routes_not_share_tokens_or_response_codes(spans: InMemorySpanExporter) -> None:
    from services.verifier.app import create_app
    from services.verifier.config import Settings

    app = create_app(Settings(kafka_bootstrap="127.0.0.1:9", redis_url="redis://127.0.0.1:9/0",
                              rate_limit_shared=False))
    spans.clear()
    async with _client(app) as http:
        await http.get(f"/share/{TOKEN}")
        await http.get(f"/v1/shares/{TOKEN}/report")
        await http.get(f"/v1/presentation-results/{SECRETS['rid']}?response_code={SECRETS['rc']}")
        await http.get(f"/no-such-page/{TOKEN}?code={SECRETS['code']}")
    routes = {(s.attributes or {}).get("http.route") for s in _servers(spans)}
    assert {"/share/{token}", "/v1/shares/{token}/report", "/v1/presentation-results/{result_id}"} <= routes
    by_route = {(s.attributes or {}).get("http.route"): s for s in _servers(spans)}
    assert (by_route["/share/{token}"].attributes or {})["http.target"] == "/share/{token}"
    _assert_no_secret(spans)


async def test_wallet_spans_name_routes_not_authorization_codes_or_share_tokens(
        spans: InMemorySpanExporter, tmp_path: Path) -> None:
    from services.wallet.app import create_app
    from services.wallet.config import Settings

    app = create_app(Settings(kafka_bootstrap="k:9092", redis_url="redis://r:6379/0", environment="test",
                              oidc_issuer="https://idp.example", oidc_audience="wallet",
                              oidc_jwks_url="https://idp.example/jwks", data_dir=tmp_path,
                              kek=base64.b64encode(os.urandom(32)).decode()))
    spans.clear()
    async with _client(app) as http:
        # the issuer's authorization server sends the learner's browser back to the wallet's page (redirect_uri)
        await http.get(f"/?code={SECRETS['code']}&state={SECRETS['state']}&iss=https%3A%2F%2Fissuer.example")
        await http.get(f"/v1/shares/{TOKEN}")
    assert {(s.attributes or {}).get("http.route") for s in _servers(spans)} >= {"/", "/v1/shares/{token}"}
    _assert_no_secret(spans)
