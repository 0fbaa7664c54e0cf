"""Redis adapter of the revocation service: the read model rebuilt from Kafka, and atomic index claims.

Keys (``{p}`` is the configured prefix, ``rev`` by default)::

    {p}:cred:{credential id}       hash   issuer, tenant, entries (JSON), updated_at, actor, reason, status_offset,
                                          o:{list id} (the Kafka position of the change that set that bit)
    {p}:list:{list id}             hash   issuer, purpose, url, number, size
    {p}:lists                      set    every list id
    {p}:issuer-lists:{issuer}:{purpose}  zset  the issuer's list ids for a purpose, scored by number
    {p}:alloc:{list id}            bitmap indexes handed out (never handed out again)
    {p}:bits:{list id}             bitmap the status bits (1 = revoked / suspended)
    {p}:pub:{list id}              hash   latest signed list: version, body, etag, valid_until, bits_sha256
    {p}:dirty                      set    lists changed since they were last signed
    {p}:lock:{list id}             string signing lock (token, expires)
    {p}:tsl:{list id}              string IETF Token Status List bytes (2 bits per credential, at its revocation
                                          index; see services/revocation/api/token_status.py)
    {p}:tsl-lists                  set    list ids that have a Token Status List: every revocation list, from
                                          its registration (its entries valid until credentials are projected)
    offsets:{p}:{topic}            hash   Kafka positions stored with the state (microcred.storage.positions)

Everything except the signing locks is written by the projector from Kafka events, inside the same ``MULTI``
as the record's position, so an empty Redis is rebuilt by replay. The command side writes three things itself,
each converging with replay on the same state: the list metadata of a new list and index *claims*, ahead of
their events, idempotent and set-only (``BITFIELD SET`` returns the previous bit, an atomic test-and-set, so two
service instances can never hand out the same index); and **status changes once their event is on Kafka**
(:meth:`RevocationStore.apply_changes`), so that a revocation is in the read model (and its list queued for
signing) as soon as the instance that accepted it has it durable, not only once the partition's projector (which
may be on a replica that just died, until the consumer group rebalances) gets to it.

Status changes are ordered by their Kafka position: a credential's status events share one partition (they are
keyed by its id), and each status bit keeps the offset of the change that set it (``o:{list id}`` in the
credential's hash, "partition:offset"). A change no newer than that is skipped, so whichever of the command
side and the projector writes first, and in whatever order two replicas' writes land, each bit ends as the
newest change says; who/when/why (``updated_at``, ``actor``, ``reason``) follow the newest change of any list
(``status_offset``). A change from another partition than the one recorded (the topic was repartitioned) is
applied, as before ordering was recorded.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.storage.positions import stored_position
from microcred.storage.replies import text
from services.revocation.domain import CredentialRecord, EntryRef, ListMeta, StatusWrite

__all__ = ["PublishedList", "RevocationStore", "etag_of"]

_BITFIELD_CHUNK = 2_000

_STORE_PUBLISHED = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'body', ARGV[2], 'etag', ARGV[3], 'valid_until', ARGV[4],
           'bits_sha256', ARGV[5])
return 1
"""

# KEYS: credential hashes; ARGV: issuer, tenant, entries (JSON) per key. The first record of a credential id wins:
# one with another issuer changes nothing. Returns how many were written.
_RECORD_CREDENTIALS = """
local written = 0
for i, key in ipairs(KEYS) do
  local at = (i - 1) * 3
  local issuer = redis.call('HGET', key, 'issuer')
  if not issuer or issuer == ARGV[at + 1] then
    redis.call('HSET', key, 'issuer', ARGV[at + 1], 'tenant', ARGV[at + 2], 'entries', ARGV[at + 3])
    written = written + 1
  end
end
return written
"""

# A revocation list has a Token Status List from the start (KEYS[4]): its entries are the credentials' revocation
# indexes, written when the projector applies their CredentialIssued; a verifier may ask before that.
_CREATE_LIST = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {redis.call('HGET', KEYS[1], 'issuer'), redis.call('HGET', KEYS[1], 'purpose'), '0'}
end
redis.call('HSET', KEYS[1], 'issuer', ARGV[1], 'purpose', ARGV[2], 'url', ARGV[3], 'number', ARGV[4], 'size', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
if ARGV[2] == 'revocation' then redis.call('SADD', KEYS[4], ARGV[6]) end
return {ARGV[1], ARGV[2], '1'}
"""

# The IETF Token Status List entry (services/revocation/api/token_status.py) of each credential, recomputed from its
# Bitstring bits: 0x01 if the revocation bit is set, else 0x02 if the suspension bit is, else 0x00. The entry is
# the credential's revocation list id and index; the byte array is the draft's (u2 at 8*(i//4)+6-2*(i%4)).
# Recomputing from the bits (not applying the event) keeps it right whatever order a replay brings the
# CredentialIssued and status events in. KEYS: credential hashes; ARGV[1]: key prefix.
_TOKEN_STATUS_ENTRIES = """
for _, key in ipairs(KEYS) do
  local entries = redis.call('HGET', key, 'entries')
  if entries then
    local rev, sus = nil, nil
    for _, e in ipairs(cjson.decode(entries)) do
      if e[3] == 'revocation' then rev = e elseif e[3] == 'suspension' then sus = e end
    end
    if rev then
      local value = 0
      if redis.call('GETBIT', ARGV[1] .. ':bits:' .. rev[1], rev[2]) == 1 then
        value = 1
      elseif sus and redis.call('GETBIT', ARGV[1] .. ':bits:' .. sus[1], sus[2]) == 1 then
        value = 2
      end
      local tsl = ARGV[1] .. ':tsl:' .. rev[1]
      local offset = 8 * math.floor(rev[2] / 4) + 6 - 2 * (rev[2] % 4)
      if redis.call('BITFIELD', tsl, 'GET', 'u2', offset)[1] ~= value then
        redis.call('BITFIELD', tsl, 'SET', 'u2', offset, value)
      end
      redis.call('SADD', ARGV[1] .. ':tsl-lists', rev[1])
    end
  end
end
return 0
"""

# Index claims that must not happen on a lost or replaced read model: the projection's sentinel
# (microcred.storage.positions.ProjectionEpoch) must still hold the token the command side checked.
_GUARDED_CLAIM = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return redis.error_reply('STATE_LOST the read model was lost or is being rebuilt')
end
return redis.call('BITFIELD', KEYS[1], unpack(ARGV, 2))
"""
_GUARDED_CHUNK = 500

# A status change (see the module docstring). KEYS: bits, credential hash, dirty set. ARGV: index, bit (0/1),
# partition, offset, updated_at, actor, reason, list id. Returns 1 when the bit was written, 0 when a newer (or the
# same) change had already set it.
_WRITE_CHANGE = """
local partition, at = ARGV[3], tonumber(ARGV[4])
local function newer(field)
  local seen = redis.call('HGET', KEYS[2], field)
  if not seen then return true end
  local p, o = string.match(seen, '^(%d+):(%d+)$')
  return p ~= partition or tonumber(o) < at
end
local field = 'o:' .. ARGV[8]
if not newer(field) then return 0 end
local position = partition .. ':' .. ARGV[4]
redis.call('SETBIT', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], field, position)
if newer('status_offset') then
  redis.call('HSET', KEYS[2], 'updated_at', ARGV[5], 'actor', ARGV[6], 'reason', ARGV[7], 'status_offset', position)
end
redis.call('SADD', KEYS[3], ARGV[8])
return 1
"""

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class PublishedList:
    """The latest signed version of a list, exactly as served over HTTP."""

    list_id: str
    version: int
    body: bytes
    etag: str
    valid_until: datetime
    bits_sha256: str


def etag_of(body: bytes) -> str:
    """The strong HTTP ETag of a served body: a quoted prefix of its SHA-256."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _s(value: bytes | str | None) -> str:
    return text(value) or ""


def _entries_json(entries: Sequence[EntryRef]) -> str:
    return json.dumps([[e.list_id, e.index, e.purpose, e.list_url] for e in entries], separators=(",", ":"))


def _entries_from_json(text: str) -> tuple[EntryRef, ...]:
    return tuple(EntryRef(str(a), int(b), str(c), str(d)) for a, b, c, d in json.loads(text or "[]"))


class RevocationStore:
    """Reads and writes of the revocation read model under one key prefix."""

    def __init__(self, redis: Redis, prefix: str = "rev") -> None:
        self.redis = redis
        self.prefix = prefix

    # ------------------------------------------------------------------------------------------ keys

    @property
    def projection(self) -> str:
        """The projection name under which Kafka positions are stored."""
        return self.prefix

    def _cred(self, credential_id: str) -> str:
        return f"{self.prefix}:cred:{credential_id}"

    def _list(self, list_id: str) -> str:
        return f"{self.prefix}:list:{list_id}"

    def _issuer_lists(self, issuer_id: str, purpose: str) -> str:
        return f"{self.prefix}:issuer-lists:{issuer_id}:{purpose}"

    def _alloc(self, list_id: str) -> str:
        return f"{self.prefix}:alloc:{list_id}"

    def _bits(self, list_id: str) -> str:
        return f"{self.prefix}:bits:{list_id}"

    def _pub(self, list_id: str) -> str:
        return f"{self.prefix}:pub:{list_id}"

    @property
    def _lists(self) -> str:
        return f"{self.prefix}:lists"

    @property
    def _token_lists(self) -> str:
        return f"{self.prefix}:tsl-lists"

    @property
    def _dirty(self) -> str:
        return f"{self.prefix}:dirty"

    # ------------------------------------------------------------------------------------ positions

    async def position(self, topic: str, partition: int) -> int | None:
        """The next offset this projection reads on ``topic/partition`` (None: nothing applied yet)."""
        return await stored_position(self.redis, self.projection, topic, partition)

    # ------------------------------------------------------------------------------------ credentials

    async def credential(self, credential_id: str) -> CredentialRecord | None:
        """The credential with its current status bits, or None when unknown."""
        return (await self.credentials([credential_id]))[0]

    async def credentials(self, credential_ids: Sequence[str]) -> list[CredentialRecord | None]:
        """Several credentials at once (two pipelined round trips), in the order given."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in credential_ids:
                pipe.hgetall(self._cred(cid))
            rows: list[dict[bytes, bytes]] = await pipe.execute()
        parsed = [(_entries_from_json(_s(row.get(b"entries"))), row) if row else None for row in rows]
        async with self.redis.pipeline(transaction=False) as pipe:
            for item in parsed:
                for entry in item[0] if item else ():
                    pipe.getbit(self._bits(entry.list_id), entry.index)
            bits: list[int] = await pipe.execute()
        out: list[CredentialRecord | None] = []
        cursor = 0
        for cid, item in zip(credential_ids, parsed, strict=True):
            if item is None:
                out.append(None)
                continue
            entries, row = item
            status = {e.purpose: bool(bits[cursor + i]) for i, e in enumerate(entries)}
            cursor += len(entries)
            updated = _s(row.get(b"updated_at"))
            out.append(CredentialRecord(
                credential_id=cid, issuer_id=_s(row.get(b"issuer")), tenant=_s(row.get(b"tenant")),
                entries=entries, revoked=status.get("revocation", False),
                suspended=status.get("suspension", False),
                updated_at=datetime.fromisoformat(updated) if updated else None,
            ))
        return out

    def write_credentials(self, pipe: Pipeline, records: Sequence[CredentialRecord]) -> None:
        """Projection write for ``CredentialIssued`` events, in order, as one script call: the first record of a
        credential id wins.

        A redelivered event writes the same values again; a later event that reuses the id for another
        issuer cannot take the credential over.
        """
        args: list[str] = []
        for record in records:
            args += [record.issuer_id, record.tenant, _entries_json(record.entries)]
        keys = [self._cred(r.credential_id) for r in records]
        pipe.eval(_RECORD_CREDENTIALS, len(records), *keys, *args)
        pipe.eval(_TOKEN_STATUS_ENTRIES, len(keys), *keys, self.prefix)

    def write_change(self, pipe: Pipeline, change: StatusWrite) -> None:
        """Queue a status change: set the bit unless a newer change set it, remember who/when/why, mark the list
        dirty, and recompute the credential's Token Status List entry from its bits."""
        cred = self._cred(change.credential_id)
        pipe.eval(_WRITE_CHANGE, 3, self._bits(change.list_id), cred, self._dirty, change.index,
                  1 if change.value else 0, change.partition, change.offset,
                  change.at.astimezone(UTC).isoformat(), change.actor, change.reason, change.list_id)
        pipe.eval(_TOKEN_STATUS_ENTRIES, 1, cred, self.prefix)

    async def apply_changes(self, changes: Sequence[StatusWrite]) -> None:
        """Write status changes whose events are already on Kafka, in one transaction (the command side's
        write; the projector's later write of the same events then changes nothing)."""
        if not changes:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for change in changes:
                self.write_change(pipe, change)
            await pipe.execute()

    # ------------------------------------------------------------------------------------------ lists

    async def list_meta(self, list_id: str) -> ListMeta | None:
        """The list's metadata, or None when unknown."""
        return (await self.list_metas([list_id]))[0]

    async def list_metas(self, list_ids: Sequence[str]) -> list[ListMeta | None]:
        """Several lists' metadata, in the order given."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for list_id in list_ids:
                pipe.hgetall(self._list(list_id))
            rows: list[dict[bytes, bytes]] = await pipe.execute()
        return [ListMeta(list_id, _s(r[b"issuer"]), _s(r[b"purpose"]), _s(r[b"url"]), int(r[b"number"]),
                         int(r[b"size"])) if r else None for list_id, r in zip(list_ids, rows, strict=True)]

    async def all_lists(self) -> list[str]:
        """Every list id, sorted."""
        members: Any = await self.redis.smembers(self._lists)
        return sorted(_s(m) for m in members)

    async def lists_of(self, issuer_id: str, purpose: str) -> list[tuple[str, int]]:
        """The issuer's lists for ``purpose`` as ``(list id, number)``, lowest number first."""
        rows: Any = await self.redis.zrange(
            self._issuer_lists(issuer_id, purpose), 0, -1, withscores=True)
        return [(_s(member), int(score)) for member, score in rows]

    def _meta_mapping(self, meta: ListMeta) -> Any:
        return {"issuer": meta.issuer_id, "purpose": meta.purpose, "url": meta.url,
                "number": str(meta.number), "size": str(meta.size)}

    def write_list(self, pipe: Pipeline, meta: ListMeta) -> None:
        """Projection write of a list's metadata and memberships (idempotent)."""
        pipe.hset(self._list(meta.list_id), mapping=self._meta_mapping(meta))
        pipe.sadd(self._lists, meta.list_id)
        pipe.zadd(self._issuer_lists(meta.issuer_id, meta.purpose), {meta.list_id: meta.number})
        if meta.purpose == "revocation":  # as _CREATE_LIST: its Token Status List exists from the start
            pipe.sadd(self._token_lists, meta.list_id)

    async def create_list(self, meta: ListMeta) -> tuple[bool, bool]:
        """Register a new list ahead of its reservation event, atomically.

        Returns ``(usable, created)``: ``usable`` is False when the id already belongs to another issuer or
        purpose; ``created`` is False when the list already existed (e.g. another instance created it).
        """
        result: Any = await self.redis.eval(
            _CREATE_LIST, 4, self._list(meta.list_id), self._lists, self._issuer_lists(meta.issuer_id, meta.purpose),
            self._token_lists, meta.issuer_id, meta.purpose, meta.url, meta.number, meta.size, meta.list_id)
        issuer, purpose, created = (_s(v) for v in result)
        return (issuer, purpose) == (meta.issuer_id, meta.purpose), created == "1"

    # ------------------------------------------------------------------------------ allocation bitmap

    async def used_bitmap(self, list_id: str) -> bytes:
        """The used-index bitmap as stored (Redis trims trailing zero bytes)."""
        value: Any = await self.redis.get(self._alloc(list_id))
        return bytes(value or b"")

    async def used_count(self, list_id: str) -> int:
        """How many indexes of the list have been handed out."""
        return int(await self.redis.bitcount(self._alloc(list_id)))

    async def claim(self, list_id: str, indexes: Sequence[int],
                    guard: tuple[str, bytes | str] | None = None) -> list[int]:
        """Atomically mark ``indexes`` used; return those that were free (ours now), in the order given.

        With ``guard`` = (sentinel key, token), each chunk is claimed only while the sentinel still holds the
        token (a Redis error otherwise): a wiped Redis would report every index free."""
        won: list[int] = []
        size = _GUARDED_CHUNK if guard is not None else _BITFIELD_CHUNK
        for start in range(0, len(indexes), size):
            chunk = indexes[start:start + size]
            args: list[Any] = []
            for index in chunk:
                args += ["SET", "u1", index, 1]
            if guard is None:
                previous: list[int] = await self.redis.execute_command(  # type: ignore[no-untyped-call]
                    "BITFIELD", self._alloc(list_id), *args)
            else:
                previous = await self.redis.eval(
                    _GUARDED_CLAIM, 2, self._alloc(list_id), guard[0], guard[1], *args)
            won.extend(index for index, old in zip(chunk, previous, strict=True) if old == 0)
        return won

    def write_reserved(self, pipe: Pipeline, meta: ListMeta, indexes: Iterable[int]) -> None:
        """Projection write for one reserved block: the list and its used indexes."""
        self.write_list(pipe, meta)
        batch = list(indexes)
        for start in range(0, len(batch), _BITFIELD_CHUNK):
            args: list[Any] = []
            for index in batch[start:start + _BITFIELD_CHUNK]:
                args += ["SET", "u1", index, 1]
            pipe.execute_command("BITFIELD", self._alloc(meta.list_id), *args)

    # ------------------------------------------------------------------------------------ status bits

    async def list_bits(self, list_id: str, size: int) -> bytes:
        """The list's status bitstring, padded to ``size`` bits."""
        value: Any = await self.redis.get(self._bits(list_id))
        raw = bytes(value or b"")
        length = (size + 7) // 8
        return raw[:length] + bytes(length - min(len(raw), length))

    # -------------------------------------------------------------------------------- publication

    async def published(self, list_id: str) -> PublishedList | None:
        """The latest signed version of the list, or None when it was never published."""
        row: dict[bytes, bytes] = await self.redis.hgetall(self._pub(list_id))  # type: ignore[assignment]
        if not row:
            return None
        return PublishedList(list_id, int(row[b"version"]), row[b"body"], _s(row[b"etag"]),
                             datetime.fromtimestamp(float(row[b"valid_until"]), UTC), _s(row[b"bits_sha256"]))

    async def published_versions(self, list_ids: Sequence[str]) -> dict[str, tuple[int, datetime] | None]:
        """``(version, valid_until)`` of each list's latest publication (None: never published)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for list_id in list_ids:
                pipe.hmget(self._pub(list_id), ["version", "valid_until"])
            rows: list[list[bytes | None]] = await pipe.execute()
        out: dict[str, tuple[int, datetime] | None] = {}
        for list_id, (version, valid_until) in zip(list_ids, rows, strict=True):
            out[list_id] = None if version is None or valid_until is None else (
                int(version), datetime.fromtimestamp(float(valid_until), UTC))
        return out

    def write_published(self, pipe: Redis | Pipeline, published: PublishedList) -> Any:
        """Store a signed version unless a newer one is already stored (usable in a ``MULTI``)."""
        return pipe.eval(_STORE_PUBLISHED, 1, self._pub(published.list_id), published.version, published.body,
                         published.etag, f"{published.valid_until.timestamp():.3f}", published.bits_sha256)

    async def store_published(self, published: PublishedList) -> bool:
        """Store a signed version now; False when a newer version is already there."""
        return bool(await self.write_published(self.redis, published))

    # ---------------------------------------------------------------------------- dirty set and locks

    async def mark_dirty(self, list_ids: Iterable[str]) -> None:
        """Remember that these lists must be re-signed."""
        ids = list(list_ids)
        if ids:
            await self.redis.sadd(self._dirty, *ids)

    async def pop_dirty(self, limit: int = 10_000) -> set[str]:
        """Take (remove and return) up to ``limit`` lists that must be re-signed."""
        popped: list[bytes] | None = await self.redis.spop(self._dirty, limit)  # type: ignore[assignment]
        return {_s(m) for m in popped or ()}

    async def acquire_lock(self, list_id: str, ttl_ms: int = 10_000) -> str | None:
        """Take the list's signing lock (shared by all instances); None when another holder has it."""
        token = secrets.token_hex(8)
        ok = await self.redis.set(f"{self.prefix}:lock:{list_id}", token, nx=True, px=ttl_ms)
        return token if ok else None

    async def release_lock(self, list_id: str, token: str) -> None:
        """Release the signing lock if we still hold it."""
        await self.redis.eval(_RELEASE_LOCK, 1, f"{self.prefix}:lock:{list_id}", token)
