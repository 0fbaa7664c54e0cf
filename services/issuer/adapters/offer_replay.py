"""The offer projection's writes in Redis: open offers restored and closed by replay, with the positions.

:class:`RedisOfferReplay` writes what :mod:`services.issuer.application.offer_replay` decides, in the keys of
:class:`~.offers.RedisOfferStore` (same prefix, same slot on a cluster), each fetch in one ``MULTI`` together
with its positions (:func:`~microcred.storage.positions.apply_batch_at_positions`), so a replayed fetch changes
nothing twice. ``{p}:o4i:ref:{offer_ref}`` -> offer id (written with every offer, and by a restore; kept as long as
the code) tells which offers Redis has (their records are not even opened) and which offer an end event, naming
it only by its ref, closes (writing an end the offer already has changes nothing).

Both scripts go as ``EVAL``: a cluster pipeline refuses ``EVALSHA``, and a replay is not a hot path.

**Between replays** nothing is read: :meth:`RedisOfferReplay.advance` moves the positions to the topic's ends
(checked against the sentinel and the targets in the same script). **When a replay is done**, for every
replica: ``{ns}:targets`` (partition -> the end offset the topic had when the loss was noticed) beside the
positions; behind while a position is short of its target, and the targets are dropped once none is
(:meth:`RedisOfferReplay.behind`, one script). **Before a replay reads**, the positions short of the offset where
the offers still open can begin are moved up to it (:meth:`RedisOfferReplay.skip_to`). Every key is in the offers' slot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from redis.asyncio import Redis

from microcred.kafka.consumer import Position
from microcred.lifecycle import RedisClient
from microcred.storage.positions import apply_batch_at_positions, epoch_key, position_key, stored_position
from services.issuer.adapters.offers import WRITE_OFFER_LUA, RedisOfferStore
from services.issuer.application.offer_replay import Action, Close, Restore

__all__ = ["RedisOfferReplay"]

# Nothing when Redis knows the code (KEYS[2]: the offer is live or ended there, never overwritten); else the offer
# exactly as add_offers writes it (the same write_offer, its KEYS and ARGV from RedisOfferStore.offer_written).
_RESTORE = WRITE_OFFER_LUA + """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
write_offer(0, 0, #ARGV - 10)
return 1
"""
# KEYS: 1 offer, 2 expiry, 3 expiry:who, 4 index states. ARGV: 1 offer id, 2 state. The offer leaves the expiry
# set; an offer still offered takes the state (a redeemed one drops its award, as delivery does); one already
# ended keeps its own (an offer has one end); expiry is read from the clock, not recorded.
_CLOSE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[2] == 'expired' then return 1 end
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'offered' then return 0 end
if state then
  redis.call('HSET', KEYS[1], 'state', ARGV[2])
  if ARGV[2] == 'redeemed' then redis.call('HDEL', KEYS[1], 'award') end
end
redis.call('HSETNX', KEYS[4], ARGV[1], ARGV[2])
return 1
"""


# KEYS[1] the replay's targets (partition -> end offset), KEYS[2] the positions. How many partitions are behind
# their target; when none is, the targets are dropped (in the same step: a target a new wipe wrote is never lost).
_BEHIND = """
local targets = redis.call('HGETALL', KEYS[1])
local behind = 0
for i = 1, #targets, 2 do
  local at = redis.call('HGET', KEYS[2], targets[i])
  if not at or tonumber(at) < tonumber(targets[i + 1]) then behind = behind + 1 end
end
if behind == 0 and #targets > 0 then redis.call('DEL', KEYS[1]) end
return behind
"""


# After a guard line, ARGV[1] being the sentinel's token: partition/offset pairs from ARGV[2]; a position short of
# its offset (or none) moves up to it, none moves down.
_RAISE_POSITIONS = """
for i = 2, #ARGV, 2 do
  local at = redis.call('HGET', KEYS[2], ARGV[i])
  if not at or tonumber(at) < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
return 1
"""
# KEYS[1] the sentinel, KEYS[2] the positions, KEYS[3] the targets. Only while Redis is the one the token was
# adopted from and no replay is under way: every position moves up to the topic's end.
_ADVANCE = ("if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end"
            + _RAISE_POSITIONS)
# KEYS[1] the sentinel, KEYS[2] the positions (KEYS[3] unread). Only while Redis is the one the token was
# adopted from: the positions move up to where a replay need begin.
_SKIP_TO = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end" + _RAISE_POSITIONS

def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


class RedisOfferReplay(RedisOfferStore):
    """The offer store seen by its projection: positions, restores and closes (module docstring)."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        super().__init__(redis, prefix)
        #: The projection's name: its positions and epoch sentinel, in the offers' slot on a cluster.
        self.namespace = f"{self._p}:o4i:replay"
        self._targets = f"{self.namespace}:targets"

    async def note_targets(self, topic: str, ends: Mapping[int, int]) -> None:
        """A replay of ``topic`` is done when its positions reach ``ends`` (partition -> end offset), for every
        replica (each reads the same targets); a partition already at or past its end, or already given a target
        (by another replica, a moment earlier), is left as it is."""
        stored = await self._redis.hgetall(position_key(self.namespace, topic))
        at = {int(_text(k)): int(_text(v)) for k, v in stored.items()}
        behind = {str(partition): end for partition, end in ends.items() if end > 0 and at.get(partition, -1) < end}
        if behind:
            pipe = self._redis.pipeline(transaction=False)
            for partition, end in behind.items():
                pipe.hsetnx(self._targets, partition, end)
            await pipe.execute()

    async def behind(self, topic: str) -> int:
        """How many partitions of ``topic`` are behind the replay's targets (0: none, or no replay)."""
        keys = [self._targets, position_key(self.namespace, topic)]
        return int(await self._redis.eval(_BEHIND, len(keys), *keys))

    async def advance(self, topic: str, ends: Mapping[int, int], token: bytes | str) -> bool:
        """Move the positions on ``topic`` up to ``ends`` without reading the records, as long as the sentinel
        holds ``token`` and no replay is under way (False otherwise). Sound because the issuer writes an offer's
        change to Redis before it publishes the change: every record below the end is in this Redis already,
        unless it was lost, which changes the sentinel."""
        return await self._raise(_ADVANCE, topic, ends, token)

    async def skip_to(self, topic: str, floors: Mapping[int, int], token: bytes | str) -> bool:
        """Start a replay of ``topic`` no earlier than ``floors`` (partition -> offset; the records before them
        can hold no offer still open), as long as the sentinel holds ``token`` (False otherwise). Unlike
        :meth:`advance`, also during a replay: that is when it is called, before the replay reads."""
        return await self._raise(_SKIP_TO, topic, floors, token)

    async def _raise(self, script: str, topic: str, offsets: Mapping[int, int], token: bytes | str) -> bool:
        keys = [epoch_key(self.namespace), position_key(self.namespace, topic), self._targets]
        args: list[bytes | str | int] = [token]
        for partition, offset in sorted(offsets.items()):
            args += [partition, offset]
        return bool(await self._redis.eval(script, len(keys), *keys, *args))

    async def epoch(self) -> bytes | str | None:
        """The projection's sentinel (:class:`~microcred.storage.positions.ProjectionEpoch`): None after a wipe,
        another value after a wipe another replica noticed first."""
        value: bytes | str | None = await self._redis.get(epoch_key(self.namespace))
        return value

    async def position(self, topic: str, partition: int) -> int | None:
        """Where the projection resumes on ``topic/partition``."""
        return await stored_position(cast("Redis", self._redis), self.namespace, topic, partition)

    async def replay(self, positions: Sequence[Position], actions: Sequence[Action | None],
                     known: Mapping[str, str]) -> None:
        """Apply the actions of the records at ``positions`` not applied yet, with their positions, at once;
        ``known``: what :meth:`offer_ids` said of the fetch's offers (an end closes one of those, or one restored in
        the same fetch)."""
        restored = {**known, **{a.offer_ref: a.offer.offer_id for a in actions if isinstance(a, Restore)}}

        def write(pipe: Any, fresh: list[int]) -> None:
            for i in fresh:
                action = actions[i]
                if isinstance(action, Restore):
                    self._queue_restore(pipe, action)
                elif isinstance(action, Close) and action.offer_ref in restored:
                    offer_id = restored[action.offer_ref]
                    keys = [self._offer_key(offer_id), self._expiry, self._who,
                            f"{self._index.base(action.issuer_id)}:states"]
                    pipe.eval(_CLOSE, len(keys), *keys, offer_id, action.state)

        await apply_batch_at_positions(cast("Redis", self._redis), self.namespace, positions, write)

    def _queue_restore(self, pipe: Any, r: Restore) -> None:
        keys, args = self.offer_written(r.offer, r.code_digest, r.tx_digest, r.state_digest, r.learner, r.ttl,
                                        r.created, r.expires_at)
        pipe.eval(_RESTORE, len(keys), *keys, *args)
