"""The hot path of ``POST /v1/verify``: the same answer as the FastAPI route, for a fraction of the CPU.

Most of a verification's cost through the full stack was HTTP/JSON plumbing, not the checks: about a dozen
middleware layers, FastAPI's parameter solving and validation, the stdlib JSON codec, and an OpenTelemetry
ASGI middleware that builds a dozen attributes per request. :class:`FastVerify` serves the common request
directly on ASGI:

* the body is read with the size limit applied (413 problem+json, from ``Content-Length`` or while it
  streams in), parsed with ``orjson``, unwrapped exactly as the route does (:func:`~.api.unwrap`);
* the same bytes posted again (a share page reloaded, a client polling a credential) are not parsed again:
  the last ``memo_entries`` bodies of at most ``memo_max_bytes`` are kept with their parsed document and its
  digest (:func:`microcred.verification.cache.body_digest`, the hash of the bytes: a bare document's digest
  is that of the bytes it was parsed from). Only parsing is skipped: every check runs as for a
  new document (see docs/verification.md, "Caching"), the status bits are read fresh;
* the report is :func:`microcred.verification.verify`'s, serialised with ``orjson`` (same JSON as the route);
* one SERVER span per request (``POST /v1/verify``, continuing a ``traceparent`` when one is sent) with the
  method, route, path and response status; the verification runs inside it.

Anything else goes to the full application with the body replayed, so its answers (and their errors) are the
route's own: a request with an ``Origin`` header (CORS), a content type other than JSON, invalid or non-object
JSON, a body the route would refuse (wrapper problems), query parameters it does not know or would refuse, an
over-long ``Accept-Language``, and a gateway whose dependencies are not wired yet. The verdict is never
decided here: it is the pipeline's, with the same ports.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, StatusCode

from microcred.verification import verify
from microcred.verification.cache import body_digest
from microcred.verification.messages import pick_language
from services.verifier.api.limits import send_problem
from services.verifier.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

__all__ = ["ROUTE", "FastVerify", "dumps"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ROUTE = "/v1/verify"
_QUERY_LIMITS = {"challenge": 512, "domain": 512, "lang": 35}
_MAX_ACCEPT_LANGUAGE = 500
_PROPAGATION = frozenset({b"traceparent", b"tracestate", b"baggage"})
_FALLBACK = object()


def dumps(content: Any) -> bytes:
    """JSON bytes as Starlette's JSONResponse writes them (compact, UTF-8), through orjson when it can."""
    try:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # something orjson does not know (e.g. an int beyond 64 bits): the stdlib decides
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def _query(raw: bytes) -> dict[str, str] | None:
    """The known parameters, or None when the route should judge them (unknown, repeated or too long)."""
    if not raw:
        return {}
    out: dict[str, str] = {}
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        limit = _QUERY_LIMITS.get(name)
        if limit is None or name in out or len(value) > limit:
            return None
        out[name] = value
    return out


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out the already-read body once, then defers to the server's."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()
    return replayed


class FastVerify:
    """``POST /v1/verify`` on plain ASGI; ``full`` is the complete application for everything it passes on."""

    def __init__(self, full: ASGIApp, state: Any, max_body_bytes: int,
                 unwrap: Callable[[dict[str, Any], str | None, str | None], Any], *,
                 memo_entries: int = 64, memo_max_bytes: int = 32 * 1024) -> None:
        self.full, self.state, self.max_body_bytes, self.unwrap = full, state, max_body_bytes, unwrap
        self.tracer = trace.get_tracer("microcred.verifier")
        self.memo_entries, self.memo_max_bytes = memo_entries, memo_max_bytes
        self._memo: OrderedDict[bytes, tuple[dict[str, Any], str]] = OrderedDict()
        self.answered = 0
        """Requests answered here (not passed on)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, or pass it on to the full application."""
        started = time.time_ns()
        length, content_type, accept_language, carrier = -1, b"", None, None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else -1
            elif name == b"content-type" and not content_type:  # the first one, as Starlette reads it
                content_type = value
            elif name == b"accept-language":
                if accept_language is not None or len(value) > _MAX_ACCEPT_LANGUAGE:
                    return await self.full(scope, receive, send)
                accept_language = value.decode("latin-1")
            elif name == b"origin":
                return await self.full(scope, receive, send)
            elif name in _PROPAGATION:
                carrier = carrier or {}
                carrier[name.decode()] = value.decode("latin-1")
        if length > self.max_body_bytes:
            return await self._too_large(send)
        query = _query(scope.get("query_string", b""))
        gateway = getattr(self.state, "gateway", None)
        if query is None or gateway is None or not _is_json(content_type):
            return await self.full(scope, receive, send)
        body = await self._body(receive)
        if body is None:
            return await self._too_large(send)
        parsed = self._parse(body, query)
        if parsed is _FALLBACK:
            return await self.full(scope, _replay(body, receive), send)
        (document, challenge, domain), digest = parsed
        await self._answer(scope, send, started, carrier, gateway, document, challenge, domain, digest,
                           pick_language(query.get("lang"), accept_language))

    async def _body(self, receive: Receive) -> bytes | None:
        """The request body, or None when it grows past the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _parse(self, body: bytes, query: dict[str, str]) -> Any:
        """``((document, challenge, domain), digest)`` (digest None when not known yet), or _FALLBACK."""
        kept = self._memo.get(body)
        if kept is not None:
            self._memo.move_to_end(body)
            value, digest = kept
        else:
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError:
                return _FALLBACK
            if not isinstance(value, dict):
                return _FALLBACK
            digest = None
        unwrapped = self.unwrap(value, query.get("challenge"), query.get("domain"))
        if not isinstance(unwrapped, tuple):
            return _FALLBACK
        if kept is None and unwrapped[0] is value:
            digest = body_digest(body)  # the bytes are the document (a wrapper's document gets its own digest)
            if len(body) <= self.memo_max_bytes and self.memo_entries:
                self._memo[body] = (value, digest)
                if len(self._memo) > self.memo_entries:
                    self._memo.popitem(last=False)
        return unwrapped, digest if unwrapped[0] is value else None

    async def _too_large(self, send: Send) -> None:
        await send_problem(send, 413, "Request body too large",
                           f"request bodies are limited to {self.max_body_bytes} bytes", "body-too-large")

    async def _answer(self, scope: Scope, send: Send, started: int, carrier: dict[str, str] | None, gateway: Any,
                      document: Any, challenge: str | None, domain: str | None, digest: str | None,
                      lang: str) -> None:
        parent = propagate.extract(carrier) if carrier else None
        span = self.tracer.start_span(f"POST {ROUTE}", context=parent, kind=SpanKind.SERVER, start_time=started,
                                      attributes={"http.request.method": "POST", "http.route": ROUTE,
                                                  "url.path": scope.get("path", ROUTE),
                                                  "url.scheme": scope.get("scheme", "http")})
        token = context.attach(trace.set_span_in_context(span, parent))
        self.answered += 1
        try:
            try:
                report = await verify(document, gateway.ports, challenge=challenge, domain=domain, digest=digest)
                status, media, body = 200, b"application/json", dumps(report.to_dict(lang))
            except Exception:  # what the route's 500 handler answers; the pipeline itself never raises
                log.exception("verification failed unexpectedly")
                span.set_status(StatusCode.ERROR)
                status, media = 500, PROBLEM_MEDIA_TYPE.encode()
                body = dumps({"type": PROBLEM_BASE + "internal", "title": "Internal error",
                              "status": 500, "detail": "the gateway failed unexpectedly; the error was logged",
                              "instance": scope.get("path", ROUTE)})
            span.set_attribute("http.response.status_code", status)
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", media),
                                    (b"vary", b"Origin")]})
            await send({"type": "http.response.body", "body": body})
        finally:
            context.detach(token)
            span.end()
