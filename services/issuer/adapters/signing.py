"""Where credentials are rendered and signed: in the event loop's process, or in worker processes.

Signing is CPU work (about half a millisecond per credential with the template canonicaliser). With
``workers=0`` it runs inline, which is simplest and right for one core; with ``workers=N`` a chunk is split
across N spawned processes (never forked: the service runs gRPC and Kafka threads), so gRPC, Kafka and
Redis I/O in the main process overlap with signing on other cores. The issuer's key seed is passed to the
workers over the executor's private pipe; it never leaves the service's processes.

The workers can fail: one may die (``BrokenProcessPool`` then fails every later job, for good) or hang (its jobs
never finish). Either way :meth:`SigningPool.sign` raises :class:`SigningUnavailable` (callers answer
UNAVAILABLE) and replaces the worker processes, killing the old ones, so the service signs again at the next
request instead of failing or waiting forever.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from microcred.credential.signing import IssueJob, render_and_sign, signing_stats, warm_up
from services.issuer.application.ports import SigningUnavailable

__all__ = ["SigningPool"]

log = logging.getLogger(__name__)


class SigningPool:
    """Runs :func:`microcred.credential.signing.render_and_sign` inline or across worker processes."""

    def __init__(self, workers: int = 0, min_jobs_per_worker: int = 8, timeout: float = 30.0) -> None:
        self.workers = workers
        self._min = min_jobs_per_worker
        self._timeout = timeout
        self.replacements = 0
        self._executor: ProcessPoolExecutor | None = self._new_executor() if workers > 0 else None

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up)

    async def start(self) -> None:
        """Start the workers now (each imports and warms up once) instead of on the first request."""
        if self._executor is None:
            warm_up()
            return
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._executor, warm_up) for _ in range(self.workers)))

    async def sign(self, jobs: Sequence[IssueJob], issuer: Mapping[str, Any], seed: bytes,
                   verification_method: str, created: str) -> list[tuple[str, str]]:
        """``(signed JSON, "")`` or ``("", error)`` per job, in order."""
        if not jobs:
            return []
        if self._executor is None:
            return render_and_sign(jobs, issuer, seed, verification_method, created)
        parts = max(1, min(self.workers, len(jobs) // self._min))
        size = -(-len(jobs) // parts)
        loop = asyncio.get_running_loop()
        issuer_dict = dict(issuer)
        executor = self._executor
        try:
            results = await asyncio.wait_for(asyncio.gather(*(
                loop.run_in_executor(executor, render_and_sign, list(jobs[i:i + size]), issuer_dict, seed,
                                     verification_method, created)
                for i in range(0, len(jobs), size)
            )), self._timeout)
        except (BrokenProcessPool, TimeoutError) as exc:
            reason = "a worker died" if isinstance(exc, BrokenProcessPool) else f"no result within {self._timeout:g}s"
            self._replace(executor, reason)
            raise SigningUnavailable(f"signing workers failed ({reason}); they were replaced, retry") from None
        return [item for part in results for item in part]

    def _replace(self, executor: ProcessPoolExecutor, reason: str) -> None:
        """Swap in new workers (once per failed executor, however many chunks saw it fail) and kill the old."""
        if executor is not self._executor:
            return
        log.error("signing workers replaced", extra={"reason": reason, "workers": self.workers})
        self.replacements += 1
        self._executor = self._new_executor()
        _kill(executor)
        # Start (spawn and warm up) the new workers now rather than inside the next chunk's time limit.
        loop = asyncio.get_running_loop()
        for _ in range(self.workers):
            loop.run_in_executor(self._executor, warm_up).add_done_callback(_ignore_result)

    async def stats(self) -> list[dict[str, float]]:
        """:func:`~microcred.credential.signing.signing_stats` of each process that signs (for metrics and the
        benchmark; with workers, one sample per worker task, so a worker may report twice)."""
        if self._executor is None:
            return [signing_stats()]
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(self._executor, signing_stats)
                                           for _ in range(self.workers))))

    async def close(self) -> None:
        """Stop the workers (without waiting on the event loop for one that hangs: it is killed)."""
        if self._executor is not None:
            _kill(self._executor)
            self._executor = None


def _ignore_result(future: asyncio.Future[Any]) -> None:
    """Fetch a fire-and-forget warm-up's outcome (a failure shows again at the next real job)."""
    if not future.cancelled():
        future.exception()


def _kill(executor: ProcessPoolExecutor) -> None:
    """Shut ``executor`` down without waiting, and kill its worker processes (a hung one never exits by itself).

    ``ProcessPoolExecutor`` offers no public way to reach its processes; ``_processes`` (pid -> Process) has been
    there since Python 3.2. Pending jobs are not cancelled (a cancelled job would read as a cancelled caller): the
    executor's own thread notices the dead workers and fails them with ``BrokenProcessPool``."""
    processes = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False)
    for process in processes:
        if process.is_alive():
            process.kill()
