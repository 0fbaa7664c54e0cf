"""Withdrawing an erased learner's open offers (services/issuer/application/offer_erasure.py) over an in-memory
index: an offer whose ref the store keeps is found in one read; one it does not keep (made before refs were kept)
is found across pages, whatever creation times they share; only open ones are withdrawn and announced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.oid4vci.offers import digest
from services.issuer.application.offer_erasure import ERASED, ErasedLearnerOffers
from services.issuer.application.offer_listing import OfferEntry


class Index:
    """One issuer's offers: (id, created_at, state), windowed as the Redis index does (newest first)."""

    def __init__(self, offers: list[tuple[str, float, str]], kept: Sequence[str] = ()) -> None:
        self.offers = {o[0]: o for o in offers}
        self.kept = {digest(offer_id): offer_id for offer_id in kept}  # ref -> id, as the store keeps them
        self.withdrawn: list[str] = []
        self.windows = 0
        self.asked: list[list[str]] = []

    async def offer_ids(self, offer_refs: Sequence[str]) -> dict[str, str]:
        self.asked.append(list(offer_refs))
        return {ref: self.kept[ref] for ref in offer_refs if ref in self.kept}

    async def offer_window(self, issuer_id: str, max_score: float, offset: int, count: int,
                           min_score: float) -> list[OfferEntry]:
        self.windows += 1
        ranked = sorted((o for o in self.offers.values() if min_score <= o[1] <= max_score),
                        key=lambda o: (-o[1], o[0]))
        return [OfferEntry(i, t, t + 60, False, "", s) for i, t, s in ranked[offset:offset + count]]

    async def withdraw(self, issuer_id: str, offer_id: str) -> str:
        if offer_id not in self.offers:
            return "unknown"  # another issuer's
        _, created, state = self.offers[offer_id]
        if state != "offered":
            return state
        self.offers[offer_id] = (offer_id, created, "withdrawn")
        self.withdrawn.append(offer_id)
        return "ok"


class Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[tuple[str, EventEnvelope]]]] = []

    async def publish_many(self, topic: str, items: list[tuple[str, EventEnvelope]]) -> Any:
        self.sent.append((topic, items))


async def test_every_wanted_open_offer_is_withdrawn_across_pages_of_equal_creation_times() -> None:
    # 25 offers, many created in the same second: pages of 4 must neither skip nor repeat any
    offers = [(f"o{n:02}", float(100 + n // 6), "redeemed" if n == 3 else "offered") for n in range(25)]
    index, publisher = Index(offers), Publisher()
    wanted = ["o00", "o03", "o05", "o06", "o13", "o24", "not-mine"]
    withdrawn = await ErasedLearnerOffers(index, publisher, page=4).withdraw(  # type: ignore[arg-type]
        "uni-1", "agency-1", [digest(w) for w in wanted], "agency-1/op")
    assert withdrawn == 5 and sorted(index.withdrawn) == ["o00", "o05", "o06", "o13", "o24"]  # o03: redeemed
    [(_, items)] = publisher.sent
    assert sorted(ref for ref, _ in items) == sorted(digest(w) for w in index.withdrawn)
    for ref, envelope in items:
        event = events_pb2.CredentialOfferWithdrawn.FromString(envelope.payload)
        assert (event.offer_ref, event.issuer_id, event.reason) == (ref, "uni-1", ERASED)
        assert envelope.tenant == "agency-1" and envelope.actor == "agency-1/op"


async def test_nothing_open_nothing_published_and_the_scan_stops_once_all_are_found() -> None:
    index, publisher = Index([(f"o{n}", float(n), "offered") for n in range(100)]), Publisher()
    # the newest offer: found on the first page, no further page read
    assert await ErasedLearnerOffers(index, publisher, page=10).withdraw(  # type: ignore[arg-type]
        "uni-1", "agency-1", [digest("o99")], "op") == 1
    assert index.windows == 1
    assert await ErasedLearnerOffers(index, publisher, page=10).withdraw(  # type: ignore[arg-type]
        "uni-1", "agency-1", [digest("o99")], "op") == 0  # withdrawn already: nothing again
    assert len(publisher.sent) == 1


async def test_offers_whose_refs_the_store_keeps_are_found_without_reading_the_index() -> None:
    index = Index([(f"o{n}", float(n), "redeemed" if n == 7 else "offered") for n in range(100)],
                  kept=[f"o{n}" for n in range(100)] + ["theirs"])
    publisher = Publisher()
    withdrawn = await ErasedLearnerOffers(index, publisher, page=10).withdraw(  # type: ignore[arg-type]
        "uni-1", "agency-1", [digest("o3"), digest("o7"), digest("o50"), digest("theirs")], "op")
    assert withdrawn == 2 and sorted(index.withdrawn) == ["o3", "o50"]  # o7 redeemed; "theirs" another issuer's
    assert index.windows == 0 and len(index.asked) == 1
    # one kept, one not (made before refs were kept): only the other is looked for in the index
    index = Index([(f"o{n}", float(n), "offered") for n in range(100)], kept=["o99"])
    assert await ErasedLearnerOffers(index, Publisher(), page=10).withdraw(  # type: ignore[arg-type]
        "uni-1", "agency-1", [digest("o99"), digest("o95")], "op") == 2
    assert index.windows == 1 and sorted(index.withdrawn) == ["o95", "o99"]
