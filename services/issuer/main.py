"""Issuer service entry point: settings and logging in, :class:`~services.issuer.app.IssuerApp` run until a signal."""

from __future__ import annotations

import asyncio

from microcred.lifecycle import serve_until_signal
from services.issuer.app import SERVICE_NAMES, IssuerApp
from services.issuer.config import Settings

__all__ = ["SERVICE_NAMES", "main", "serve"]


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then stop gracefully."""
    await serve_until_signal("issuer", lambda: IssuerApp(settings), log_level=settings.log_level,
                             metrics_port=settings.metrics_port, metrics_host=settings.metrics_host)


def main() -> None:
    """Console entry point."""
    asyncio.run(serve(Settings()))  # required fields come from the environment


if __name__ == "__main__":
    main()
