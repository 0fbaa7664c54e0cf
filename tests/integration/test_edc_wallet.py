"""The wallet keeps the EDC beside the Data Integrity credential (issue 22): a CredentialIssued carrying a sealed
EDC is filed over real Kafka and Redis; the learner sees that the credential has it (``edc: true``) and downloads
the sealed ``.jsonld`` exactly as issued (GET /v1/credentials/{id}/edc, over HTTP); a credential without one is a
named 404, and another learner cannot download it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from microcred import pki
from microcred.elm.issue import elm_issuer, sealed_edc
from microcred.gen.microcred.v1 import registry_pb2
from microcred.sdjwt.x5c import x5c_header
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_api import assert_problem, sign_up, until_held

pytestmark = pytest.mark.integration


@pytest.fixture
async def wallet(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[WalletUnderTest]:
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet") as w:
        yield w


def _seal(issued: object) -> str:
    ca = pki.create_ca("Platform CA")
    certified = pki.create_signing_cert(ca, issuer_uri="https://uniz.example", common_name="University of Zed")
    key = load_pem_private_key(certified.key_pem, password=None)
    mc = issued.event.credential  # type: ignore[attr-defined]
    mc.quality_assurance.qa_body.id = "https://qqi.example"
    issuer = registry_pb2.Issuer(issuer_id="issuer-uniz", organisation=mc.awarding_bodies[0])
    return sealed_edc(mc, issuer=elm_issuer(issuer, "https://uniz.example"),
                      credential_id=issued.credential_id, issued_at=datetime.now(UTC),  # type: ignore[attr-defined]
                      key=key, x5c=x5c_header([certified.cert_pem]))  # type: ignore[arg-type]


async def test_the_learner_sees_and_downloads_the_sealed_edc(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-uniz")
    learner, other = await sign_up(wallet, "edc"), await sign_up(wallet, "other")
    with_edc = issuer.issue(learner_did=learner.did, title="With EDC")
    plain = issuer.issue(learner_did=learner.did, title="Without EDC")
    sealed = _seal(with_edc)
    with_edc.event.edc_jsonld = sealed
    for issued in (with_edc, plain):
        await wallet.issue(issued)
    await until_held(wallet, learner, with_edc.credential_id, plain.credential_id)

    listed = (await wallet.http.get("/v1/credentials", headers=learner.headers)).json()["credentials"]
    flags = {c["credential_id"]: c.get("edc", False) for c in listed}
    assert flags == {with_edc.credential_id: True, plain.credential_id: False}
    one = (await wallet.http.get(f"/v1/credentials/{with_edc.credential_id}", headers=learner.headers)).json()
    assert one["edc"] is True and one["credential"]["id"] == with_edc.credential_id

    download = await wallet.http.get(f"/v1/credentials/{with_edc.credential_id}/edc", headers=learner.headers)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("application/ld+json")
    assert download.headers["content-disposition"].endswith('.edc.jsonld"')
    assert download.text == sealed  # exactly as sealed: a changed byte would break the seal

    missing = await wallet.http.get(f"/v1/credentials/{plain.credential_id}/edc", headers=learner.headers)
    assert "EDC" in assert_problem(missing, 404)["detail"]
    foreign = await wallet.http.get(f"/v1/credentials/{with_edc.credential_id}/edc", headers=other.headers)
    assert_problem(foreign, 404)
