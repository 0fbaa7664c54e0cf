"""The wallet's outbound calls to verifiers are fenced: https only (http to loopback only in dev/test), no
redirects followed, bounded bodies, clear errors. The transport is httpx's in-memory one (unit test)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.wallet.adapters.presentation_client import MAX_BODY_BYTES, VerifierClient, check_url
from services.wallet.domain.errors import Unavailable, Unprocessable


@pytest.mark.parametrize(("url", "dev", "ok"), [
    ("https://verifier.example/r", False, True), ("http://verifier.example/r", True, False),
    ("http://127.0.0.1:8080/r", True, True), ("http://localhost/r", True, True), ("http://[::1]/r", True, True),
    ("http://127.0.0.1/r", False, False), ("file:///etc/passwd", True, False), ("https:///r", False, False),
    ("https://user:pw@verifier.example/r", False, False), ("ftp://verifier.example/r", True, False),
    ("https://[::1/r", True, False),  # an unclosed IPv6 literal: urlsplit raises
])
def test_only_https_or_dev_loopback_is_called(url: str, dev: bool, ok: bool) -> None:
    if ok:
        assert check_url(url, "link.request_uri", allow_loopback_http=dev) == url
    else:
        with pytest.raises(Unprocessable, match=r"link\.request_uri"):
            check_url(url, "link.request_uri", allow_loopback_http=dev)


def _client(handler: httpx.MockTransport) -> VerifierClient:
    return VerifierClient(allow_loopback_http=False, transport=handler)


def test_request_objects_are_bounded_and_redirects_not_followed() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/big":
            return httpx.Response(200, content=b"a" * (MAX_BODY_BYTES + 10),
                                  headers={"content-type": "application/oauth-authz-req+jwt"})
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"location": "https://evil.example/x"})
        if request.url.path == "/html":
            return httpx.Response(200, text="<html>", headers={"content-type": "text/html"})
        return httpx.Response(200, text="h.p.", headers={"content-type": "application/oauth-authz-req+jwt"})

    async def run() -> None:
        client = _client(httpx.MockTransport(serve))
        try:
            assert await client.fetch_request_object("https://v.example/ok") == "h.p."
            with pytest.raises(Unprocessable, match="larger than"):
                await client.fetch_request_object("https://v.example/big")
            with pytest.raises(Unprocessable, match="answered 302"):
                await client.fetch_request_object("https://v.example/moved")
            with pytest.raises(Unprocessable, match="content type"):
                await client.fetch_request_object("https://v.example/html")
        finally:
            await client.aclose()

    asyncio.run(run())


def test_an_unreachable_verifier_is_unavailable_and_answers_are_read() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.example":
            raise httpx.ConnectError("refused")
        if request.url.host == "deep.example":
            return httpx.Response(200, content=b"[" * 30000 + b"]" * 30000,
                                  headers={"content-type": "application/json"})
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        return httpx.Response(400, json={"error": "invalid_request", "error_description": "state: no"})

    async def run() -> None:
        client = _client(httpx.MockTransport(serve))
        try:
            with pytest.raises(Unavailable):
                await client.fetch_request_object("https://down.example/r")
            reply = await client.post_response("https://v.example/resp", {"error": "access_denied"})
            assert reply.status == 400 and reply.body["error"] == "invalid_request"
            reply = await client.post_response("https://deep.example/resp", {"error": "access_denied"})
            assert reply.status == 200 and reply.body is None  # nested past the parser's stack: no answer read
        finally:
            await client.aclose()

    asyncio.run(run())
