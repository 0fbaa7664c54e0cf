"""Token Status Lists in the revocation service: Redis state, signed Status List Tokens, the HTTP route.

Beside the W3C Bitstring lists, the service keeps IETF Token Status Lists (draft-ietf-oauth-status-list-20)
for SD-JWT VCs: 2 bits per credential (0x00 valid, 0x01 revoked, 0x02 suspended), so one entry expresses both
purposes. A credential's entry is at its *revocation* list id and index (random, never reused), so the token
list of revocation list ``L`` is served at ``{base}/token-status/L``. The projector keeps the entries in step:
:mod:`services.revocation.adapters.store` recomputes a credential's entry from its two Bitstring bits (revoked: 0x01,
else suspended: 0x02, else 0x00) in the same transaction as every status change and every ``CredentialIssued``,
so a replay in any order converges. app.py mounts :func:`add_token_status_routes` when the service is given a
document-signing certificate (``MICROCRED_TOKEN_STATUS_CERT_FILE``/``_KEY_FILE``).

Keys (``{p}`` is the store prefix)::

    {p}:tsl:{list id}        string  the uncompressed byte array exactly as the draft lays it out (§4.1)
    {p}:tsl-lists            set     every Token Status List id
    {p}:tsl-pub:{list id}    hash    latest signed token: token, etag, exp, bits_sha256

Redis ``BITFIELD`` numbers bits from the most significant bit of each byte, the draft from the least
significant: entry ``i`` (2 bits) is ``u2`` at offset ``8*(i//4) + 6 - 2*(i%4)`` (in the store's Lua), so the
stored string *is* the draft's byte array and needs no conversion before compression.

Tokens are signed on demand: a request whose list bytes differ from the last signed token's (or whose token
is within ``ttl`` of ``exp``) gets a freshly signed one, so a change is visible at the next request.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from microcred.sdjwt.issue import IssuerKey
from microcred.sdjwt.x5c import x5c_header
from microcred.status.token_status_list import (
    MEDIA_TYPE,
    TokenStatusList,
    status_list_token,
)
from services.revocation.api.http import cached_response

__all__ = ["TOKEN_LIST_SIZE", "PublishedToken", "TokenStatusPublisher", "TokenStatusStore",
           "add_token_status_routes", "load_token_signer"]

#: Entries per Token Status List (2^20 >= the 1,000,000 the issue asks for).
TOKEN_LIST_SIZE = 1 << 20
_LIST_ID = re.compile(r"[A-Za-z0-9._~-]{1,200}")

def load_token_signer(cert_file: Path, key_file: Path, *, iss: str) -> IssuerKey:
    """The token signer from a PEM chain (leaf first, without the anchor) and its PEM EC private key."""
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the Token Status List signing key must be an EC key")
    x5c = tuple(x5c_header([cert_file.read_bytes()]))
    if not x5c:
        raise ValueError(f"{cert_file} holds no certificate")
    return IssuerKey(iss, key, x5c)


@dataclass(frozen=True)
class PublishedToken:
    """The latest signed Status List Token of a list."""

    list_id: str
    token: str
    etag: str
    expires: datetime
    bits_sha256: str


class TokenStatusStore:
    """Redis reads of the Token Status Lists (written by :mod:`services.revocation.adapters.store`) and their tokens."""

    def __init__(self, redis: Redis, prefix: str = "rev") -> None:
        self.redis = redis
        self.prefix = prefix

    def _bytes(self, list_id: str) -> str:
        return f"{self.prefix}:tsl:{list_id}"

    @property
    def _lists(self) -> str:
        return f"{self.prefix}:tsl-lists"

    def _pub(self, list_id: str) -> str:
        return f"{self.prefix}:tsl-pub:{list_id}"

    async def exists(self, list_id: str) -> bool:
        """Whether the list is known: every revocation list is, from its registration, before any credential
        names it (:mod:`services.revocation.adapters.store`), its entries valid until the projector writes them.
        A verifier asking right after an issuer's first SD-JWT VC therefore gets the list, not 404."""
        return bool(await self.redis.sismember(self._lists, list_id))

    async def list_bytes(self, list_id: str) -> bytes:
        """The byte array as stored (Redis drops nothing, but a list never written to is empty)."""
        value: Any = await self.redis.get(self._bytes(list_id))
        return bytes(value or b"")

    async def published(self, list_id: str) -> PublishedToken | None:
        """The latest signed token, or None."""
        row: Any = await self.redis.hgetall(self._pub(list_id))
        if not row:
            return None
        return PublishedToken(list_id, row[b"token"].decode(), row[b"etag"].decode(),
                              datetime.fromisoformat(row[b"exp"].decode()), row[b"bits_sha256"].decode())

    async def store_published(self, published: PublishedToken) -> None:
        """Keep the latest signed token."""
        await self.redis.hset(self._pub(published.list_id), mapping={
            "token": published.token, "etag": published.etag, "exp": published.expires.isoformat(),
            "bits_sha256": published.bits_sha256})


class TokenStatusPublisher:
    """Signs Status List Tokens (``typ: statuslist+jwt``, ``x5c``) for the lists, on demand."""

    def __init__(self, store: TokenStatusStore, signer: IssuerKey, *, base_url: str, ttl_seconds: int = 60,
                 lifetime_seconds: int = 300, list_size: int = TOKEN_LIST_SIZE,
                 clock: Callable[[], datetime] | None = None) -> None:
        if not 0 < ttl_seconds < lifetime_seconds:
            raise ValueError("0 < ttl_seconds < lifetime_seconds")
        self.store, self.signer, self.base_url = store, signer, base_url.rstrip("/")
        self.ttl_seconds, self.lifetime_seconds, self.list_size = ttl_seconds, lifetime_seconds, list_size
        self.clock = clock or (lambda: datetime.now(UTC))
        self._locks: dict[str, asyncio.Lock] = {}

    def uri_for(self, list_id: str) -> str:
        """The list's URI: the ``status.status_list.uri`` of its credentials and the token's ``sub``."""
        return f"{self.base_url}/token-status/{list_id}"

    async def current(self, list_id: str) -> PublishedToken:
        """The token for the list's current bytes, signing a new one when they changed or it nears ``exp``."""
        async with self._locks.setdefault(list_id, asyncio.Lock()):
            data = await self.store.list_bytes(list_id)
            digest = hashlib.sha256(data).hexdigest()
            now = self.clock()
            latest = await self.store.published(list_id)
            if (latest is not None and latest.bits_sha256 == digest
                    and latest.expires - timedelta(seconds=self.ttl_seconds) > now):
                return latest
            status_list = TokenStatusList(self.list_size, 2, data)
            token = await asyncio.to_thread(status_list_token, status_list, uri=self.uri_for(list_id),
                                            signer=self.signer, now=now, ttl=self.ttl_seconds,
                                            lifetime=self.lifetime_seconds)
            expires = datetime.fromtimestamp(int(now.timestamp()) + self.lifetime_seconds, UTC)
            published = PublishedToken(list_id, token, '"' + hashlib.sha256(token.encode()).hexdigest()[:32] + '"',
                                       expires, digest)
            await self.store.store_published(published)
            return published


def _problem(status: int, detail: str, instance: str) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": "Status list not available", "status": status,
                         "detail": detail, "instance": instance},
                        status_code=status, media_type="application/problem+json",
                        headers={"Cache-Control": "no-store"})


def add_token_status_routes(app: FastAPI, publisher: TokenStatusPublisher,
                            ready: Callable[[], Awaitable[bool]] | None = None) -> None:
    """``GET|HEAD /token-status/{list_id}``: the Status List Token as ``application/statuslist+jwt``.

    Caching as for the Bitstring lists (:func:`~services.revocation.http_api.cached_response`): strong ``ETag``
    with ``If-None-Match`` -> 304 and ``Cache-Control: public, max-age`` no longer than the token's ``ttl`` nor
    its remaining validity (the draft §8.2: the token's own ``exp``/``ttl`` take precedence).
    """

    @app.api_route("/token-status/{list_id}", methods=["GET", "HEAD"], response_model=None)
    async def token_status_list(list_id: str, request: Request) -> Response:
        path = str(request.url.path)
        if not _LIST_ID.fullmatch(list_id) or not await publisher.store.exists(list_id):
            return _problem(404, "no token status list has this id", path)
        if ready is not None and not await ready():
            unavailable = _problem(503, "the status lists are being rebuilt; retry shortly", path)
            unavailable.headers["Retry-After"] = "1"
            return unavailable
        published = await publisher.current(list_id)
        return cached_response(request, published.token.encode(), MEDIA_TYPE, etag=published.etag,
                               ttl_seconds=publisher.ttl_seconds, expires=published.expires, now=publisher.clock())
