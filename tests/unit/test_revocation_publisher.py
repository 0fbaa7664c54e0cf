"""The status-list publisher and the HTTP endpoint, over an in-memory store (no Redis, no Kafka)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.did_key import resolve_key
from microcred.crypto.keystore import InMemoryKeyStore
from microcred.events.envelope import open_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import InMemoryEventPublisher
from microcred.kafka.topics import STATUS
from microcred.status.bitstring import MIN_LIST_BITS, Bitstring, decode_list
from microcred.status.check import StatusEntry, check_status
from services.revocation.adapters.keys import load_signer
from services.revocation.adapters.store import PublishedList
from services.revocation.api.http import create_http_app, media_type_for
from services.revocation.domain import ListMeta
from services.revocation.events.publisher import StatusListPublisher

URL = "https://status.example/status/uni-a-revocation-0"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeStore:
    """The subset of RevocationStore the publisher and the HTTP app use."""

    metas: dict[str, ListMeta] = field(default_factory=dict)
    bits: dict[str, Bitstring] = field(default_factory=dict)
    pub: dict[str, PublishedList] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)

    def add(self, list_id: str, purpose: str = "revocation") -> None:
        self.metas[list_id] = ListMeta(list_id, "uni-a", purpose, f"https://status.example/status/{list_id}", 0,
                                       MIN_LIST_BITS)
        self.bits[list_id] = Bitstring()

    async def list_meta(self, list_id: str) -> ListMeta | None:
        return self.metas.get(list_id)

    async def list_bits(self, list_id: str, size: int) -> bytes:
        return self.bits[list_id].to_bytes()

    async def published(self, list_id: str) -> PublishedList | None:
        return self.pub.get(list_id)

    async def store_published(self, published: PublishedList) -> bool:
        current = self.pub.get(published.list_id)
        if current is not None and current.version >= published.version:
            return False
        self.pub[published.list_id] = published
        return True

    async def acquire_lock(self, list_id: str, ttl_ms: int = 10_000) -> str | None:
        if list_id in self.locked:
            return None
        self.locked.add(list_id)
        return "token"

    async def release_lock(self, list_id: str, token: str) -> None:
        self.locked.discard(list_id)

    async def mark_dirty(self, list_ids: Iterable[str]) -> None:
        self.dirty.update(list_ids)

    async def pop_dirty(self, limit: int = 10_000) -> set[str]:
        out, self.dirty = self.dirty, set()
        return out

    async def all_lists(self) -> list[str]:
        return sorted(self.metas)

    async def published_versions(self, list_ids: Sequence[str]) -> dict[str, tuple[int, datetime] | None]:
        return {i: (self.pub[i].version, self.pub[i].valid_until) if i in self.pub else None for i in list_ids}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def parts() -> tuple[FakeStore, InMemoryEventPublisher, StatusListPublisher, Clock]:
    store, events, clock = FakeStore(), InMemoryEventPublisher(), Clock()
    store.add("uni-a-revocation-0")
    signer = load_signer(InMemoryKeyStore(), "status-list-signer")
    publisher = StatusListPublisher(store, events, signer, ttl_seconds=60, validity_seconds=300,  # type: ignore[arg-type]
                                    batch_window=0.01, refresh_check=3600, clock=clock)
    return store, events, publisher, clock


def published_events(events: InMemoryEventPublisher) -> list[events_pb2.StatusListPublished]:
    out = []
    for _, envelope in events.topics.get(STATUS.name, []):
        _, payload = open_envelope(envelope.SerializeToString())
        assert isinstance(payload, events_pb2.StatusListPublished)
        out.append(payload)
    return out


async def test_publishes_a_signed_w3c_list_with_validity_and_ttl(parts: Any) -> None:
    store, events, publisher, _ = parts
    store.bits["uni-a-revocation-0"].set(42)
    (result,) = await publisher.publish(["uni-a-revocation-0"])
    assert result.version == 1 and result.valid_until == NOW + timedelta(seconds=300)
    (event,) = published_events(events)
    assert event.version == 1 and event.status_list_credential == URL and event.size == MIN_LIST_BITS
    assert event.credential_json.encode() == result.body
    credential = json.loads(store.pub["uni-a-revocation-0"].body)
    assert credential["validFrom"] == "2025-06-01T12:00:00Z" and credential["validUntil"] == "2025-06-01T12:05:00Z"
    assert credential["credentialSubject"]["ttl"] == 60_000
    assert credential["issuer"] == publisher.signer.did
    outcome = verify_data_integrity(credential, resolve_key, now=NOW)
    assert outcome.verified is True, outcome.message
    result_42 = check_status(StatusEntry("revocation", 42, URL), credential, NOW + timedelta(minutes=1),
                             proofs_verified=True)
    assert not result_42.valid
    assert publisher.stats.published == 1 and len(publisher.stats.sign_ms) == 1


async def test_unchanged_lists_are_skipped_until_validity_runs_low(parts: Any) -> None:
    store, events, publisher, clock = parts
    await publisher.publish(["uni-a-revocation-0"])
    assert await publisher.publish(["uni-a-revocation-0"]) == []
    assert publisher.stats.skipped == 1
    clock.now = NOW + timedelta(seconds=150)   # 150 s left > 2 ttl: still fine
    assert await publisher.due_for_refresh() == set()
    clock.now = NOW + timedelta(seconds=181)   # 119 s left < 2 ttl: re-sign
    assert await publisher.due_for_refresh() == {"uni-a-revocation-0"}
    (again,) = await publisher.publish(await publisher.due_for_refresh())
    assert again.version == 2
    store.bits["uni-a-revocation-0"].set(7)
    (changed,) = await publisher.publish(["uni-a-revocation-0"])
    assert changed.version == 3
    assert [e.version for e in published_events(events)] == [1, 2, 3]
    assert decode_list(json.loads(changed.body)["credentialSubject"]["encodedList"]).bits.get(7)


async def test_a_list_locked_elsewhere_stays_dirty(parts: Any) -> None:
    store, events, publisher, _ = parts
    store.locked.add("uni-a-revocation-0")
    assert await publisher.publish(["uni-a-revocation-0"]) == []
    assert store.dirty == {"uni-a-revocation-0"} and not events.topics


async def test_the_loop_batches_dirty_lists_after_a_notification(parts: Any) -> None:
    store, events, publisher, _ = parts
    store.add("uni-a-suspension-0", "suspension")
    task = asyncio.create_task(publisher.run())
    try:
        await asyncio.sleep(0.05)  # the first refresh check publishes both fresh lists
        assert {e.status_list_id for e in published_events(events)} == {"uni-a-revocation-0", "uni-a-suspension-0"}
        store.bits["uni-a-revocation-0"].set(1)
        store.bits["uni-a-suspension-0"].set(2)
        store.dirty.update({"uni-a-revocation-0", "uni-a-suspension-0"})
        batches = publisher.stats.batches
        publisher.notify()
        for _ in range(100):
            if len(published_events(events)) == 4:
                break
            await asyncio.sleep(0.01)
        assert len(published_events(events)) == 4 and publisher.stats.batches == batches + 1
    finally:
        await publisher.stop()
        await task


async def test_a_failed_publication_keeps_the_list_dirty(parts: Any) -> None:
    store, events, publisher, _ = parts
    events.fail_next = ConnectionError("kafka down")
    with pytest.raises(ConnectionError):
        await publisher.publish(["uni-a-revocation-0"])
    assert store.dirty == {"uni-a-revocation-0"} and not store.pub and not store.locked


# ------------------------------------------------------------------------------------------ HTTP


def _served(code: str) -> float:
    """Requests for a status list counted on the service's metrics (by route template, never the list id)."""
    return REGISTRY.get_sample_value("microcred_requests_total", {
        "service": "revocation", "method": "GET /status/{list_id}", "code": code}) or 0.0


async def test_http_endpoint(parts: Any) -> None:
    store, _, publisher, clock = parts
    await publisher.publish(["uni-a-revocation-0"])
    app = create_http_app(store, 60, {"redis": None, "kafka_ready": True}, clock=clock)
    served, missed = _served("200"), _served("404")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        ok = await client.get("/status/uni-a-revocation-0")
        assert _served("200") == served + 1
        assert ok.status_code == 200 and ok.content == store.pub["uni-a-revocation-0"].body
        assert ok.headers["etag"] == store.pub["uni-a-revocation-0"].etag
        assert ok.headers["cache-control"] == "public, max-age=60"
        assert ok.headers["content-type"] == "application/vc+ld+json"
        assert (await client.get("/status/uni-a-revocation-0", headers={"If-None-Match": ok.headers["etag"]})
                ).status_code == 304
        assert (await client.get("/status/uni-a-revocation-0", headers={"If-None-Match": '"other"'})
                ).status_code == 200
        head = await client.head("/status/uni-a-revocation-0")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(ok.content))
        clock.now = NOW + timedelta(seconds=270)  # 30 s of validity left: caches may keep it 30 s only
        assert (await client.get("/status/uni-a-revocation-0")).headers["cache-control"] == "public, max-age=30"
        for path in ("/status/unknown-0", "/status/bad%20id"):
            missing = await client.get(path)
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"
            assert missing.json()["type"] == "https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR"
        assert _served("404") == missed + 2
        assert (await client.get("/healthz")).status_code == 503  # no Redis behind the fake


def test_media_type_negotiation() -> None:
    assert media_type_for(None) == "application/vc+ld+json"
    assert media_type_for("text/html, application/json;q=0.9") == "application/json"
    assert media_type_for("application/vc") == "application/vc"
    assert media_type_for("*/*") == "application/vc+ld+json"
