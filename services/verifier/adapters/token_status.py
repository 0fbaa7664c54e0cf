"""Token Status Lists for the gateway: ``statuslist+jwt`` tokens over HTTP, from the platform's own URLs only.

SD-JWT VCs name their status by a Status List Token URI (the revocation service's ``/token-status/{list}``). The
gateway fetches a token only under a configured platform prefix (:class:`~.sources.PlatformUrls`: the same rule
as for Bitstring lists, so a credential cannot make the gateway fetch arbitrary URLs) and keeps it for at most
``max_age`` seconds, shorter than the token's own ``ttl``: a revocation is seen within a second, as for the
Bitstring lists, while a burst of verifications of one list costs one fetch. When the kept token runs out, the
verifications that need it meanwhile wait for one fetch (single flight) instead of each fetching the same token
(under load every in-flight verification of the list did, at every expiry). Conditional requests (``ETag``)
make a refetch of an unchanged list cheap. The token's signature, ``x5c`` chain and validity are checked by the
verification (:func:`microcred.status.token_status_list.check_token_status`), never here.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from services.verifier.adapters.sources import PlatformUrls

__all__ = ["TokenStatusHttpSource"]

_MAX_TOKEN_BYTES = 2 * 1024 * 1024  # a 2^20-entry, 2-bit list is 256 KiB before compression


class TokenStatusHttpSource:
    """:class:`~microcred.verification.ports.TokenStatusSource` over HTTP, for the platform's own token URIs."""

    def __init__(self, http: httpx.AsyncClient, urls: PlatformUrls, *, max_age: float = 0.25, max_kept: int = 1024,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._http, self._urls, self._max_age, self._clock = http, urls, max_age, clock
        self._max_kept = max(1, max_kept)
        # uri -> (token, obtained at, kept until (monotonic), ETag)
        self._kept: OrderedDict[str, tuple[str, datetime, float, str | None]] = OrderedDict()
        self._fetching: dict[str, asyncio.Future[tuple[str, datetime] | None]] = {}  # uri -> the fetch under way
        self.fetches = 0
        """HTTP requests made (each a fetch or a revalidation)."""

    async def get(self, uri: str) -> tuple[str, datetime] | None:
        """The token at ``uri`` and when it was obtained; None when not a platform URI or not obtainable."""
        if not self._urls.allowed(uri):
            return None
        kept = self._kept.get(uri)
        if kept is not None and kept[2] > time.monotonic():
            return kept[0], kept[1]
        fetching = self._fetching.get(uri)
        if fetching is None:  # the fetch is a task of its own: a caller that goes away does not cancel it for the rest
            fetching = asyncio.ensure_future(self._fetch(uri, kept))
            self._fetching[uri] = fetching
            fetching.add_done_callback(lambda done: self._fetched(uri, done))
        return await asyncio.shield(fetching)

    def _fetched(self, uri: str, done: asyncio.Future[tuple[str, datetime] | None]) -> None:
        self._fetching.pop(uri, None)
        if not done.cancelled():
            done.exception()  # retrieved here too: no "never retrieved" warning when every caller went away

    async def _fetch(self, uri: str, kept: tuple[str, datetime, float, str | None] | None
                     ) -> tuple[str, datetime] | None:
        now = time.monotonic()
        self.fetches += 1
        headers = {"accept": "application/statuslist+jwt"}
        if kept is not None and kept[3]:
            headers["if-none-match"] = kept[3]
        try:
            response = await self._http.get(uri, headers=headers)
        except httpx.HTTPError:
            return None
        if response.status_code == 304 and kept is not None:
            token, etag = kept[0], kept[3]
        elif response.status_code == 200 and len(response.content) <= _MAX_TOKEN_BYTES:
            token, etag = response.text.strip(), response.headers.get("etag")
        else:
            return None
        obtained = self._clock()
        self._kept[uri] = (token, obtained, now + self._max_age, etag)
        self._kept.move_to_end(uri)
        while len(self._kept) > self._max_kept:
            self._kept.popitem(last=False)
        return token, obtained
