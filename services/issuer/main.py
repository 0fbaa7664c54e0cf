"""Issuer service entry point: settings and logging in, :class:`~services.issuer.app.IssuerApp` run until a signal."""

from __future__ import annotations

import asyncio

from microcred.lifecycle import wait_for_shutdown_signal
from microcred.logs import configure_logging
from microcred.metrics import start_metrics_server
from microcred.telemetry import configure_telemetry
from services.issuer.app import SERVICE_NAMES, IssuerApp
from services.issuer.config import Settings

__all__ = ["SERVICE_NAMES", "main", "serve"]


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then stop gracefully."""
    log = configure_logging("issuer", settings.log_level)
    configure_telemetry("issuer")
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = IssuerApp(settings)
    try:
        await app.start()
        await wait_for_shutdown_signal()
    finally:
        await app.stop()
        log.info("issuer stopped")


def main() -> None:
    """Console entry point."""
    asyncio.run(serve(Settings()))  # required fields come from the environment


if __name__ == "__main__":
    main()
