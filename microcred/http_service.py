"""What the HTTP services (wallet, verifier) share: the health endpoint and the uvicorn runner."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from redis.asyncio import Redis

from microcred.http_protocol import CoalescingHttpToolsProtocol
from microcred.settings import HttpServiceSettings


class EmbeddedUvicorn(uvicorn.Server):
    """uvicorn run as a task inside a service's (or a test's) own event loop: it installs no signal handlers, so
    SIGINT/SIGTERM stay with the process's own lifecycle (uvicorn >= 0.29 captures them in ``capture_signals``)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def add_health_route(app: FastAPI, dependencies: dict[str, Any]) -> None:
    """``GET /healthz``: 200 when Redis answers PING and every started dependency is up, else 503."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz(response: Response) -> dict[str, str]:
        checks: dict[str, str] = {}
        redis: Redis | None = dependencies.get("redis")
        try:
            checks["redis"] = "ok" if redis is not None and await redis.ping() else "down"
        except Exception:  # a health check reports, it never raises
            checks["redis"] = "down"
        checks["kafka"] = "ok" if dependencies.get("kafka_ready") else "down"
        healthy = all(v == "ok" for v in checks.values())
        response.status_code = 200 if healthy else 503
        return {"status": "ok" if healthy else "unavailable", **checks}


def run_http(app: FastAPI | str, settings: HttpServiceSettings, *, workers: int = 1, factory: bool = False,
             proxy_headers: bool = True) -> None:
    """Serve ``app`` with uvicorn; uvicorn turns SIGINT/SIGTERM into a graceful shutdown (lifespan exit).

    ``app`` is an application, or an import string (``"module:attribute"``; with ``factory``, a callable that
    returns one), which ``workers`` > 1 needs: each worker process imports and builds its own application.
    ``auto`` picks uvloop when installed; requests are parsed by httptools (``uvicorn[standard]``, pinned in
    constraints.txt), each response written in one send (:mod:`microcred.http_protocol`).
    ``proxy_headers=False`` keeps uvicorn from rewriting the client address from ``X-Forwarded-For`` (it
    trusts 127.0.0.1 by default), for a service that decides about proxies itself (the verifier).
    """
    if workers > 1 and not isinstance(app, str):
        raise ValueError("several workers need the application as an import string")
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False,
                lifespan="on", workers=workers if workers > 1 else None, factory=factory,
                loop="auto", http=CoalescingHttpToolsProtocol, proxy_headers=proxy_headers)
