"""uvicorn's httptools protocol with a response written in one send instead of two.

uvicorn writes a response's status line and headers when the application sends ``http.response.start`` and the
body when it sends ``http.response.body``: two ``transport.write`` calls, so two ``send`` system calls and two
TCP segments for every small JSON answer (measured at about 8 % of the verifier gateway's CPU per verification
under load, the same again in each client). :class:`CoalescingHttpToolsProtocol` hands the request cycle a
transport whose writes made during one turn of the event loop are gathered and written together at the end of
that turn (``writelines``: one ``writev``). Nothing waits longer than the current turn, order is kept, and a
close (or an abort's caller) sees everything written before it flushed first.

Used through uvicorn's own ``http=`` setting (a protocol class), so uvicorn still parses, limits and times
requests exactly as before; only the writes are coalesced.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingHttpToolsProtocol", "CoalescingTransport"]


class CoalescingTransport:
    """A transport whose writes within one event-loop turn go out as one ``writelines`` at the end of the turn.

    Everything else is the wrapped transport's (``__getattr__``); ``close`` and ``write_eof`` flush first.
    """

    __slots__ = ("_loop", "_pending", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Queue ``data``; the first write of a turn schedules the flush."""
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def writelines(self, chunks: Any) -> None:
        """Queue each chunk (as :meth:`write`)."""
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Write what is queued, now (nothing once the connection is closing: the bytes have nowhere to go)."""
        pending, self._pending = self._pending, []
        if not pending or self.transport.is_closing():
            return
        if len(pending) == 1:
            self.transport.write(pending[0])
        else:
            self.transport.writelines(pending)

    def get_write_buffer_size(self) -> int:
        """Bytes not yet sent: the queued ones and the transport's own buffer."""
        return sum(map(len, self._pending)) + self.transport.get_write_buffer_size()

    def close(self) -> None:
        """Flush, then close (the transport sends its buffer before closing)."""
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        """Flush, then half-close."""
        self.flush()
        self.transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` whose request cycles write through a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """As uvicorn's, then wrap the transport (uvicorn's flow control keeps the real one)."""
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
