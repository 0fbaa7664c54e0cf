"""A Redis that stops answering fails a call within the socket timeout instead of holding it forever (issue 13)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.exceptions
from redis.asyncio import Redis

from microcred.infra.redis_local import LocalRedis
from microcred.lifecycle import connect_redis

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def _frozen(tmp_path: Path) -> AsyncIterator[Redis]:
    """A client (1 s socket timeout) of a Redis holding ``k`` = ``v``, frozen (SIGSTOP) inside the block and
    thawed after it."""
    server = LocalRedis(tmp_path / "redis")
    server.start()
    try:
        client = await connect_redis(server.url, socket_timeout=1.0)
        await client.set(b"k", b"v")
        assert server.process is not None
        os.killpg(server.process.pid, signal.SIGSTOP)
        try:
            yield client
        finally:
            os.killpg(server.process.pid, signal.SIGCONT)
            await asyncio.sleep(0)
        assert await client.get(b"k") == b"v"  # serving again, on a new connection if the old one was closed
        await client.aclose()
    finally:
        server.stop()


async def test_a_frozen_redis_fails_the_call_within_the_timeout_and_serves_again_after(tmp_path: Path) -> None:
    async with _frozen(tmp_path) as client:
        started = time.monotonic()
        with pytest.raises((redis.exceptions.TimeoutError, asyncio.TimeoutError)):
            await asyncio.wait_for(client.get(b"k"), timeout=30)
        assert time.monotonic() - started < 20, "the call must end on the client's socket timeout"


async def test_a_write_to_a_redis_that_does_not_read_fails_within_the_timeout_and_the_connection_is_replaced(
        tmp_path: Path) -> None:
    """The prompt send (``microcred.storage.prompt_send``) keeps redis-py's write timeout: a command larger than
    the socket buffers, to a Redis that does not read, fails as ``Timeout writing to socket``."""
    async with _frozen(tmp_path) as client:
        started = time.monotonic()
        with pytest.raises(redis.exceptions.TimeoutError, match="writing"):
            await asyncio.wait_for(client.set(b"big", b"x" * (64 << 20)), timeout=30)
        assert time.monotonic() - started < 10, "the write must end on the client's socket timeout"
    # (the half-written connection was closed: _frozen's read after the thaw went on a new one)
