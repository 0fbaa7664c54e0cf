"""HTTP request metrics label by route template (never the concrete path) and are exposed on /metrics, to allowed
clients only; in multiprocess mode /metrics sums what every worker process wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from microcred.metrics import (
    MULTIPROC_ENV,
    ROUTE_LABEL,
    Receive,
    RequestMetrics,
    Scope,
    Send,
    add_metrics_route,
    exposition,
    shared_across_workers,
)


def _count(service: str, method: str, code: str) -> float:
    value = REGISTRY.get_sample_value("microcred_requests_total", {"service": service, "method": method, "code": code})
    return value or 0.0


def _client(app: object, client: tuple[str, int] = ("127.0.0.1", 4000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://svc.test")


def _app(service: str) -> FastAPI:
    app = FastAPI()

    @app.get("/shares/{token}")
    async def share(token: str) -> dict[str, str]:
        return {"ok": token[:1]}

    @app.get("/broken/{token}")
    async def broken(token: str) -> None:
        raise RuntimeError("boom")

    add_metrics_route(app, service)
    return app


async def test_requests_are_counted_by_route_template() -> None:
    async with _client(_app("unit")) as http:
        assert (await http.get("/shares/secret-token-value")).status_code == 200
        assert (await http.get("/nowhere/secret-token-value")).status_code == 404
        assert (await http.request("BREW", "/shares/secret-token-value")).status_code == 405
        assert (await http.get("/broken/secret-token-value")).status_code == 500
        body = (await http.get("/metrics")).text
    assert 'microcred_requests_total{code="200",method="GET /shares/{token}",service="unit"} 1.0' in body
    assert 'microcred_requests_total{code="404",method="GET unmatched",service="unit"} 1.0' in body
    assert 'microcred_requests_total{code="405",method="OTHER /shares/{token}",service="unit"} 1.0' in body
    # the handler's exception: counted as 500 (and re-raised, to the server error handler that answered it)
    assert 'microcred_requests_total{code="500",method="GET /broken/{token}",service="unit"} 1.0' in body
    assert 'microcred_request_seconds_count{method="GET /shares/{token}",service="unit"} 1.0' in body
    assert "secret-token-value" not in body


async def test_an_exception_is_counted_as_500_and_reraised() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        scope[ROUTE_LABEL] = "/v1/fast"  # what an entry point that bypasses the router names
        raise ValueError("boom")

    before = _count("unit-raise", "POST /v1/fast", "500")
    with pytest.raises(ValueError, match="boom"):
        await RequestMetrics(failing, "unit-raise")({"type": "http", "method": "POST", "headers": []},
                                                    _never, _nowhere)
    assert _count("unit-raise", "POST /v1/fast", "500") == before + 1


async def _never() -> dict[str, object]:
    raise AssertionError("the body is never read")


async def _nowhere(message: object) -> None:
    raise AssertionError("nothing is sent")


@pytest.mark.parametrize(("client", "headers", "status"), [
    (("127.0.0.1", 4000), {}, 200),
    (("10.42.7.9", 4000), {}, 200),  # a scraper's pod
    (("::ffff:192.168.1.5", 4000), {}, 200),
    (("203.0.113.9", 4000), {}, 404),  # the internet
    (("10.42.0.3", 4000), {"x-forwarded-for": "203.0.113.9"}, 404),  # the internet, through the ingress
    (("10.42.0.3", 4000), {"forwarded": "for=203.0.113.9"}, 404),
])
async def test_metrics_answer_direct_local_clients_only(client: tuple[str, int], headers: dict[str, str],
                                                        status: int) -> None:
    async with _client(_app("unit-clients"), client) as http:
        answer = await http.get("/metrics", headers=headers)
    assert answer.status_code == status
    assert ("microcred_requests_total" in answer.text) == (status == 200)


_WORKER = """
from microcred.metrics import CONSUMER_LAG, REQUESTS
for _ in range({n}):
    REQUESTS.labels("unit-mp", "POST /v1/verify", "200").inc()
CONSUMER_LAG.labels("g", "t", "0").set({n})
"""


def _worker(n: int) -> None:
    """A process that counts ``n`` requests in multiprocess mode (the environment set), like a gateway worker."""
    subprocess.run([sys.executable, "-c", _WORKER.format(n=n)], env=dict(os.environ), check=True,
                   cwd=Path(__file__).resolve().parents[2], timeout=60)


def test_metrics_sum_over_worker_processes() -> None:
    with shared_across_workers() as path:
        assert os.environ[MULTIPROC_ENV] == path and not os.listdir(path)  # fresh
        assert oct(os.stat(path).st_mode & 0o777) == "0o700"  # private
        _worker(3)
        _worker(4)
        body = exposition().decode()  # what /metrics answers in any worker
    assert 'microcred_requests_total{code="200",method="POST /v1/verify",service="unit-mp"} 7.0' in body
    assert 'microcred_consumer_lag{group="g",partition="0",topic="t"} 4.0' in body  # livemax: the laggiest
    assert MULTIPROC_ENV not in os.environ and not os.path.exists(path)  # gone with the supervisor
