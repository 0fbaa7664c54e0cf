"""OpenID4VP presentation requests and their results in Redis, shared by every gateway replica.

Keys (``P`` the namespace, ids from :func:`microcred.oid4vp.request.new_token`; the braces are literal: Redis
Cluster hash tags, so one request's keys share a slot):

* ``P:req:{<request id>}``: the request as stored (:class:`StoredRequest`: the request, the private ephemeral
  key of direct_post.jwt, the employer's result id); expires with the request (plus a minute of grace so a late
  wallet gets "expired", not "unknown"), answered or not;
* ``P:answered:{<request id>}``: set once, with ``SET NX``, when a response is accepted: the atomic single use
  of the request and its nonce across replicas (a second response is a replay, whichever replica gets it);
* ``P:res:{<result id>}``: what the employer polls: ``pending`` until the wallet answers, then the result
  (personal data: the disclosed claims), kept ``retention`` seconds only (docs/privacy.md).

The result id is the employer's capability and the request id the wallet's; neither may be derived from the
other, so a request and its result are in two slots on a cluster. :meth:`PresentationStore.create` writes them
in one ``MULTI`` on a single node and as two concurrent writes on a cluster; either failing fails the call (the
employer gets no link), and what the other left behind expires unseen.

Before the hash tags these keys had no braces (``P:req:<id>``, ...). On a single node (a cluster never held
them) a request or result missing under its tagged key is looked up under the old name, and an answer is
claimed under both names in one ``MULTI``, so a request opened before an upgrade is still answered once, even
by a replica of the old version during a rolling upgrade (an employer polling an old replica then may see
"pending" for a result a new one finished, until it polls a new one). Everything here expires within the
request lifetime plus the retention, after which the fallback finds nothing (and can go in a later release).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from redis.asyncio import Redis

from microcred.lifecycle import RedisClient
from microcred.oid4vp.request import PresentationRequest

__all__ = ["PresentationStore", "StoredRequest"]

_GRACE = 60


@dataclass(frozen=True)
class StoredRequest:
    """A request with what only the verifier knows about it."""

    request: PresentationRequest
    result_id: str
    private_jwk: Mapping[str, Any] | None = None
    redirect_uri: str | None = None
    """Same-device flow: where the wallet sends the learner's browser once it answered (OpenID4VP §8.2)."""

    def dumps(self) -> bytes:
        """JSON bytes."""
        return json.dumps({"request": self.request.to_dict(), "result_id": self.result_id,
                           "private_jwk": dict(self.private_jwk) if self.private_jwk else None,
                           "redirect_uri": self.redirect_uri}).encode()

    @classmethod
    def loads(cls, raw: bytes | str) -> StoredRequest:
        """Back from :meth:`dumps`."""
        value = json.loads(raw)
        return cls(PresentationRequest.from_dict(value["request"]), value["result_id"], value.get("private_jwk"),
                   value.get("redirect_uri"))


def _request_uri(link: str) -> str:
    return parse_qs(urlsplit(link).query).get("request_uri", [""])[0]


class PresentationStore:
    """Requests, single use and results in Redis (see the module docstring)."""

    def __init__(self, redis: RedisClient, namespace: str = "oid4vp", retention: int = 600) -> None:
        self.redis, self.prefix, self.retention = redis, namespace, retention
        self._single = isinstance(redis, Redis)  # one node: MULTI across ids, and the pre-hash-tag key names

    def _key(self, kind: str, ident: str) -> str:
        return f"{self.prefix}:{kind}:{{{ident}}}"

    async def _get(self, kind: str, ident: str) -> bytes | str | None:
        raw: bytes | str | None = await self.redis.get(self._key(kind, ident))
        if raw is None and self._single:  # written before the hash tags (module docstring)
            raw = await self.redis.get(f"{self.prefix}:{kind}:{ident}")
        return raw

    async def create(self, stored: StoredRequest, now: int, link: str) -> None:
        """Store a new request and its pending result (with the wallet ``link``, for the employer's page)."""
        ttl = max(1, stored.request.expires_at - now) + _GRACE
        pending = json.dumps({"status": "pending", "request_id": stored.request.request_id,
                              "expires_at": stored.request.expires_at, "link": link,
                              "request_uri": link and _request_uri(link)}).encode()
        # two ids, two slots on a cluster: a transaction there would be refused (module docstring)
        async with self.redis.pipeline(transaction=self._single) as pipe:
            pipe.set(self._key("req", stored.request.request_id), stored.dumps(), ex=ttl)
            pipe.set(self._key("res", stored.result_id), pending, ex=ttl + self.retention)
            await pipe.execute()

    async def get(self, request_id: str) -> StoredRequest | None:
        """The stored request, or None (unknown or long expired)."""
        raw = await self._get("req", request_id)
        return None if raw is None else StoredRequest.loads(raw)

    async def claim(self, request_id: str, ttl: int) -> bool:
        """Mark the request answered; False when it already was (a replay). Atomic across replicas."""
        key = self._key("answered", request_id)
        if not self._single:
            return bool(await self.redis.set(key, b"1", nx=True, ex=max(1, ttl)))
        # one node: the old name too, in the same MULTI, so neither version can take an answer the other took
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, b"1", nx=True, ex=max(1, ttl))
            pipe.set(f"{self.prefix}:answered:{request_id}", b"1", nx=True, ex=max(1, ttl))
            tagged, legacy = await pipe.execute()
        return bool(tagged) and bool(legacy)

    async def answered(self, request_id: str) -> bool:
        """Whether an answer to the request was taken (:meth:`claim`), its result perhaps still being checked."""
        return await self._get("answered", request_id) is not None

    async def finish(self, stored: StoredRequest, result: Mapping[str, Any]) -> None:
        """Publish the result for the employer (kept ``retention`` seconds). The request's key stays until it
        expires, so a replay is told "already answered" rather than "unknown"."""
        await self.redis.set(self._key("res", stored.result_id), json.dumps(result).encode(), ex=self.retention)

    async def result(self, result_id: str) -> dict[str, Any] | None:
        """What the employer sees: pending, or the result; None when unknown or past retention."""
        raw = await self._get("res", result_id)
        return None if raw is None else dict(json.loads(raw))
