"""The gateway's HTTP surface in process (ASGI): verify, share links, pages, problem+json, limits, CORS."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.verifier_support import Limits, World

TOKEN = "A" * 43


def fake_wallet(shares: dict[str, tuple[int, Any]]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        token = request.url.path.rsplit("/", 1)[-1]
        status, body = shares.get(token, (404, {"title": "not found"}))
        return httpx.Response(status, json=body)
    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def make_app(world: World, limits: Limits | None = None, shares: dict[str, tuple[int, Any]] | None = None) -> FastAPI:
    app = create_gateway_app(limits or Limits())
    wallet = WalletClient("http://wallet.test", fake_wallet(shares or {}))
    app.state.gateway = Gateway(world.ports(), wallet)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))  # the gateway verifies at the current time
    return world


async def test_verify_a_credential(world: World) -> None:
    async with client(make_app(world)) as http:
        response = await http.post("/v1/verify", json=world.credential())
    assert response.status_code == 200
    report = response.json()
    assert report["verdict"] == "valid" and report["kind"] == "credential"
    assert {c["status"] for c in report["checks"]} == {"valid"}


async def test_verify_wrapper_with_challenge_in_the_body_and_polish(world: World) -> None:
    async with client(make_app(world)) as http:
        response = await http.post("/v1/verify", json={"credential": world.credential(), "challenge": "x"},
                                   headers={"accept-language": "pl-PL,pl;q=0.9"})
    assert response.status_code == 200
    assert response.json()["lang"] == "pl"


@pytest.mark.parametrize(("body", "field"), [
    ([1, 2], "body"), ({"foo": 1}, "body"), ({"credential": 5}, "credential"),
    ({"credential": {}, "challenge": 5}, "challenge"),
])
async def test_bad_requests_are_problem_json_naming_the_field(world: World, body: Any, field: str) -> None:
    async with client(make_app(world)) as http:
        response = await http.post("/v1/verify", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["field"] == field and problem["type"].startswith("https://")


async def test_invalid_json_is_422(world: World) -> None:
    async with client(make_app(world)) as http:
        response = await http.post("/v1/verify", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["title"] == "Request not valid"


async def test_body_limit_is_413(world: World) -> None:
    async with client(make_app(world, Limits(max_body_bytes=2048))) as http:
        response = await http.post("/v1/verify", content=json.dumps({"x": "y" * 5000}).encode(),
                                   headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_rate_limit_is_429_with_retry_after(world: World) -> None:
    async with client(make_app(world, Limits(rate_limit_per_second=0.01, rate_limit_burst=2))) as http:
        codes = [(await http.get("/")).status_code for _ in range(3)]
        limited = await http.get("/")
    assert codes == [200, 200, 429]
    assert limited.headers["retry-after"].isdigit() and limited.headers["content-type"] == "application/problem+json"


async def test_cors_preflight(world: World) -> None:
    async with client(make_app(world)) as http:
        response = await http.options("/v1/verify", headers={"origin": "https://employer.example",
                                                             "access-control-request-method": "POST"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


async def test_share_report_and_its_errors(world: World) -> None:
    shares = {TOKEN: (200, {"credentials": [world.credential()], "expires_at": "2030-01-01T00:00:00Z"}),
              "G" * 43: (410, {"title": "gone"})}
    async with client(make_app(world, shares=shares)) as http:
        ok = await http.get(f"/v1/shares/{TOKEN}/report")
        missing = await http.get(f"/v1/shares/{'B' * 43}/report")
        gone = await http.get(f"/v1/shares/{'G' * 43}/report")
        odd = await http.get("/v1/shares/not%20a%20token/report")
    assert ok.status_code == 200 and ok.json()["verdict"] == "valid" and len(ok.json()["reports"]) == 1
    assert missing.status_code == 404 and missing.json()["field"] == "token"
    assert gone.status_code == 410
    assert odd.status_code == 404


async def test_share_page_shows_verdict_checks_and_details_in_the_readers_language(world: World) -> None:
    shares = {TOKEN: (200, {"credentials": [world.credential()], "expires_at": None})}
    async with client(make_app(world, shares=shares)) as http:
        english = await http.get(f"/share/{TOKEN}")
        polish = await http.get(f"/shares/{TOKEN}", headers={"accept-language": "pl"})
        switched = await http.get(f"/share/{TOKEN}?lang=pl")
        unknown = await http.get(f"/share/{'B' * 43}")
    assert english.status_code == 200 and '<html lang="en">' in english.text
    assert 'data-verdict="valid"' in english.text and "Digital micro-credential creation" in english.text
    for check in ("format", "eu_elements", "signature", "issuer_identity", "accreditation", "validity_window",
                  "revocation", "suspension"):
        assert f'data-testid="check-{check}"' in english.text
    assert "Irish NFQ" in english.text and "EQF level" in english.text
    assert '<html lang="pl">' in polish.text and "Podpis cyfrowy" in polish.text
    assert '<html lang="pl">' in switched.text
    assert unknown.status_code == 404 and "no such share link" in unknown.text.lower()


async def test_paste_form_and_view(world: World) -> None:
    from urllib.parse import urlencode

    async with client(make_app(world)) as http:
        home = await http.get("/")
        view = await http.post("/view", content=urlencode({"document": json.dumps(world.credential())}),
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert home.status_code == 200 and 'for="document"' in home.text
    assert view.status_code == 200 and 'data-verdict="valid"' in view.text


async def test_openapi_is_published(world: World) -> None:
    async with client(make_app(world)) as http:
        spec = (await http.get("/openapi.json")).json()
    assert "/v1/verify" in spec["paths"] and "/v1/shares/{token}/report" in spec["paths"]
