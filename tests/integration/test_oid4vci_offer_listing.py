"""An issuer lists its own OpenID4VCI offers (``IssuerService.ListOffers`` over mTLS gRPC, ``GET /oid4vci/offers``
over HTTPS) on the running issuer service with real Kafka and Redis: every state (open, redeemed by the spec-written
test wallet, withdrawn, locked by wrong tx_codes, expired), the references the issuer gave, the links of open
offers, never a tx_code, pages newest first, filters; another issuer's offers are never visible; entries are
forgotten a day after their offer expired."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from microcred.gen.microcred.v1 import issuer_pb2
from services.issuer.adapters.offers import RedisOfferStore
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import Wallet
from tests.harness.waiting import eventually
from tests.integration.test_issuer_grpc import details
from tests.integration.test_oid4vci import base, wallet_http
from tests.integration.test_oid4vci_flows import issuer_context

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"agency-vcl-{TAG}"
UNI, OTHER = f"uni-vcl-{TAG}", f"uni-vcl-other-{TAG}"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    """An issuer service with its REST app (the Credential Issuer endpoints) and two issuers of one agency."""
    work = tmp_path_factory.mktemp("oid4vci-listing")
    harness, _ = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY, oid4vci_max_tx_attempts=2)
    try:
        await harness.onboard(AGENCY, {UNI: 7, OTHER: 7})
        yield harness
    finally:
        await harness.close()


async def all_offers(stub: Any, page_size: int = 2, **query: Any) -> list[issuer_pb2.OfferSummary]:
    """Every page of ListOffers."""
    out: list[issuer_pb2.OfferSummary] = []
    token = ""
    for _ in range(100):
        page = await stub.ListOffers(issuer_pb2.ListOffersRequest(page_size=page_size, page_token=token, **query))
        out += list(page.offers)
        token = page.next_page_token
        if not token:
            return out
    raise AssertionError("ListOffers never ended")


async def test_an_issuer_lists_its_own_offers_in_every_state(stack: IssuerHarness) -> None:
    harness = stack
    stub, other = harness.issuer_stub(UNI, AGENCY), harness.issuer_stub(OTHER, AGENCY)
    award = valid_micro_credential
    with_tx = await stub.CreateOffers(issuer_pb2.CreateOffersRequest(
        credentials=[award(), award(), award()], tx_code=True, references=["r-1", "r-2", "r-3"]))
    soon = await stub.CreateOffers(issuer_pb2.CreateOffersRequest(credentials=[award()], expires_in_seconds=1,
                                                                  references=["r-expiring"]))
    async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness, UNI), timeout=30) as http:
        made = await http.post("/oid4vci/offers", json={
            "credentials": [json_format.MessageToDict(award())] * 2,
            "references": ["rest-1", ""]})
        assert made.status_code == 201, made.text
        rest_offers = made.json()["offers"]
        withdrawn = await http.delete(f"/oid4vci/offers/{with_tx.offers[1].offer_id}")
        assert withdrawn.status_code == 204, withdrawn.text
    foreign = await other.CreateOffers(issuer_pb2.CreateOffersRequest(credentials=[award()], references=["theirs"]))

    async with wallet_http(harness) as http:
        wallet = Wallet(http)  # redeems r-1
        await wallet.take_offer(with_tx.offers[0].link)
        assert (await wallet.token(tx_code=with_tx.offers[0].tx_code)).status_code == 200
        assert (await wallet.receive(1)).status_code == 200
        locker = Wallet(http)  # locks r-3 (two wrong tx_codes)
        await locker.take_offer(with_tx.offers[2].link)
        wrong = "000000" if with_tx.offers[2].tx_code != "000000" else "111111"
        for _ in range(2):
            assert (await locker.token(tx_code=wrong)).status_code == 400

    async def expired_listed() -> list[issuer_pb2.OfferSummary]:
        return await all_offers(stub, state=issuer_pb2.OFFER_STATE_EXPIRED)
    [expired] = await eventually(expired_listed, 30, "the 1 s offer was never listed as expired")
    assert expired.offer_id == soon.offers[0].offer_id and expired.reference == "r-expiring" and not expired.link

    listed = await all_offers(stub)
    by_id = {o.offer_id: o for o in listed}
    mine = [*(o.offer_id for o in with_tx.offers), soon.offers[0].offer_id, *(o["offer_id"] for o in rest_offers)]
    assert len(listed) == 6 and set(by_id) == set(mine)  # nothing of OTHER's
    assert foreign.offers[0].offer_id not in by_id
    created = [o.created_at.ToDatetime() for o in listed]
    assert created == sorted(created, reverse=True)  # newest first
    assert listed[0].offer_id in {o["offer_id"] for o in rest_offers}
    states = {by_id[o.offer_id].reference: (by_id[o.offer_id].state, by_id[o.offer_id].withdrawal_reason)
              for o in with_tx.offers}
    assert states == {"r-1": (issuer_pb2.OFFER_STATE_REDEEMED, ""), "r-2": (issuer_pb2.OFFER_STATE_WITHDRAWN,
                                                                             "withdrawn"),
                      "r-3": (issuer_pb2.OFFER_STATE_WITHDRAWN, "locked")}
    for offer in rest_offers:
        summary = by_id[offer["offer_id"]]
        assert summary.state == issuer_pb2.OFFER_STATE_OPEN and not summary.tx_code_required
        assert summary.link == offer["link"] and summary.credential_offer_uri == offer["credential_offer_uri"]
    assert [by_id[o["offer_id"]].reference for o in rest_offers] == ["rest-1", ""]
    assert all(by_id[o.offer_id].tx_code_required and not by_id[o.offer_id].link for o in with_tx.offers)
    everything = b"".join(o.SerializeToString() for o in listed)
    assert not any(o.tx_code.encode() in everything for o in with_tx.offers)  # never a tx_code
    assert {o.expires_at.ToDatetime() > o.created_at.ToDatetime() for o in listed} == {True}

    # the other issuer sees only its own
    theirs = await all_offers(other)
    assert [(o.offer_id, o.reference) for o in theirs] == [(foreign.offers[0].offer_id, "theirs")]

    # filters: state, since
    assert {o.offer_id for o in await all_offers(stub, state=issuer_pb2.OFFER_STATE_OPEN)} == {
        o["offer_id"] for o in rest_offers}
    assert len(await all_offers(stub, state=issuer_pb2.OFFER_STATE_WITHDRAWN)) == 2
    later = Timestamp()
    later.FromDatetime(datetime.now(UTC) + timedelta(minutes=5))
    assert await all_offers(stub, since=later) == []

    # the REST twin answers the same
    async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness, UNI), timeout=30) as http:
        page = await http.get("/oid4vci/offers", params={"state": "withdrawn", "page_size": 10})
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store", page.text
        assert {o["reference"] for o in page.json()["offers"]} == {"r-2", "r-3"}
        assert page.json()["next_page_token"] == ""
        bad = await http.get("/oid4vci/offers", params={"state": "gone", "page_token": "zz", "since": "yesterday",
                                                        "page_size": "ten"})
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
        assert [v["field"] for v in bad.json()["violations"]] == ["page_size", "page_token", "state", "since"]

    # entries are forgotten a day after their offer expired
    assert harness.app.redis is not None
    store = RedisOfferStore(harness.app.redis, harness.app.settings.issuer_redis_prefix)
    assert await store.trim_offers(UNI, time.time() + 9 * 86400) == 6
    assert await all_offers(stub) == [] and len(await all_offers(other)) == 1


async def test_bad_list_and_reference_requests_name_their_field(stack: IssuerHarness) -> None:
    stub = stack.issuer_stub(UNI, AGENCY)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListOffers(issuer_pb2.ListOffersRequest(page_size=501, page_token="not-a-token"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details(refused.value)[0]] == ["page_size", "page_token"]
    for references, field in ((["a"], "references"), (["a", "b\nc"], "references[1]")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.CreateOffers(issuer_pb2.CreateOffersRequest(
                credentials=[valid_micro_credential(), valid_micro_credential()], references=references))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in details(refused.value)[0]] == [field]
    assert await all_offers(stack.issuer_stub(f"uni-vcl-none-{TAG}", AGENCY)) == []
