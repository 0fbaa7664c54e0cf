"""Delivery of signed OpenID4VP result webhooks: a Redis outbox shared by every replica, and an HTTP sender.

Keys (``{p}`` the presentation store's namespace):

* ``{p}:hook:{result_id}``: the webhook of one request (URL, request id, expiry) and its delivery outcome
  (``pending`` -> ``delivering`` -> ``delivered`` | ``failed``, attempts, last HTTP status or error), kept as
  long as the result can be read;
* ``{p}:hooks``: a sorted set of result ids whose delivery is still to be claimed, scored by when it is due
  (the request's expiry plus :data:`EXPIRY_GRACE`, so an unanswered request is delivered as ``expired``).

**Once per result, across replicas and workers:** whoever removes the result id from ``{p}:hooks`` (``ZREM``
answers 1 to exactly one caller) delivers it: the worker that stored the wallet's answer (at once, in a
background task: the wallet's response never waits for it) or, for an unanswered request, whichever worker's
sweep (every second) finds it due first. A worker that stops during a delivery loses that delivery (at most
once; the result stays readable through the API and its ``webhook`` member reads ``delivering``).

**Bounded:** each attempt has a timeout, at most ``attempts`` attempts with exponential backoff, retried only for
a network error, a timeout, 408, 425, 429 or 5xx; redirects are not followed (a 3xx fails the delivery); the
receiver's response body is never read. At most ``concurrency`` deliveries run per worker (a sweep leaves the
rest queued in Redis). Log lines name the first 8 characters of the request id, the host and the outcome, never
the body or the full URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis

from microcred.oid4vp.webhook import SIGNATURE_HEADER, sign_delivery
from microcred.sdjwt.jose import PrivateKey

__all__ = ["EXPIRY_GRACE", "Attempt", "HttpWebhookSender", "WebhookDispatcher", "WebhookOutbox", "WebhookSender",
           "WebhookStore"]

log = logging.getLogger(__name__)

#: Seconds after a request's expiry before it is delivered as ``expired`` (an answer taken just before the
#: expiry is still being checked; one still being checked after this is waited for, see ``_ANSWER_WAIT``).
EXPIRY_GRACE = 5
_ANSWER_WAIT = 60
_RETRY_STATUSES = frozenset({408, 425, 429})


class WebhookStore(Protocol):
    """Where webhooks wait (the port of :class:`WebhookOutbox`; an in-memory twin in unit tests)."""

    async def claim(self, result_id: str) -> bool:
        """Take the delivery of ``result_id``: True for exactly one caller."""
        ...

    async def defer(self, result_id: str, due_at: float) -> None:
        """Put a claimed delivery back."""
        ...

    async def due(self, now: float, limit: int) -> list[str]:
        """Result ids due by ``now``."""
        ...

    async def get(self, result_id: str) -> dict[str, Any] | None:
        """The record with its outcome."""
        ...

    async def update(self, result_id: str, record: Mapping[str, Any]) -> None:
        """Write the outcome."""
        ...

    async def register(self, result_id: str, record: Mapping[str, Any], due_at: float, ttl: int) -> None:
        """Store a new webhook."""
        ...


class WebhookSender(Protocol):
    """One POST attempt (the port of :class:`HttpWebhookSender`)."""

    async def send(self, url: str, body: bytes, signature: str) -> Attempt:
        """POST ``body`` with its signature; what it came to."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class WebhookOutbox:
    """The webhooks and their due times in Redis (see the module docstring)."""

    def __init__(self, redis: Redis, namespace: str = "oid4vp") -> None:
        self.redis, self.prefix = redis, namespace
        self.due_key = f"{namespace}:hooks"

    def _key(self, result_id: str) -> str:
        return f"{self.prefix}:hook:{result_id}"

    async def register(self, result_id: str, record: Mapping[str, Any], due_at: float, ttl: int) -> None:
        """Store a new request's webhook, due at ``due_at`` unless its result comes first."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(result_id), json.dumps(dict(record)).encode(), ex=max(1, ttl))
            pipe.zadd(self.due_key, {result_id: due_at})
            await pipe.execute()

    async def claim(self, result_id: str) -> bool:
        """Take the delivery of ``result_id``: True for exactly one caller across every replica."""
        return bool(await self.redis.zrem(self.due_key, result_id))

    async def defer(self, result_id: str, due_at: float) -> None:
        """Put a claimed delivery back, due at ``due_at``."""
        await self.redis.zadd(self.due_key, {result_id: due_at})

    async def due(self, now: float, limit: int) -> list[str]:
        """Result ids due by ``now`` (not yet claimed)."""
        found = await self.redis.zrangebyscore(self.due_key, "-inf", now, start=0, num=limit)
        return [r.decode() if isinstance(r, bytes) else str(r) for r in found]

    async def get(self, result_id: str) -> dict[str, Any] | None:
        """The webhook record with its outcome, or None (none was asked for, or past its retention)."""
        raw = await self.redis.get(self._key(result_id))
        return None if raw is None else dict(json.loads(raw))

    async def update(self, result_id: str, record: Mapping[str, Any]) -> None:
        """Write the outcome (keeping the record's time to live); only the claiming worker writes."""
        await self.redis.set(self._key(result_id), json.dumps(dict(record)).encode(), keepttl=True, xx=True)


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: the HTTP status, or the error (``timeout``, ``connection``)."""

    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """Worth another attempt: no answer, or an answer saying "later"."""
        return self.status is None or self.status in _RETRY_STATUSES or self.status >= 500


class HttpWebhookSender:
    """POSTs a body with its signature: no redirects, a timeout per attempt, the response body never read, no
    proxy from the environment (the allow-listed host is the one connected to)."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=8))

    async def send(self, url: str, body: bytes, signature: str) -> Attempt:
        """One attempt."""
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        try:
            async with self.client.stream("POST", url, content=body, headers=headers) as response:
                return Attempt(response.status_code)  # leaving the block closes it unread
        except httpx.TimeoutException:
            return Attempt(None, "timeout")
        except httpx.HTTPError as exc:
            return Attempt(None, f"connection ({type(exc).__name__})")

    async def aclose(self) -> None:
        """Close the client."""
        await self.client.aclose()


class WebhookDispatcher:
    """Registers webhooks, delivers each final result once (claim in Redis), sweeps for expired requests."""

    def __init__(self, outbox: WebhookStore, sender: WebhookSender, *, key: PrivateKey, x5c: Sequence[str],
                 document: Callable[[str], Awaitable[dict[str, Any] | None]],
                 answered: Callable[[str], Awaitable[bool]], attempts: int = 4, backoff: float = 1.0,
                 interval: float = 1.0, concurrency: int = 32, clock: Callable[[], float] = time.time) -> None:
        """``document``: the result as the API gives it (``expired`` computed), None when gone; ``answered``:
        whether a wallet's answer to a request id was taken (and may still be being checked)."""
        self.outbox, self.sender, self.key, self.x5c = outbox, sender, key, tuple(x5c)
        self.document, self.answered, self.clock = document, answered, clock
        self.attempts, self.backoff, self.interval, self.concurrency = attempts, backoff, interval, concurrency
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def register(self, result_id: str, request_id: str, url: str, expires_at: int, keep_seconds: int) -> None:
        """A new request's webhook (its URL already passed the policy)."""
        now = self.clock()
        record = {"url": url, "request_id": request_id, "expires_at": expires_at, "status": "pending",
                  "attempts": 0, "http_status": None, "error": None}
        await self.outbox.register(result_id, record, expires_at + EXPIRY_GRACE,
                                   int(expires_at - now) + EXPIRY_GRACE + _ANSWER_WAIT + keep_seconds)

    def finished(self, result_id: str) -> None:
        """The result of ``result_id`` is final: deliver it in the background if this worker claims it."""
        self._spawn(self._claim_and_deliver(result_id))

    async def outcome(self, result_id: str) -> dict[str, Any] | None:
        """The delivery outcome for the result's ``webhook`` member (None: no webhook)."""
        record = await self.outbox.get(result_id)
        if record is None:
            return None
        outcome = {"status": record["status"], "attempts": record["attempts"],
                   "http_status": record.get("http_status"), "error": record.get("error")}
        if record.get("finished_at"):
            outcome["finished_at"] = record["finished_at"]
        return outcome

    def start(self) -> None:
        """Start this worker's sweep (every ``interval`` seconds)."""
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        """Stop sweeping and cancel deliveries in flight, then close the sender."""
        for task in [*self._tasks, *([self._sweeper] if self._sweeper else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._sweeper] if self._sweeper else []), return_exceptions=True)
        await self.sender.aclose()

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a delivery must never take the worker down; the class only (no data)
                log.error("webhook delivery error", extra={"error": type(exc).__name__})

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # Redis away for a moment: try again next time
                log.warning("webhook sweep failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self.interval)

    async def sweep(self) -> None:
        """Claim and start the deliveries that are due (as many as this worker has room for)."""
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return
        for result_id in await self.outbox.due(self.clock(), room):
            self._spawn(self._claim_and_deliver(result_id))

    async def _claim_and_deliver(self, result_id: str) -> None:
        if await self.outbox.claim(result_id):
            await self._deliver(result_id)

    async def _deliver(self, result_id: str) -> None:
        record = await self.outbox.get(result_id)
        if record is None:
            return
        request_id, url = str(record["request_id"]), str(record["url"])
        document = await self.document(result_id)
        now = self.clock()
        if document is not None and document.get("status") in ("pending", "expired"):
            waited = now - int(record["expires_at"])
            if document["status"] == "pending" or (waited < _ANSWER_WAIT and await self.answered(request_id)):
                await self.outbox.defer(result_id, now + 2)  # an answer is being checked, or clocks differ
                return
        if document is None:
            await self._record(result_id, record, "failed", error="the result is gone")
            return
        document.pop("webhook", None)
        host = urlsplit(url).hostname
        await self._record(result_id, record, "delivering")
        attempt = Attempt(None)
        for number in range(1, self.attempts + 1):
            body, signature = sign_delivery(document, key=self.key, x5c=self.x5c, url=url, request_id=request_id,
                                            now=int(self.clock()))  # signed again each time: a fresh iat
            attempt = await self.sender.send(url, body, signature)
            status = "delivered" if attempt.delivered else "delivering"
            await self._record(result_id, record, status, attempts=number, attempt=attempt)
            if attempt.delivered:
                log.info("webhook delivered", extra={"request_id": request_id[:8], "host": host,
                                                     "attempts": number, "http_status": attempt.status})
                return
            if not attempt.retryable or number == self.attempts:
                break
            await asyncio.sleep(self.backoff * 2 ** (number - 1))
        await self._record(result_id, record, "failed", attempts=number, attempt=attempt)
        log.warning("webhook failed", extra={"request_id": request_id[:8], "host": host, "attempts": number,
                                             "http_status": attempt.status, "error": attempt.error})

    async def _record(self, result_id: str, record: dict[str, Any], status: str, *, attempts: int | None = None,
                      attempt: Attempt | None = None, error: str | None = None) -> None:
        record["status"] = status
        if attempts is not None:
            record["attempts"] = attempts
        if attempt is not None:
            record["http_status"] = attempt.status
            record["error"] = error or attempt.error or (None if attempt.delivered else f"HTTP {attempt.status}")
        elif error is not None:
            record["error"] = error
        if status in ("delivered", "failed"):
            record["finished_at"] = datetime.fromtimestamp(self.clock(), UTC).isoformat()
        await self.outbox.update(result_id, record)
