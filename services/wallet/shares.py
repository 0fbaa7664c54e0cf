"""Share links: unguessable, expiring, withdrawable, counted.

A link's token is ``secrets.token_urlsafe(32)`` (256 bits). Only its SHA-256 is stored, so neither Redis nor
its backups can be turned into working links; the hex digest doubles as the share id the learner sees (it
cannot open the link). Expiry is explicit (``expires_at``, checked on every access) and also a Redis TTL
(``expires_at`` plus a retention period during which the link answers 410 Gone instead of 404). Resolving a
link checks it and counts the access in one Lua script, so a withdrawn or expired link stops working at
once and concurrent accesses are all counted.

Keys (``P`` is the instance prefix)::

    P:share:{sha256 hex of token}   hash  account, credential_ids (JSON), created_at, expires_at (epoch s),
                                          withdrawn "0"/"1", access_count
    P:acct:{account}:shares         zset  share ids by creation time
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from redis.asyncio import Redis

from services.wallet.errors import NotFound
from services.wallet.store import r, text

_RESOLVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local f = redis.call('HMGET', KEYS[1], 'withdrawn', 'expires_at')
if f[1] == '1' then return {1, 0} end
if tonumber(f[2]) <= tonumber(ARGV[1]) then return {2, 0} end
return {3, redis.call('HINCRBY', KEYS[1], 'access_count', 1)}
"""


class Resolution(Enum):
    """Outcome of resolving a share token."""

    UNKNOWN = 0
    WITHDRAWN = 1
    EXPIRED = 2
    OK = 3


@dataclass(frozen=True, slots=True)
class Share:
    """A share link as its owner sees it (the token itself is shown only once, at creation)."""

    share_id: str
    account_id: str
    credential_ids: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    withdrawn: bool
    access_count: int

    def state(self, now: datetime) -> str:
        """``active``, ``withdrawn`` or ``expired``."""
        if self.withdrawn:
            return "withdrawn"
        return "expired" if self.expires_at <= now else "active"

    def to_json(self, now: datetime) -> dict[str, Any]:
        """JSON-ready form for the owner."""
        return {"share_id": self.share_id, "credential_ids": list(self.credential_ids),
                "created_at": _iso(self.created_at), "expires_at": _iso(self.expires_at),
                "access_count": self.access_count, "state": self.state(now)}


def share_id_of(token: str) -> str:
    """The stored id (SHA-256 hex) of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _share(share_id: str, raw: dict[bytes, bytes]) -> Share:
    return Share(
        share_id=share_id, account_id=raw[b"account"].decode(),
        credential_ids=tuple(json.loads(raw[b"credential_ids"])),
        created_at=datetime.fromtimestamp(float(raw[b"created_at"]), UTC),
        expires_at=datetime.fromtimestamp(float(raw[b"expires_at"]), UTC),
        withdrawn=raw.get(b"withdrawn") == b"1", access_count=int(raw.get(b"access_count", b"0")),
    )


class ShareLinks:
    """Creates, lists, withdraws and resolves share links."""

    def __init__(self, redis: Redis, prefix: str, gone_retention_seconds: int) -> None:
        self.redis, self.prefix, self.retention = redis, prefix, gone_retention_seconds
        self._resolve = redis.register_script(_RESOLVE)

    def _key(self, share_id: str) -> str:
        return f"{self.prefix}:share:{share_id}"

    def _index(self, aid: str) -> str:
        return f"{self.prefix}:acct:{aid}:shares"

    async def create(self, aid: str, credential_ids: list[str], expires_at: datetime,
                     now: datetime) -> tuple[str, Share]:
        """A new link to ``credential_ids`` (already checked to be ``aid``'s); returns (token, share)."""
        token = secrets.token_urlsafe(32)
        share_id = share_id_of(token)
        key = self._key(share_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={
                "account": aid, "credential_ids": json.dumps(credential_ids),
                "created_at": repr(now.timestamp()), "expires_at": repr(expires_at.timestamp()),
                "withdrawn": "0", "access_count": "0",
            })
            pipe.expireat(key, math.ceil(expires_at.timestamp()) + self.retention)
            pipe.zadd(self._index(aid), {share_id: now.timestamp()})
            await pipe.execute()
        return token, Share(share_id, aid, tuple(credential_ids), now, expires_at, False, 0)

    async def get(self, aid: str, share_id: str) -> Share:
        """One of ``aid``'s shares (NotFound when unknown or someone else's)."""
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(self._key(share_id)))
        if not raw or raw.get(b"account", b"").decode() != aid:
            raise NotFound("no such share link")
        return _share(share_id, raw)

    async def for_account(self, aid: str) -> list[Share]:
        """``aid``'s shares, newest first (links past their retention are dropped from the index)."""
        ids = [text(m) or "" for m in await r(self.redis.zrevrange(self._index(aid), 0, -1))]
        async with self.redis.pipeline(transaction=False) as pipe:
            for share_id in ids:
                pipe.hgetall(self._key(share_id))
            replies = await pipe.execute()
        gone = [sid for sid, raw in zip(ids, replies, strict=True) if not raw]
        if gone:
            await r(self.redis.zrem(self._index(aid), *gone))
        return [_share(sid, raw) for sid, raw in zip(ids, replies, strict=True) if raw]

    async def withdraw(self, aid: str, share_id: str) -> Share:
        """Withdraw one of ``aid``'s links; it stops resolving immediately."""
        await self.get(aid, share_id)
        await r(self.redis.hset(self._key(share_id), "withdrawn", "1"))
        return await self.get(aid, share_id)

    async def resolve(self, token: str, now: datetime) -> tuple[Resolution, Share | None]:
        """Check a token and, when it works, count the access; returns the share when it exists."""
        share_id = share_id_of(token)
        outcome, _count = await self._resolve(keys=[self._key(share_id)], args=[repr(now.timestamp())])
        resolution = Resolution(int(outcome))
        if resolution is Resolution.UNKNOWN:
            return resolution, None
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(self._key(share_id)))
        return resolution, (_share(share_id, raw) if raw else None)
