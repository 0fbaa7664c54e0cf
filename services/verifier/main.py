"""Verifier gateway entry point: settings, then one process or ``MICROCRED_HTTP_WORKERS`` uvicorn workers.

What the gateway is made of and how it starts is in :mod:`services.verifier.app`.
"""

from __future__ import annotations

import os

from microcred.http_service import run_http
from microcred.metrics import shared_across_workers
from services.verifier.adapters.workers import reuse_port_possible, run_workers
from services.verifier.app import create_app
from services.verifier.config import Settings

_FACTORY = "services.verifier.app:app_from_environment"


def main() -> None:
    """Console entry point: one process, or ``MICROCRED_HTTP_WORKERS`` uvicorn workers (each builds its app)."""
    settings = Settings()
    if settings.http_workers > 1:
        # the workers' metrics go to files in a fresh private directory, so /metrics sums them all
        with shared_across_workers():
            _serve_workers(settings)
    else:  # proxies are MICROCRED_TRUSTED_PROXIES' business (admission), never uvicorn's default trust
        run_http(create_app(settings), settings, proxy_headers=False)


def _serve_workers(settings: Settings) -> None:
    if reuse_port_possible(settings.http_port):
        # one listening socket per worker, so that connections are spread over the workers (see workers.py)
        run_workers(_FACTORY, settings.http_host, settings.http_port, settings.http_workers)
    else:
        # Port 0: the workers share uvicorn's one socket, and libuv (uvloop) accepts every pending connection in
        # one wake-up, so a burst of keep-alive connections could all land on one worker. libuv's
        # UV_TCP_SINGLE_ACCEPT switch (src/unix/tcp.c) makes a worker accept one connection and yield before the
        # next (it helps on a quiet machine only); read at the first listen in each worker (spawned with this
        # environment); an operator's own setting wins.
        os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
        run_http(_FACTORY, settings,
                 workers=settings.http_workers, factory=True, proxy_headers=False)


if __name__ == "__main__":
    main()
