"""HTTP request metrics label by route template (never the concrete path) and are exposed on /metrics."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from microcred.metrics import add_metrics_route


def test_requests_are_counted_by_route_template() -> None:
    app = FastAPI()
    add_metrics_route(app, "unit")

    @app.get("/shares/{token}")
    async def share(token: str) -> dict[str, str]:
        return {"ok": token[:1]}

    client = TestClient(app)
    assert client.get("/shares/secret-token-value").status_code == 200
    assert client.get("/nowhere").status_code == 404
    body = client.get("/metrics").text
    assert 'microcred_requests_total{code="200",method="GET /shares/{token}",service="unit"}' in body
    assert "secret-token-value" not in body
    assert 'method="GET unmatched",service="unit"' in body
