"""Verifier gateway entry point: settings, then one process or ``MICROCRED_HTTP_WORKERS`` uvicorn workers.

What the gateway is made of and how it starts is in :mod:`services.verifier.app`.
"""

from __future__ import annotations

import os

from microcred.http_service import run_http
from services.verifier.app import create_app
from services.verifier.config import Settings


def main() -> None:
    """Console entry point: one process, or ``MICROCRED_HTTP_WORKERS`` uvicorn workers (each builds its app)."""
    settings = Settings()
    if settings.http_workers > 1:
        # The workers share one listening socket, and libuv (uvloop) accepts every pending connection in one
        # wake-up: a burst of keep-alive connections (a load balancer's pool, a client's) could all land on one
        # worker while the others idle (seen in bench.verify: one worker served 16 of 16 connections, half the
        # machine unused). libuv's UV_TCP_SINGLE_ACCEPT switch (src/unix/tcp.c) makes a worker accept one
        # connection and yield before the next, so the workers take turns. libuv reads it at the first listen in
        # each worker (spawned with this environment); an operator's own setting wins.
        os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
        run_http("services.verifier.app:app_from_environment", settings,
                 workers=settings.http_workers, factory=True, proxy_headers=False)
    else:  # proxies are MICROCRED_TRUSTED_PROXIES' business (admission), never uvicorn's default trust
        run_http(create_app(settings), settings, proxy_headers=False)


if __name__ == "__main__":
    main()
