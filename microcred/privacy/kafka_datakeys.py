"""The real data-key store: wrapped keys on a compacted Kafka topic, cached in Redis.

Where the keys live (the argument is in ``docs/privacy.md``):

* **Kafka, ``microcred.learnerkeys.v1``** (:data:`~microcred.kafka.topics.LEARNER_KEYS`) is the truth: one record
  per pseudonym, value ``0x01 || wrapped key`` (wrapped under the privacy KEK, :mod:`microcred.privacy.wrapping`).
  Destroying a key appends a tombstone; the topic's compaction settings bound the time until the wrapped key is
  gone from every segment file of every replica. Kafka rolls a segment only when a record is appended to its
  partition, so :meth:`KafkaDataKeys.nudge` appends a no-op tombstone (key ``__roll__``) to every partition, run
  every few minutes by the service that owns erasure (:func:`roll_nudger`).
* **Redis** caches the wrapped keys (``{prefix}:dk:{pseudonym}``), so issuing and consuming cost one round trip per
  batch, never a Kafka read. A sentinel (``{prefix}:dk:loaded``) says the cache holds the whole topic; when it is
  missing (Redis wiped) the cache is loaded again from the topic before any answer. A cached value is ``P`` +
  wrapped while its record is not yet acknowledged by Kafka, then ``O`` + the record's offset + wrapped (``D`` +
  wrapped: written before offsets were kept). The offset orders a cached key against a tombstone read later.
* **The cache follows the topic on a miss.** A key is written to the cache of the Redis its creator uses; a
  service on another Redis (a wallet on a cluster, the issuer on one node) would not see it, and a key absent
  from the cache reads as destroyed: the learner's credentials as erased. So before anything is answered absent,
  or created, the cache catches up with the topic from where it last read (``{prefix}:dk:cursor``, a position per
  partition, set by the load and by every catch-up) to its current end (:meth:`KafkaDataKeys.catch_up`): one
  end-offsets request when nothing is new. A key created meanwhile by another service on another Redis is
  adopted rather than replaced. A background catch-up every ``follow_interval`` seconds brings destroyed keys
  (tombstones) to such a cache too, so that an erasure reaches it without waiting for a miss. A tombstone never
  drops a key made after it (pending, or at a later offset). Two services on *different* Redis deployments
  creating the *first* key of one learner in the same instant are not arbitrated (``SET NX`` arbitrates within
  one Redis): that would take the creation to Kafka (docs/redis-keys.md).

Creating a key: ``SET NX`` of the pending value arbitrates between replicas (two issuers creating the first key of
one learner at once agree on one key), the winner's value is published (acks=all), then marked durable. Nothing
is sealed under a key before :meth:`KafkaDataKeys.ensure` returned, i.e. before the key was on Kafka.
Destroying: the tombstone is published first (durable), then the cached value deleted.

On a Redis Cluster (docs/redis-keys.md) the whole cache takes one slot: the prefix is a hash tag (``one_slot``:
``{privacy}:dk:…``). The "loaded" sentinel then sits with the keys, so a master that restarts empty loses them
together and the cache is reloaded; with the keys spread over every master, a restarted master lost some
learners' keys while the sentinel said the cache was whole, and those learners read as erased (found by the
Redis-wipe fault test on a cluster). One slot is affordable: about 216 bytes per learner (0.4 GB for 2 M
learners, docs/capacity.md). A reload's restore script goes as ``EVAL`` on a cluster, since the cluster client
refuses ``EVALSHA`` in a pipeline, and as ``EVALSHA`` on a single node. A single node keeps the plain prefix:
no key moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from redis.asyncio.client import Pipeline

from microcred.kafka.partitioner import KeyPartitioner
from microcred.kafka.topics import LEARNER_KEYS
from microcred.lifecycle import RedisClient, one_slot
from microcred.privacy.datakeys import DataKey, DataKeysUnavailable, new_data_key
from microcred.privacy.wrapping import KeyWrapper, UnwrapError

__all__ = ["FOLLOW_SECONDS", "ROLL_KEY", "KafkaDataKeys", "roll_nudger"]

log = logging.getLogger(__name__)

_FORMAT = b"\x01"
#: Cached values: ``P`` + wrapped (not yet acknowledged by Kafka), ``D`` + wrapped (on Kafka, written before
#: offsets were kept), ``O`` + the record's offset (20 digits) + wrapped (on Kafka at that offset of the
#: pseudonym's partition). The offset orders a cached key against a tombstone read later from the topic.
_PENDING, _AT = b"P", b"O"  # a legacy ``D`` value needs no name: :func:`_wrapped` strips its kind byte
_OFFSET_DIGITS = 20
#: Key of the no-op tombstone that makes Kafka roll the active segment (never a pseudonym).
ROLL_KEY = "__roll__"
#: How long a destroyed key's marker lives (the key topic's delete.retention.ms: a reload sees the tombstone).
_GONE_SECONDS = 24 * 3600
#: How often the cache reads what is new on the key topic besides on a miss (an erasure made on another Redis).
FOLLOW_SECONDS = 5.0
# The "destroyed" marker holds ``t`` + the tombstone's offset (``1``: set before offsets were kept, blocks any
# restore until a new key is made, which deletes the marker).
# KEYS[1]: a cached key, KEYS[2]: its marker; ARGV[1]: the tombstone's offset, ARGV[2]: the marker's lifetime.
# A tombstone read from the topic drops the cached key unless that key is newer: pending (being created now; its
# record comes after the tombstone) or on Kafka at a later offset (made again after the erasure).
_DROP = """
local value = redis.call('GET', KEYS[1])
if value then
  local kind = string.sub(value, 1, 1)
  if kind == 'P' then return 0 end
  if kind == 'O' and tonumber(string.sub(value, 2, 21)) > tonumber(ARGV[1]) then return 0 end
  redis.call('DEL', KEYS[1])
end
redis.call('SET', KEYS[2], 't' .. ARGV[1], 'EX', ARGV[2])
return 1
"""
# KEYS[1]: a cached key, KEYS[2]: its marker; ARGV[1]: the value read from the topic, ARGV[2]: its offset.
# Restored unless a tombstone after it was seen, or the cache holds the key of a later record.
_RESTORE = """
local gone = redis.call('GET', KEYS[2])
if gone and (gone == '1' or tonumber(string.sub(gone, 2)) > tonumber(ARGV[2])) then return 0 end
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, 1) == 'O' and tonumber(string.sub(value, 2, 21)) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


# KEYS[1]: the sentinel, KEYS[2..]: cached keys; ARGV[i]: the pending value for KEYS[i + 1]. Nothing is written
# unless the cache holds the topic (-1); else, per key, the value it had (false: none, the pending one set now).
# The sentinel is checked in the same step as the keys are made (a separate EXISTS was one more round trip).
_ENSURE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local found = {}
for i = 2, #KEYS do
  found[i - 1] = redis.call('SET', KEYS[i], ARGV[i - 1], 'NX', 'GET')
end
return found
"""

# KEYS: cached keys; ARGV[i]: the value of KEYS[i], written only where the key is still there (a destroyed key is
# never resurrected). One reply for a cohort's new keys: a pipeline's per-command replies cost the client more.
_SET_EXISTING = """
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i], 'XX') end
return #KEYS
"""


def _at(offset: int, wrapped: bytes) -> bytes:
    """The cached value of a key whose record is at ``offset``."""
    return _AT + str(offset).zfill(_OFFSET_DIGITS).encode() + wrapped


def _wrapped(value: bytes) -> bytes:
    """The wrapped key inside a cached value of any kind."""
    return value[1 + _OFFSET_DIGITS:] if value[:1] == _AT else value[1:]


class KafkaDataKeys:
    """:class:`~microcred.privacy.datakeys.DataKeys` on Kafka + Redis; see the module docstring."""

    def __init__(self, bootstrap: str, redis: RedisClient, wrapper: KeyWrapper, *, topic: str = LEARNER_KEYS.name,
                 prefix: str = "privacy", options: Mapping[str, Any] | None = None,
                 delivery_timeout: float = 30.0, follow_interval: float | None = FOLLOW_SECONDS) -> None:
        self._bootstrap, self._redis, self._wrapper, self.topic = bootstrap, redis, wrapper, topic
        # one slot on a cluster: the sentinel and cursor live and die with the keys (module docstring)
        self._prefix, self._options, self._timeout = one_slot(redis, prefix), dict(options or {}), delivery_timeout
        # KeyPartitioner: the default's placement (a learner's key records stay on their partition), at a third
        # of its cost; a cohort of new learners publishes one record each.
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=1,
                                          client_id="microcred-learnerkeys",
                                          **{"partitioner": KeyPartitioner(), **self._options})
        self._loading = asyncio.Lock()
        self._following = asyncio.Lock()
        self._follower: AIOKafkaConsumer | None = None
        self._follow_interval = follow_interval
        self._follow_task: asyncio.Task[None] | None = None
        self._catching: asyncio.Future[bool] | None = None
        self._own: dict[int, set[int]] = {}  # partition -> offsets this process wrote, not yet passed by a catch-up
        self._restore = redis.register_script(_RESTORE)
        self._drop = redis.register_script(_DROP)
        self._ensure = redis.register_script(_ENSURE)
        self._set_existing = redis.register_script(_SET_EXISTING)

    def __repr__(self) -> str:
        return f"KafkaDataKeys(topic={self.topic!r})"

    def _key(self, pseudonym: str) -> str:
        return f"{self._prefix}:dk:{{{pseudonym}}}"  # (braces: the tag of a single node's layout, kept as it was)

    def _gone(self, pseudonym: str) -> str:
        # Set when a key is destroyed, until a new key is made: a reload that read the key's record before the
        # tombstone was written must not put the key back (same slot as the key).
        return f"{self._prefix}:dk-gone:{{{pseudonym}}}"

    @property
    def sentinel(self) -> str:
        """The Redis key that says the cache holds the whole key topic."""
        return f"{self._prefix}:dk:loaded"

    @property
    def cursor(self) -> str:
        """The Redis hash of where the cache has read the key topic to: partition -> next offset."""
        return f"{self._prefix}:dk:cursor"

    async def start(self) -> None:
        """Connect the producer and make sure the cache is loaded."""
        await self._producer.start()
        await self._ready()
        if self._follow_interval is not None:
            self._follow_task = asyncio.create_task(self._follow(self._follow_interval), name="learner-keys-follow")

    async def stop(self) -> None:
        """Disconnect."""
        if self._follow_task is not None:
            self._follow_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow_task
            self._follow_task = None
        await self._producer.stop()
        if self._follower is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower.stop()
            self._follower = None

    # ------------------------------------------------------------------------------------------------ the port

    async def ensure(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The key of each pseudonym; missing ones are created and on Kafka before this returns."""
        wanted = list(dict.fromkeys(pseudonyms))
        if not wanted:
            return {}
        # One command per learner whether it has a key or not (SET NX GET, Redis >= 7.0): a learner without a key
        # gets the pending key made here, one with a key (or whose key another replica just made) answers it and
        # is left as it is. Reading first and then creating took two commands per new learner.
        made_keys = {p: new_data_key(p) for p in wanted}
        made = {p: _PENDING + self._wrapper.wrap(k.key, p) for p, k in made_keys.items()}
        keys, args = [self.sentinel, *(self._key(p) for p in wanted)], [made[p] for p in wanted]
        found = await self._ensure(keys=keys, args=args)
        if found == -1:  # the cache lost the topic (Redis wiped): nothing was written; load it, then make the keys
            await self._ready()
            found = await self._ensure(keys=keys, args=args)
            if found == -1:
                raise DataKeysUnavailable("the learner key cache was emptied again while it was being loaded")
        values: dict[str, bytes | None] = {}
        for p, old in zip(wanted, found, strict=True):
            if old is None:
                values[p] = made[p]
            else:
                values[p] = bytes(old)
                del made_keys[p]
        if made_keys and await self.catch_up():
            # A key another service made (on another Redis) was just read from the topic over the pending one
            # made here: adopt it. One dropped meanwhile (a tombstone read) is made here again.
            now = await self._read(list(made_keys))
            for p, current in now.items():
                if current is None and not await self._redis.set(self._key(p), made[p], nx=True):
                    current = (await self._read([p]))[p]
                if current is not None and current != made[p]:
                    values[p] = current
                    del made_keys[p]
        if made_keys:
            await self._redis.delete(*[self._gone(p) for p in made_keys])
        pending = {p: v[1:] for p, v in values.items() if v is not None and v[:1] == _PENDING}
        if pending:
            offsets = await self._publish([(p, _FORMAT + wrapped) for p, wrapped in pending.items()])
            await self._set_existing(keys=[self._key(p) for p in pending], args=[
                _at(offset, wrapped) for wrapped, offset in zip(pending.values(), offsets, strict=True)])
        # The keys made here are used as made (their wrapped form was just written): only the others are unwrapped.
        return {**self._unwrapped({p: v for p, v in values.items() if p not in made_keys}), **made_keys}

    async def get(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The keys that exist (destroyed and unknown pseudonyms are absent)."""
        wanted = list(dict.fromkeys(pseudonyms))
        if not wanted:
            return {}
        loaded, values = await self._read_ready(wanted)
        if not loaded:  # the cache lost the topic (Redis wiped): load it, then read again
            await self._ready()
            values = await self._read(wanted)
        missing = [p for p, v in values.items() if v is None]
        if missing and await self.catch_up():  # absent reads as destroyed: only once the cache has the topic
            values.update(await self._read(missing))
        return self._unwrapped(values)

    async def destroy(self, pseudonym: str) -> bool:
        """Publish the tombstone (durably), then drop the cached key; True when a key existed."""
        await self._ready()
        existed = (await self._read([pseudonym])).get(pseudonym) is not None
        [offset] = await self._publish([(pseudonym, None)])
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(pseudonym))
            pipe.set(self._gone(pseudonym), f"t{offset}", ex=_GONE_SECONDS)
            await pipe.execute()
        return existed

    async def nudge(self) -> None:
        """Append a no-op tombstone to every partition, so that Kafka rolls each active segment once its roll
        deadline has passed (a roll happens only on an append to that partition)."""
        partitions = sorted(await self._producer.partitions_for(self.topic))
        try:
            async with asyncio.timeout(self._timeout):
                futures = [await self._producer.send(self.topic, None, key=ROLL_KEY.encode(), partition=p)
                           for p in partitions]
                await asyncio.gather(*futures)
        except TimeoutError:
            raise DataKeysUnavailable("the learner key topic did not acknowledge the nudge") from None

    # --------------------------------------------------------------------------------------------- internals

    async def _read(self, pseudonyms: list[str]) -> dict[str, bytes | None]:
        return (await self._read_ready(pseudonyms, sentinel=False))[1]

    async def _read_ready(self, pseudonyms: list[str], sentinel: bool = True) -> tuple[bool, dict[str, bytes | None]]:
        """Whether the cache holds the topic (its sentinel, asked in the same round trip; True when not asked),
        and the cached values."""
        async with self._redis.pipeline(transaction=False) as pipe:  # GETs, not MGET: keys live in many slots
            if sentinel:
                pipe.exists(self.sentinel)
            for p in pseudonyms:
                pipe.get(self._key(p))
            found = await pipe.execute()
        loaded = bool(found.pop(0)) if sentinel else True
        return loaded, {p: (bytes(v) if v is not None else None) for p, v in zip(pseudonyms, found, strict=True)}

    def _unwrapped(self, values: Mapping[str, bytes | None]) -> dict[str, DataKey]:
        keys: dict[str, DataKey] = {}
        for p, value in values.items():
            if value is None:
                continue
            try:
                keys[p] = DataKey(p, self._wrapper.unwrap(_wrapped(value), p))
            except UnwrapError:
                # Almost always a service given another privacy KEK than the issuer's. Treating the key as
                # destroyed would silently drop the learner's data (as if erased): refuse, retriably, instead.
                log.error("a learner data key does not unwrap under this KEK", extra={"pseudonym": p})
                raise DataKeysUnavailable("a learner data key does not unwrap under this service's privacy KEK "
                                          "(MICROCRED_PRIVACY_KEK must be the issuer's)") from None
        return keys

    async def _publish(self, records: list[tuple[str, bytes | None]]) -> list[int]:
        """Publish and wait for every acknowledgement; the records' offsets."""
        try:
            async with asyncio.timeout(self._timeout):
                futures = [await self._producer.send(self.topic, value, key=key.encode()) for key, value in records]
                written = await asyncio.gather(*futures)
        except TimeoutError:
            raise DataKeysUnavailable(f"the learner key topic did not acknowledge within {self._timeout:g}s") \
                from None
        for metadata in written:  # in this cache already: a catch-up need not read them back
            self._own.setdefault(metadata.partition, set()).add(metadata.offset)
        return [metadata.offset for metadata in written]

    def _only_own(self, partition: int, start: int, end: int) -> bool:
        """Whether every record in ``[start, end)`` of ``partition`` was written by this process."""
        own = self._own.get(partition, set())
        return len(own) >= end - start and all(offset in own for offset in range(start, end))

    def _forget_own(self, partition: int, below: int) -> None:
        own = self._own.get(partition)
        if own:
            own.difference_update([offset for offset in own if offset < below])

    async def _ready(self) -> None:
        if await self._redis.exists(self.sentinel):
            return
        async with self._loading:
            if not await self._redis.exists(self.sentinel):
                await self.load()

    async def load(self, timeout: float = 120.0) -> int:
        """(Re)load the cache from the whole key topic; returns the number of live keys read."""
        async with self._following:
            consumer = await self._consumer()
            ends = {tp: end for tp, end in (await consumer.end_offsets(await self._partitions())).items()}
            live = await self._read_topic(consumer, {tp: 0 for tp, end in ends.items() if end}, ends, timeout)
            await self._apply(live)
            await self._move_cursor(ends)
            for tp, end in ends.items():
                self._forget_own(tp.partition, end)
        # Only once every key is back: a non-transactional pipeline (and a cluster's, split per node) goes on
        # past a failed command, and a sentinel set then would make a learner whose key failed look erased.
        await self._redis.set(self.sentinel, uuid.uuid4().hex)
        count = sum(1 for _, v in live.values() if v is not None)
        log.info("learner data keys loaded", extra={"keys": count})
        return count

    async def catch_up(self, timeout: float = 60.0) -> bool:
        """Read the key topic from the cache's cursor to its current end into the cache; True when it read
        records (one end-offsets request when there were none). Callers that arrive while one runs share it
        (issuing batches call this concurrently; one at a time would queue them behind each other)."""
        running = self._catching
        if running is None or running.done():
            running = self._catching = asyncio.ensure_future(self._catch_up(timeout))
        return await asyncio.shield(running)

    async def _catch_up(self, timeout: float) -> bool:
        async with self._following:
            consumer = await self._consumer()
            ends = await consumer.end_offsets(await self._partitions())
            stored = await self._redis.hgetall(self.cursor)
            at = {int(k): int(v) for k, v in stored.items()}
            behind = {tp: at.get(tp.partition, 0) for tp, end in ends.items() if end > at.get(tp.partition, 0)}
            # What this process wrote itself is in this cache already: only the others' records are read (one
            # issuer making the keys of a cohort: no read at all, one end-offsets request per batch).
            others = {tp: start for tp, start in behind.items() if not self._only_own(tp.partition, start, ends[tp])}
            if others:
                await self._apply(await self._read_topic(consumer, others, ends, timeout))
            if behind:
                await self._move_cursor({tp: ends[tp] for tp in behind})
            for tp in behind:
                self._forget_own(tp.partition, ends[tp])
            return bool(others)

    async def _follow(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.catch_up()
            except Exception as exc:  # Kafka or Redis away: the next round (or a miss) catches up instead
                log.warning("learner key topic catch-up failed", extra={"error": type(exc).__name__})

    async def _consumer(self) -> AIOKafkaConsumer:
        """The consumer the load and the catch-ups read with (no group: it reads the partitions it is given)."""
        if self._follower is None:
            # earliest: an offset compaction removed (a cursor, or 0) reads from the oldest record kept
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                        isolation_level="read_committed", auto_offset_reset="earliest",
                                        **self._options)
            await consumer.start()
            # Every partition assigned for good, and paused until read: the consumer then keeps the topic's
            # metadata current. Unassigned, an end-offsets request after a while refreshed it first, with a
            # back-off: ~290 ms (measured after bench.issuance), against ~2 ms.
            partitions = await self._partitions()
            consumer.assign(partitions)
            consumer.pause(*partitions)
            self._follower = consumer
        return self._follower

    async def _partitions(self) -> list[TopicPartition]:
        # The producer's view (it waits for the topic's metadata); a consumer given partitions learns none.
        try:
            async with asyncio.timeout(self._timeout):
                partitions = await self._producer.partitions_for(self.topic)
        except TimeoutError:
            raise DataKeysUnavailable(f"the learner key topic {self.topic} is unknown to the broker") from None
        return [TopicPartition(self.topic, p) for p in sorted(partitions)]

    async def _read_topic(self, consumer: AIOKafkaConsumer, starts: Mapping[TopicPartition, int],
                          ends: Mapping[TopicPartition, int], timeout: float) -> dict[str, tuple[int, bytes | None]]:
        """The last record of every pseudonym between ``starts`` and ``ends``: its offset and value (None: a
        tombstone)."""
        live: dict[str, tuple[int, bytes | None]] = {}
        if not starts:
            return live
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        consumer.resume(*starts)
        try:
            async with asyncio.timeout(timeout):
                todo = set(starts)
                while todo:
                    for tp, records in (await consumer.getmany(timeout_ms=500, max_records=5000)).items():
                        for r in records:
                            if r.key is not None and r.offset < ends[tp] and r.key != ROLL_KEY.encode():
                                live[r.key.decode()] = (r.offset, r.value)
                    todo = {tp for tp in todo if await consumer.position(tp) < ends[tp]}
        except TimeoutError:
            raise DataKeysUnavailable("the learner key topic could not be read to its end") from None
        finally:
            consumer.pause(*starts)
        return live

    async def _apply(self, live: Mapping[str, tuple[int, bytes | None]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for p, (offset, value) in live.items():
                keys = [self._key(p), self._gone(p)]
                if value is None:
                    await self._queue(pipe, self._drop, _DROP, keys, [str(offset).encode(), b"%d" % _GONE_SECONDS])
                elif value[:1] == _FORMAT:
                    await self._queue(pipe, self._restore, _RESTORE, keys,
                                      [_at(offset, value[1:]), str(offset).encode()])
            await pipe.execute()

    @staticmethod
    async def _queue(pipe: Any, script: Any, source: str, keys: list[str], args: list[bytes]) -> None:
        if isinstance(pipe, Pipeline):  # a single node's: EVALSHA (the script loaded once)
            await script(keys=keys, args=args, client=pipe)
        else:  # a cluster's refuses EVALSHA; EVAL (of this short script) is routed by its keys
            pipe.eval(source, len(keys), *keys, *args)

    async def _move_cursor(self, ends: Mapping[TopicPartition, int]) -> None:
        if ends:
            await self._redis.hset(self.cursor, mapping={str(tp.partition): end for tp, end in ends.items()})


async def roll_nudger(keys: KafkaDataKeys, interval: float) -> None:
    """Every ``interval`` seconds, :meth:`KafkaDataKeys.nudge` (run as a task by the service owning erasure)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await keys.nudge()
        except Exception as exc:  # Kafka away: the next nudge rolls the segment instead
            log.warning("learner key topic nudge failed", extra={"error": type(exc).__name__})

