"""Wallet service entry point (``python -m services.wallet.main``): settings, then the HTTP server.

What the wallet is made of, and the order it starts and stops in, is :mod:`services.wallet.app`.
"""

from __future__ import annotations

from microcred.http_service import run_http
from services.wallet.app import create_app
from services.wallet.config import Settings


def main() -> None:
    """Console entry point: settings from the environment (fail fast), then uvicorn until SIGTERM."""
    settings = Settings()
    run_http(create_app(settings), settings)


if __name__ == "__main__":
    main()
