"""Adapters the gateway plugs into the verification ports: status lists and the wallet's share links.

:class:`GatewayStatusSource` answers from the Kafka-fed :class:`~microcred.status.cache.StatusListCache` first
(a revocation is visible as soon as the revocation service publishes the re-signed list). Only for URLs under
this platform's own prefixes does it fall back to HTTP (a list not yet in the cache, a cache still replaying),
keeping what it fetched for the list's ``ttl`` (at most ``max_kept`` lists, the least recently used dropped).
Every other URL gets None: remote lists of other platforms are not fetched, so their status reads "unknown"
(STATUS_RETRIEVAL_ERROR), never "valid".

"Under a prefix" compares parsed URLs, never strings: the same scheme, host (case-insensitive) and port (the
scheme's default when absent), and a path that lies under the prefix's path at a segment boundary. A URL with
userinfo (``https://status.example@evil.com/``), a query or fragment, whitespace or control characters, a dot
segment (``/status/../evil``) or a percent-encoded dot, slash or backslash anywhere in its path is refused
outright rather than normalised, since servers and proxies disagree on how to normalise those.

:class:`WalletClient` resolves a share token with ``GET {wallet}/v1/shares/{token}``.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from services.verifier.application import SharedCredentials, ShareGone, ShareNotFound, WalletUnavailable

__all__ = ["GatewayStatusSource", "PlatformUrls", "WalletClient", "valid_token"]

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_ENCODED_SEPARATOR = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class _Location:
    scheme: str
    host: str
    port: int
    path: str


def _location(url: str) -> _Location | None:
    """The parsed parts of an http(s) URL fit to compare, or None for anything ambiguous (see module docstring)."""
    if not url or not url.isprintable() or " " in url or "\\" in url or "?" in url or "#" in url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not parts.hostname:
        return None
    path = parts.path or "/"
    if _ENCODED_SEPARATOR.search(path) or any(segment in (".", "..") for segment in path.split("/")):
        return None
    return _Location(scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], path)


class PlatformUrls:
    """The URLs this gateway may fetch: under one of the platform's own prefixes, parsed, compared part by part."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        """``prefixes`` must be plain http(s) URLs; a malformed one is a configuration error."""
        self._prefixes: list[_Location] = []
        for prefix in (p for p in prefixes if p):
            location = _location(prefix)
            if location is None:
                raise ValueError(f"status URL prefix {prefix!r} is not a plain http(s) URL")
            directory = location.path if location.path.endswith("/") else location.path + "/"
            self._prefixes.append(_Location(location.scheme, location.host, location.port, directory))

    def allowed(self, url: str) -> bool:
        """Whether ``url`` is strictly under one of the prefixes (never a prefix itself, never ambiguous)."""
        location = _location(url)
        if location is None:
            return False
        return any(location.scheme == p.scheme and location.host == p.host and location.port == p.port
                   and location.path.startswith(p.path) and location.path != p.path for p in self._prefixes)


class CachedLists(Protocol):
    """What the gateway needs of :class:`~microcred.status.cache.StatusListCache`."""

    def get(self, list_url: str) -> tuple[dict[str, Any], datetime] | None:
        """The newest verified list credential and when it arrived."""
        ...


class GatewayStatusSource:
    """StatusListSource: Kafka cache, then HTTP for the platform's own list URLs only."""

    def __init__(self, cache: CachedLists | None, http: httpx.AsyncClient | None, allowed_prefixes: Sequence[str],
                 *, default_ttl: float = 30.0, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 max_kept: int = 1024) -> None:
        """``allowed_prefixes`` must be plain http(s) URLs; a malformed one is a configuration error."""
        self._cache, self._http = cache, http
        self._urls = PlatformUrls(allowed_prefixes)
        self._default_ttl = default_ttl
        self._clock = clock
        self._max_kept = max(1, max_kept)
        self._fetched: OrderedDict[str, tuple[dict[str, Any], datetime, float]] = OrderedDict()

    @property
    def kept(self) -> int:
        """How many fetched lists are kept."""
        return len(self._fetched)

    def allowed(self, url: str) -> bool:
        """Whether ``url`` belongs to this platform (may be fetched): see :class:`PlatformUrls`."""
        return self._urls.allowed(url)

    async def get(self, url: str) -> tuple[Mapping[str, Any], datetime] | None:
        """The list from the Kafka cache, else (platform URLs only) from HTTP; None when unavailable."""
        if self._cache is not None:
            hit = self._cache.get(url)
            if hit is not None:
                return hit
        if self._http is None or not self.allowed(url):
            return None
        kept = self._fetched.get(url)
        if kept is not None and kept[2] > time.monotonic():
            self._fetched.move_to_end(url)
            return kept[0], kept[1]
        try:
            response = await self._http.get(url, headers={"accept": "application/vc+ld+json, application/json"})
            if response.status_code != 200:
                return None
            credential = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        if not isinstance(credential, dict):
            return None
        subject = credential.get("credentialSubject")
        ttl_ms = subject.get("ttl") if isinstance(subject, dict) else None
        ttl = ttl_ms / 1000 if isinstance(ttl_ms, int | float) and ttl_ms > 0 else self._default_ttl
        obtained = self._clock()
        self._fetched[url] = (credential, obtained, time.monotonic() + min(ttl, 300.0))
        self._fetched.move_to_end(url)
        while len(self._fetched) > self._max_kept:
            self._fetched.popitem(last=False)
        return credential, obtained


def valid_token(token: str) -> bool:
    """Tokens are URL-safe base64 (the wallet's are 43 characters); anything else is never sent on."""
    return bool(_TOKEN.fullmatch(token))


class WalletClient:
    """Client of the wallet's share-link endpoint."""

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._http = http

    async def share(self, token: str) -> SharedCredentials:
        """The credentials behind ``token``; raises ShareNotFound, ShareGone or WalletUnavailable."""
        if not valid_token(token):
            raise ShareNotFound(token)
        try:
            response = await self._http.get(f"{self._base}/v1/shares/{token}")
        except httpx.HTTPError as exc:
            # the detail (addresses, httpx's text) is for operators only; the token is never logged
            log.warning("wallet unavailable", extra={"wallet": self._base, "error": f"{type(exc).__name__}: {exc}"})
            raise WalletUnavailable(type(exc).__name__) from exc
        if response.status_code == 404:
            raise ShareNotFound(token)
        if response.status_code == 410:
            raise ShareGone(token)
        if response.status_code != 200:
            log.warning("wallet unavailable", extra={"wallet": self._base, "error": f"HTTP {response.status_code}"})
            raise WalletUnavailable(f"wallet answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise WalletUnavailable("wallet answered with something other than JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("credentials"), list):
            raise WalletUnavailable("wallet answer lacks a credentials list")
        expires = body.get("expires_at")
        return SharedCredentials(body["credentials"], str(expires) if expires is not None else None)
