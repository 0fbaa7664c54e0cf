"""Process lifecycle shared by the services: dependency checks at start and a signal-driven stop."""

from __future__ import annotations

import asyncio
import signal

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
