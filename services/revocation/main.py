"""Revocation service entry point: settings and logging in, :class:`RevocationApp` run until a signal."""

from __future__ import annotations

import asyncio
import logging
import sys

from microcred.crypto.keystore import MissingKekError
from microcred.lifecycle import wait_for_shutdown_signal
from microcred.logs import configure_logging
from microcred.metrics import start_metrics_server
from microcred.telemetry import configure_telemetry
from services.revocation.app import SERVICE_NAMES, RevocationApp
from services.revocation.config import Settings

__all__ = ["SERVICE_NAMES", "main", "serve"]


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then stop gracefully."""
    configure_logging("revocation", settings.log_level)
    configure_telemetry("revocation")
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = RevocationApp(settings)
    try:
        await app.start()
        await wait_for_shutdown_signal()
    finally:
        await app.stop()


def main() -> None:
    """Console entry point; exits with status 2 when the key-encryption key is missing."""
    try:
        asyncio.run(serve(Settings()))
    except MissingKekError as exc:
        logging.getLogger("microcred.revocation").critical("cannot start: %s", exc)
        sys.exit(2)


if __name__ == "__main__":
    main()
