"""Revocation service entry point: settings and logging in, :class:`RevocationApp` run until a signal."""

from __future__ import annotations

import asyncio
import logging
import sys

from microcred.crypto.keystore import MissingKekError
from microcred.lifecycle import serve_until_signal
from services.revocation.app import SERVICE_NAMES, RevocationApp
from services.revocation.config import Settings

__all__ = ["SERVICE_NAMES", "main", "serve"]


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then stop gracefully."""
    await serve_until_signal("revocation", lambda: RevocationApp(settings), log_level=settings.log_level,
                             metrics_port=settings.metrics_port, metrics_host=settings.metrics_host)


def main() -> None:
    """Console entry point; exits with status 2 when the key-encryption key is missing."""
    try:
        asyncio.run(serve(Settings()))
    except MissingKekError as exc:
        logging.getLogger("microcred.revocation").critical("cannot start: %s", exc)
        sys.exit(2)


if __name__ == "__main__":
    main()
