"""The request-body limit the HTTP services share (verifier gateway, wallet, the issuer's REST API).

FastAPI reads and parses a whole body before any dependency or authentication runs, and a route that compares
``len(await request.body())`` with its bound has read everything first: 500 MB posted to the wallet reached 1.6 GB.
:class:`BodyLimitMiddleware` is plain ASGI middleware (no per-request task) in front of every route of an app: a
declared ``Content-Length`` over the limit is refused before anything is read, and a body streamed in (chunked,
or lying about its length) is cut off at the first message past the limit. Each app says how a refusal reads
(``refuse``: problem+json, or an OAuth error at OAuth endpoints), so the answer has its routes' error format.

A route may catch the interruption (FastAPI turns any error while reading a declared body into a 400): whatever
the application answers or raises after the limit tripped is dropped and the refusal sent in its place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from starlette.responses import Response

__all__ = ["BodyLimitMiddleware", "Refusal"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: The answer to a body over the limit: from the request path and the limit that applied (in bytes).
Refusal = Callable[[str, int], Response]


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` (``per_path``: another limit for an exact path) with
    ``refuse(path, limit)``."""

    def __init__(self, app: ASGIApp, max_bytes: int, refuse: Refusal,
                 per_path: Mapping[str, int] | None = None) -> None:
        self.app, self.default_max, self.refuse, self.per_path = app, max_bytes, refuse, dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        max_bytes = self.per_path.get(path, self.default_max)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await self.refuse(path, max_bytes)(scope, receive, send)
                return
        received = 0
        tripped = started = False

        async def limited_receive() -> Message:
            nonlocal received, tripped
            if tripped:  # the application read on after the refusal: the request is over for it
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    tripped = True
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if tripped and not started:  # the application's answer to an interrupted body: the refusal replaces it
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:  # _TooLarge, or whatever a route made of it: after the trip, the refusal answers
            if not tripped:
                raise
        if tripped and not started:
            await self.refuse(path, max_bytes)(scope, receive, send)
