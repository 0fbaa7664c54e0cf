"""Publishing offer expiries (Offers.publish_expired): what the store leases is published as
CredentialOfferExpired and only then forgotten; a failed publish forgets nothing (the lease brings it back)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.events.envelope import open_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import InMemoryEventPublisher
from microcred.oid4vci.offers import digest
from services.issuer.application.offer_ports import OfferSettings
from services.issuer.application.offers import Offers

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


class ExpiringStore:
    """The two store calls the sweep makes (the Redis scripts behind them are tested in integration)."""

    def __init__(self, due: list[tuple[str, str, str]]) -> None:
        self.due, self.claims, self.forgotten = due, [], []  # type: ignore[var-annotated]

    async def claim_expired(self, due: float, lease_until: float, limit: int) -> list[tuple[str, str, str]]:
        self.claims.append((due, lease_until, limit))
        return self.due[:limit]

    async def forget_expired(self, offer_ids: list[str]) -> None:
        self.forgotten.extend(offer_ids)


def offers(store: Any, publisher: InMemoryEventPublisher) -> Offers:
    return Offers(store, issuance=None, publisher=publisher, privacy=None,  # type: ignore[arg-type]
                  settings=OfferSettings(expiry_grace_seconds=2, expiry_lease_seconds=60), clock=lambda: NOW,
                  topic="t")


async def test_expired_offers_are_published_then_forgotten() -> None:
    store, publisher = ExpiringStore([("offer-1", "uni-a", "agency-a"), ("offer-2", "uni-b", "agency-b")]), \
        InMemoryEventPublisher()
    assert await offers(store, publisher).publish_expired() == 2
    assert store.claims == [(NOW.timestamp() - 2, NOW.timestamp() + 60, 500)]
    records = publisher.topics["t"]
    assert [key for key, _ in records] == [digest("offer-1"), digest("offer-2")]
    opened = [open_envelope(envelope.SerializeToString()) for _, envelope in records]
    assert [type(p) for _, p in opened] == [events_pb2.CredentialOfferExpired] * 2
    envelope, payload = opened[0]
    assert isinstance(payload, events_pb2.CredentialOfferExpired)
    assert payload.offer_ref == digest("offer-1") and payload.issuer_id == "uni-a"
    assert payload.expired_at.ToDatetime(tzinfo=UTC) == NOW
    assert envelope.tenant == "agency-a" and "offer-1" not in envelope.SerializeToString().decode("latin-1")
    assert store.forgotten == ["offer-1", "offer-2"]


async def test_a_failed_publish_forgets_nothing() -> None:
    store, publisher = ExpiringStore([("offer-1", "uni-a", "agency-a")]), InMemoryEventPublisher()
    publisher.fail_next = TimeoutError("kafka down")
    with pytest.raises(TimeoutError):
        await offers(store, publisher).publish_expired()
    assert store.forgotten == []


async def test_nothing_due_publishes_nothing() -> None:
    store, publisher = ExpiringStore([]), InMemoryEventPublisher()
    assert await offers(store, publisher).publish_expired() == 0
    assert publisher.topics == {}
