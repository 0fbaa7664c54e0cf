"""The wallet's outbound answers are bounded as sent: no content coding is asked for or decoded, so a small
compressed answer cannot inflate past the byte limits (1.7 KB of ``gzip, gzip`` decoded to 1.96 GB)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from services.wallet.adapters import oid4vci_client, presentation_client
from services.wallet.adapters.bounded_http import EncodedAnswer, TooLarge, read_bounded
from services.wallet.adapters.oid4vci_client import IssuerClient
from services.wallet.adapters.presentation_client import VerifierClient
from services.wallet.domain import offers as o
from services.wallet.domain.errors import Unprocessable

ISSUER = "https://credential-issuer.example.com"


class _Wire(httpx.AsyncByteStream):
    """A body as a network transport delivers it: the bytes as sent, in pieces (``httpx.Response(content=...)``
    would decode it already in the mock)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), 1024):
            yield self.body[start:start + 1024]


def _double_gzip_bomb(size: int) -> bytes:
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [inner.compress(b"\0" * (1 << 20)) for _ in range(size >> 20)]
    return gzip.compress(b"".join(parts) + inner.flush(), 9)


def _serve(body: bytes, encoding: str | None, seen: list[httpx.Request],
           content_type: str = "application/oauth-authz-req+jwt") -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"content-type": content_type}
        if encoding is not None:
            headers["content-encoding"] = encoding
        return httpx.Response(200, headers=headers, stream=_Wire(body))
    return httpx.MockTransport(handler)


async def test_a_compressed_verifier_answer_is_refused_by_name_before_it_is_read() -> None:
    seen: list[httpx.Request] = []
    client = VerifierClient(allow_loopback_http=False, transport=_serve(_double_gzip_bomb(256 << 20), "gzip, gzip",
                                                                       seen))
    tracemalloc.start()
    try:
        with pytest.raises(Unprocessable, match=r"content-encoding 'gzip, gzip' \(only identity is read\)") as caught:
            await client.fetch_request_object("https://verifier.example/req/1")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await client.aclose()
    assert caught.value.code == "INVALID_PRESENTATION_REQUEST"
    assert seen[0].headers["accept-encoding"] == "identity"
    assert peak < presentation_client.MAX_BODY_BYTES


@pytest.mark.parametrize("encoding", ["br", "zstd", "deflate", "identity, gzip"])
async def test_a_compressed_issuer_answer_is_unavailable(encoding: str) -> None:
    seen: list[httpx.Request] = []
    client = IssuerClient([ISSUER], transport=_serve(b"\x28\xb5\x2f\xfd" * 100, encoding, seen, "application/json"))
    try:
        with pytest.raises(o.OfferError, match="only identity is read") as caught:
            await client.get(f"{ISSUER}/.well-known/openid-credential-issuer")
    finally:
        await client.aclose()
    assert caught.value.code == o.ISSUER_UNAVAILABLE
    assert seen[0].headers["accept-encoding"] == "identity" and seen[0].headers["accept"] == "application/json"


@pytest.mark.parametrize("encoding", [None, "identity", " Identity "])
async def test_identity_answers_are_read_and_still_bounded(encoding: str | None) -> None:
    seen: list[httpx.Request] = []
    client = IssuerClient([ISSUER], transport=_serve(b'{"ok": true}', encoding, seen, "application/json"))
    try:
        assert (await client.post_form(f"{ISSUER}/token", {"a": "b"}, dpop="p")).body == {"ok": True}
    finally:
        await client.aclose()
    assert seen[0].headers["dpop"] == "p" and seen[0].headers["accept-encoding"] == "identity"
    big = oid4vci_client.MAX_BODY_BYTES + 1
    async with httpx.AsyncClient(transport=_serve(b"a" * big, encoding, [])) as http:
        with pytest.raises(TooLarge):
            await read_bounded(http, "GET", "https://x.example/", big - 1)
        assert len((await read_bounded(http, "GET", "https://x.example/", big)).body) == big


def test_the_error_names_the_encoding_cut_short() -> None:
    assert EncodedAnswer("x" * 1000).encoding == "x" * 64
