"""The per-client rate limit shared by every gateway worker and replica, with a local fallback.

:class:`SharedClientBuckets` takes each request's token from a :class:`BucketStore` that all gateway processes
share (Redis in production: :class:`services.verifier.adapters.rate_limit.RedisBucketStore`; the unit tests'
in-memory twin behind the same port), so ``rate`` and ``burst`` hold per client *in total*, however many
workers and replicas answer that client.

When the store does not answer within ``timeout`` (default 50 ms) or fails, the request is decided by this
process's own :class:`~.limits.ClientBuckets` (the limit is then per process again, as it was before the shared
one) and the store is left alone for ``pause`` seconds, so that while Redis is down or slow each request costs
a dictionary look-up, not a timeout. It **fails open to the local limit**, never closed: the limiter protects
the gateway from one client's excess, it is not a reason to refuse every client when Redis is away; a client
can then get at most (processes x) its limit, still bounded, and the shared limit returns by itself once the
store answers again. The fallback buckets start full when they are first used (a client gets one extra burst
per process at a failover).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from redis.exceptions import RedisError

from services.verifier.api.limits import ClientBuckets

__all__ = ["BucketStore", "SharedClientBuckets"]

log = logging.getLogger(__name__)


class BucketStore(Protocol):
    """Token buckets shared by every gateway process (the port; Redis in production)."""

    async def take(self, client: str, rate: float, burst: int) -> float:
        """Take one token from ``client``'s bucket (``rate`` a second, ``burst`` deep), atomically for every
        process that shares the store: 0 when taken, else the seconds until a token is available."""
        ...


class SharedClientBuckets:
    """Per-client buckets in a shared :class:`BucketStore`, falling back to local ones (see the module docstring)."""

    def __init__(self, store: BucketStore, rate: float, burst: int, *, timeout: float = 0.05, pause: float = 1.0,
                 local: ClientBuckets | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.rate, self.burst = store, rate, burst
        self.timeout, self.pause, self.clock = timeout, pause, clock
        self.local = local or ClientBuckets(rate, burst, clock=clock)
        self.fallbacks = 0
        """How many requests the local buckets decided because the store failed or was skipped."""
        self._skip_until = -1.0

    async def take(self, client: str) -> float:
        """Take a token for ``client``: 0 when allowed, else the seconds until one is available."""
        if self.clock() >= self._skip_until:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self.store.take(client, self.rate, self.burst)
            except (RedisError, OSError, TimeoutError) as exc:
                # never the client address in the log (personal data): only what failed
                log.warning("shared rate limit unavailable, local buckets for %.1f s", self.pause,
                            extra={"error": type(exc).__name__})
                self._skip_until = self.clock() + self.pause
        self.fallbacks += 1
        return self.local.take(client)
