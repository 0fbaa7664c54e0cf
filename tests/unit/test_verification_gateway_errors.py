"""Public errors carry a generic message; what went wrong inside (httpx's text, addresses) goes to the log only."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.unit.test_verification_gateway import Limits, client
from tests.verifier_support import World

TOKEN = "A" * 43


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_wallet_unreachable_is_a_generic_503_and_the_detail_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    port = closed_port()
    app = create_gateway_app(Limits())
    async with httpx.AsyncClient(timeout=2) as wallet_http:
        app.state.gateway = Gateway(World().ports(), WalletClient(f"http://127.0.0.1:{port}", wallet_http))
        with caplog.at_level(logging.WARNING):
            async with client(app) as http:
                report = await http.get(f"/v1/shares/{TOKEN}/report")
                page = await http.get(f"/share/{TOKEN}")
    assert report.status_code == 503 and report.headers["content-type"] == "application/problem+json"
    body = report.json()
    assert body["type"].endswith("/wallet-unavailable")
    assert body["detail"] == "the wallet could not be reached; retry in a moment"
    for leak in (str(port), "127.0.0.1", "onnect", "rrno", "ttpx"):
        assert leak not in report.text and leak not in page.text
    assert page.status_code == 503
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "wallet unavailable" in logged and str(port) in logged  # the operator still sees what happened
