"""Spreading a large read model over a Redis Cluster in slot groups, each with its own Kafka positions.

A read model that must stay atomic with its Kafka positions (state and position in one ``MULTI``) cannot sit
in one slot when it is large (issued credentials: gigabytes), and cannot cross slots in one transaction. So
its keys are split into ``count`` **slot groups** by a stable hash of the entity id (CRC-32, the same in every
process and release): group ``g``'s keys start with the hash tag ``{prefix:g<g>.<n>}`` (``n`` chosen so that
the groups' slots are evenly spaced: even over the masters), and the projection keeps one position per Kafka
partition *per group* (``offsets:{prefix:g<g>.<n>}-<name>:<topic>``) with an epoch sentinel per group. A
fetched batch is applied group by group, each group's records with that group's position in one transaction
of its slot; a group whose position is already past the batch skips it, so a replay after a crash between
two groups applies each record once. The consumer resumes a partition at the
lowest of its groups' positions.

On a single node there is one group whose prefix is the plain prefix: the keys, positions and sentinel are
exactly those of a read model that was never split (no key moves when this was introduced).

The group count is part of the key layout: every replica must use the same one. Changing it leaves the old
keys behind and makes every group a new one without a sentinel or positions, which the projection treats as
lost state: it rebuilds from Kafka (docs/redis-keys.md).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
import zlib
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline
from redis.crc import REDIS_CLUSTER_HASH_SLOTS as SLOTS
from redis.crc import key_slot

from microcred.kafka.consumer import Position
from microcred.lifecycle import RedisClient
from microcred.storage.positions import ProjectionEpoch, position_key, stored_position

__all__ = ["GROUPS_ON_CLUSTER", "GroupEpochs", "IdlePositions", "SlotGroups", "each_group", "queue_set_many"]

#: Slot groups of a large read model on a cluster. 16 tags land on every master of a 3-master cluster with
#: about 5 groups each; more groups spread more evenly but cost one more command per group per batch.
GROUPS_ON_CLUSTER = 16


@dataclass(frozen=True)
class SlotGroups:
    """How a read model's keys are split: ``count`` groups, hash-tagged when ``tagged`` (on a cluster)."""

    prefix: str
    count: int = 1
    tagged: bool = False

    def __post_init__(self) -> None:
        if self.count < 1 or (self.count > 1 and not self.tagged):
            raise ValueError("slot groups: at least one, and several only with hash tags")

    @classmethod
    def for_client(cls, redis: RedisClient, prefix: str, count: int = GROUPS_ON_CLUSTER) -> SlotGroups:
        """One plain group on a single node; ``count`` tagged groups on a cluster."""
        if isinstance(redis, Redis):
            return cls(prefix)
        return cls(prefix, count, tagged=True)

    @property
    def groups(self) -> range:
        """Every group number."""
        return range(self.count)

    def key_prefix(self, group: int) -> str:
        """The prefix of group ``group``'s keys: ``{prefix:g<group>.<n>}`` on a cluster, ``prefix`` on one node."""
        return _spaced_tag(self.prefix, group, self.count) if self.tagged else self.prefix

    def group_of(self, entity_id: str) -> int:
        """The group that holds ``entity_id``'s keys."""
        return zlib.crc32(entity_id.encode()) % self.count if self.count > 1 else 0

    def split(self, entity_ids: Iterable[str]) -> dict[int, list[str]]:
        """``entity_ids`` by group, each group's in their given order."""
        out: dict[int, list[str]] = {}
        for entity_id in entity_ids:
            out.setdefault(self.group_of(entity_id), []).append(entity_id)
        return out


@functools.lru_cache(maxsize=4096)
def _spaced_tag(prefix: str, group: int, count: int) -> str:
    """The hash tag of group ``group`` of ``count``: ``{prefix:g<group>.<n>}`` with the smallest ``n`` whose slot
    lies in the group's share of the slot space, ``[group, group + 1) * 16384 / count``.

    A cluster gives each master a contiguous slot range of equal size, so tags spaced evenly over the slots
    spread the groups evenly over the masters: 16 groups land 5/6/5 on 3 masters (tags hashed at random put 49 %
    of the records on one master in ``bench.issuance_cluster``). About ``count`` tries per group, once."""
    low, high = group * SLOTS // count, (group + 1) * SLOTS // count
    for n in itertools.count():
        tag = f"{prefix}:g{group}.{n}"
        if low <= key_slot(tag.encode()) < high:
            return f"{{{tag}}}"
    raise AssertionError("unreachable")  # itertools.count never ends; a slot range is never empty


class GroupEpochs:
    """The :class:`~microcred.kafka.consumer.StateGuard` of a read model in slot groups: one
    :class:`~microcred.storage.positions.ProjectionEpoch` per group, each in its group's slot.

    The state is intact only while every group's sentinel holds its adopted token: a cluster master that
    restarted empty loses some groups only, and is noticed. A reset drops the partitions' positions in every
    group (the replay re-applies the intact groups idempotently and cheaply) and adopts each group's sentinel,
    as :class:`~microcred.storage.positions.ProjectionEpoch` does for one.
    """

    def __init__(self, redis: RedisClient, groups: SlotGroups, name: str, *, also: Sequence[str] = ()) -> None:
        # ``also``: projection names of further parts kept in step with the groups (each in a slot of its own:
        # e.g. the rest of a read model whose large documents alone are spread), listed after the groups.
        # The positions helpers take a single-node client type; a cluster client runs the same commands, each
        # part's within one slot.
        client = cast("Redis", redis)
        self.groups = groups
        self.names = [*(f"{groups.key_prefix(g)}-{name}" for g in groups.groups), *also]
        self.epochs = [ProjectionEpoch(client, n) for n in self.names]
        self._redis = client
        self.resets = 0  # how many resets ran (IdlePositions drops what it held back before one)

    @property
    def rebuilding(self) -> bool:
        """True from a reset until its replay caught up."""
        return any(epoch.rebuilding for epoch in self.epochs)

    async def open(self) -> None:
        """Create each group's sentinel unless it exists, and adopt its token."""
        await asyncio.gather(*(epoch.open() for epoch in self.epochs))

    async def intact(self) -> bool:
        """True while every group's sentinel holds the token adopted for it."""
        return all(await asyncio.gather(*(epoch.intact() for epoch in self.epochs)))

    async def reset(self, partitions: Sequence[tuple[str, int]]) -> None:
        """Drop the partitions' positions in every group, then adopt each group's (new or another's) token."""
        self.resets += 1
        await asyncio.gather(*(epoch.reset(partitions) for epoch in self.epochs))

    def rebuilt(self) -> None:
        """The replay after the last reset caught up."""
        for epoch in self.epochs:
            epoch.rebuilt()

    async def skip(self, position: Position) -> None:
        """Store the position past a record that changes no state (dead-lettered) in every part."""
        await asyncio.gather(*(epoch.skip(position) for epoch in self.epochs))

    async def ready(self) -> bool:
        """True while every part is complete and current (no rebuild running, every sentinel intact)."""
        if self.rebuilding or any(e.token is None for e in self.epochs):
            return False
        intact = await self.intact()
        # Again after the reads: a reset that ran meanwhile adopted new sentinels (which the reads then found
        # intact) after marking the parts rebuilding; seen on the cluster as a 404 from a wiped wallet.
        return intact and not self.rebuilding

    async def position(self, topic: str, partition: int) -> int | None:
        """Where to resume ``topic/partition``: the lowest of its groups' positions, None when a group has none
        (that group's state is new or lost: replay from the beginning)."""
        stored = await asyncio.gather(*(stored_position(self._redis, n, topic, partition) for n in self.names))
        if any(p is None for p in stored):
            return None
        return min(cast(list[int], stored))


async def each_group(calls: Iterable[Awaitable[object]]) -> None:
    """Run one call per slot group concurrently; the first failure is raised once every call has ended (none is
    left running behind a failed request or batch)."""
    for result in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result


def queue_set_many(pipe: Pipeline, values: Mapping[str, bytes | str]) -> None:
    """Queue one ``MSET`` of ``values`` on a transaction (redis-py's cost is per command, not per key), on a
    single node or a cluster.

    redis-py refuses ``pipe.mset`` on every cluster pipeline (its ``PIPELINE_BLOCKED_COMMANDS``: a plain cluster
    pipeline may span slots), and the fallback of one ``SET`` per key costs about 0.27 ms each in its cluster
    transaction (measured: 200 SETs 54 ms, one MSET of 200 1.2 ms). A cluster *transaction* holds one slot by
    construction (redis-py checks every queued command's slot, the server answers CROSSSLOT otherwise), so the
    command is queued by name, which that method-level block does not cover."""
    if not values:
        return
    if isinstance(pipe, ClusterPipeline):
        pipe.execute_command("MSET", *(part for item in values.items() for part in item))
    else:
        pipe.mset(dict(values))


#: How often a slot group that the batches leave untouched still records their position (seconds).
IDLE_POSITION_SECONDS = 2.0

# KEYS[1]: a positions hash; ARGV[1]: the partition, ARGV[2]: the next offset. Moves the position forward only.
_ADVANCE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (not current) or tonumber(current) < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


class IdlePositions:
    """Moves the positions of slot groups that a batch did not touch, now and then and in one round trip.

    Every group must record every batch's position eventually, or the lowest position (where the consumer
    resumes) never moves. A transaction per group per batch (``WATCH``, read, ``MULTI``/``EXEC``: three round
    trips of a cluster client, 16 groups) cost more than the records themselves; a group without records in a
    batch has nothing to keep atomic with its position, so it takes one forward-only script instead, at most
    every ``interval`` seconds per group and partition. A restart then replays at most that much of a
    partition for such a group, which the projections skip cheaply (their writes are idempotent).

    A position held back that way is written by :meth:`flush`, which the consumer calls when a fetch brings
    nothing: an idle projection's positions all reach the end of what it applied. ``generation`` (the guard's
    reset count) drops what was held back before a reset: written after it, an old position would make a
    replaying group skip records.
    """

    def __init__(self, redis: RedisClient, names: Sequence[str], interval: float = IDLE_POSITION_SECONDS,
                 clock: Callable[[], float] = time.monotonic, generation: Callable[[], int] = lambda: 0) -> None:
        self._names, self._interval, self._clock = list(names), interval, clock
        self._generation = generation
        self._advance = redis.register_script(_ADVANCE)
        self._written: dict[tuple[int, str, int], float] = {}
        self._held: dict[tuple[int, str, int], tuple[Position, int]] = {}

    def touched(self, group: int, position: Position) -> None:
        """Note that ``group`` recorded ``position`` itself (in its records' transaction)."""
        key = (group, position.topic, position.partition)
        self._written[key] = self._clock()
        self._held.pop(key, None)

    async def untouched(self, group: int, position: Position) -> None:
        """``group`` had no records in the batch ending at ``position``: record it when due, else hold it back."""
        key = (group, position.topic, position.partition)
        now = self._clock()
        if now - self._written.get(key, float("-inf")) < self._interval:
            self._held[key] = (position, self._generation())
            return
        await self._write(key, position, now)

    async def flush(self, owned: Collection[tuple[str, int]]) -> None:
        """Write every held-back position of a partition still ``owned`` (topic, partition) and of the current
        generation; forget the others (a partition revoked since is its new owner's)."""
        held, self._held = self._held, {}
        generation, now = self._generation(), self._clock()
        await each_group(self._write(key, position, now) for key, (position, seen) in held.items()
                         if seen == generation and (key[1], key[2]) in owned)

    async def _write(self, key: tuple[int, str, int], position: Position, now: float) -> None:
        await self._advance(keys=[position_key(self._names[key[0]], position.topic)],
                            args=[position.partition, position.offset + 1])
        self._written[key] = now
        self._held.pop(key, None)
