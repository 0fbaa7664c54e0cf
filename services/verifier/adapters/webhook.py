"""Delivery of signed OpenID4VP result webhooks: a Redis outbox shared by every replica, and an HTTP sender.

Keys (``P`` the presentation store's namespace, ``oid4vp``):

* ``P:hook:<result_id>``: the webhook of one request (URL, request id, expiry) and its delivery outcome
  (``pending`` -> ``delivering`` -> ``delivered`` | ``failed``, attempts, last HTTP status or error), kept as
  long as the result can be read;
* ``{P:hooks}`` (a sorted set) and ``{P:hooks}:leases`` (a hash): the result ids whose delivery is not finished,
  scored by when they are due (the request's expiry plus :data:`EXPIRY_GRACE`, so an unanswered request is
  delivered as ``expired``) or, while a worker holds them, by when that worker's lease ends; the hash names the
  lease's holder (a random token per claim). Both share one hash tag, so every script touches one Redis
  Cluster slot; the outbox is one slot by design (one set every replica sweeps), each record its own key.

**At least once, usually once, across replicas and workers:** a delivery is *leased*, never taken away: a claim
(one Lua script, atomic) moves the entry's score to ``now + lease`` and names its holder, so no other worker
claims it while the lease runs; the holder records the outcome, then removes the entry (``ZREM``). A worker
that dies mid-delivery leaves the entry in place: its lease runs out and the next sweep (every second, on any
replica) claims and delivers it again. The lease (:func:`lease_seconds`) outlasts a whole delivery with every
retry, so a live worker is never overtaken. Claimed by the worker that stored the wallet's answer (at once, in
a background task: the wallet's response never waits) or, for an unanswered request, by whichever worker's
sweep finds it due first. Receivers dedupe by ``request_id`` (docs/oid4vp.md), which makes a second delivery
after a crash harmless. The count of attempts is written before each is sent, so a resumed delivery continues
it (the attempt a dead worker was making counts).

**Bounded:** each attempt has a timeout (the whole attempt, not per socket read), at most ``attempts`` attempts
per claim with exponential backoff, retried only for a network error, a timeout, 408, 425, 429 or 5xx;
redirects are not followed (a 3xx fails the delivery); the receiver's response body is never read. At most
``concurrency`` deliveries run per worker (a sweep leaves the rest queued in Redis). Log lines name the first 8
characters of the request id, the host and the outcome, never the body or the full URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
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

__all__ = ["EXPIRY_GRACE", "LEASE_MARGIN", "Attempt", "HttpWebhookSender", "WebhookDispatcher", "WebhookOutbox",
           "WebhookSender", "WebhookStore", "lease_seconds"]

log = logging.getLogger(__name__)

#: Seconds after a request's expiry before it is delivered as ``expired`` (an answer taken just before the
#: expiry is still being checked; one still being checked after this is waited for, see ``_ANSWER_WAIT``).
EXPIRY_GRACE = 5
#: Seconds a lease holds beyond the retry schedule: the Redis writes, the signing and the result's read around
#: the attempts, an event loop slowed by load, and clock differences between replicas (leases are compared
#: against each worker's own clock).
LEASE_MARGIN = 10.0
_ANSWER_WAIT = 60
_RETRY_STATUSES = frozenset({408, 425, 429})
_FINAL = ("delivered", "failed")


def lease_seconds(attempts: int, timeout: float, backoff: float) -> float:
    """How long a claim holds a delivery: every attempt running to its ``timeout``, every backoff between them
    (``backoff``, doubling: ``backoff * (2**(attempts-1) - 1)`` in all), plus :data:`LEASE_MARGIN`. With the
    defaults (4 attempts, 5 s, 1 s): 20 + 7 + 10 = 37 s. A live worker thus finishes (or gives up) before
    anyone else may claim its delivery; a dead one's is claimed again at most this long after it was taken."""
    return float(attempts * timeout + backoff * (2 ** (attempts - 1) - 1) + LEASE_MARGIN)


class WebhookStore(Protocol):
    """Where webhooks wait (the port of :class:`WebhookOutbox`; an in-memory twin in unit tests). A claim is a
    lease: it hides the entry from other claims until ``now + lease``, then it may be claimed again."""

    async def claim(self, result_id: str, now: float, lease: float) -> str | None:
        """Lease ``result_id`` whatever its due time unless another claim holds it: the lease's token, or None
        (held by another, or already finished)."""
        ...

    async def claim_due(self, now: float, lease: float, limit: int) -> list[tuple[str, str]]:
        """Lease up to ``limit`` entries due by ``now`` (scheduled, or their lease ended): ``(result_id, token)``
        each; two concurrent calls never return the same entry."""
        ...

    async def defer(self, result_id: str, due_at: float, token: str) -> bool:
        """Give a held lease back, the entry due at ``due_at``; False (nothing changed) when ``token`` no longer
        holds it."""
        ...

    async def done(self, result_id: str) -> None:
        """Remove the entry (delivered or given up: the outcome is already recorded)."""
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


# KEYS[1] the due set, KEYS[2] the leases; ARGV now, lease seconds, limit, token. Atomic: two sweeps at the same
# moment get disjoint entries (a second one no longer sees the first one's, whose scores moved past now).
_CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], 'XX', until_, id)
  redis.call('HSET', KEYS[2], id, ARGV[4])
end
return ids
"""
# ARGV result id, now, lease seconds, token: leased unless a running lease holds it (a scheduled due time in
# the future does not: the answering worker takes it at once).
_CLAIM_ONE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 and tonumber(score) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
return 1
"""
# ARGV result id, due at, token: only the lease's holder gives it back (a stale holder changes nothing).
_DEFER = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[3] then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""
_DONE = """
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class WebhookOutbox:
    """The webhooks, their due times and leases in Redis (see the module docstring)."""

    def __init__(self, redis: Redis, namespace: str = "oid4vp") -> None:
        self.redis, self.prefix = redis, namespace
        self.due_key = f"{{{namespace}:hooks}}"
        self.lease_key = f"{self.due_key}:leases"
        self._claim_due = redis.register_script(_CLAIM_DUE)
        self._claim_one = redis.register_script(_CLAIM_ONE)
        self._defer = redis.register_script(_DEFER)
        self._done = redis.register_script(_DONE)

    def _key(self, result_id: str) -> str:
        return f"{self.prefix}:hook:{result_id}"

    async def register(self, result_id: str, record: Mapping[str, Any], due_at: float, ttl: int) -> None:
        """Store a new request's webhook, due at ``due_at`` unless its result comes first (the record is written
        first: an entry in the due set always finds its record, until the record's retention ends; not one
        MULTI: the two keys are in different Redis Cluster slots)."""
        await self.redis.set(self._key(result_id), json.dumps(dict(record)).encode(), ex=max(1, ttl))
        await self.redis.zadd(self.due_key, {result_id: due_at})

    async def claim(self, result_id: str, now: float, lease: float) -> str | None:
        """Lease ``result_id`` now unless another claim holds it: the token, or None."""
        token = secrets.token_urlsafe(12)
        taken = await self._claim_one(keys=[self.due_key, self.lease_key], args=[result_id, repr(now), repr(lease),
                                                                                 token])
        return token if taken else None

    async def claim_due(self, now: float, lease: float, limit: int) -> list[tuple[str, str]]:
        """Lease up to ``limit`` due entries (one token for this claim)."""
        token = secrets.token_urlsafe(12)
        found = await self._claim_due(keys=[self.due_key, self.lease_key], args=[repr(now), repr(lease), limit,
                                                                                 token])
        return [(_text(r), token) for r in found]

    async def defer(self, result_id: str, due_at: float, token: str) -> bool:
        """Give the lease back, due at ``due_at`` (only its holder can)."""
        return bool(await self._defer(keys=[self.due_key, self.lease_key], args=[result_id, repr(due_at), token]))

    async def done(self, result_id: str) -> None:
        """Remove the entry: nobody delivers it again."""
        await self._done(keys=[self.due_key, self.lease_key], args=[result_id])

    async def get(self, result_id: str) -> dict[str, Any] | None:
        """The webhook record with its outcome, or None (none was asked for, or past its retention)."""
        raw = await self.redis.get(self._key(result_id))
        return None if raw is None else dict(json.loads(raw))

    async def update(self, result_id: str, record: Mapping[str, Any]) -> None:
        """Write the outcome (keeping the record's time to live); only a lease's holder writes."""
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
    """POSTs a body with its signature: no redirects, ``timeout`` for the whole attempt, the response body never
    read, no proxy from the environment (the allow-listed host is the one connected to)."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=8))

    async def send(self, url: str, body: bytes, signature: str) -> Attempt:
        """One attempt."""
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        try:
            # httpx's timeout bounds each phase (connect, each read...): a receiver trickling its status line
            # could stretch an attempt past it; the lease assumes the whole attempt ends within ``timeout``
            async with asyncio.timeout(self.timeout):
                async with self.client.stream("POST", url, content=body, headers=headers) as response:
                    return Attempt(response.status_code)  # leaving the block closes it unread
        except (httpx.TimeoutException, TimeoutError):
            return Attempt(None, "timeout")
        except httpx.HTTPError as exc:
            return Attempt(None, f"connection ({type(exc).__name__})")

    async def aclose(self) -> None:
        """Close the client."""
        await self.client.aclose()


class WebhookDispatcher:
    """Registers webhooks, delivers each final result at least once (usually once: leased in Redis), sweeps for
    expired requests and for deliveries whose worker stopped."""

    def __init__(self, outbox: WebhookStore, sender: WebhookSender, *, key: PrivateKey, x5c: Sequence[str],
                 document: Callable[[str], Awaitable[dict[str, Any] | None]],
                 answered: Callable[[str], Awaitable[bool]], attempts: int = 4, backoff: float = 1.0,
                 timeout: float = 5.0, interval: float = 1.0, concurrency: int = 32,
                 clock: Callable[[], float] = time.time, lease: float | None = None) -> None:
        """``document``: the result as the API gives it (``expired`` computed), None when gone; ``answered``:
        whether a wallet's answer to a request id was taken (and may still be being checked); ``timeout``: the
        sender's per-attempt bound; ``lease``: how long a claim holds (default :func:`lease_seconds`)."""
        self.outbox, self.sender, self.key, self.x5c = outbox, sender, key, tuple(x5c)
        self.document, self.answered, self.clock = document, answered, clock
        self.attempts, self.backoff, self.interval, self.concurrency = attempts, backoff, interval, concurrency
        self.lease = lease if lease is not None else lease_seconds(attempts, timeout, backoff)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._held: dict[str, str] = {}  # result id -> lease token, while this worker delivers it

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
        """Stop sweeping, cancel deliveries in flight and give their leases back (due now: another replica
        delivers them at its next sweep instead of after the lease; a POST already sent may then arrive twice),
        then close the sender. A worker killed without this leaves its leases to run out."""
        held = dict(self._held)
        for task in [*self._tasks, *([self._sweeper] if self._sweeper else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._sweeper] if self._sweeper else []), return_exceptions=True)
        for result_id, token in held.items():
            try:
                await self.outbox.defer(result_id, self.clock(), token)  # only if still this worker's lease
            except Exception as exc:  # Redis away: the lease runs out instead
                log.warning("webhook lease not given back", extra={"error": type(exc).__name__})
        await self.sender.aclose()

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a delivery must never take the worker down; the class only (no data).
                # Its lease stays: once it runs out, a sweep delivers again.
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
        """Claim and start the deliveries that are due, or whose lease ran out (as many as this worker has room
        for)."""
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return
        for result_id, token in await self.outbox.claim_due(self.clock(), self.lease, room):
            self._spawn(self._deliver(result_id, token))

    async def _claim_and_deliver(self, result_id: str) -> None:
        token = await self.outbox.claim(result_id, self.clock(), self.lease)
        if token is not None:
            await self._deliver(result_id, token)

    async def _deliver(self, result_id: str, token: str) -> None:
        self._held[result_id] = token
        try:
            await self._deliver_held(result_id, token)
        finally:
            self._held.pop(result_id, None)

    async def _deliver_held(self, result_id: str, token: str) -> None:
        record = await self.outbox.get(result_id)
        if record is None or record["status"] in _FINAL:  # past retention, or finished by a worker that
            await self.outbox.done(result_id)              # stopped before removing it: nothing to send
            return
        request_id, url = str(record["request_id"]), str(record["url"])
        document = await self.document(result_id)
        now = self.clock()
        if document is not None and document.get("status") in ("pending", "expired"):
            waited = now - int(record["expires_at"])
            if document["status"] == "pending" or (waited < _ANSWER_WAIT and await self.answered(request_id)):
                await self.outbox.defer(result_id, now + 2, token)  # an answer is being checked, or clocks differ
                return
        if document is None:
            await self._record(result_id, record, "failed", error="the result is gone")
            await self.outbox.done(result_id)
            return
        document.pop("webhook", None)
        host = urlsplit(url).hostname
        # attempts made before a worker stopped count; a resumed delivery makes at least one (the last one's
        # answer was never seen)
        first = int(record["attempts"]) + 1
        last = max(self.attempts, first)
        attempt, number = Attempt(None), first
        for number in range(first, last + 1):
            # counted before it is sent: if this worker dies during it, the next one still counts it
            await self._record(result_id, record, "delivering", attempts=number,
                               attempt=None if number == first else attempt)
            body, signature = sign_delivery(document, key=self.key, x5c=self.x5c, url=url, request_id=request_id,
                                            now=int(self.clock()))  # signed again each time: a fresh iat
            attempt = await self.sender.send(url, body, signature)
            if attempt.delivered or not attempt.retryable or number == last:
                break
            await asyncio.sleep(self.backoff * 2 ** (number - 1))
        await self._record(result_id, record, "delivered" if attempt.delivered else "failed", attempts=number,
                           attempt=attempt)
        await self.outbox.done(result_id)  # after the outcome: a worker dying in between is caught by the check
        extra = {"request_id": request_id[:8], "host": host, "attempts": number, "http_status": attempt.status}
        if attempt.delivered:
            log.info("webhook delivered", extra=extra)
        else:
            log.warning("webhook failed", extra={**extra, "error": attempt.error})

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
        if status in _FINAL:
            record["finished_at"] = datetime.fromtimestamp(self.clock(), UTC).isoformat()
        await self.outbox.update(result_id, record)
