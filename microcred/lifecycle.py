"""Process lifecycle shared by the services: dependency checks at start and a signal-driven stop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis


async def wait_for_shutdown_signal() -> signal.Signals:
    """Return when the process receives SIGINT or SIGTERM (the handlers are removed again)."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(sig: signal.Signals) -> None:
        if not received.done():
            received.set_result(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await received
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


#: Seconds a Redis reply may take. Generous: the largest replies are whole-fetch transactions of a replay.
REDIS_SOCKET_TIMEOUT = 30.0


async def connect_redis(url: str, attempts: int = 50, socket_timeout: float = REDIS_SOCKET_TIMEOUT) -> Redis:
    """Connect to Redis and PING it, retrying briefly; raise when it never answers.

    Every reply is awaited at most ``socket_timeout`` seconds: a Redis that stops answering fails the
    call (retriable) instead of holding a request, a batch chunk or a consumer forever (issue 13).
    """
    redis = Redis.from_url(url, decode_responses=False, socket_timeout=socket_timeout,
                           socket_connect_timeout=5.0)
    for attempt in range(attempts):
        try:
            await redis.ping()
            return redis
        except Exception:  # connection refused, loading dataset, ...: retry until attempts run out
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.2)
    return redis


class Service(Protocol):
    """What a gRPC service's composition root offers: start everything, stop everything."""

    async def start(self) -> None:
        """Connect and start serving."""
        ...

    async def stop(self) -> None:
        """Stop serving and disconnect (also after a failed start)."""
        ...


async def serve_until_signal(name: str, make_app: Callable[[], Service], *, log_level: str, metrics_port: int,
                             metrics_host: str) -> None:
    """Logging, tracing and metrics for service ``name``, then the app ``make_app`` builds (after them, so that
    what it builds is instrumented), run until SIGINT/SIGTERM and stopped."""
    # Imported here: the lifecycle helpers above are used by processes that configure none of these.
    from microcred.logs import configure_logging
    from microcred.metrics import start_metrics_server
    from microcred.telemetry import configure_telemetry

    log = configure_logging(name, log_level)
    configure_telemetry(name)
    start_metrics_server(metrics_port, metrics_host)
    app = make_app()
    try:
        await app.start()
        await wait_for_shutdown_signal()
    finally:
        await app.stop()
        log.info(f"{name} stopped")
