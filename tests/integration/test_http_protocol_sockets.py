"""The services' HTTP protocol over a real loopback socket (microcred.http_protocol): a small answer arrives in
one piece, keep-alive and pipelined requests are answered whole and in order, a streamed body arrives whole, and a
closing answer is sent entirely before the connection closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from microcred.http_protocol import CoalescingHttpToolsProtocol
from tests.verifier_support import RunningServer

_BODY = b'{"verdict":"valid","checks":[]}'


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"first ", b"second ", b"third"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)  # each part in its own turn of the loop
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]
    if path == "/close":
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


#: Every write the socket's transport was asked for (``write`` or ``writelines``: one send each), all connections.
SENDS: list[bytes] = []


class _CountedTransport:
    """The socket's transport, noting each write (a send) before it goes out."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        SENDS.append(bytes(data))
        self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        chunks = list(chunks)
        SENDS.append(b"".join(chunks))
        self._transport.writelines(chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _CountedProtocol(CoalescingHttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CountedTransport(transport))  # type: ignore[arg-type]


@pytest.fixture
async def port() -> AsyncIterator[int]:
    SENDS.clear()
    async with RunningServer(_app, proxy_headers=False, http=_CountedProtocol) as server:
        yield int(server.url.rsplit(":", 1)[1])


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
async def connection(port: int) -> AsyncIterator[Connection]:
    """A client connection to the server, closed after the test."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode()


async def _one_answer(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.startswith(b"content-length"))
    return await asyncio.wait_for(reader.readexactly(length), 10)


async def test_a_small_answer_goes_out_in_one_send(connection: Connection) -> None:
    reader, writer = connection
    for _ in range(5):
        writer.write(_get("/answer"))
        assert await _one_answer(reader) == _BODY
    assert len(SENDS) == 5  # uvicorn's own protocol: 10 (the head, then the body)
    assert all(send.startswith(b"HTTP/1.1 200 OK\r\n") and send.endswith(b"\r\n\r\n" + _BODY) for send in SENDS)


async def test_pipelined_requests_are_answered_whole_and_in_order(connection: Connection) -> None:
    reader, writer = connection
    writer.write(_get("/a") + _get("/b") + _get("/c"))
    assert [await _one_answer(reader) for _ in range(3)] == [_BODY] * 3


async def test_a_streamed_body_arrives_whole(connection: Connection) -> None:
    reader, writer = connection
    writer.write(_get("/stream"))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert b"transfer-encoding: chunked" in head
    body = await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 10)
    assert body == b"6\r\nfirst \r\n7\r\nsecond \r\n5\r\nthird\r\n0\r\n\r\n"


async def test_a_closing_answer_is_sent_entirely_before_the_connection_closes(connection: Connection) -> None:
    reader, writer = connection
    writer.write(_get("/close"))
    everything = await asyncio.wait_for(reader.read(-1), 10)  # up to the server's close
    assert everything.startswith(b"HTTP/1.1 200 OK\r\n") and everything.endswith(b"\r\n\r\n" + _BODY)
    assert b"connection: close" in everything
