"""Re-signing and publishing status-list credentials: batched after changes, periodically before expiry.

The projector marks every list it changes dirty (in Redis, in the same transaction as the bit) and wakes
:class:`StatusListPublisher`. The publisher waits ``batch_window`` seconds so that changes arriving together
are signed together, then, for each dirty list: reads the bitstring, builds the ``BitstringStatusListCredential``
(VC 2.0, ``validFrom``/``validUntil``, ``ttl``), signs it with ``eddsa-rdfc-2022``, publishes
``StatusListPublished`` to Kafka (so verifiers learn of it at once and a replay restores it) and stores it in
Redis for the HTTP endpoint. A list whose bits did not change and whose validity is not running out is
skipped. Every ``refresh_check`` seconds lists close to ``validUntil`` are re-signed too.

Signing runs in a worker thread so the event loop keeps serving gRPC and HTTP. One list is signed by one
holder at a time (an in-process lock and a Redis lock shared by all instances); versions increase by one.
While the read model is being rebuilt (``ready`` says no) nothing is signed: the bits and the last version
are still being replayed, and a list signed from them would repeat a version number with older bits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2, status_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import STATUS
from microcred.status.bitstring import Bitstring
from microcred.status.build import build_status_list_credential
from services.revocation.adapters.keys import StatusListSigner
from services.revocation.adapters.store import PublishedList, RevocationStore, etag_of
from services.revocation.domain import ListMeta, needs_refresh

__all__ = ["PublisherStats", "StatusListPublisher"]

log = logging.getLogger(__name__)

_UNSPECIFIED = status_pb2.STATUS_PURPOSE_UNSPECIFIED
_PROTO_PURPOSE: dict[str, status_pb2.StatusPurpose] = {"revocation": status_pb2.STATUS_PURPOSE_REVOCATION,
                  "suspension": status_pb2.STATUS_PURPOSE_SUSPENSION}


@dataclass
class PublisherStats:
    """Counters and the recent signing cost (build + sign + serialise, per list, in milliseconds)."""

    published: int = 0
    skipped: int = 0
    failures: int = 0
    batches: int = 0
    sign_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


class StatusListPublisher:
    """Keeps every list's signed credential current."""

    def __init__(self, store: RevocationStore, events: EventPublisher, signer: StatusListSigner, *,
                 ttl_seconds: int, validity_seconds: int, batch_window: float = 0.05,
                 refresh_check: float = 5.0, clock: Callable[[], datetime] | None = None,
                 ready: Callable[[], Awaitable[bool]] | None = None) -> None:
        self.store = store
        self.events = events
        self.signer = signer
        self.ttl_seconds = ttl_seconds
        self.validity_seconds = validity_seconds
        self.batch_window = batch_window
        self.refresh_check = refresh_check
        self.clock = clock or (lambda: datetime.now(UTC))
        self.ready = ready
        self.stats = PublisherStats()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def notify(self, list_ids: Iterable[str] = ()) -> None:
        """Wake the publisher: lists changed (they are already marked dirty in Redis)."""
        self._wake.set()

    async def stop(self) -> None:
        """Ask :meth:`run` to finish its current batch and return."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Publish dirty lists in batches and refresh expiring ones until stopped."""
        next_refresh = time.monotonic()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, next_refresh - time.monotonic()))
            if self._stopping.is_set():
                break
            if self._wake.is_set():
                await asyncio.sleep(self.batch_window)
                self._wake.clear()
            if self.ready is not None and not await self.ready():
                # The read model is being rebuilt: its bits and versions may be behind what was published.
                # Lists are signed once it has caught up (the replay marks them dirty again).
                await asyncio.sleep(0.5)
                self._wake.set()
                continue
            due: set[str] = set()
            try:
                if time.monotonic() >= next_refresh:
                    next_refresh = time.monotonic() + self.refresh_check
                    due = await self.due_for_refresh()
                dirty = await self.store.pop_dirty()
                if dirty or due:
                    self.stats.batches += 1
                    await self.publish(dirty | due)
            except Exception:  # Redis or Kafka trouble: keep the lists dirty and try again shortly
                self.stats.failures += 1
                log.exception("status list publication failed; retrying")
                await asyncio.sleep(0.5)
                self._wake.set()

    async def due_for_refresh(self) -> set[str]:
        """Lists never published, or whose ``validUntil`` comes within two ttl of now."""
        lists = await self.store.all_lists()
        versions = await self.store.published_versions(lists)
        now = self.clock()
        return {list_id for list_id, info in versions.items()
                if info is None or needs_refresh(info[1], now, self.ttl_seconds)}

    async def publish(self, list_ids: Iterable[str], *, force: bool = False) -> list[PublishedList]:
        """Sign and publish each list that changed (or all, with ``force``); return what was published."""
        done: list[PublishedList] = []
        for list_id in sorted(set(list_ids)):
            async with self._locks[list_id]:
                token = await self.store.acquire_lock(list_id)
                if token is None:  # another instance is signing it right now: look again later
                    await self.store.mark_dirty([list_id])
                    continue
                try:
                    result = await self._publish_one(list_id, force)
                except Exception:
                    await self.store.mark_dirty([list_id])
                    raise
                finally:
                    await self.store.release_lock(list_id, token)
                if result is not None:
                    done.append(result)
        return done

    async def _publish_one(self, list_id: str, force: bool) -> PublishedList | None:
        meta = await self.store.list_meta(list_id)
        if meta is None:
            log.warning("dirty list without metadata skipped", extra={"list_id": list_id})
            return None
        bits = await self.store.list_bits(list_id, meta.size)
        bits_sha256 = hashlib.sha256(bits).hexdigest()
        current = await self.store.published(list_id)
        now = self.clock()
        if (not force and current is not None and current.bits_sha256 == bits_sha256
                and not needs_refresh(current.valid_until, now, self.ttl_seconds)):
            self.stats.skipped += 1
            return None
        started = time.perf_counter()
        body, valid_until = await asyncio.to_thread(self._sign, meta, bits, now)
        self.stats.sign_ms.append((time.perf_counter() - started) * 1000)
        version = (current.version if current is not None else 0) + 1
        payload = events_pb2.StatusListPublished(
            status_list_id=list_id, issuer_id=meta.issuer_id,
            status_purpose=_PROTO_PURPOSE.get(meta.purpose, _UNSPECIFIED), status_list_credential=meta.url,
            version=version, credential_json=body.decode(), size=meta.size)
        envelope = new_envelope(payload, subject=list_id, issuer_id=meta.issuer_id)
        await self.events.publish(STATUS.name, list_id, envelope)
        published = PublishedList(list_id, version, body, etag_of(body), valid_until, bits_sha256)
        await self.store.store_published(published)
        self.stats.published += 1
        return published

    def _sign(self, meta: ListMeta, bits: bytes, now: datetime) -> tuple[bytes, datetime]:
        valid_from = now.astimezone(UTC).replace(microsecond=0)
        valid_until = valid_from + timedelta(seconds=self.validity_seconds)
        document = build_status_list_credential(
            meta.url, self.signer.did, meta.purpose, Bitstring.from_bytes(bits, meta.size), valid_from,
            ttl_ms=self.ttl_seconds * 1000, valid_until=valid_until)
        signed: dict[str, Any] = self.signer.sign(document)
        return json.dumps(signed, separators=(",", ":"), ensure_ascii=False).encode(), valid_until
