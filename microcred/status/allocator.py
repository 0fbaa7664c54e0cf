"""Herd-privacy index allocation for a status list: random, never reused, reserved in blocks.

The Recommendation asks issuers to assign indexes randomly so that an index reveals nothing about the
order of issuance. :class:`IndexAllocator` draws uniformly among the *unused* indexes of a list with the
operating system's CSPRNG (:mod:`secrets`) and marks them used at once; an index is never handed out twice,
even after the credential holding it is revoked. When the list cannot satisfy a request it raises
:class:`~microcred.status.errors.ListFull` and the caller opens a new list.

State is a used-index bitmap in the same MSB-first layout as the status bitstring and Redis
``SETBIT``/``GETBIT``, so the revocation service can persist :meth:`IndexAllocator.to_bytes` as a Redis
string (and a shorter stored value, as Redis produces, is read back zero-padded).

Strategy: while the list is sparse, draw random positions and reject used ones (few retries). Once the
request would push it past half full, or retries run out, scan the bitmap for free positions (full bytes are
skipped by a C-level regex) and sample among them, so a 99 %-full list stays fast.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from microcred.status.bitstring import Bitstring
from microcred.status.errors import ListFull

__all__ = ["IndexAllocator"]

_NOT_FULL_BYTE = re.compile(rb"[^\xff]")
_SCAN_ABOVE_FILL = 0.5
_sampler = secrets.SystemRandom()


class IndexAllocator:
    """Hands out unused indexes of a list of ``size`` entries, at random, in blocks."""

    __slots__ = ("_used", "_used_count")

    def __init__(self, size: int, used: bytes | bytearray | None = None) -> None:
        """Start from the persisted bitmap ``used`` (None for a fresh list)."""
        if size <= 0:
            raise ValueError("list size must be positive")
        padded = bytearray((size + 7) // 8)
        if used:
            if len(used) > len(padded):
                raise ValueError(f"used bitmap of {len(used)} bytes is longer than a list of {size} entries")
            padded[: len(used)] = used
        self._used = Bitstring.from_bytes(padded, size)
        self._used_count = self._used.count()

    @classmethod
    def from_used_indexes(cls, size: int, indexes: Iterable[int]) -> IndexAllocator:
        """Build an allocator whose used set is ``indexes`` (each must lie in ``[0, size)``)."""
        allocator = cls(size)
        for index in indexes:
            allocator.mark_used(index)
        return allocator

    @property
    def size(self) -> int:
        """Number of indexes in the list."""
        return len(self._used)

    @property
    def used(self) -> int:
        """Number of indexes already handed out."""
        return self._used_count

    @property
    def available(self) -> int:
        """Number of indexes still free."""
        return self.size - self._used_count

    def is_used(self, index: int) -> bool:
        """Whether ``index`` has been handed out."""
        return self._used.get(index)

    def mark_used(self, index: int) -> None:
        """Record ``index`` as used (e.g. replaying an allocation event); idempotent."""
        if not self._used.get(index):
            self._used.set(index)
            self._used_count += 1

    def to_bytes(self) -> bytes:
        """The used-index bitmap, ready to persist."""
        return self._used.to_bytes()

    def reserve(self, count: int, *, partial: bool = False) -> list[int]:
        """Reserve ``count`` random unused indexes and mark them used.

        Raises :class:`ListFull` if fewer than ``count`` are free, unless ``partial`` is true, in which case
        whatever is left is returned (``ListFull`` only when nothing is). The order of the returned
        indexes is random too.
        """
        if count <= 0:
            raise ValueError("count must be positive")
        free = self.available
        if free == 0 or (count > free and not partial):
            raise ListFull(f"{free} of {self.size} indexes free, {count} requested", available=free)
        count = min(count, free)
        if (self._used_count + count) / self.size > _SCAN_ABOVE_FILL:
            picked = _sampler.sample(self._free_indexes(), count)
        else:
            picked = self._draw_sparse(count)
        for index in picked:
            self._used.set(index)
        self._used_count += len(picked)
        return picked

    def _draw_sparse(self, count: int) -> list[int]:
        picked: dict[int, None] = {}  # insertion-ordered set
        budget = 4 * count + 64
        while len(picked) < count and budget:
            budget -= 1
            index = secrets.randbelow(self.size)
            if not self._used.get(index):
                picked[index] = None
        if len(picked) < count:  # unlucky run of collisions: finish from the exact free set
            rest = [i for i in self._free_indexes() if i not in picked]
            picked.update(dict.fromkeys(_sampler.sample(rest, count - len(picked))))
        return list(picked)

    def _free_indexes(self) -> list[int]:
        data = self._used.to_bytes()
        size = self.size
        free: list[int] = []
        for match in _NOT_FULL_BYTE.finditer(data):
            byte_index = match.start()
            byte = data[byte_index]
            base = byte_index * 8
            free.extend(base + bit for bit in range(8) if not byte & (0x80 >> bit) and base + bit < size)
        return free

