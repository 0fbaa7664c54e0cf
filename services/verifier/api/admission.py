"""Admission control of the public gateway: which requests are taken, and which are told to come back (429).

It runs first for every HTTP request (:class:`~.edge.GatewayApp`), before routing, tracing, CORS, body reading
or JSON parsing, so that refusing a request costs a few microseconds and the requests that are taken keep
their latency. A request is refused with 429 problem+json and ``Retry-After`` when

* its client address (the peer, or behind a trusted proxy the forwarded client, see
  :class:`~.limits.TrustedProxies`) has used up its token bucket (``rate-limited``: ``rate`` a second,
  ``burst`` deep; see :class:`~.limits.ClientBuckets`), or
* the gateway process itself is saturated (``overloaded``, ``Retry-After: 1``): ``max_in_flight`` requests
  are already being answered, or the event loop's queueing delay is too long. New work would then wait behind
  what is already queued and every answer would be late; shedding part of it keeps the answered ones in time.

Queueing delay (AIMD, as congestion control does): once the delay has stayed above ``max_queue_delay`` for
``interval`` (100 ms) without a break while at least ``min_arrivals`` (20) requests came in, the fraction of
requests taken is cut by a fifth every ``step`` (10 ms) for as long as it stays above; whenever the delay is
under the limit the fraction grows back by ``0.05`` a step (all requests again after ~0.2 s). Requests are
refused evenly (every n-th), not at random. So a short spike (a garbage collection, the process not being
scheduled for a moment) sheds nothing, nor does a loop kept busy by something other than requests (the Kafka
replay at start-up) while a client or two ask; and a sustained overload is met by shedding just enough that
the delay hovers near the limit, instead of all-or-nothing swings (shed everything, queue drains, take
everything, queue builds up again).

Long-lived server-sent event streams (``GET /v1/presentation-results/{id}/events``, open up to 15 minutes while a
result is pending) are not requests in flight: counted as such, 256 of them on a pending result made the process
answer 429 to everyone. They are capped on their own instead (``too-many-streams``, 429 with ``Retry-After``):
``max_streams`` open at once per process and ``max_streams_per_client`` per client address. The per-client bucket
and saturation shedding apply to them as to any request when they open.

Never a 5xx for load: the issue says excess load is shed with 429. ``/healthz`` is exempt (probes must see
a busy gateway as alive). The saturation figures are per process (with several workers, each has its own).
The per-client buckets are per process too, unless :meth:`Admission.use_shared` gives it buckets that every
worker and replica shares (:class:`~.rate_limit.SharedClientBuckets`, Redis in production): then the gateway's
entry point awaits :meth:`Admission.admit_shared` (one Redis round trip) instead of calling :meth:`Admission.admit`.

The queueing delay is measured by :class:`QueueDelayProbe`: how long a callback queued now waits before the
loop runs it, i.e. how long a request that arrives now waits before it is looked at. It costs one
``call_soon`` per probe, with at most one probe outstanding, and no background task.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Collection, MutableMapping
from dataclasses import dataclass
from typing import Any

from services.verifier.api.limits import ClientBuckets, TrustedProxies
from services.verifier.api.rate_limit import SharedClientBuckets

__all__ = ["EVENT_STREAM", "Admission", "QueueDelayProbe", "Refusal"]

#: The paths of long-lived event streams (GET), admitted by stream slots, not as requests in flight.
EVENT_STREAM = re.compile(r"/v1/presentation-results/[^/]+/events")
#: The wait a refused event stream is told: one is held while its result is pending (minutes, not seconds).
_STREAM_RETRY_AFTER = 5


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was not taken: a problem type code, a human detail and the seconds to wait."""

    code: str
    detail: str
    retry_after: int


class QueueDelayProbe:
    """The event loop's queueing delay: how long the last probe callback waited to run (seconds).

    :meth:`sample` queues a probe with ``loop.call_soon`` unless one is outstanding. :attr:`delay` is the
    larger of the last completed probe's wait and the age of the outstanding one (a loop that is stuck right
    now reads as delayed right now); a measurement older than ``stale_after`` seconds counts as 0.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter, stale_after: float = 1.0) -> None:
        self._clock = clock
        self._stale_after = stale_after
        self._last = 0.0
        self._measured_at = -math.inf
        self._queued_at: float | None = None

    def sample(self) -> None:
        """Queue a probe on the running loop (no-op while one is outstanding)."""
        if self._queued_at is None:
            self._queued_at = self._clock()
            asyncio.get_running_loop().call_soon(self._done)

    def _done(self) -> None:
        now = self._clock()
        if self._queued_at is not None:
            self._last = now - self._queued_at
        self._measured_at, self._queued_at = now, None

    @property
    def delay(self) -> float:
        """The current queueing delay estimate, in seconds."""
        now = self._clock()
        last = self._last if now - self._measured_at <= self._stale_after else 0.0
        if self._queued_at is not None:
            return max(last, now - self._queued_at)
        return last


class Admission:
    """Per-client token buckets plus process saturation limits (0 disables a limit)."""

    def __init__(self, rate: float, burst: int, *, max_in_flight: int = 0, max_queue_delay: float = 0.0,
                 max_streams: int = 128, max_streams_per_client: int = 4,
                 interval: float = 0.1, min_arrivals: int = 20, step: float = 0.01,
                 exempt: Collection[str] = ("/healthz",),
                 buckets: ClientBuckets | None = None, probe: QueueDelayProbe | None = None,
                 proxies: TrustedProxies | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.buckets = buckets or ClientBuckets(rate, burst)
        self.shared: SharedClientBuckets | None = None
        """Buckets shared across processes (:meth:`use_shared`); None: :attr:`buckets`, per process."""
        self.proxies = proxies or TrustedProxies()
        self.max_in_flight = max_in_flight
        self.max_queue_delay = max_queue_delay
        self.interval = interval
        self.min_arrivals = min_arrivals
        self.step = step
        self.exempt = frozenset(exempt)
        self.probe = probe or QueueDelayProbe(clock)
        self.clock = clock
        self.in_flight = 0
        self.max_streams, self.max_streams_per_client = max_streams, max_streams_per_client
        self.streams = 0
        """Event streams open now (not counted in :attr:`in_flight`)."""
        self._client_streams: dict[str, int] = {}
        self._above_since: float | None = None
        self._arrivals = 0
        self._adjusted_at = -math.inf
        self._credit = 0.0
        self.taken_fraction = 1.0
        """The fraction of requests (past their client's bucket) that saturation control currently takes."""
        self.shed: dict[str, int] = {"rate-limited": 0, "overloaded": 0, "too-many-streams": 0}
        self._rate_detail = f"at most {rate:g} requests a second (burst {burst}) per client"

    def use_shared(self, shared: SharedClientBuckets | None) -> None:
        """Take the per-client tokens from ``shared`` (every replica's buckets) from now on; None: per process."""
        self.shared = shared

    def admit(self, scope: MutableMapping[str, Any]) -> Refusal | None:
        """None when the request is taken (then :meth:`release` it when answered), else the refusal.

        Per-process buckets only: with :attr:`shared` buckets set, await :meth:`admit_shared` instead.
        """
        client = self.proxies.client(scope)
        return self._decide(self.buckets.take(client), client, _is_stream(scope))

    async def admit_shared(self, scope: MutableMapping[str, Any]) -> Refusal | None:
        """As :meth:`admit`, with the client's token taken from the :attr:`shared` buckets."""
        if self.shared is None:
            return self.admit(scope)
        client = self.proxies.client(scope)
        return self._decide(await self.shared.take(client), client, _is_stream(scope))

    def _decide(self, wait: float, client: str, stream: bool) -> Refusal | None:
        """The refusal, given the client's wait for a token (0: it had one), else take the request (an event
        ``stream`` takes a stream slot, not an in-flight one)."""
        if wait > 0:
            self.shed["rate-limited"] += 1
            return Refusal("rate-limited", self._rate_detail, max(1, math.ceil(wait)))
        if self.max_queue_delay > 0 and self._queue_too_long():
            self.shed["overloaded"] += 1
            return Refusal("overloaded", f"the gateway is saturated (it takes {self.taken_fraction:.0%} of requests "
                                         "now); retry in a second", 1)
        if stream:
            return self._open_stream(client)
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            self.shed["overloaded"] += 1
            return Refusal("overloaded", f"the gateway is answering {self.in_flight} requests; retry in a second", 1)
        self.in_flight += 1
        return None

    def _queue_too_long(self) -> bool:
        """Whether saturation control refuses this request (see the module docstring)."""
        self.probe.sample()
        now = self.clock()
        above = self.probe.delay > self.max_queue_delay
        if not above:
            self._above_since = None
        elif self._above_since is None:
            self._above_since, self._arrivals = now, 0
        self._arrivals += above
        sustained = (self._above_since is not None and now - self._above_since >= self.interval
                     and self._arrivals >= self.min_arrivals)
        if now - self._adjusted_at >= self.step and (sustained or not above):
            self._adjusted_at = now
            self.taken_fraction = max(0.05, self.taken_fraction * 0.8) if sustained else min(
                1.0, self.taken_fraction + 0.05)
        if self.taken_fraction >= 1.0:
            return False
        self._credit += self.taken_fraction
        if self._credit >= 1.0:
            self._credit -= 1.0
            return False
        return True

    def _open_stream(self, client: str) -> Refusal | None:
        held = self._client_streams.get(client, 0)
        if self.max_streams_per_client and held >= self.max_streams_per_client:
            detail = f"at most {self.max_streams_per_client} event streams at once per client"
        elif self.max_streams and self.streams >= self.max_streams:
            detail = f"the gateway holds {self.streams} event streams, its most; poll the result instead"
        else:
            self.streams += 1
            self._client_streams[client] = held + 1
            return None
        self.shed["too-many-streams"] += 1
        return Refusal("too-many-streams", detail, _STREAM_RETRY_AFTER)

    def release(self, scope: MutableMapping[str, Any] | None = None) -> None:
        """A request taken by :meth:`admit` has been answered (``scope``: the request's, which tells an event
        stream's slot from an in-flight one; None: an in-flight request)."""
        if scope is None or not _is_stream(scope):
            self.in_flight -= 1
            return
        client = self.proxies.client(scope)
        self.streams -= 1
        held = self._client_streams.pop(client, 1) - 1
        if held:
            self._client_streams[client] = held


def _is_stream(scope: MutableMapping[str, Any]) -> bool:
    """Whether the request opens a long-lived event stream (:data:`EVENT_STREAM`)."""
    path = scope.get("path", "")
    return path.endswith("/events") and scope.get("method") == "GET" and EVENT_STREAM.fullmatch(path) is not None
