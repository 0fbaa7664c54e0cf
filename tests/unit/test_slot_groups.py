"""SlotGroups: how a large read model's keys split over a Redis Cluster (microcred.storage.slot_groups)."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from microcred.storage.slot_groups import GROUPS_ON_CLUSTER, SlotGroups


def test_a_single_node_keeps_one_plain_group() -> None:
    groups = SlotGroups.for_client(Redis(), "issuer")
    assert groups.count == 1 and list(groups.groups) == [0]
    assert groups.key_prefix(0) == "issuer"
    assert groups.split(["b", "a"]) == {0: ["b", "a"]}


def test_a_cluster_gets_tagged_groups_in_distinct_slots() -> None:
    cluster = RedisCluster.__new__(RedisCluster)  # not connected: only its type matters here
    groups = SlotGroups.for_client(cluster, "issuer")
    assert groups.count == GROUPS_ON_CLUSTER and groups.tagged
    prefixes = [groups.key_prefix(g) for g in groups.groups]
    assert prefixes[3].startswith("{issuer:g3.") and prefixes[3].endswith("}")
    # Every key of a group is in that group's slot: its own share of the slot space, in group order.
    slots = [key_slot(f"{p}:cred:uni:x".encode()) for p in prefixes]
    assert all(g * 1024 <= slot < (g + 1) * 1024 for g, slot in enumerate(slots))
    assert key_slot(f"offsets:{prefixes[3]}-credentials:topic".encode()) == slots[3]


def test_spaced_groups_spread_evenly_over_masters() -> None:
    """A cluster splits the slots into equal contiguous ranges per master: 16 groups fall 5/6/5 on 3 masters,
    and evenly on 2, 4 or 8."""
    groups = SlotGroups("wallet", 16, tagged=True)
    slots = [key_slot(f"{groups.key_prefix(g)}:cred:x".encode()) for g in groups.groups]
    for masters, largest in ((2, 8), (3, 6), (4, 4), (8, 2)):
        ranges = [(m * 16384 // masters, (m + 1) * 16384 // masters) for m in range(masters)]
        counts = [sum(low <= slot < high for slot in slots) for low, high in ranges]
        assert sum(counts) == 16 and max(counts) == largest, (masters, counts)


def test_the_group_is_a_stable_hash_of_the_id() -> None:
    groups = SlotGroups("issuer", 16, tagged=True)
    # CRC-32, the same in every process and release (Python's hash() is salted per process: not usable here).
    assert groups.group_of("urn:uuid:1") == zlib.crc32(b"urn:uuid:1") % 16
    assert groups.split(["a", "b", "c"]) == {g: [i for i in "abc" if groups.group_of(i) == g]
                                             for g in {groups.group_of(i) for i in "abc"}}


@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=50, unique=True))
def test_split_keeps_every_id_once_in_its_group(ids: list[str]) -> None:
    groups = SlotGroups("p", 4, tagged=True)
    split = groups.split(ids)
    assert sorted(i for members in split.values() for i in members) == sorted(ids)
    assert all(groups.group_of(i) == g for g, members in split.items() for i in members)


def test_several_groups_need_tags() -> None:
    with pytest.raises(ValueError):
        SlotGroups("p", 4)
    with pytest.raises(ValueError):
        SlotGroups("p", 0, tagged=True)
