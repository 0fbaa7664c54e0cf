"""Redis connections that write a command without starting a task for it, packed by hiredis.

Why hand-written: redis-py (8.1) sends every command of an asyncio connection with ``socket_timeout`` set
through ``asyncio.wait_for(self._send_packed_command(...), socket_timeout)``; on Python 3.11 ``wait_for`` wraps
the coroutine in a new :class:`asyncio.Task` and schedules it, for a write that almost never waits (the bytes go
into the transport's buffer; ``drain`` only waits while the buffer is over its high-water mark). Measured on the
2-core machine, one sequential ``GET`` over loopback: 111 µs of client CPU with the timeout, 58 µs without
(docs/performance.md). Upstream has no option for it (redis/redis-py#3436 proposes a separate command timeout).

:class:`PromptSend` keeps the same contract: the write is bounded by the same ``socket_timeout`` (now through
``asyncio.timeout``, a timer handle instead of a task), and a timeout, an ``OSError`` or a cancellation closes the
connection and raises what redis-py raises (``TimeoutError("Timeout writing to socket")``, ``ConnectionError``).
Reads are untouched. :func:`prompt_connection_class` maps redis-py's classes (TCP, TLS, Unix socket) to these.

Packing: redis-py's synchronous client packs commands with hiredis's C ``pack_command`` when hiredis is installed
(as it is here: ``redis[hiredis]``); its asyncio client still packs in Python (redis/redis-py#4176), which was
5-8 % of the issuer's CPU when it writes a cohort's offers. :meth:`PromptSend.pack_command` packs as the
synchronous client does (same bytes; a multi-word command name split first; anything hiredis cannot encode is a
``DataError``), when the connection encodes text as UTF-8, strictly (the default); otherwise redis-py's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import hiredis
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["PromptConnection", "PromptSSLConnection", "PromptSend", "PromptUnixConnection",
           "prompt_connection_class"]


class PromptSend(AbstractConnection):
    """Mixin: :meth:`send_packed_command` without a task per command, :meth:`pack_command` by hiredis (see the
    module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # hiredis encodes text as UTF-8, strictly: with another encoding redis-py packs (decided once, not per call)
        self._hiredis_packs = (self.encoder.encoding.lower().replace("-", "") == "utf8"
                               and self.encoder.encoding_errors == "strict")

    def pack_command(self, *args: Any) -> list[bytes]:
        """One command in the Redis protocol (what redis-py's packer gives, built in C)."""
        if not self._hiredis_packs:
            return super().pack_command(*args)
        if isinstance(args[0], str):  # 'CONFIG GET': the server expects the words as separate arguments
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError as exc:  # a bool, None or another type redis-py refuses as well
            raise DataError(f"Invalid input of type {', '.join(sorted({type(a).__name__ for a in args}))}: "
                            f"{exc}") from None

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        """Write ``command`` (already packed), connecting first if needed; wait for the buffer to drain at most
        ``socket_timeout`` seconds."""
        if not self.socket_timeout:  # no timeout: redis-py writes directly, nothing to save
            await super().send_packed_command(command, check_health)
            return
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]
        if isinstance(command, str):
            command = command.encode()
        if isinstance(command, bytes):
            command = [command]
        writer: Any = self._writer  # set by connect
        try:
            writer.writelines(command)
            async with asyncio.timeout(self.socket_timeout):
                await writer.drain()
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
        except BaseException:  # cancelled mid-write: the stream's state is unknown, as redis-py reasons
            await self.disconnect(nowait=True)
            raise


class PromptConnection(PromptSend, Connection):
    """TCP (``redis://``)."""


class PromptSSLConnection(PromptSend, SSLConnection):
    """TLS (``rediss://``)."""


class PromptUnixConnection(PromptSend, UnixDomainSocketConnection):
    """Unix socket (``unix://``)."""


_PROMPT: dict[type[Any], type[Any]] = {
    Connection: PromptConnection, SSLConnection: PromptSSLConnection,
    UnixDomainSocketConnection: PromptUnixConnection,
}


def prompt_connection_class(cls: type[Any]) -> type[Any]:
    """The prompt variant of redis-py's connection class ``cls`` (an unknown class is returned unchanged)."""
    return _PROMPT.get(cls, cls)
