"""Share links: unguessable, expiring, withdrawable, counted.

A link's token is ``secrets.token_urlsafe(32)`` (256 bits). Only its SHA-256 is kept, on Kafka and in Redis,
so neither (nor their backups) can be turned into working links; the hex digest doubles as the share id the
learner sees (it cannot open the link). Creating and withdrawing publish ``ShareLinkCreated`` and
``ShareLinkWithdrawn`` (each the full link, keyed ``share:{id}`` on the compacted wallet topic) and the
projection writes the read model, so links, and withdrawals, come back after Redis is wiped. Expiry is explicit
(``expires_at``, checked on every access) and also a Redis TTL (``expires_at`` plus a retention period during
which the link answers 410 Gone instead of 404), set again by every replay. Resolving a link checks it and
counts the access in one Lua script, so a withdrawn or expired link stops working at once and concurrent
accesses are all counted.

The access count is a plain Redis counter, not an event: a public, unauthenticated read must not turn into a
Kafka write. It is lost with Redis (counting starts again at 0); everything else about a link is not.

Keys (``P`` is the instance prefix; ``<id>`` the share id, sha256 hex of the token)::

    P:share:{<id>}                  hash  account, credential_ids (JSON), created_at, expires_at (epoch s),
                                          withdrawn "0"/"1"                                  (projected)
    P:share-hits:{<id>}             str   access count (same TTL as the link)                 (not projected)
    P:share-deleted:<id>            str   the link went with its account (gone-link retention)
    P:acct:<account>:shares         zset  share ids by creation time                          (projected)
    P:pdf-link:<account>:<sha256 hex of credential id>[:lock]  the PDF's remembered verification link
                                          (services/wallet/api/pdf_link.py; deleted with the account)

The braces around ``<id>`` are literal: a Redis Cluster hash tag, so a link's hash and its counter share one slot
and the resolve script (which takes both) runs on a cluster (docs/redis-keys.md). Links projected before the
tags (``P:share:<id>``, ``P:share-hits:<id>``) are still read on a single node when the tagged key is missing, and
deleted with the tagged ones, until they expire (``expires_at`` plus the gone-link retention: at most the longest
link lifetime plus the retention after the upgrade), or a rebuild from Kafka writes them tagged. A cluster never
held the old layout (no service could connect to one before), so it does not look for it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline

from microcred.gen.microcred.v1 import events_pb2
from microcred.lifecycle import RedisClient
from services.wallet.adapters.store import r, text
from services.wallet.adapters.wallet_log import WalletLog, record_key
from services.wallet.domain.errors import NotFound
from services.wallet.domain.share_link import Resolution, Share, share_id_of

_RESOLVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local f = redis.call('HMGET', KEYS[1], 'withdrawn', 'expires_at')
if f[1] == '1' then return {1, 0} end
if tonumber(f[2]) <= tonumber(ARGV[1]) then return {2, 0} end
local count = redis.call('INCR', KEYS[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return {3, count}
"""


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a Redis SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _share(share_id: str, raw: dict[bytes, bytes], hits: bytes | None) -> Share:
    return Share(
        share_id=share_id, account_id=raw[b"account"].decode(),
        credential_ids=tuple(json.loads(raw[b"credential_ids"])),
        created_at=datetime.fromtimestamp(float(raw[b"created_at"]), UTC),
        expires_at=datetime.fromtimestamp(float(raw[b"expires_at"]), UTC),
        withdrawn=raw.get(b"withdrawn") == b"1", access_count=int(hits or b"0"),
    )


class ShareLinks:
    """Creates, lists, withdraws and resolves share links; :meth:`write` is the projection's side."""

    def __init__(self, redis: RedisClient, prefix: str, gone_retention_seconds: int,
                 log: WalletLog | None = None) -> None:
        self.redis, self.prefix, self.retention, self._log = redis, prefix, gone_retention_seconds, log
        self._resolve = redis.register_script(_RESOLVE)
        # Untagged keys of links projected before the hash tags exist only on a single node (module docstring).
        self._legacy = isinstance(redis, Redis)

    def _key(self, share_id: str) -> str:
        return f"{self.prefix}:share:{{{share_id}}}"

    def _legacy_keys(self, share_id: str) -> tuple[str, str]:
        """The link's hash and counter as projected before the hash tags (read and deleted on a single node)."""
        return f"{self.prefix}:share:{share_id}", f"{self.prefix}:share-hits:{share_id}"

    def key(self, share_id: str) -> str:
        """The Redis key of a projected share link (a deleted account's tombstones drop it)."""
        return self._key(share_id)

    def mark_deleted(self, pipe: Pipeline | ClusterPipeline, share_id: str) -> None:
        """Queue a marker that the link was deleted with its account (its id only, for the gone-link retention),
        so it answers "gone" rather than "unknown" meanwhile; the tombstone's projection writes it. The link's
        pre-hash-tag keys go too, so a link dropped with its account never resolves from them."""
        pipe.set(self._deleted(share_id), "1", ex=max(self.retention, 1))
        if self._legacy:
            pipe.delete(*self._legacy_keys(share_id))

    def _deleted(self, share_id: str) -> str:
        return f"{self.prefix}:share-deleted:{share_id}"

    def _hits(self, share_id: str) -> str:
        return f"{self.prefix}:share-hits:{{{share_id}}}"

    def _index(self, aid: str) -> str:
        return f"{self.prefix}:acct:{aid}:shares"

    async def _publish(self, share: Share, payload: events_pb2.ShareLinkCreated | events_pb2.ShareLinkWithdrawn
                       ) -> None:
        if self._log is None:
            raise RuntimeError("this ShareLinks instance is read-only (no wallet log)")
        await self._log.publish(record_key("share", share.share_id), payload)

    async def create(self, aid: str, credential_ids: list[str], expires_at: datetime,
                     now: datetime) -> tuple[str, Share]:
        """A new link to ``credential_ids`` (already checked to be ``aid``'s); returns (token, share)."""
        token = secrets.token_urlsafe(32)
        share = Share(share_id_of(token), aid, tuple(credential_ids), now, expires_at, False, 0)
        await self._publish(share, events_pb2.ShareLinkCreated(link=share.to_event()))
        return token, share

    def write(self, pipe: Pipeline | ClusterPipeline, share: Share) -> None:
        """Queue the projection's writes for ``share`` (created or withdrawn): the full link, its TTL, its index."""
        key = self._key(share.share_id)
        pipe.hset(key, mapping={
            "account": share.account_id, "credential_ids": json.dumps(list(share.credential_ids)),
            "created_at": repr(share.created_at.timestamp()), "expires_at": repr(share.expires_at.timestamp()),
            "withdrawn": "1" if share.withdrawn else "0",
        })
        # A link replayed after its retention ran out is deleted at once by the past EXPIREAT: it stays gone.
        pipe.expireat(key, math.ceil(share.expires_at.timestamp()) + self.retention)
        pipe.zadd(self._index(share.account_id), {share.share_id: share.created_at.timestamp()})

    def pdf_link_key(self, aid: str, credential_id: str) -> str:
        """Where the PDF download remembers its verification link to ``credential_id`` (sealed token)."""
        return f"{self.prefix}:pdf-link:{aid}:{hashlib.sha256(credential_id.encode()).hexdigest()}"

    async def forget_pdf_links(self, aid: str) -> int:
        """Delete every remembered PDF link of ``aid`` (and any creation lock); how many keys were deleted.

        The keys carry only a hash of the credential id, so they are found by a SCAN of the account's key
        pattern (non-blocking, in steps; account deletion is rare), not by an index that could miss one."""
        pattern = f"{_glob_escape(self.prefix)}:pdf-link:{_glob_escape(aid)}:*"
        deleted, batch = 0, []
        async for key in self.redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await r(self.redis.delete(*batch))
                batch = []
        if batch:
            deleted += await r(self.redis.delete(*batch))
        return deleted

    async def _read(self, share_id: str) -> tuple[dict[bytes, bytes], bytes | None]:
        """A link's hash and counter (the pre-hash-tag keys when only they exist); an empty hash when unknown."""
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(self._key(share_id)))
        if raw:
            return raw, await r(self.redis.get(self._hits(share_id)))
        if not self._legacy:
            return raw, None
        key, hits = self._legacy_keys(share_id)
        raw = await r(self.redis.hgetall(key))
        return raw, (await r(self.redis.get(hits)) if raw else None)

    async def get(self, aid: str, share_id: str) -> Share:
        """One of ``aid``'s shares (NotFound when unknown or someone else's)."""
        raw, hits = await self._read(share_id)
        if not raw or raw.get(b"account", b"").decode() != aid:
            raise NotFound("no such share link")
        return _share(share_id, raw, hits)

    async def for_account(self, aid: str) -> list[Share]:
        """``aid``'s shares, newest first (links past their retention are left out)."""
        ids = [text(m) or "" for m in await r(self.redis.zrevrange(self._index(aid), 0, -1))]
        # Not a transaction: on a cluster the links' keys are in many slots, and a listing needs no isolation.
        async with self.redis.pipeline(transaction=False) as pipe:
            for share_id in ids:
                pipe.hgetall(self._key(share_id))
                pipe.get(self._hits(share_id))
            replies = await pipe.execute()
        missing = [i for i in range(len(ids)) if not replies[2 * i]]
        if self._legacy and missing:  # links projected before the hash tags (module docstring)
            async with self.redis.pipeline(transaction=False) as pipe:
                for i in missing:
                    pipe.hgetall(self._legacy_keys(ids[i])[0])
                    pipe.get(self._legacy_keys(ids[i])[1])
                legacy = await pipe.execute()
            for n, i in enumerate(missing):
                replies[2 * i], replies[2 * i + 1] = legacy[2 * n], legacy[2 * n + 1]
        # Gone links stay in the index (the projection owns it; a replay would add them back anyway).
        return [_share(sid, replies[2 * i], replies[2 * i + 1]) for i, sid in enumerate(ids) if replies[2 * i]]

    async def withdraw(self, aid: str, share_id: str) -> Share:
        """Withdraw one of ``aid``'s links; it stops resolving as soon as the projection applied it."""
        share = await self.get(aid, share_id)
        if not share.withdrawn:
            payload = events_pb2.ShareLinkWithdrawn(link=share.to_event())
            payload.withdrawn_at.GetCurrentTime()
            await self._publish(share, payload)
        return await self.get(aid, share_id)

    async def resolve(self, token: str, now: datetime) -> tuple[Resolution, Share | None]:
        """Check a token and, when it works, count the access; returns the share when it exists."""
        share_id = share_id_of(token)
        # the link's hash and counter share the hash tag: one slot, so one script on a cluster too
        keys = [self._key(share_id), self._hits(share_id)]
        outcome, _count = await self._resolve(keys=keys, args=[repr(now.timestamp())])
        if Resolution(int(outcome)) is Resolution.UNKNOWN and self._legacy:  # projected before the hash tags
            keys = list(self._legacy_keys(share_id))
            outcome, _count = await self._resolve(keys=keys, args=[repr(now.timestamp())])
        resolution = Resolution(int(outcome))
        if resolution is Resolution.UNKNOWN:
            deleted = await r(self.redis.exists(self._deleted(share_id)))
            return (Resolution.DELETED if deleted else resolution), None
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(keys[0]))
        return resolution, (_share(share_id, raw, await r(self.redis.get(keys[1]))) if raw else None)
