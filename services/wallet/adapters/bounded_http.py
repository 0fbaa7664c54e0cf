"""A bounded HTTP exchange for the wallet's outbound clients (OpenID4VCI issuers, OpenID4VP verifiers).

The answer is streamed and given up on once it passes ``limit`` bytes, so a hostile or broken server cannot make
the wallet hold an arbitrarily large body; each client turns the outcome into its own error.

The bound is on the bytes as sent: the request asks for ``Accept-Encoding: identity`` and the raw stream is read,
and an answer with any other ``Content-Encoding`` is refused (:class:`EncodedAnswer`) before its body is read.
httpx otherwise advertises and decodes gzip, deflate, br and zstd, stacked ones too, each chunk completely before
any length check: 1.7 KB of ``gzip, gzip`` decoded to 1.96 GB.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["BoundedAnswer", "EncodedAnswer", "TooLarge", "read_bounded"]


class TooLarge(Exception):
    """The answer passed the size limit (its rest was not read)."""


class EncodedAnswer(Exception):
    """The answer has a ``Content-Encoding`` other than identity (asked for; its body was not read)."""

    def __init__(self, encoding: str) -> None:
        super().__init__(f"content-encoding {encoding[:64]!r} (only identity is read)")
        self.encoding = encoding[:64]


@dataclass(frozen=True)
class BoundedAnswer:
    """Status, content type and the whole body (at most the limit), and the answer's headers."""

    status: int
    content_type: str
    body: bytes
    headers: httpx.Headers = field(default_factory=httpx.Headers)


async def read_bounded(http: httpx.AsyncClient, method: str, url: str, limit: int, **kwargs: Any) -> BoundedAnswer:
    """``method url`` through ``http``, asking for no content coding, its body read up to ``limit`` bytes;
    :class:`TooLarge` beyond, :class:`EncodedAnswer` for a content-coded answer, and ``httpx.HTTPError`` as httpx
    raises it."""
    headers = httpx.Headers(kwargs.pop("headers", None))
    headers["accept-encoding"] = "identity"
    async with http.stream(method, url, headers=headers, **kwargs) as response:
        encoding = response.headers.get("content-encoding", "")
        if any(token.strip().lower() not in ("", "identity") for token in encoding.split(",")):
            raise EncodedAnswer(encoding)
        body = bytearray()
        async for chunk in _raw(response):
            body.extend(chunk)
            if len(body) > limit:
                raise TooLarge
        return BoundedAnswer(response.status_code, response.headers.get("content-type", ""), bytes(body),
                             response.headers)


async def _raw(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as sent. A transport that hands over a body already in memory (``httpx.Response(content=...)``,
    as ``httpx.MockTransport`` handlers do) has had it read; with no content coding that is the body as sent."""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk
