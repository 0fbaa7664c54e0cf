"""Issued credentials per issuer: the record behind idempotent retries and ``GetCredential``.

Every value is the serialized ``EventEnvelope`` of the credential's ``CredentialIssued`` event, exactly as
published, so the store can be rebuilt from the credentials topic (:mod:`services.issuer.events.projection`).

Two records per credential (``{prefix}`` defaults to ``issuer``; credential ids are derived from the issuer id
and the idempotency key, so the id *is* the idempotency record):

``{prefix}:cred:{issuer}:{credential id}``
    written only after Kafka acknowledged the event: the credential as answered.
``{prefix}:pending:{issuer}:{credential id}``
    written (``SET NX``, with a TTL) after signing and *before* publishing. A retry that finds it republishes
    the very same event (same bytes, same event id) instead of signing a second, different credential with
    the same id; ``NX`` also settles two concurrent requests with one key on one credential. After the
    publish it is renamed to the issued record (the 10 kB value is not sent twice).

``{prefix}:issued:{issuer}``
    a sorted set of the issuer's credential ids scored by issue time (microseconds): the index behind
    ``ListCredentials``, written with each commit and by the projection (so a replay rebuilds it).

Each chunk costs a constant number of Redis commands (one ``MGET``, one script to store the pending records,
one to commit them), whatever its size, per slot group it touches.

**On a Redis Cluster** the records are spread over slot groups by credential id
(:class:`~microcred.storage.slot_groups.SlotGroups`): ``{prefix}`` is then ``{<prefix>:g<n>.<k>}``, a hash tag, so
a credential's records, its issuer's index of that group and the group's epoch sentinel and Kafka positions
share one slot, and every script, ``MGET`` and projection transaction stays within it. An issuer's listing
merges its groups' indexes. On a single node there is one group and ``{prefix}`` is the plain prefix.

A store given a :class:`Readiness` (the credential-store projection) refuses, with :class:`StoreNotReady`, to
answer while it is incomplete (catching up, or rebuilding after Redis lost its data), and checks the
projection's epoch sentinel (of the slot group) atomically with each lookup and pending write: a wiped Redis,
or a wiped cluster master, can never make an already issued credential look new.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Sequence
from typing import Any, Protocol, cast

from google.protobuf.message import DecodeError
from redis.exceptions import ResponseError

from microcred.events.envelope import EventEnvelope
from microcred.lifecycle import RedisClient
from microcred.storage.slot_groups import SlotGroups, each_group
from services.issuer.application.ports import PageCursor, StoreNotReady

__all__ = ["PENDING_TTL_SECONDS", "InMemoryCredentialStore", "Readiness", "RedisCredentialStore", "cred_key",
           "index_key", "issued_micros", "next_cursor", "pending_key"]

PENDING_TTL_SECONDS = 7 * 24 * 3600

# KEYS[1]: the epoch sentinel, then pending1, cred1, pending2, cred2, ...; ARGV[1]: TTL, ARGV[2]: the epoch token
# ('' = not checked), ARGV[2 + n]: value n. Returns, per credential, false when ours was stored, else the record
# that was there first: issued (a concurrent request finished already) or pending. Atomic, so a credential id
# can never get two different signed credentials.
_PUT_PENDING = """
if ARGV[2] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return redis.error_reply('STORE_NOT_READY the credential store is being rebuilt')
end
local out = {}
for i = 2, #KEYS, 2 do
  local n = i / 2
  local issued = redis.call('GET', KEYS[i + 1])
  if issued then
    out[n] = issued
  elseif redis.call('SET', KEYS[i], ARGV[n + 2], 'NX', 'EX', ARGV[1]) then
    out[n] = false
  else
    out[n] = redis.call('GET', KEYS[i])
  end
end
return out
"""
# KEYS: pending1, cred1, pending2, cred2, ..., then the issuer's index. ARGV: per pair its index score ('' for
# none) and member. Renames each pending record to its issued key (made permanent) and indexes it, in the same
# step (the index was a second round trip). Returns the 1-based pair numbers whose pending record was missing:
# those are written and indexed by the caller afterwards (never an index entry before its record).
_COMMIT = """
local missing = {}
local index = KEYS[#KEYS]
for i = 1, #KEYS - 1, 2 do
  local n = (i + 1) / 2
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 1])
    redis.call('PERSIST', KEYS[i + 1])
    if ARGV[2 * n - 1] ~= '' then redis.call('ZADD', index, ARGV[2 * n - 1], ARGV[2 * n]) end
  else
    missing[#missing + 1] = n
  end
end
return missing
"""


def cred_key(prefix: str, issuer_id: str, credential_id: str) -> str:
    """Key of an issued record."""
    return f"{prefix}:cred:{issuer_id}:{credential_id}"


def pending_key(prefix: str, issuer_id: str, credential_id: str) -> str:
    """Key of a pending record."""
    return f"{prefix}:pending:{issuer_id}:{credential_id}"


def index_key(prefix: str, issuer_id: str) -> str:
    """Key of an issuer's credentials by issue time."""
    return f"{prefix}:issued:{issuer_id}"


def issued_micros(envelope: bytes) -> int | None:
    """The issue time of a stored ``CredentialIssued`` envelope, in microseconds (the index's score); None for a
    value that is no envelope (the store keeps values as given: such a record is simply not listed)."""
    try:
        at = EventEnvelope.FromString(envelope).occurred_at
    except DecodeError:
        return None
    return at.seconds * 1_000_000 + at.nanos // 1000


def next_cursor(cursor: PageCursor, scores: Sequence[int], more: bool) -> PageCursor | None:
    """The cursor after a page whose items had ``scores`` (newest first); None when it was the last page."""
    if not more or not scores:
        return None
    last = scores[-1]
    same = sum(1 for score in scores if score == last)
    return PageCursor(last, same + (cursor.skip if cursor.before_micros == last else 0))


class Readiness(Protocol):
    """What tells the store whether it is complete: an epoch sentinel per slot group and its token while
    complete (:mod:`microcred.storage.slot_groups`; one group on a single node)."""

    def epoch_key(self, group: int) -> str:
        """The Redis key of group ``group``'s sentinel (in the group's slot)."""
        ...

    def token(self, group: int) -> bytes | str | None:
        """Group ``group``'s token while the store is complete, None while it is not."""
        ...


def _raw(value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError("RedisCredentialStore needs a Redis client with decode_responses=False")
    return value


class RedisCredentialStore:
    """:class:`CredentialStore` in Redis (bytes client, as :func:`microcred.lifecycle.connect_redis_client`
    gives), on a single node or spread over a Redis Cluster in slot groups by credential id
    (:class:`~microcred.storage.slot_groups.SlotGroups`): each script and ``MGET`` takes one group's keys, and
    a chunk costs that constant number of commands per group it touches."""

    def __init__(self, redis: RedisClient, prefix: str | SlotGroups = "issuer", readiness: Readiness | None = None
                 ) -> None:
        self._redis = redis
        self._groups = prefix if isinstance(prefix, SlotGroups) else SlotGroups(prefix)
        self._readiness = readiness
        self._put_pending = redis.register_script(_PUT_PENDING)
        self._commit = redis.register_script(_COMMIT)

    def _token(self, group: int) -> bytes | str:
        """The epoch token to check ('' without readiness); raises while the store is incomplete."""
        if self._readiness is None:
            return ""
        token = self._readiness.token(group)
        if token is None:
            raise StoreNotReady("the credential store is catching up or being rebuilt; retry")
        return token

    async def _mget_checked(self, group: int, keys: list[str]) -> list[Any]:
        """``MGET`` of one group's keys together with its epoch sentinel (checked: StoreNotReady when lost)."""
        if self._readiness is None:
            return list(await self._redis.mget(keys)) if keys else []
        token = self._token(group)
        epoch, *values = await self._redis.mget([self._readiness.epoch_key(group), *keys])
        if epoch != token:
            raise StoreNotReady("the credential store lost its data and is being rebuilt; retry")
        return values

    async def lookup(self, issuer_id: str, credential_ids: Sequence[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """One ``MGET`` per slot group for both record kinds (and the group's epoch sentinel, checked in the
        same round trip)."""
        if not credential_ids:
            return {}, {}
        issued: dict[str, bytes] = {}
        pending: dict[str, bytes] = {}

        async def look(group: int, ids: list[str]) -> None:
            p = self._groups.key_prefix(group)
            values = await self._mget_checked(group, [cred_key(p, issuer_id, c) for c in ids]
                                              + [pending_key(p, issuer_id, c) for c in ids])
            n = len(ids)
            found = {c: _raw(v) for c, v in zip(ids, values[:n], strict=True) if v is not None}
            issued.update(found)
            pending.update({c: _raw(v) for c, v in zip(ids, values[n:], strict=True)
                            if v is not None and c not in found})

        await each_group(look(g, ids) for g, ids in self._groups.split(credential_ids).items())
        return issued, pending

    async def get(self, issuer_id: str, credential_id: str) -> bytes | None:
        """The issued record; an absent one while the store is incomplete raises StoreNotReady (never a false
        "not found"), checked with the epoch sentinel in the same round trip."""
        group = self._groups.group_of(credential_id)
        key = cred_key(self._groups.key_prefix(group), issuer_id, credential_id)
        if self._readiness is None:
            value = await self._redis.get(key)
            return None if value is None else _raw(value)
        epoch, value = await self._redis.mget([self._readiness.epoch_key(group), key])
        if value is not None:
            return _raw(value)
        if epoch != self._token(group):
            raise StoreNotReady("the credential store lost its data and is being rebuilt; retry")
        return None

    async def put_pending(self, issuer_id: str, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        """``SET NX EX`` of every pending record in one script per slot group; records already there (issued or
        pending) win."""
        if not envelopes:
            return {}
        firsts: dict[str, bytes] = {}

        async def put(group: int, ids: list[str]) -> None:
            p = self._groups.key_prefix(group)
            token = self._token(group)
            # Without readiness the script checks nothing, but its first key must still be in the group's slot.
            epoch = self._readiness.epoch_key(group) if self._readiness is not None else f"{p}:no-epoch"
            keys = [epoch] + [k for c in ids for k in (pending_key(p, issuer_id, c), cred_key(p, issuer_id, c))]
            try:
                earlier = await self._put_pending(keys=keys,
                                                  args=[PENDING_TTL_SECONDS, token, *(envelopes[c] for c in ids)])
            except ResponseError as exc:
                if "STORE_NOT_READY" in str(exc):
                    raise StoreNotReady(str(exc)) from None
                raise
            firsts.update({c: _raw(first) if first else envelopes[c] for c, first in zip(ids, earlier, strict=True)})

        await each_group(put(g, ids) for g, ids in self._groups.split(envelopes).items())
        return {c: firsts[c] for c in envelopes}

    async def commit(self, issuer_id: str, envelopes: dict[str, bytes]) -> None:
        """Rename the pending records to issued ones in one script per slot group; write the value where one is
        gone (expired, or the projection got there first); index them by issue time."""
        if not envelopes:
            return

        async def commit(group: int, ids: list[str]) -> None:
            p = self._groups.key_prefix(group)
            keys = [k for c in ids for k in (pending_key(p, issuer_id, c), cred_key(p, issuer_id, c))]
            scores = {c: issued_micros(envelopes[c]) for c in ids}
            args: list[str | int] = []
            for c in ids:
                score = scores[c]
                args += ("", "") if score is None else (score, c)
            missing = [ids[int(n) - 1] for n in await self._commit(keys=[*keys, index_key(p, issuer_id)], args=args)]
            if missing:
                await self._redis.mset({cred_key(p, issuer_id, c): envelopes[c] for c in missing})
                late = {c: at for c in missing if (at := scores[c]) is not None}
                if late:
                    await self._redis.zadd(index_key(p, issuer_id), late)

        await each_group(commit(g, ids) for g, ids in self._groups.split(envelopes).items())

    async def page(self, issuer_id: str, cursor: PageCursor, limit: int, since_micros: int | None
                   ) -> tuple[list[bytes], PageCursor | None]:
        """One ``ZREVRANGEBYSCORE`` and one ``MGET`` per slot group and page (the indexes hold ids, the records
        the envelopes; several groups' index ranges are merged in ``ZREVRANGE`` order); StoreNotReady while the
        store is incomplete (a page would silently miss credentials), every group's epoch sentinel checked in
        its records' round trip, after the indexes were read (a wiped Redis has empty indexes)."""
        for group in self._groups.groups:
            self._token(group)
        high = "+inf" if cursor.before_micros is None else cursor.before_micros
        low = "-inf" if since_micros is None else since_micros
        single = self._groups.count == 1
        # One group: the range starts at the cursor's skip. Several: each group's first skip + limit + 1, merged
        # (every group orders as ZREVRANGE does: score, then member, descending), then skipped.
        ranges = await asyncio.gather(*(self._redis.zrevrangebyscore(
            index_key(self._groups.key_prefix(g), issuer_id), high, low, start=cursor.skip if single else 0,
            num=limit + 1 + (0 if single else cursor.skip), withscores=True) for g in self._groups.groups))
        found = cast(list[tuple[bytes, float]], ranges[0] if single else list(heapq.merge(
            *ranges, key=lambda item: (item[1], item[0]), reverse=True))[cursor.skip:])
        page = found[:limit]
        ids = [member.decode() for member, _ in page]
        by_group = self._groups.split(ids)
        values: dict[str, Any] = {}

        async def read(group: int) -> None:
            wanted = by_group.get(group, [])
            p = self._groups.key_prefix(group)
            values.update(zip(wanted, await self._mget_checked(group, [cred_key(p, issuer_id, c) for c in wanted]),
                              strict=True))

        await each_group(read(g) for g in self._groups.groups)
        if not page:
            return [], None
        envelopes = [_raw(values[c]) for c in ids if values[c] is not None]
        return envelopes, next_cursor(cursor, [int(score) for _, score in page], len(found) > limit)


class InMemoryCredentialStore:
    """Twin of :class:`RedisCredentialStore` for unit tests, readiness checks included (one slot group).

    ``epochs`` stands for the Redis keyspace's epoch sentinels (key -> token, as the projection writes them);
    :meth:`wipe` loses every record and sentinel, as a Redis that restarted empty does.
    """

    def __init__(self, readiness: Readiness | None = None) -> None:
        self.issued: dict[tuple[str, str], bytes] = {}
        self.pending: dict[tuple[str, str], bytes] = {}
        self.epochs: dict[str, bytes | str] = {}
        self.fail_commit: Exception | None = None
        self._readiness = readiness

    def wipe(self) -> None:
        """Lose every record and sentinel."""
        self.issued.clear()
        self.pending.clear()
        self.epochs.clear()

    def _check_ready(self) -> None:
        """What the Redis store checks with its epoch sentinel: complete, and the sentinel still the token."""
        if self._readiness is None:
            return
        token = self._readiness.token(0)
        if token is None:
            raise StoreNotReady("the credential store is catching up or being rebuilt; retry")
        if self.epochs.get(self._readiness.epoch_key(0)) != token:
            raise StoreNotReady("the credential store lost its data and is being rebuilt; retry")

    async def lookup(self, issuer_id: str, credential_ids: Sequence[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """Issued and pending records of the ids."""
        if not credential_ids:
            return {}, {}
        self._check_ready()
        issued = {c: self.issued[(issuer_id, c)] for c in credential_ids if (issuer_id, c) in self.issued}
        pending = {c: self.pending[(issuer_id, c)] for c in credential_ids
                   if (issuer_id, c) in self.pending and c not in issued}
        return issued, pending

    async def get(self, issuer_id: str, credential_id: str) -> bytes | None:
        """The issued record; an absent one while the store is incomplete raises StoreNotReady."""
        value = self.issued.get((issuer_id, credential_id))
        if value is None:
            self._check_ready()
        return value

    async def put_pending(self, issuer_id: str, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        """First writer wins; an issued record wins over everything."""
        if not envelopes:
            return {}
        self._check_ready()
        out = {}
        for cid, value in envelopes.items():
            issued = self.issued.get((issuer_id, cid))
            out[cid] = issued if issued is not None else self.pending.setdefault((issuer_id, cid), value)
        return out

    async def commit(self, issuer_id: str, envelopes: dict[str, bytes]) -> None:
        """Issued records in, pending out (or raise ``fail_commit`` once)."""
        if self.fail_commit is not None:
            error, self.fail_commit = self.fail_commit, None
            raise error
        for cid, value in envelopes.items():
            self.issued[(issuer_id, cid)] = value
            self.pending.pop((issuer_id, cid), None)

    async def page(self, issuer_id: str, cursor: PageCursor, limit: int, since_micros: int | None
                   ) -> tuple[list[bytes], PageCursor | None]:
        """As the Redis store pages (newest first; equal times in descending id order, as ``ZREVRANGE``)."""
        self._check_ready()
        ranked = sorted(((at, cid, v) for (i, cid), v in self.issued.items()
                         if i == issuer_id and (at := issued_micros(v)) is not None), reverse=True)
        ranked = [r for r in ranked if (cursor.before_micros is None or r[0] <= cursor.before_micros)
                  and (since_micros is None or r[0] >= since_micros)][cursor.skip:]
        page = ranked[:limit]
        return [v for _, _, v in page], next_cursor(cursor, [score for score, _, _ in page], len(ranked) > limit)
