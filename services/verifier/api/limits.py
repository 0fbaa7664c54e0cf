"""Request limits of the public gateway: body size, per-client rate, CORS.

* The body limit is :class:`microcred.http_limits.BodyLimitMiddleware` (shared with the wallet and the issuer):
  bodies over ``max_bytes`` get 413 problem+json (:func:`body_too_large`), from the declared ``Content-Length``
  or while the body streams in (chunked uploads cannot slip past).
* :class:`ClientBuckets` keeps one token bucket per client address (``rate`` tokens a second, ``burst`` deep);
  :mod:`~.admission` consults it before anything else runs and answers 429 problem+json with ``Retry-After``
  when the bucket is empty. Buckets are per process and bounded in number (idle ones are dropped); they are the
  whole limit with ``MICROCRED_RATE_LIMIT_SHARED=false``, otherwise the fallback of the buckets every replica
  shares in Redis (:mod:`~.rate_limit`).
* :class:`TrustedProxies` tells which address a request stands for: the direct peer, unless that peer is one
  of the configured trusted proxies (``MICROCRED_TRUSTED_PROXIES``, CIDRs), and only then the rightmost
  address of ``X-Forwarded-For`` that is not itself a trusted proxy. Without the setting the header is never
  read (anyone can write it); with it, a client cannot pick its bucket by prepending addresses, since only
  what the trusted proxies appended is believed.
* CORS: :func:`add_cors` (Starlette's middleware; the API is public and read-only, so any origin may call it
  without credentials).
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from microcred.http_limits import Scope, Send
from services.verifier.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, problem
from services.verifier.config import parse_networks

__all__ = ["ClientBuckets", "TokenBucket", "TrustedProxies", "add_cors", "body_too_large", "parse_networks",
           "send_problem"]


async def send_problem(send: Send, status: int, title: str, detail: str, code: str,
                       extra_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Send a small problem+json response (RFC 9457) straight to the ASGI server."""
    body = json.dumps({"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail}).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
               *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def body_too_large(path: str, limit: int) -> Response:
    """The gateway's answer to a body over ``limit`` (the refusal of its ``BodyLimitMiddleware``)."""
    return problem(413, f"request bodies are limited to {limit} bytes", code="body-too-large", field="body")


class TokenBucket:
    """A token bucket: ``rate`` tokens a second up to ``burst``."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), now

    def take(self, now: float) -> float:
        """Take one token; 0 when allowed, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class ClientBuckets:
    """One :class:`TokenBucket` per client address, bounded in number (the least recently seen is dropped)."""

    def __init__(self, rate: float, burst: int, max_clients: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.max_clients, self.clock = rate, burst, max_clients, clock
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, client: str) -> float:
        """Take a token for ``client``: 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        bucket = self.buckets.get(client)
        if bucket is None:
            bucket = self.buckets[client] = TokenBucket(self.rate, self.burst, now)
            if len(self.buckets) > self.max_clients:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(client)
        return bucket.take(now)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_MAX_HOPS = 32


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


class TrustedProxies:
    """The client address of a request: the peer, or what trusted proxies say in ``X-Forwarded-For``.

    Walks the header's addresses (several headers are one list, in order) from the right: each trusted proxy
    hop is skipped, the first address that is not a trusted proxy is the client. An unreadable entry stops the
    walk at the last trusted hop (a proxy that wrote garbage is not believed past that point); a chain of only
    trusted addresses gives its leftmost. Only the last ``32`` entries are looked at.
    """

    def __init__(self, networks: Sequence[str] = ()) -> None:
        self.networks = parse_networks(networks)

    def _trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(self, scope: Scope) -> str:
        """The address whose bucket this request takes from."""
        peer_info = scope.get("client")
        peer = str(peer_info[0]) if peer_info else "unknown"
        if not self.networks or not self._trusted(_address(peer)):
            return peer
        hops = [hop for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"
                for hop in value.decode("latin-1").split(",")]
        current = peer
        for hop in reversed(hops[-_MAX_HOPS:]):
            address = _address(hop)
            if address is None:
                return current
            if not self._trusted(address):
                return str(address)
            current = str(address)
        return current


def add_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Allow cross-origin calls from ``origins`` (no credentials: the API is public)."""
    app.add_middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["content-type", "accept-language"], allow_credentials=False, max_age=600)
