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
  wrapped while its record is not yet acknowledged by Kafka, then ``D`` + wrapped.

Creating a key: ``SET NX`` of the pending value arbitrates between replicas (two issuers creating the first key of
one learner at once agree on one key), the winner's value is published (acks=all), then marked durable. Nothing
is sealed under a key before :meth:`KafkaDataKeys.ensure` returned, i.e. before the key was on Kafka.
Destroying: the tombstone is published first (durable), then the cached value deleted.

On a Redis Cluster (docs/redis-keys.md): a learner's cached key and its "destroyed" marker share the pseudonym's
hash tag, so each script and ``MULTI`` here stays in one slot; batches are non-transactional pipelines (split per
node by the cluster client); a reload's restore script goes as ``EVAL`` on a cluster, since the cluster client
refuses ``EVALSHA`` in a pipeline, and as ``EVALSHA`` on a single node, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio.client import Pipeline

from microcred.kafka.topics import LEARNER_KEYS
from microcred.lifecycle import RedisClient
from microcred.privacy.datakeys import DataKey, DataKeysUnavailable, new_data_key
from microcred.privacy.wrapping import KeyWrapper, UnwrapError
from microcred.status.cache import topic_end_offsets

__all__ = ["ROLL_KEY", "KafkaDataKeys", "roll_nudger"]

log = logging.getLogger(__name__)

_FORMAT = b"\x01"
_PENDING, _DURABLE = b"P", b"D"
#: Key of the no-op tombstone that makes Kafka roll the active segment (never a pseudonym).
ROLL_KEY = "__roll__"
#: How long a destroyed key's marker lives (the key topic's delete.retention.ms: a reload sees the tombstone).
_GONE_SECONDS = 24 * 3600
# KEYS[1]: a cached key, KEYS[2]: its "destroyed" marker; ARGV[1]: the value read from the topic.
_RESTORE = """
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
"""


class KafkaDataKeys:
    """:class:`~microcred.privacy.datakeys.DataKeys` on Kafka + Redis; see the module docstring."""

    def __init__(self, bootstrap: str, redis: RedisClient, wrapper: KeyWrapper, *, topic: str = LEARNER_KEYS.name,
                 prefix: str = "privacy", options: Mapping[str, Any] | None = None,
                 delivery_timeout: float = 30.0) -> None:
        self._bootstrap, self._redis, self._wrapper, self.topic = bootstrap, redis, wrapper, topic
        self._prefix, self._options, self._timeout = prefix, dict(options or {}), delivery_timeout
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=1,
                                          client_id="microcred-learnerkeys", **self._options)
        self._loading = asyncio.Lock()
        self._restore = redis.register_script(_RESTORE)

    def __repr__(self) -> str:
        return f"KafkaDataKeys(topic={self.topic!r})"

    def _key(self, pseudonym: str) -> str:
        return f"{self._prefix}:dk:{{{pseudonym}}}"  # hash-tagged: one slot per learner on a Redis Cluster

    def _gone(self, pseudonym: str) -> str:
        # Set when a key is destroyed, until a new key is made: a reload that read the key's record before the
        # tombstone was written must not put the key back (same slot as the key).
        return f"{self._prefix}:dk-gone:{{{pseudonym}}}"

    @property
    def sentinel(self) -> str:
        """The Redis key that says the cache holds the whole key topic."""
        return f"{self._prefix}:dk:loaded"

    async def start(self) -> None:
        """Connect the producer and make sure the cache is loaded."""
        await self._producer.start()
        await self._ready()

    async def stop(self) -> None:
        """Disconnect."""
        await self._producer.stop()

    # ------------------------------------------------------------------------------------------------ the port

    async def ensure(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The key of each pseudonym; missing ones are created and on Kafka before this returns."""
        wanted = list(dict.fromkeys(pseudonyms))
        if not wanted:
            return {}
        await self._ready()
        # One command per learner whether it has a key or not (SET NX GET, Redis >= 7.0): a learner without a key
        # gets the pending key made here, one with a key (or whose key another replica just made) answers it and
        # is left as it is. Reading first and then creating took two commands per new learner.
        made_keys = {p: new_data_key(p) for p in wanted}
        made = {p: _PENDING + self._wrapper.wrap(k.key, p) for p, k in made_keys.items()}
        async with self._redis.pipeline(transaction=False) as pipe:
            for p, value in made.items():
                pipe.set(self._key(p), value, nx=True, get=True)
            found = await pipe.execute()
        values: dict[str, bytes | None] = {}
        for p, old in zip(wanted, found, strict=True):
            if old is None:
                values[p] = made[p]
            else:
                values[p] = bytes(old)
                del made_keys[p]
        if made_keys:
            await self._redis.delete(*[self._gone(p) for p in made_keys])
        pending = {p: v[1:] for p, v in values.items() if v is not None and v[:1] == _PENDING}
        if pending:
            await self._publish([(p, _FORMAT + wrapped) for p, wrapped in pending.items()])
            async with self._redis.pipeline(transaction=False) as pipe:
                for p, wrapped in pending.items():
                    pipe.set(self._key(p), _DURABLE + wrapped, xx=True)  # xx: never resurrect a destroyed key
                await pipe.execute()
        # The keys made here are used as made (their wrapped form was just written): only the others are unwrapped.
        return {**self._unwrapped({p: v for p, v in values.items() if p not in made_keys}), **made_keys}

    async def get(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The keys that exist (destroyed and unknown pseudonyms are absent)."""
        wanted = list(dict.fromkeys(pseudonyms))
        if not wanted:
            return {}
        await self._ready()
        return self._unwrapped(await self._read(wanted))

    async def destroy(self, pseudonym: str) -> bool:
        """Publish the tombstone (durably), then drop the cached key; True when a key existed."""
        await self._ready()
        existed = (await self._read([pseudonym])).get(pseudonym) is not None
        await self._publish([(pseudonym, None)])
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(pseudonym))
            pipe.set(self._gone(pseudonym), b"1", ex=_GONE_SECONDS)
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
        async with self._redis.pipeline(transaction=False) as pipe:  # GETs, not MGET: keys live in many slots
            for p in pseudonyms:
                pipe.get(self._key(p))
            found = await pipe.execute()
        return {p: (bytes(v) if v is not None else None) for p, v in zip(pseudonyms, found, strict=True)}

    def _unwrapped(self, values: Mapping[str, bytes | None]) -> dict[str, DataKey]:
        keys: dict[str, DataKey] = {}
        for p, value in values.items():
            if value is None:
                continue
            try:
                keys[p] = DataKey(p, self._wrapper.unwrap(value[1:], p))
            except UnwrapError:
                # Almost always a service given another privacy KEK than the issuer's. Treating the key as
                # destroyed would silently drop the learner's data (as if erased): refuse, retriably, instead.
                log.error("a learner data key does not unwrap under this KEK", extra={"pseudonym": p})
                raise DataKeysUnavailable("a learner data key does not unwrap under this service's privacy KEK "
                                          "(MICROCRED_PRIVACY_KEK must be the issuer's)") from None
        return keys

    async def _publish(self, records: list[tuple[str, bytes | None]]) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                futures = [await self._producer.send(self.topic, value, key=key.encode()) for key, value in records]
                await asyncio.gather(*futures)
        except TimeoutError:
            raise DataKeysUnavailable(f"the learner key topic did not acknowledge within {self._timeout:g}s") \
                from None

    async def _ready(self) -> None:
        if await self._redis.exists(self.sentinel):
            return
        async with self._loading:
            if not await self._redis.exists(self.sentinel):
                await self.load()

    async def load(self, timeout: float = 120.0) -> int:
        """(Re)load the cache from the whole key topic; returns the number of live keys read."""
        ends = {tp: end for tp, end in (await topic_end_offsets(self._bootstrap, [self.topic])).items() if end}
        live: dict[str, bytes | None] = {}
        if ends:
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                        isolation_level="read_committed", **self._options)
            await consumer.start()
            try:
                consumer.assign(list(ends))
                await consumer.seek_to_beginning(*ends)
                async with asyncio.timeout(timeout):
                    todo = set(ends)
                    while todo:
                        for tp, records in (await consumer.getmany(timeout_ms=500, max_records=5000)).items():
                            for r in records:
                                if r.key is not None and r.offset < ends[tp] and r.key != ROLL_KEY.encode():
                                    live[r.key.decode()] = r.value
                        todo = {tp for tp in todo if await consumer.position(tp) < ends[tp]}
            except TimeoutError:
                raise DataKeysUnavailable("the learner key topic could not be read to its end") from None
            finally:
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer.stop()
        async with self._redis.pipeline(transaction=False) as pipe:
            for p, value in live.items():
                if value is None:
                    pipe.delete(self._key(p))
                elif value[:1] != _FORMAT:
                    continue
                elif isinstance(pipe, Pipeline):  # a single node's: EVALSHA (the script loaded once)
                    await self._restore(keys=[self._key(p), self._gone(p)], args=[_DURABLE + value[1:]],
                                        client=pipe)
                else:  # a cluster's refuses EVALSHA; EVAL (of this short script) is routed by its keys
                    pipe.eval(_RESTORE, 2, self._key(p), self._gone(p), _DURABLE + value[1:])
            await pipe.execute()
        # Only once every key is back: a non-transactional pipeline (and a cluster's, split per node) goes on
        # past a failed command, and a sentinel set then would make a learner whose key failed look erased.
        await self._redis.set(self.sentinel, uuid.uuid4().hex)
        count = sum(1 for v in live.values() if v is not None)
        log.info("learner data keys loaded", extra={"keys": count})
        return count


async def roll_nudger(keys: KafkaDataKeys, interval: float) -> None:
    """Every ``interval`` seconds, :meth:`KafkaDataKeys.nudge` (run as a task by the service owning erasure)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await keys.nudge()
        except Exception as exc:  # Kafka away: the next nudge rolls the segment instead
            log.warning("learner key topic nudge failed", extra={"error": type(exc).__name__})

