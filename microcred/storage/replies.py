"""Reading redis-py replies: one place for what every Redis adapter needs.

redis-py types each command as ``Awaitable[X] | X`` (the same client class serves sync and asyncio use) and,
without ``decode_responses``, answers bytes. :func:`awaited` resolves the first for mypy's sake, :func:`text`
decodes the second.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any

__all__ = ["awaited", "text"]


async def awaited(result: Awaitable[Any] | Any) -> Any:
    """Await a redis-py result (its stubs type commands as ``Awaitable[X] | X``; callers annotate X)."""
    if inspect.isawaitable(result):
        return await result
    return result


def text(value: bytes | str | None) -> str | None:
    """A Redis reply as text (UTF-8), None for a missing value."""
    return value.decode("utf-8") if isinstance(value, bytes) else value
