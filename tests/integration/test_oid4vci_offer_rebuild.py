"""The issuer's open OpenID4VCI offers survive the loss of its Redis (``FLUSHALL`` while it runs), rebuilt from
their events on Kafka: on the running issuer service (its own Redis server, real Kafka), offers in every state
are made, the store is wiped, and afterwards an open offer is served and redeemed (with and without ``tx_code``)
into a credential the gateway verifies; a withdrawn and a redeemed one stay closed (``invalid_grant`` saying
which); the issuer's listing shows each state and reference again."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.infra.redis_local import LocalRedis
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import Wallet
from tests.harness.waiting import eventually
from tests.integration.test_oid4vci import base, verify_at_gateway, wallet_http
from tests.integration.test_oid4vci_offer_listing import all_offers

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY, UNI = f"agency-vcr-{TAG}", f"uni-vcr-{TAG}"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, own_redis: LocalRedis, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[tuple[IssuerHarness, bytes]]:
    work = tmp_path_factory.mktemp("oid4vci-rebuild")
    harness, document_ca = await start_issuer_with_document_ca(infrastructure.kafka_bootstrap, own_redis.url, work,
                                                               AGENCY)
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        yield harness, document_ca.cert_pem
    finally:
        await harness.close()


def issuer_tls(harness: IssuerHarness) -> ssl.SSLContext:
    """TLS to the REST app with the issuer's client certificate."""
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
    cert = pki.create_client_cert(harness.ca, UNI, AGENCY, pki.ROLE_ISSUER)
    context.load_cert_chain(*map(str, cert.write(harness.work_dir / f"client-{uuid.uuid4().hex[:8]}", "client")))
    return context


async def served(http: httpx.AsyncClient, link_of: Any) -> int:
    """The status of GET credential_offer_uri (the offer by reference)."""
    uri = link_of.credential_offer_uri
    return (await http.get(uri)).status_code


async def test_open_offers_are_rebuilt_after_redis_is_lost(stack: tuple[IssuerHarness, bytes],
                                                            own_redis: LocalRedis) -> None:
    harness, document_ca = stack
    stub = harness.issuer_stub(UNI, AGENCY)
    award = valid_micro_credential
    plain = await stub.CreateOffers(issuer_pb2.CreateOffersRequest(
        credentials=[award(), award(), award()], references=["open", "withdrawn", "redeemed"]))
    coded = await stub.CreateOffers(issuer_pb2.CreateOffersRequest(credentials=[award()], tx_code=True,
                                                                   references=["with-tx"]))
    opened, withdrawn, redeemed = plain.offers
    [with_tx] = coded.offers
    async with wallet_http(harness) as http:
        late = Wallet(http)  # took the offer before it was withdrawn
        await late.take_offer(withdrawn.link)
        async with httpx.AsyncClient(base_url=base(harness), verify=issuer_tls(harness), timeout=30) as own:
            assert (await own.delete(f"/oid4vci/offers/{withdrawn.offer_id}")).status_code == 204
        first = Wallet(http)
        await first.take_offer(redeemed.link)
        assert (await first.token()).status_code == 200 and (await first.receive(1)).status_code == 200

        projection = harness.app.offer_projection
        assert projection is not None

        async def resting() -> bool:  # between replays nothing is read (the start's replay is over)
            return projection.runner is None
        await eventually(resting, 30, "the start's replay never ended")
        before = projection.replays
        redis = Redis.from_url(own_redis.url)
        try:
            assert await redis.dbsize() > 0
            await redis.flushall()  # the issuer's Redis is lost while it runs
        finally:
            await redis.aclose()
        # at once, before any periodic look noticed: "try again", never "no such offer" or "unknown code"
        gone = await http.get(opened.credential_offer_uri)
        assert gone.status_code == 503 and gone.json()["error"] == "temporarily_unavailable", gone.text
        assert gone.headers["retry-after"] == "2"
        early = Wallet(http)
        early.offer, early.metadata, early.as_metadata = first.offer, first.metadata, first.as_metadata  # read before
        assert (await early.token()).status_code == 503

        async def rebuilt() -> bool:
            return projection.replays == before + 1 and not projection.replaying \
                and await served(http, opened) == 200
        await eventually(rebuilt, 60, "the open offer was never served again")

        # the open offers are back: served, redeemed (the tx_code too), verified
        for offer, tx in ((opened, None), (with_tx, with_tx.tx_code)):
            wallet = Wallet(http)
            await wallet.take_offer(offer.link)
            token = await wallet.token(tx_code=tx)
            assert token.status_code == 200, token.text
            answer = await wallet.receive(1)
            if answer.status_code == 202:  # the rest of the issuer's state may still be rebuilding: deferred
                transaction = answer.json()["transaction_id"]

                async def collected(wallet: Wallet = wallet, transaction: str = transaction) -> httpx.Response:
                    return await wallet.deferred(transaction)
                answer = await eventually(collected, 60, lambda r: r.text, until=lambda r: r.status_code != 202,
                                          interval=1.0)
            assert answer.status_code == 200, answer.text
            [credential] = [c["credential"] for c in answer.json()["credentials"]]
            # the revocation service shares the wiped Redis: until its status lists are rebuilt the gateway
            # says "undetermined" (a check that could not run), never "invalid"

            async def verified(credential: str = credential) -> dict[str, Any]:
                report = await verify_at_gateway(harness, document_ca, credential)
                assert report["verdict"] in ("valid", "undetermined"), report["checks"]
                return report
            await eventually(verified, 60, lambda r: str(r["checks"]), until=lambda r: r["verdict"] == "valid",
                             interval=0.5)
        # the ended ones stay ended, and say why
        assert await served(http, withdrawn) == 404 and await served(http, redeemed) == 404
        refused = await late.token()
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert "withdrawn" in refused.json()["error_description"]
        again = await first.token()
        assert again.status_code == 400 and "already been used" in again.json()["error_description"]

    await eventually(resting, 30, "the replay never ended")
    listed = {o.reference: o.state for o in await all_offers(stub)}
    assert listed == {"open": issuer_pb2.OFFER_STATE_REDEEMED, "withdrawn": issuer_pb2.OFFER_STATE_WITHDRAWN,
                      "redeemed": issuer_pb2.OFFER_STATE_REDEEMED, "with-tx": issuer_pb2.OFFER_STATE_REDEEMED}
