"""OpenID4VP presentation requests and their results in Redis, shared by every gateway replica.

Keys (``{p}`` the namespace, ids from :func:`microcred.oid4vp.request.new_token`):

* ``{p}:req:{request_id}``: the request as stored (:class:`StoredRequest`: the request, the private ephemeral
  key of direct_post.jwt, the employer's result id); expires with the request (plus a minute of grace so a late
  wallet gets "expired", not "unknown"), answered or not;
* ``{p}:answered:{request_id}``: set once, with ``SET NX``, when a response is accepted: the atomic single use
  of the request and its nonce across replicas (a second response is a replay, whichever replica gets it);
* ``{p}:res:{result_id}``: what the employer polls: ``pending`` until the wallet answers, then the result
  (personal data: the disclosed claims), kept ``retention`` seconds only (docs/privacy.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from redis.asyncio import Redis

from microcred.oid4vp.request import PresentationRequest

__all__ = ["PresentationStore", "StoredRequest"]

_GRACE = 60


@dataclass(frozen=True)
class StoredRequest:
    """A request with what only the verifier knows about it."""

    request: PresentationRequest
    result_id: str
    private_jwk: Mapping[str, Any] | None = None

    def dumps(self) -> bytes:
        """JSON bytes."""
        return json.dumps({"request": self.request.to_dict(), "result_id": self.result_id,
                           "private_jwk": dict(self.private_jwk) if self.private_jwk else None}).encode()

    @classmethod
    def loads(cls, raw: bytes | str) -> StoredRequest:
        """Back from :meth:`dumps`."""
        value = json.loads(raw)
        return cls(PresentationRequest.from_dict(value["request"]), value["result_id"], value.get("private_jwk"))


def _request_uri(link: str) -> str:
    return parse_qs(urlsplit(link).query).get("request_uri", [""])[0]


class PresentationStore:
    """Requests, single use and results in Redis (see the module docstring)."""

    def __init__(self, redis: Redis, namespace: str = "oid4vp", retention: int = 600) -> None:
        self.redis, self.prefix, self.retention = redis, namespace, retention

    async def create(self, stored: StoredRequest, now: int, link: str) -> None:
        """Store a new request and its pending result (with the wallet ``link``, for the employer's page)."""
        ttl = max(1, stored.request.expires_at - now) + _GRACE
        pending = json.dumps({"status": "pending", "request_id": stored.request.request_id,
                              "expires_at": stored.request.expires_at, "link": link,
                              "request_uri": link and _request_uri(link)}).encode()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(f"{self.prefix}:req:{stored.request.request_id}", stored.dumps(), ex=ttl)
            pipe.set(f"{self.prefix}:res:{stored.result_id}", pending, ex=ttl + self.retention)
            await pipe.execute()

    async def get(self, request_id: str) -> StoredRequest | None:
        """The stored request, or None (unknown or long expired)."""
        raw = await self.redis.get(f"{self.prefix}:req:{request_id}")
        return None if raw is None else StoredRequest.loads(raw)

    async def claim(self, request_id: str, ttl: int) -> bool:
        """Mark the request answered; False when it already was (a replay). Atomic across replicas."""
        return bool(await self.redis.set(f"{self.prefix}:answered:{request_id}", b"1", nx=True, ex=max(1, ttl)))

    async def answered(self, request_id: str) -> bool:
        """Whether an answer to the request was taken (:meth:`claim`), its result perhaps still being checked."""
        return bool(await self.redis.exists(f"{self.prefix}:answered:{request_id}"))

    async def finish(self, stored: StoredRequest, result: Mapping[str, Any]) -> None:
        """Publish the result for the employer (kept ``retention`` seconds). The request's key stays until it
        expires, so a replay is told "already answered" rather than "unknown"."""
        await self.redis.set(f"{self.prefix}:res:{stored.result_id}", json.dumps(result).encode(), ex=self.retention)

    async def result(self, result_id: str) -> dict[str, Any] | None:
        """What the employer sees: pending, or the result; None when unknown or past retention."""
        raw = await self.redis.get(f"{self.prefix}:res:{result_id}")
        return None if raw is None else dict(json.loads(raw))
