"""The gateway's HTTP entry point: admission control first, then the verification fast path or the full app.

:class:`GatewayApp` is the FastAPI application (routes, OpenAPI, ``app.state``, lifespan: all unchanged) with
its ASGI entry point in front of FastAPI's middleware stack:

1. ``/healthz`` and ``OPTIONS`` (CORS preflights) go straight to the application (never shed, as before);
2. :class:`~.admission.Admission` decides from the scope alone (client address, in-flight count, event-loop
   queueing delay, open event streams; the client's bucket shared with the other replicas in Redis, when
   configured) whether the
   request is taken; a refusal is a 429 problem+json with ``Retry-After`` and the
   CORS header a browser needs to read it, written before the body is read, without routing or tracing;
3. ``POST /v1/verify`` goes to :class:`~.fastpath.FastVerify`, everything else through FastAPI's stack
   (OpenTelemetry, CORS, body limit, routing, problem+json errors).

Request metrics (:meth:`GatewayApp.measure`) wrap all of this: refusals and fast-path answers never reach
FastAPI's stack or its router, so the edge names ``POST /v1/verify``'s route template for them
(:data:`microcred.metrics.ROUTE_LABEL`).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from microcred.metrics import ROUTE_LABEL, RequestMetrics
from services.verifier.api.admission import Admission, Refusal
from services.verifier.api.fastpath import ROUTE, FastVerify, Message, Receive, Scope, Send, dumps
from services.verifier.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

__all__ = ["GatewayApp"]

_PROBLEM = PROBLEM_MEDIA_TYPE.encode()


class GatewayApp(FastAPI):
    """FastAPI with admission control and the ``POST /v1/verify`` fast path at its entry point.

    Call :meth:`configure_edge` once the routes are in place (:func:`~.api.create_gateway_app` does).
    """

    admission: Admission | None = None
    fast_verify: FastVerify | None = None
    _cors_all: bool = False
    _cors_origins: frozenset[str] = frozenset()
    _measured: RequestMetrics | None = None

    def configure_edge(self, admission: Admission, fast_verify: FastVerify | None,
                       cors_origins: Sequence[str]) -> None:
        """Install admission control, the fast path (None: every request takes the full stack) and CORS origins."""
        self.admission, self.fast_verify = admission, fast_verify
        self._cors_all, self._cors_origins = "*" in cors_origins, frozenset(cors_origins)

    def measure(self, service: str) -> None:
        """Count and time every HTTP request at the entry point, refusals and fast-path answers included."""
        self._measured = RequestMetrics(self._edge, service)

    async def full_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own entry point (middleware stack, routing), bypassing admission and the fast path."""
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        measured = self._measured
        if measured is None:
            await self._edge(scope, receive, send)
        else:
            await measured(scope, receive, send)

    async def _edge(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = self.admission
        if (scope["type"] != "http" or admission is None or scope["path"] in admission.exempt
                or scope["method"] == "OPTIONS"):  # CORS preflights are answered by the CORS middleware, unlimited
            await super().__call__(scope, receive, send)
            return
        if scope["path"] == ROUTE:  # the fast path's answers and its refusals are never routed: name the route here
            scope[ROUTE_LABEL] = ROUTE
        # shared buckets (every replica's, in Redis) cost one awaited round trip; per-process ones a call
        refusal = admission.admit(scope) if admission.shared is None else await admission.admit_shared(scope)
        if refusal is not None:
            await self._refuse(scope, send, refusal)
            return
        try:
            if self.fast_verify is not None and scope["path"] == ROUTE and scope["method"] == "POST":
                await self.fast_verify(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            admission.release(scope)  # an event stream gives back its stream slot, anything else its in-flight one

    async def _refuse(self, scope: Scope, send: Send, refusal: Refusal) -> None:
        body = dumps({"type": PROBLEM_BASE + refusal.code, "title": "Too many requests", "status": 429,
                      "detail": refusal.detail})
        headers = [(b"content-type", _PROBLEM), (b"content-length", str(len(body)).encode()),
                   (b"retry-after", str(refusal.retry_after).encode()), *self._cors(scope)]
        start: Message = {"type": "http.response.start", "status": 429, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": body})

    def _cors(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """What Starlette's CORS middleware adds to a simple response (the refusal bypasses it)."""
        origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
        if origin is not None and self._cors_all:
            return [(b"access-control-allow-origin", b"*")]
        if origin is not None and origin.decode("latin-1") in self._cors_origins:
            return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
        return [(b"vary", b"Origin")]

