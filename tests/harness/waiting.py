"""Poll until something holds: the one ``eventually()`` of the tests (read models, projections and services
catch up asynchronously, so a test waits for the state it expects instead of sleeping a fixed time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["eventually"]

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 30.0, message: str | Callable[[T], str] = "",
                     *, until: Callable[[T], object] = bool, interval: float = 0.1) -> T:
    """Await ``probe()`` until ``until(value)`` holds (by default: the value is truthy) and return that value.

    The probe runs at least once, and once more after each ``interval`` seconds; when ``timeout`` seconds have
    passed and it still does not hold, :class:`AssertionError` with ``message`` (a text, or a function of the
    last value, e.g. to show the last report).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            text = message(value) if callable(message) else message
            raise AssertionError(f"{text or 'condition not met'} (not reached within {timeout}s)")
        await asyncio.sleep(interval)
