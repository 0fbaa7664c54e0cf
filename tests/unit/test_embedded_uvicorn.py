"""uvicorn servers that run inside a service's event loop (the revocation service's status lists, the issuer's
REST API) leave the process's signal handling alone: SIGTERM must still reach the service's own shutdown."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from fastapi import FastAPI

from microcred.infra.platform import ensure_dev_pki
from services.issuer.api.rest_tls import RestServer


async def test_the_issuer_rest_server_installs_no_signal_handlers(tmp_path: Path) -> None:
    def own_handler(signum: int, frame: object) -> None:
        pass

    before = {sig: signal.signal(sig, own_handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server = RestServer(FastAPI(), "127.0.0.1", 0, ensure_dev_pki(tmp_path / "pki"))
        await server.start()
        try:
            await asyncio.sleep(0.1)
            assert signal.getsignal(signal.SIGINT) is own_handler
            assert signal.getsignal(signal.SIGTERM) is own_handler
        finally:
            await server.stop()
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
