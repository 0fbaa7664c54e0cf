"""Where status-list indexes come from: reserved in blocks from the revocation service.

:class:`~services.issuer.application.ports.StatusIndexSource` is the port (the pool that hands the indexes out
is :class:`~services.issuer.application.status_indexes.StatusIndexPool`); :class:`GrpcStatusIndexSource` calls
``RevocationService.ReserveStatusIndexes`` over mTLS with the issuer service's own ``service`` certificate;
:class:`InMemoryStatusIndexSource` is the twin for unit tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from microcred.gen.microcred.v1 import revocation_pb2, revocation_pb2_grpc, status_pb2
from microcred.status.allocator import IndexAllocator
from microcred.status.check import MIN_ENTRIES
from services.issuer.application.ports import StatusIndexUnavailable, StatusPair

__all__ = ["GrpcStatusIndexSource", "InMemoryStatusIndexSource"]

log = logging.getLogger(__name__)

PURPOSES = (status_pb2.STATUS_PURPOSE_REVOCATION, status_pb2.STATUS_PURPOSE_SUSPENSION)
#: Largest block the revocation service hands out per request and purpose.
MAX_RESERVATION = 10_000


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
    """Twin of the revocation service's reservations: lists per issuer and purpose, random indexes.

    As the service does, it hands out blocks of at most :data:`MAX_RESERVATION`, each from one list, and opens
    the issuer's next list for a block the current one has no room for.
    """

    def __init__(self, base_url: str = "https://status.example.test/status", list_size: int = MIN_ENTRIES) -> None:
        """Lists are at ``{base_url}/{list id}``; the default has the service's layout (``{base}/status/{list id}``)."""
        self.base_url = base_url.rstrip("/")
        self.list_size = list_size
        self.reservations = 0
        self.fail_next: Exception | None = None
        self._lists: dict[tuple[str, int], tuple[str, IndexAllocator]] = {}

    async def reserve(self, issuer_id: str, count: int) -> list[StatusPair]:
        """Reserve ``count`` pairs (or raise ``fail_next`` once)."""
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        out: list[StatusPair] = []
        while len(out) < count:
            size = min(MAX_RESERVATION, count - len(out))
            self.reservations += 1
            out += _pairs([self._block(issuer_id, purpose, size) for purpose in PURPOSES])
        return out

    def _block(self, issuer_id: str, purpose: status_pb2.StatusPurpose, size: int) -> status_pb2.StatusIndexBlock:
        name = status_pb2.StatusPurpose.Name(purpose).removeprefix("STATUS_PURPOSE_").lower()
        current = self._lists.get((issuer_id, purpose))
        number = 1 if current is None else int(current[0].rsplit("-", 1)[1])
        if current is None or current[1].available < size:
            if current is not None:
                number += 1  # the rest of a list too full for the block stays unused, as in the service
            current = (f"{issuer_id}-{name}-{number}", IndexAllocator(self.list_size))
            self._lists[(issuer_id, purpose)] = current
        list_id, allocator = current
        return status_pb2.StatusIndexBlock(status_list_id=list_id, status_purpose=purpose,
                                           status_list_credential=f"{self.base_url}/{list_id}",
                                           indexes=allocator.reserve(size))
