"""The gateway's Token Status List source over a real socket (services.verifier.adapters.token_status): one fetch
for every verification that needs a token at once (single flight), revalidation by ETag, a caller that goes away
cancels nothing for the others, and no request at all for a URL outside the platform's prefixes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.verifier.adapters.sources import PlatformUrls
from services.verifier.adapters.token_status import TokenStatusHttpSource
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

TOKEN = b"eyJhbGciOiJFUzI1NiJ9.eyJzdGF0dXNfbGlzdCI6e319.c2ln"


class TokenServer:
    """Serves one token slowly (so that callers overlap), counting requests and conditional ones."""

    def __init__(self) -> None:
        self.requests = 0
        self.revalidations = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.requests += 1
        await asyncio.sleep(0.1)
        if (b"if-none-match", b'"v1"') in scope["headers"]:
            self.revalidations += 1
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", b'"v1"')]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/statuslist+jwt"), (b"etag", b'"v1"'),
                                (b"content-length", str(len(TOKEN)).encode())]})
        await send({"type": "http.response.body", "body": TOKEN})


@pytest.fixture
async def served() -> AsyncIterator[tuple[TokenServer, str]]:
    app = TokenServer()
    async with RunningServer(app) as server:
        yield app, f"{server.url}/token-status/list-1"


async def test_verifications_that_need_the_token_at_once_share_one_fetch(served: tuple[TokenServer, str]) -> None:
    app, uri = served
    async with httpx.AsyncClient() as http:
        source = TokenStatusHttpSource(http, PlatformUrls([uri.rsplit("/", 1)[0] + "/"]), max_age=0.2)
        answers = await asyncio.gather(*(source.get(uri) for _ in range(30)))
        assert app.requests == 1 and source.fetches == 1
        assert {a[0] if a else None for a in answers} == {TOKEN.decode()}
        await asyncio.sleep(0.25)  # kept no longer: revalidated once, by ETag, for all that ask meanwhile
        again = await asyncio.gather(*(source.get(uri) for _ in range(30)))
        assert app.requests == 2 and app.revalidations == 1
        assert {a[0] if a else None for a in again} == {TOKEN.decode()}


async def test_a_caller_that_goes_away_does_not_cancel_the_fetch_for_the_others(
        served: tuple[TokenServer, str]) -> None:
    app, uri = served
    async with httpx.AsyncClient() as http:
        source = TokenStatusHttpSource(http, PlatformUrls([uri.rsplit("/", 1)[0] + "/"]))
        first = asyncio.create_task(source.get(uri))
        await asyncio.sleep(0.02)  # its fetch is under way
        second = asyncio.create_task(source.get(uri))
        await asyncio.sleep(0.02)
        first.cancel()
        answer = await second
        assert answer is not None and answer[0] == TOKEN.decode()
        assert app.requests == 1
        with pytest.raises(asyncio.CancelledError):
            await first


async def test_a_url_outside_the_platform_is_never_fetched(served: tuple[TokenServer, str]) -> None:
    app, uri = served
    async with httpx.AsyncClient() as http:
        source = TokenStatusHttpSource(http, PlatformUrls(["https://status.example/token-status/"]))
        assert await source.get(uri) is None
        assert app.requests == 0
