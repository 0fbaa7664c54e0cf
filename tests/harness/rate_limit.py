"""The in-memory twin of the gateway's shared token buckets (unit tests only), behind the same port.

:class:`MemoryBucketStore` is what :class:`services.verifier.adapters.rate_limit.RedisBucketStore` is, in one
dictionary: every :class:`MemoryBucketStore` made with the same ``shared`` dictionary is one more "replica"
of the same store. Its clock is the test's (Redis uses its own ``TIME``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from services.verifier.api.limits import TokenBucket

__all__ = ["FailingStore", "MemoryBucketStore", "SlowStore"]


class MemoryBucketStore:
    """Token buckets in a dictionary shared by every store built over it (``BucketStore``)."""

    def __init__(self, shared: dict[str, TokenBucket] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.buckets: dict[str, TokenBucket] = {} if shared is None else shared
        self.clock = clock
        self.calls = 0

    def replica(self) -> MemoryBucketStore:
        """Another store over the same buckets (what a second gateway replica sees)."""
        return MemoryBucketStore(self.buckets, self.clock)

    async def take(self, client: str, rate: float, burst: int) -> float:
        self.calls += 1
        now = self.clock()
        bucket = self.buckets.get(client)
        if bucket is None:
            bucket = self.buckets[client] = TokenBucket(rate, burst, now)
        bucket.rate, bucket.burst = rate, burst
        return bucket.take(now)


class FailingStore:
    """A store whose Redis is gone: every call raises ``exc``."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.calls = 0

    async def take(self, client: str, rate: float, burst: int) -> float:
        self.calls += 1
        raise self.exc


class SlowStore:
    """A store that answers after ``delay`` seconds (a Redis that is slow, or a network that drops packets)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0

    async def take(self, client: str, rate: float, burst: int) -> float:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return 0.0
