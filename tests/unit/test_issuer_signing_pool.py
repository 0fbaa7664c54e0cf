"""Signing workers that die or hang are replaced: the chunk that met them answers UNAVAILABLE, the next is signed.

Real worker processes (spawned, as in the service). Before, a dead worker left a ``BrokenProcessPool`` that failed
every later chunk for good, and a hung one kept its chunk (and with it the batch stream) waiting forever.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from microcred.credential.signing import IssueJob
from services.issuer.adapters.signing import SigningPool
from services.issuer.application.ports import SigningUnavailable
from tests.harness.factories import valid_micro_credential
from tests.processes import process_state

ISSUER = {"id": "did:web:issuer.example", "type": ["Profile"], "name": "Issuer"}


def jobs(n: int) -> list[IssueJob]:
    mc = valid_micro_credential().SerializeToString()
    return [IssueJob(mc, f"urn:uuid:00000000-0000-4000-8000-{i:012d}", (), datetime(2026, 1, 1, tzinfo=UTC), "salt")
            for i in range(n)]


async def sign(pool: SigningPool, n: int = 4) -> list[tuple[str, str]]:
    return await pool.sign(jobs(n), ISSUER, bytes(32), "did:web:issuer.example#key-1", "2026-01-01T00:00:00Z")


def _dies(pid: int, timeout: float) -> bool:
    """Whether ``pid`` is gone or dead (a zombie) within ``timeout`` seconds. Read from /proc rather than with
    ``Process.is_alive``: once another thread (the executor's own) has reaped the child, ``is_alive`` of a second
    handle can no longer tell, and says True."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_state(pid) in ("?", "Z", "X"):  # gone, or dead and not yet reaped
            return True
        time.sleep(0.05)
    return False


def workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if "SpawnProcess" in p.name]


@pytest.fixture
async def pool() -> AsyncIterator[SigningPool]:
    signing = SigningPool(1, min_jobs_per_worker=1, timeout=15.0)  # new workers start within it, even loaded
    await signing.start()
    try:
        yield signing
    finally:
        for process in workers():  # a stopped worker must not outlive the test
            os.kill(process.pid, signal.SIGCONT)
        await signing.close()


async def test_a_dead_worker_is_replaced(pool: SigningPool) -> None:
    assert len(await sign(pool)) == 4
    [worker] = workers()
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(10)
    with pytest.raises(SigningUnavailable):
        await sign(pool)
    assert len(await sign(pool)) == 4  # new workers sign the retry
    assert pool.replacements == 1


async def test_a_hung_worker_is_killed_and_replaced(pool: SigningPool) -> None:
    assert len(await sign(pool)) == 4
    [worker] = workers()
    os.kill(worker.pid, signal.SIGSTOP)  # alive, but it never answers
    with pytest.raises(SigningUnavailable):
        await sign(pool)
    assert _dies(worker.pid, 10), "the hung worker was not killed"  # killed, not left behind
    assert len(await sign(pool)) == 4
    assert pool.replacements == 1
