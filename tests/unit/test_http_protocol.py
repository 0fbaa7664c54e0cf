"""The coalescing transport (microcred.http_protocol): writes of one event-loop turn go out as one, in order,
and nothing queued is lost at a close."""

from __future__ import annotations

import asyncio
from typing import Any

from microcred.http_protocol import CoalescingTransport


class RecordingTransport:
    """What the wrapped transport was asked to do, call by call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def writelines(self, chunks: list[bytes]) -> None:
        self.calls.append(("writelines", list(chunks)))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append(("write_eof", None))

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def _wrapped() -> tuple[CoalescingTransport, RecordingTransport]:
    inner = RecordingTransport()
    return CoalescingTransport(inner, asyncio.get_running_loop()), inner  # type: ignore[arg-type]


async def test_the_head_and_the_body_of_one_turn_go_out_in_one_call_at_its_end() -> None:
    transport, inner = _wrapped()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert inner.calls == []  # not before the turn ends
    assert transport.get_write_buffer_size() == 38 + 2 + 7
    await asyncio.sleep(0)
    assert inner.calls == [("writelines", [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", b"{}"])]


async def test_each_turn_is_flushed_on_its_own_and_in_order() -> None:
    transport, inner = _wrapped()
    transport.write(b"one")
    await asyncio.sleep(0)
    transport.writelines([b"two", b"", b"three"])
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # nothing queued: no empty write
    assert inner.calls == [("write", b"one"), ("writelines", [b"two", b"three"])]


async def test_a_close_sends_what_was_queued_first_and_nothing_is_written_after() -> None:
    transport, inner = _wrapped()
    transport.write(b"last answer")
    transport.close()
    transport.write(b"too late")
    await asyncio.sleep(0)
    assert inner.calls == [("write", b"last answer"), ("close", None)]


async def test_a_half_close_sends_what_was_queued_first() -> None:
    transport, inner = _wrapped()
    transport.write(b"a")
    transport.write(b"b")
    transport.write_eof()
    assert inner.calls == [("writelines", [b"a", b"b"]), ("write_eof", None)]


async def test_everything_else_is_the_wrapped_transports() -> None:
    transport, _ = _wrapped()
    assert transport.get_extra_info("peername") == "extra peername"
