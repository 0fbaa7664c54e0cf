"""Every route of the wallet and of the issuer's REST API has a body limit enforced before FastAPI reads the body
(500 MB posted to the wallet's offer inspection reached 1.6 GB; the issuer's OAuth endpoints read all, then
compared): 413 problem+json naming ``body``, or at the OAuth/OpenID4VCI endpoints a 400 ``invalid_request``."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from microcred.http_limits import BodyLimitMiddleware
from services.issuer.api.rest import MAX_BODY_BYTES, TOKEN_MAX_BODY_BYTES, create_rest_app
from services.wallet.app import create_app
from services.wallet.config import Settings

MB = 1 << 20


class _Text(BaseModel):
    text: str


class _Chunks:
    """A request body sent in 64 KiB chunks without a Content-Length; counts what the server pulled."""

    def __init__(self, total: int, head: bytes = b"") -> None:
        self.total, self.head, self.sent = total, head, 0

    async def __call__(self) -> AsyncIterator[bytes]:
        yield self.head
        while self.sent < self.total:
            self.sent += 64 * 1024
            yield b"a" * (64 * 1024)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://service.test")


@pytest.fixture
def wallet(tmp_path: Path) -> FastAPI:
    settings = Settings(kafka_bootstrap="k:9092", redis_url="redis://r:6379/0", environment="test",
                        oidc_issuer="https://idp.example", oidc_audience="wallet",
                        oidc_jwks_url="https://idp.example/jwks", data_dir=tmp_path,
                        kek=base64.b64encode(os.urandom(32)).decode(), wallet_max_body_bytes=64 * 1024,
                        max_import_bytes=256 * 1024)
    return create_app(settings)


async def test_wallet_refuses_a_streamed_body_past_the_limit_before_reading_it(wallet: FastAPI) -> None:
    body = _Chunks(64 * MB, b'{"offer":"')
    async with _client(wallet) as http:
        answer = await http.post("/v1/credential-offers/inspect", content=body(),
                                 headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {"type": "https://microcred.eu/problems/body-too-large", "title": "Request body too large",
                             "status": 413, "detail": "request bodies are limited to 65536 bytes",
                             "code": "BODY_TOO_LARGE", "field": "body"}
    assert body.sent < 64 * MB


async def test_wallet_limit_is_per_route(wallet: FastAPI) -> None:
    async with _client(wallet) as http:
        declared = await http.post("/v1/presentation-requests/inspect", content=b"x" * (64 * 1024 + 1),
                                   headers={"content-type": "application/json"})
        assert declared.status_code == 413 and declared.json()["field"] == "body"
        small = await http.post("/v1/credential-offers/inspect", json={"offer": "x"})
        assert small.status_code == 401  # under the limit: on to authentication
        # the import takes up to MICROCRED_MAX_IMPORT_BYTES
        imported = await http.post("/v1/import", content=b"x" * (200 * 1024), headers={"content-type": "text/plain"})
        assert imported.status_code == 401
        too_big = await http.post("/v1/import", content=b"x" * (256 * 1024 + 1))
        assert too_big.status_code == 413 and "262144 bytes" in too_big.json()["detail"]


@pytest.fixture
def issuer() -> FastAPI:
    offers: Any = SimpleNamespace(first_attestation_pop=None, key_attestations=None, takes_di_vp=False, codes=None)
    none: Any = None
    tokens: Any = SimpleNamespace(resolve=lambda authorization: None)
    return create_rest_app(none, none, tokens, offers, "https://issuer.example", max_body_bytes=64 * 1024)


@pytest.mark.parametrize(("path", "limit"), [("/oauth2/token", TOKEN_MAX_BODY_BYTES), ("/oid4vci/par", 64 * 1024),
                                             ("/oid4vci/credential", 64 * 1024)])
async def test_issuer_oauth_endpoints_refuse_as_oauth_before_reading_it_all(issuer: FastAPI, path: str,
                                                                            limit: int) -> None:
    body = _Chunks(64 * MB)
    async with _client(issuer) as http:
        answer = await http.post(path, content=body(), headers={"content-type": "application/x-www-form-urlencoded",
                                                                "authorization": "Bearer t"})
    assert answer.status_code == 400 and answer.headers["cache-control"] == "no-store"
    assert answer.json() == {"error": "invalid_request", "error_description": f"the body is larger than {limit} bytes"}
    assert body.sent < 64 * MB


async def test_issuer_other_routes_refuse_with_problem_json(issuer: FastAPI) -> None:
    async with _client(issuer) as http:
        issue = await http.post("/credentials/issue", content=b"x" * (MAX_BODY_BYTES + 1))
        assert issue.status_code == 413 and issue.headers["content-type"] == "application/problem+json"
        assert issue.json()["field"] == "body" and issue.json()["detail"] == \
            f"request bodies are limited to {MAX_BODY_BYTES} bytes"
        other = await http.post("/.well-known/openid-credential-issuer", content=b"x" * (64 * 1024 + 1))
        assert other.status_code == 413 and "65536 bytes" in other.json()["detail"]
        # an issuer's cohort may be larger: on to authentication
        cohort = await http.post("/oid4vci/offers", content=b"x" * (1 * MB))
        assert cohort.status_code == 401


async def test_a_route_that_swallows_the_interruption_is_overruled() -> None:
    """FastAPI turns an error while reading a declared body into its own 400; the refusal replaces any answer."""
    app = FastAPI()

    @app.post("/parsed")
    async def parsed(body: _Text) -> dict[str, int]:
        return {"length": len(body.text)}

    @app.post("/caught")
    async def caught(request: Request) -> Response:
        try:
            await request.body()
        except Exception:
            return JSONResponse({"ok": True})
        raise AssertionError("unreachable")

    app.add_middleware(BodyLimitMiddleware, max_bytes=1024, refuse=lambda path, limit: JSONResponse(
        {"path": path, "limit": limit}, 413))
    async with _client(app) as http:
        for path in ("/parsed", "/caught"):
            answer = await http.post(path, content=_Chunks(MB, b'{"text":"')(),
                                     headers={"content-type": "application/json"})
            assert (answer.status_code, answer.json()) == (413, {"path": path, "limit": 1024})
        assert (await http.post("/parsed", json={"text": "abc"})).json() == {"length": 3}
