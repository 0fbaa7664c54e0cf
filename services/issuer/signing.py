"""Where credentials are rendered and signed: in the event loop's process, or in worker processes.

Signing is CPU work (about half a millisecond per credential with the template canonicaliser). With
``workers=0`` it runs inline, which is simplest and right for one core; with ``workers=N`` a chunk is split
across N spawned processes (never forked: the service runs gRPC and Kafka threads), so gRPC, Kafka and
Redis I/O in the main process overlap with signing on other cores. The issuer's key seed is passed to the
workers over the executor's private pipe; it never leaves the service's processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from microcred.credential.signing import IssueJob, render_and_sign, signing_stats, warm_up

__all__ = ["SigningPool"]


class SigningPool:
    """Runs :func:`microcred.credential.signing.render_and_sign` inline or across worker processes."""

    def __init__(self, workers: int = 0, min_jobs_per_worker: int = 8) -> None:
        self.workers = workers
        self._min = min_jobs_per_worker
        self._executor: ProcessPoolExecutor | None = None
        if workers > 0:
            self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=warm_up)

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
        results = await asyncio.gather(*(
            loop.run_in_executor(self._executor, render_and_sign, list(jobs[i:i + size]), issuer_dict, seed,
                                 verification_method, created)
            for i in range(0, len(jobs), size)
        ))
        return [item for part in results for item in part]

    async def stats(self) -> list[dict[str, float]]:
        """:func:`~microcred.credential.signing.signing_stats` of each process that signs (for metrics and the
        benchmark; with workers, one sample per worker task, so a worker may report twice)."""
        if self._executor is None:
            return [signing_stats()]
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(self._executor, signing_stats)
                                           for _ in range(self.workers))))

    async def close(self) -> None:
        """Stop the workers."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
