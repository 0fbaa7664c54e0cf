"""Where credentials are rendered and signed: in the event loop's process, or in worker processes.

Signing is CPU work (about half a millisecond per credential with the template canonicaliser). With
``workers=0`` it runs inline, which is simplest and right for one core; with ``workers=N`` a chunk is split
across N spawned processes (never forked: the service runs gRPC and Kafka threads), so gRPC, Kafka and
Redis I/O in the main process overlap with signing on other cores. The issuer's key seed is passed to the
workers over the executor's private pipe; it never leaves the service's processes.

A credential asked for as an SD-JWT VC too is signed in that format by the same worker, in the same job
(:meth:`SigningPool.sign_formats`): ES256 with the key the worker derives from the same seed
(:func:`~services.issuer.adapters.document_signing.derive_document_key`), so no other private key travels; only
the public ``iss`` and ``x5c`` do, and the worker refuses to sign when the certificate does not certify the key
it derived. Signing SD-JWT VCs in the event loop's process took about 0.4 ms of its CPU per credential, which
made that process the bottleneck of mixed issuance (docs/performance.md).

The workers can fail: one may die (``BrokenProcessPool`` then fails every later job, for good) or hang (its jobs
never finish). Either way :meth:`SigningPool.sign` raises :class:`SigningUnavailable` (callers answer
UNAVAILABLE) and replaces the worker processes, killing the old ones, so the service signs again at the next
request instead of failing or waiting forever.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import multiprocessing
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from cryptography import x509

from microcred.credential.signing import IssueJob, render_and_sign, signing_stats, warm_up
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.sdjwt.issue import IssuerKey, SdJwtChunk, StatusReference, issue_micro_credential
from microcred.sdjwt.issuer_metadata import named
from services.issuer.adapters.document_signing import derive_document_key
from services.issuer.application.ports import SigningUnavailable

__all__ = ["SigningPool", "render_and_sign_formats"]

T = TypeVar("T")

#: SD-JWT VC keys this process derived, by (seed digest, iss, x5c): one per issuer key, a handful at most.
_document_keys: OrderedDict[tuple[bytes, str, tuple[str, ...]], IssuerKey] = OrderedDict()
_DOCUMENT_KEYS_KEPT = 64


def _document_key(seed: bytes, iss: str, x5c: tuple[str, ...]) -> IssuerKey:
    """The SD-JWT VC key derived from ``seed``, once its certificate (``x5c[0]``) is checked to certify it."""
    cache_key = (hashlib.sha256(seed).digest(), iss, x5c)
    kept = _document_keys.get(cache_key)
    if kept is not None:
        return kept
    key = derive_document_key(seed)
    if not x5c:
        raise ValueError("no x5c certificate for the SD-JWT VC key")
    certified = x509.load_der_x509_certificate(base64.b64decode(x5c[0])).public_key()
    if certified != key.public_key():
        raise ValueError("the x5c certificate does not certify the issuer's SD-JWT VC key")
    kept = _document_keys[cache_key] = named(IssuerKey(iss, key, x5c))  # as the issuer metadata names it
    while len(_document_keys) > _DOCUMENT_KEYS_KEPT:
        _document_keys.popitem(last=False)
    return kept


def render_and_sign_formats(jobs: Sequence[IssueJob], issuer: Mapping[str, Any], seed: bytes,
                            verification_method: str, created: str,
                            documents: SdJwtChunk) -> list[tuple[str, str, str, str]]:
    """:func:`~microcred.credential.signing.render_and_sign`, plus the SD-JWT VC of each job that
    ``documents`` asks one for: ``(signed JSON, SD-JWT VC or "", error, SD-JWT error)`` per job, in order
    (a credential whose SD-JWT VC fails is reported with both texts empty: nothing half-issued)."""
    signed = render_and_sign(jobs, issuer, seed, verification_method, created)
    key: IssuerKey | None = None
    key_error = ""
    if any(documents.jobs):
        try:
            key = _document_key(seed, documents.iss, documents.x5c)
        except ValueError as exc:
            key_error = str(exc)
    out: list[tuple[str, str, str, str]] = []
    for job, (text, error), wanted in zip(jobs, signed, documents.jobs, strict=True):
        if error or wanted is None:
            out.append((text, "", error, ""))
            continue
        try:
            if key is None:
                raise ValueError(key_error)
            mc = pb.MicroCredential.FromString(job.micro_credential)
            sd_jwt = issue_micro_credential(mc, issuer=key, now=documents.now, holder_jwk=wanted.holder_jwk,
                                            status=StatusReference(wanted.status_uri, wanted.status_idx)).compact
        except ValueError as exc:  # reported per item; never carries key material
            out.append(("", "", "", str(exc)))
            continue
        out.append((text, sd_jwt, "", ""))
    return out

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
        return await self._run(jobs, lambda part, _: render_and_sign(part, dict(issuer), seed, verification_method,
                                                                     created),
                               lambda part, _: (render_and_sign, part, dict(issuer), seed, verification_method,
                                                created))

    async def sign_formats(self, jobs: Sequence[IssueJob], issuer: Mapping[str, Any], seed: bytes,
                           verification_method: str, created: str,
                           documents: SdJwtChunk) -> list[tuple[str, str, str, str]]:
        """``(signed JSON, SD-JWT VC or "", error, SD-JWT error)`` per job, in order (see
        :func:`render_and_sign_formats`); the SD-JWT VCs are signed in the same worker job as their credential."""
        if len(documents.jobs) != len(jobs):
            raise ValueError("one SD-JWT entry (or None) per job")

        def part_of(start: int, end: int) -> SdJwtChunk:
            return documents._replace(jobs=documents.jobs[start:end])

        return await self._run(jobs, lambda part, at: render_and_sign_formats(
            part, dict(issuer), seed, verification_method, created, part_of(*at)),
            lambda part, at: (render_and_sign_formats, part, dict(issuer), seed, verification_method, created,
                              part_of(*at)))

    async def _run(self, jobs: Sequence[IssueJob], inline: Callable[[list[IssueJob], tuple[int, int]], list[T]],
                   call: Callable[[list[IssueJob], tuple[int, int]], tuple[Any, ...]]) -> list[T]:
        """Run ``inline`` here (no workers), or the function and arguments ``call`` gives per part of ``jobs``
        across the workers; results in job order."""
        if not jobs:
            return []
        if self._executor is None:
            return inline(list(jobs), (0, len(jobs)))
        parts = max(1, min(self.workers, len(jobs) // self._min))
        size = -(-len(jobs) // parts)
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            results = await asyncio.wait_for(asyncio.gather(*(
                loop.run_in_executor(executor, *call(list(jobs[i:i + size]), (i, min(i + size, len(jobs)))))
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
