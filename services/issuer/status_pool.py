"""Status-list indexes for new credentials: reserved in blocks from the revocation service, handed out locally.

Every credential gets one revocation and one suspension ``BitstringStatusListEntry``. Asking the revocation
service per credential would add a round trip (and an event) to every issuance, so :class:`StatusIndexPool`
keeps a per-issuer pool of reserved (revocation, suspension) pairs, refills it in blocks and starts the next
reservation in the background when the pool falls below a low-water mark. Indexes left in a pool when the
process stops are simply never used (lists are large and indexes random, so nothing leaks).

:class:`StatusIndexSource` is the port; :class:`GrpcStatusIndexSource` calls
``RevocationService.ReserveStatusIndexes`` over mTLS with the issuer service's own ``service`` certificate;
:class:`InMemoryStatusIndexSource` is the twin for unit tests.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Sequence
from typing import Protocol

from microcred.gen.microcred.v1 import revocation_pb2, revocation_pb2_grpc, status_pb2
from microcred.status.allocator import IndexAllocator
from microcred.status.check import MIN_ENTRIES

__all__ = [
    "GrpcStatusIndexSource",
    "InMemoryStatusIndexSource",
    "StatusIndexPool",
    "StatusIndexSource",
    "StatusIndexUnavailable",
    "StatusPair",
]

log = logging.getLogger(__name__)

#: (revocation entry, suspension entry) of one credential.
StatusPair = tuple[status_pb2.StatusEntry, status_pb2.StatusEntry]
PURPOSES = (status_pb2.STATUS_PURPOSE_REVOCATION, status_pb2.STATUS_PURPOSE_SUSPENSION)
#: Largest block the revocation service hands out per request and purpose.
MAX_RESERVATION = 10_000


class StatusIndexUnavailable(Exception):
    """Indexes could not be reserved (revocation service down or refusing); issuing must wait."""


class StatusIndexSource(Protocol):
    """Port: reserves ``count`` fresh (revocation, suspension) entry pairs for an issuer."""

    async def reserve(self, issuer_id: str, count: int) -> list[StatusPair]:
        """Reserve ``count`` pairs (raise :class:`StatusIndexUnavailable` when that is impossible)."""
        ...


def _pairs(blocks: Sequence[status_pb2.StatusIndexBlock]) -> list[StatusPair]:
    by_purpose = {b.status_purpose: b for b in blocks}
    if set(by_purpose) != set(PURPOSES):
        raise StatusIndexUnavailable("reservation did not return one block per purpose")
    revocation, suspension = by_purpose[PURPOSES[0]], by_purpose[PURPOSES[1]]
    if len(revocation.indexes) != len(suspension.indexes):
        raise StatusIndexUnavailable("reservation returned blocks of different sizes")

    def entry(block: status_pb2.StatusIndexBlock, index: int) -> status_pb2.StatusEntry:
        return status_pb2.StatusEntry(status_list_id=block.status_list_id, status_list_index=index,
                                      status_purpose=block.status_purpose,
                                      status_list_credential=block.status_list_credential)

    return [(entry(revocation, r), entry(suspension, s))
            for r, s in zip(revocation.indexes, suspension.indexes, strict=True)]


class GrpcStatusIndexSource:
    """Reserves through ``RevocationService.ReserveStatusIndexes`` (the channel carries our client certificate)."""

    def __init__(self, stub: revocation_pb2_grpc.RevocationServiceStub, timeout: float = 30.0) -> None:
        self._stub = stub
        self._timeout = timeout

    async def reserve(self, issuer_id: str, count: int) -> list[StatusPair]:
        """Reserve ``count`` pairs, in requests of at most :data:`MAX_RESERVATION`."""
        out: list[StatusPair] = []
        while len(out) < count:
            size = min(MAX_RESERVATION, count - len(out))
            request = revocation_pb2.ReserveStatusIndexesRequest(issuer_id=issuer_id, status_purposes=list(PURPOSES),
                                                                 count=size)
            try:
                reply = await self._stub.ReserveStatusIndexes(request, timeout=self._timeout)
            except Exception as exc:  # grpc.aio.AioRpcError and connection failures alike
                raise StatusIndexUnavailable(f"revocation service: {exc}") from exc
            out += _pairs(reply.blocks)
        return out


class InMemoryStatusIndexSource:
    """Twin of the revocation service's reservations: one list per issuer and purpose, random indexes."""

    def __init__(self, base_url: str = "https://status.example.test/lists", list_size: int = MIN_ENTRIES) -> None:
        self.base_url = base_url.rstrip("/")
        self.list_size = list_size
        self.reservations = 0
        self.fail_next: Exception | None = None
        self._allocators: dict[tuple[str, int], IndexAllocator] = {}

    async def reserve(self, issuer_id: str, count: int) -> list[StatusPair]:
        """Reserve ``count`` pairs (or raise ``fail_next`` once)."""
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.reservations += 1
        blocks = []
        for purpose in PURPOSES:
            allocator = self._allocators.setdefault((issuer_id, purpose), IndexAllocator(self.list_size))
            name = status_pb2.StatusPurpose.Name(purpose).removeprefix("STATUS_PURPOSE_").lower()
            list_id = f"{issuer_id}-{name}-1"
            blocks.append(status_pb2.StatusIndexBlock(status_list_id=list_id, status_purpose=purpose,
                                                      status_list_credential=f"{self.base_url}/{list_id}",
                                                      indexes=allocator.reserve(count)))
        return _pairs(blocks)


class StatusIndexPool:
    """Per-issuer pools of reserved entry pairs, refilled in blocks, prefetched below a low-water mark."""

    def __init__(self, source: StatusIndexSource, block_size: int = 1000, low_water: float = 0.5) -> None:
        if block_size <= 0 or not 0 <= low_water < 1:
            raise ValueError("block_size must be positive and low_water in [0, 1)")
        self._source = source
        self._block = block_size
        self._low = int(block_size * low_water)
        self._pools: dict[str, collections.deque[StatusPair]] = collections.defaultdict(collections.deque)
        self._refills: dict[str, asyncio.Task[None]] = {}

    def available(self, issuer_id: str) -> int:
        """Pairs ready for ``issuer_id`` right now."""
        return len(self._pools[issuer_id])

    async def take(self, issuer_id: str, count: int) -> list[StatusPair]:
        """``count`` unused pairs for ``issuer_id`` (waits for a reservation only when the pool runs dry)."""
        pool = self._pools[issuer_id]
        while len(pool) < count:
            await self._refill(issuer_id, count - len(pool))
        taken = [pool.popleft() for _ in range(count)]
        if len(pool) <= self._low and issuer_id not in self._refills:
            self._start_refill(issuer_id, self._block)
        return taken

    async def close(self) -> None:
        """Cancel background reservations."""
        for task in list(self._refills.values()):
            task.cancel()
        await asyncio.gather(*self._refills.values(), return_exceptions=True)
        self._refills.clear()

    def _start_refill(self, issuer_id: str, need: int) -> asyncio.Task[None]:
        task = asyncio.create_task(self._reserve(issuer_id, max(self._block, need)),
                                   name=f"status-refill-{issuer_id}")
        self._refills[issuer_id] = task
        task.add_done_callback(lambda t: self._refill_done(issuer_id, t))
        return task

    def _refill_done(self, issuer_id: str, task: asyncio.Task[None]) -> None:
        if self._refills.get(issuer_id) is task:
            del self._refills[issuer_id]
        if not task.cancelled() and task.exception() is not None:
            log.warning("status index prefetch failed", extra={"issuer_id": issuer_id,
                                                                "error": repr(task.exception())})

    async def _refill(self, issuer_id: str, need: int) -> None:
        task = self._refills.get(issuer_id)
        if task is None or task.done():
            # A finished reservation stays in ``_refills`` until its done-callback runs, and that runs only once
            # the event loop gets a turn. Awaiting a finished task does not give it one, so a taker that needs
            # more than that reservation brought would spin in ``take`` forever, holding the whole event loop
            # (issue 13: the issuer stopped answering everything under a leader kill). Start the next one.
            task = self._start_refill(issuer_id, need)
        await asyncio.shield(task)  # raises the reservation's error to every waiter

    async def _reserve(self, issuer_id: str, count: int) -> None:
        pairs = await self._source.reserve(issuer_id, count)
        self._pools[issuer_id].extend(pairs)
