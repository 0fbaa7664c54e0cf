"""A bounded HTTP exchange for the wallet's outbound clients (OpenID4VCI issuers, OpenID4VP verifiers).

The answer is streamed and given up on once it passes ``limit`` bytes, so a hostile or broken server cannot make
the wallet hold an arbitrarily large body; each client turns the outcome into its own error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["BoundedAnswer", "TooLarge", "read_bounded"]


class TooLarge(Exception):
    """The answer passed the size limit (its rest was not read)."""


@dataclass(frozen=True)
class BoundedAnswer:
    """Status, content type and the whole body (at most the limit), and the answer's headers."""

    status: int
    content_type: str
    body: bytes
    headers: httpx.Headers = field(default_factory=httpx.Headers)


async def read_bounded(http: httpx.AsyncClient, method: str, url: str, limit: int, **kwargs: Any) -> BoundedAnswer:
    """``method url`` through ``http``, its body read up to ``limit`` bytes; :class:`TooLarge` beyond, and
    ``httpx.HTTPError`` as httpx raises it."""
    async with http.stream(method, url, **kwargs) as response:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                raise TooLarge
        return BoundedAnswer(response.status_code, response.headers.get("content-type", ""), bytes(body),
                             response.headers)
