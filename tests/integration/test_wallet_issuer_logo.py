"""The wallet shows an issuer's logo from the trust registry, and only for an issuer the registry vouches for
(issue 23). Real Kafka (the shared registry topic and this wallet's own topics) and Redis, HTTP over a socket:
two issuers are registered with logos, one of them accredited; a credential of each arrives over Kafka. The
accredited issuer's credential shows the registry's name and logo on the detail view (a data URI of the very
bytes registered) and as an image XObject on page 1 of its PDF; the unaccredited one's shows neither."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2, events_pb2
from microcred.kafka.topics import REGISTRY, ensure_topics
from microcred.registry.domain import timestamp
from microcred.registry.redis_registry import RedisRegistry
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_api import sign_up, until_held, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
async def wallet(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[WalletUnderTest]:
    await ensure_topics(infrastructure.kafka_bootstrap, topics=(REGISTRY,))
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet") as w:
        yield w


def png(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


async def register(wallet: WalletUnderTest, issuer: TestIssuer, name: str, logo: bytes, *, accredit: bool) -> None:
    """IssuerRegistered (with the logo) and, if ``accredit``, IssuerAccredited, on the platform's registry topic."""
    since = datetime.now(UTC) - timedelta(days=1)
    organisation = elements_pb2.Organisation(legal_name=elements_pb2.LangString(values={"en": name}),
                                             country=elements_pb2.Country(code="PL"))
    events: list[Any] = [events_pb2.IssuerRegistered(issuer_id=issuer.issuer_id, agency_id="pl-test",
                                                     organisation=organisation, did=issuer.did, logo=logo,
                                                     logo_media_type="image/png")]
    if accredit:
        events.append(events_pb2.IssuerAccredited(
            issuer_id=issuer.issuer_id, accreditation_id="acc-1",
            type=elements_pb2.ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE, framework="ESG 2015",
            max_eqf_level=8, valid_from=timestamp(since), decision_reference="PKA/2026/1"))
    for event in events:
        await wallet.publisher.publish(REGISTRY.name, issuer.issuer_id, new_envelope(event, subject=issuer.issuer_id,
                                                                                     occurred_at=since))


def page_one_images(pdf: bytes) -> list[tuple[int, int]]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        xobjects = doc.pages[0].obj.Resources.get("/XObject", {})
        return [(int(x.Width), int(x.Height)) for x in xobjects.values() if x.get("/Subtype") == "/Image"]


async def test_only_an_issuer_the_registry_vouches_for_gets_its_logo(wallet: WalletUnderTest) -> None:
    tag = uuid.uuid4().hex[:8]
    vouched, unaccredited = TestIssuer.new(f"uni-logo-{tag}"), TestIssuer.new(f"uni-nolo-{tag}")
    logo = png((0, 51, 153), (120, 40))
    await register(wallet, vouched, "Politechnika Testowa", logo, accredit=True)
    await register(wallet, unaccredited, "Unaccredited College", png((153, 0, 0), (60, 60)), accredit=False)
    read_model = RedisRegistry(wallet.redis, f"{wallet.settings.wallet_redis_prefix}-registry")

    async def projected() -> bool:
        issuers = [await read_model.get_issuer(i.issuer_id) for i in (vouched, unaccredited)]
        return all(issuers) and bool(issuers[0] and issuers[0].accreditations)
    await wait_for(projected, timeout=60)

    learner = await sign_up(wallet, "logo")
    good, plain = vouched.issue(learner_did=learner.did), unaccredited.issue(learner_did=learner.did)
    for issued in (good, plain):
        await wallet.issue(issued)
    await until_held(wallet, learner, good.credential_id, plain.credential_id)

    view = (await wallet.http.get(f"/app/view/{good.credential_id}", params={"lang": "pl"},
                                  headers=learner.headers)).json()
    assert view["registry_issuer"] == {"name": "Politechnika Testowa",
                                       "logo": "data:image/png;base64," + base64.b64encode(logo).decode()}
    pdf = await wallet.http.get(f"/v1/credentials/{good.credential_id}/pdf", headers=learner.headers)
    assert pdf.status_code == 200, pdf.text
    assert page_one_images(pdf.content) == [(120, 40)]

    view = (await wallet.http.get(f"/app/view/{plain.credential_id}", headers=learner.headers)).json()
    assert view["registry_issuer"] is None
    pdf = await wallet.http.get(f"/v1/credentials/{plain.credential_id}/pdf", headers=learner.headers)
    assert pdf.status_code == 200, pdf.text
    assert page_one_images(pdf.content) == []
