"""ListOffers' pure parts: an entry's state now, the page cursor (ties at one creation time, new offers between
pages, a bounded scan under a state filter), the page token's checks, the references' checks, and the
OfferSummary (the link only while open, never a tx_code). The Redis index is tested in
tests/integration/test_oid4vci_offer_listing.py."""

from __future__ import annotations

import math

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from microcred.gen.microcred.v1 import issuer_pb2
from services.issuer.api.offer_listing import list_offers_query, offer_summary, reference_violations
from services.issuer.application.issuance import Refusal
from services.issuer.application.offer_listing import (
    MAX_SCAN,
    Cursor,
    OfferEntry,
    PageTokenError,
    decode_token,
    encode_token,
    list_page,
    state_of,
)

NOW = 1_800_000_000.0


class MemoryIndex:
    """In-memory twin of the offer index port (one issuer's entries; others' under their own id)."""

    def __init__(self) -> None:
        self.entries: dict[str, list[OfferEntry]] = {}
        self.read = 0
        self.trimmed: list[tuple[str, float]] = []

    def add(self, issuer: str, entry: OfferEntry) -> None:
        self.entries.setdefault(issuer, []).append(entry)

    async def trim_offers(self, issuer_id: str, now: float) -> int:
        self.trimmed.append((issuer_id, now))
        return 0

    async def offer_window(self, issuer_id: str, max_score: float, offset: int, count: int,
                           min_score: float) -> list[OfferEntry]:
        # Redis ZREVRANGEBYSCORE: score descending, ties in reverse member order
        ordered = sorted(self.entries.get(issuer_id, []), key=lambda e: (e.created_at, e.offer_id), reverse=True)
        window = [e for e in ordered if min_score <= e.created_at <= max_score][offset:offset + count]
        self.read += len(window)
        return window


def entry(n: int, created: float, state: str = "offered", expires: float = NOW + 100) -> OfferEntry:
    return OfferEntry(f"offer-{n:05d}", created, expires, n % 2 == 0, f"ref-{n}", state)


def test_state_of() -> None:
    assert state_of(entry(1, 1.0), NOW) == ("open", "")
    assert state_of(entry(1, 1.0, expires=NOW), NOW) == ("expired", "")
    assert state_of(entry(1, 1.0, "redeemed", expires=NOW - 5), NOW) == ("redeemed", "")
    assert state_of(entry(1, 1.0, "withdrawn"), NOW) == ("withdrawn", "withdrawn")
    assert state_of(entry(1, 1.0, "locked"), NOW) == ("withdrawn", "locked")
    assert state_of(entry(1, 1.0, "forgotten"), NOW) == ("", "")


async def pages(index: MemoryIndex, issuer: str, size: int, **options: object) -> list[list[str]]:
    out, cursor = [], Cursor()
    while True:
        page = await list_page(index, issuer, NOW, size=size, cursor=cursor, **options)  # type: ignore[arg-type]
        out.append([e.offer_id for e, _, _ in page.entries])
        if not page.next_token:
            return out
        cursor = decode_token(page.next_token)


async def test_pages_walk_ties_newest_first_once_each() -> None:
    index = MemoryIndex()
    # three batches: 7 offers at t=10, 5 at t=20, 1 at t=30 (offers of one call share a creation time)
    for n in range(13):
        index.add("uni-a", entry(n, 10.0 if n < 7 else 20.0 if n < 12 else 30.0))
    index.add("uni-b", entry(99, 40.0))
    walked = await pages(index, "uni-a", 3)
    flat = [offer for page in walked for offer in page]
    assert len(flat) == 13 and len(set(flat)) == 13 and "offer-00099" not in flat
    assert flat[0] == "offer-00012" and set(flat[1:6]) == {f"offer-{n:05d}" for n in range(7, 12)}
    assert all(len(page) == 3 for page in walked[:-1])
    assert index.trimmed and index.trimmed[0] == ("uni-a", NOW)


async def test_new_offers_between_pages_do_not_shift_the_walk() -> None:
    index = MemoryIndex()
    for n in range(6):
        index.add("uni-a", entry(n, 10.0))
    first = await list_page(index, "uni-a", NOW, size=4, cursor=Cursor())
    index.add("uni-a", entry(50, 50.0))  # a newer offer arrives
    rest = await list_page(index, "uni-a", NOW, size=4, cursor=decode_token(first.next_token))
    seen = [e.offer_id for e, _, _ in first.entries + rest.entries]
    assert sorted(seen) == [f"offer-{n:05d}" for n in range(6)] and rest.next_token == ""


async def test_state_and_since_filters() -> None:
    index = MemoryIndex()
    index.add("uni-a", entry(1, 10.0))
    index.add("uni-a", entry(2, 20.0, "redeemed"))
    index.add("uni-a", entry(3, 30.0, expires=NOW - 1))
    index.add("uni-a", entry(4, 40.0, "locked"))
    only = {s: await pages(index, "uni-a", 10, state=s) for s in ("open", "redeemed", "expired", "withdrawn")}
    assert only == {"open": [["offer-00001"]], "redeemed": [["offer-00002"]], "expired": [["offer-00003"]],
                    "withdrawn": [["offer-00004"]]}
    assert await pages(index, "uni-a", 10, since=20.0) == [["offer-00004", "offer-00003", "offer-00002"]]


async def test_a_filtered_page_reads_a_bounded_number_of_entries() -> None:
    index = MemoryIndex()
    for n in range(MAX_SCAN + 300):
        index.add("uni-a", entry(n, float(n), "redeemed"))
    index.add("uni-a", entry(MAX_SCAN + 1000, 0.5))  # the one open offer is the oldest
    page = await list_page(index, "uni-a", NOW, size=10, cursor=Cursor(), state="open")
    assert page.entries == [] and page.next_token and index.read == MAX_SCAN
    last = await list_page(index, "uni-a", NOW, size=10, cursor=decode_token(page.next_token), state="open")
    assert [e.offer_id for e, _, _ in last.entries] == [f"offer-{MAX_SCAN + 1000:05d}"] and last.next_token == ""


def test_page_tokens() -> None:
    assert decode_token("") == Cursor()
    cursor = Cursor(1_800_000_000.123456, 3)
    assert decode_token(encode_token(cursor)) == cursor
    for bad in ("x", "not base64 at all!", encode_token(Cursor(math.inf, 1)), encode_token(Cursor(1.0, 0)),
                "eyJzIjoidGV4dCIsIm4iOjF9", "A" * 300):
        with pytest.raises(PageTokenError):
            decode_token(bad)


def test_list_offers_query_names_every_bad_field() -> None:
    refused = list_offers_query(issuer_pb2.ListOffersRequest(page_size=501, page_token="x", state=9))  # type: ignore[arg-type]
    assert isinstance(refused, Refusal)
    assert [v.field for v in refused.violations] == ["page_size", "page_token", "state"]
    refused = list_offers_query(issuer_pb2.ListOffersRequest(since=Timestamp(seconds=10**15)))
    assert isinstance(refused, Refusal) and [v.field for v in refused.violations] == ["since"]  # not a ValueError
    size, cursor, state, since = list_offers_query(issuer_pb2.ListOffersRequest(  # type: ignore[misc]
        state=issuer_pb2.OFFER_STATE_EXPIRED))
    assert (size, cursor, state, since) == (50, Cursor(), "expired", None)


def test_reference_checks() -> None:
    assert reference_violations([], 3) == []
    assert [v.field for v in reference_violations(["a", "b"], 3)] == ["references"]
    assert [v.field for v in reference_violations(["ok", "x" * 201, "tab\there"], 3)] == ["references[1]",
                                                                                           "references[2]"]


def test_summary_has_the_link_only_while_open_and_no_tx_code() -> None:
    open_offer = offer_summary(entry(2, 10.0), "open", "", "https://issuer.example")
    assert open_offer.credential_offer_uri == "https://issuer.example/oid4vci/offers/offer-00002"
    assert open_offer.link.startswith("openid-credential-offer://?credential_offer_uri=https%3A%2F%2F")
    assert open_offer.tx_code_required and open_offer.reference == "ref-2"
    assert open_offer.state == issuer_pb2.OFFER_STATE_OPEN
    assert "tx_code" not in {f.name for f in issuer_pb2.OfferSummary.DESCRIPTOR.fields}
    gone = offer_summary(entry(3, 10.0, "locked"), "withdrawn", "locked", "https://issuer.example")
    assert gone.link == gone.credential_offer_uri == "" and gone.withdrawal_reason == "locked"
    assert gone.created_at.seconds == 10 and gone.state == issuer_pb2.OFFER_STATE_WITHDRAWN


def test_summary_links_use_the_identifier_the_offer_was_made_with() -> None:
    made = OfferEntry("offer-1", 10.0, NOW + 5, False, "", "offered", "https://localhost:8443")
    assert offer_summary(made, "open", "", "https://127.0.0.1:8443").credential_offer_uri == \
        "https://localhost:8443/oid4vci/offers/offer-1"
