"""The herd-privacy index allocator: random, never reused, block reservation, persisted as a bitmap."""

from __future__ import annotations

import secrets
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.status.allocator import IndexAllocator
from microcred.status.errors import ListFull


@settings(max_examples=100, deadline=None)
@given(data=st.data(), size=st.integers(min_value=1, max_value=3000))
def test_reserve_never_returns_used_or_duplicate_indexes(data: st.DataObject, size: int) -> None:
    used = data.draw(st.sets(st.integers(min_value=0, max_value=size - 1), max_size=size))
    allocator = IndexAllocator.from_used_indexes(size, used)
    free = size - len(used)
    if free == 0:
        with pytest.raises(ListFull):
            allocator.reserve(1)
        return
    count = data.draw(st.integers(min_value=1, max_value=free))
    picked = allocator.reserve(count)
    assert len(picked) == count == len(set(picked))
    assert all(0 <= i < size for i in picked)
    assert not set(picked) & used
    assert all(allocator.is_used(i) for i in picked)
    assert allocator.used == len(used) + count


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=600), block=st.integers(min_value=1, max_value=64))
def test_blocks_fill_a_small_list_exactly_then_list_full(size: int, block: int) -> None:
    allocator = IndexAllocator(size)
    seen: list[int] = []
    while allocator.available >= block:
        seen += allocator.reserve(block)
    remainder = allocator.available
    assert remainder == size % block
    with pytest.raises(ListFull) as info:
        allocator.reserve(block) if remainder else allocator.reserve(1)
    assert info.value.available == remainder
    if remainder:
        seen += allocator.reserve(block, partial=True)  # take what is left
    assert sorted(seen) == list(range(size))
    assert allocator.available == 0
    with pytest.raises(ListFull):
        allocator.reserve(1, partial=True)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=1, max_value=2000), data=st.data())
def test_state_survives_persistence(size: int, data: st.DataObject) -> None:
    allocator = IndexAllocator(size)
    allocator.reserve(data.draw(st.integers(min_value=1, max_value=size)))
    restored = IndexAllocator(size, allocator.to_bytes())
    assert restored.to_bytes() == allocator.to_bytes()
    assert restored.used == allocator.used
    if restored.available:
        assert not set(restored.reserve(restored.available)) & {
            i for i in range(size) if allocator.is_used(i)
        }


def test_bitmap_layout_matches_redis_setbit() -> None:
    allocator = IndexAllocator(16)
    allocator.mark_used(0)
    allocator.mark_used(9)
    allocator.mark_used(9)  # idempotent
    assert allocator.to_bytes() == b"\x80\x40"
    assert allocator.used == 2


def test_short_redis_value_is_zero_padded() -> None:
    allocator = IndexAllocator(131_072, b"\xff")  # Redis keeps only the bytes up to the highest SETBIT
    assert allocator.used == 8
    assert all(i >= 8 for i in allocator.reserve(100))


def test_invalid_state_is_refused() -> None:
    with pytest.raises(ValueError):
        IndexAllocator(8, b"\x00\x00")  # longer than the list
    with pytest.raises(ValueError):
        IndexAllocator(4, b"\x08")  # marks index 4 in a list of 4
    with pytest.raises(ValueError):
        IndexAllocator(0)
    with pytest.raises(ValueError):
        IndexAllocator(8).reserve(0)
    with pytest.raises(IndexError):
        IndexAllocator.from_used_indexes(8, [8])


def test_indexes_are_random_not_sequential() -> None:
    picked = IndexAllocator(131_072).reserve(64)
    assert picked != sorted(picked)
    assert max(picked) > 1000


def test_stays_fast_when_99_percent_full() -> None:
    size = 131_072
    free = set(secrets.SystemRandom().sample(range(size), size // 100))
    allocator = IndexAllocator.from_used_indexes(size, (i for i in range(size) if i not in free))
    started = time.perf_counter()
    picked: list[int] = []
    while allocator.available >= 100:
        picked += allocator.reserve(100)
    picked += allocator.reserve(100, partial=True)
    elapsed = time.perf_counter() - started
    assert sorted(picked) == sorted(free)
    assert elapsed < 2.0, f"draining a 99 %-full list took {elapsed:.2f}s"
    with pytest.raises(ListFull):
        allocator.reserve(1, partial=True)


def test_sparse_draw_falls_back_to_scanning_after_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    allocator = IndexAllocator.from_used_indexes(1000, [0])
    monkeypatch.setattr(secrets, "randbelow", lambda _n: 0)  # always the used index
    picked = allocator.reserve(10)
    assert len(set(picked)) == 10 and 0 not in picked
