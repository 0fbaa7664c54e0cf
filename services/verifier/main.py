"""Verifier gateway entry point: settings, then one process or ``MICROCRED_HTTP_WORKERS`` uvicorn workers.

What the gateway is made of and how it starts is in :mod:`services.verifier.app`.
"""

from __future__ import annotations

from microcred.http_service import run_http
from services.verifier.app import create_app
from services.verifier.config import Settings


def main() -> None:
    """Console entry point: one process, or ``MICROCRED_HTTP_WORKERS`` uvicorn workers (each builds its app)."""
    settings = Settings()
    if settings.http_workers > 1:
        run_http("services.verifier.app:app_from_environment", settings,
                 workers=settings.http_workers, factory=True, proxy_headers=False)
    else:  # proxies are MICROCRED_TRUSTED_PROXIES' business (admission), never uvicorn's default trust
        run_http(create_app(settings), settings, proxy_headers=False)


if __name__ == "__main__":
    main()
