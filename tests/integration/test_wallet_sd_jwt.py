"""The wallet holds SD-JWT VCs beside Data Integrity credentials (issue 19): a learner imports one (compact form),
sees it with its EU elements, shares it, and the gateway verifies what the share link holds. Real Kafka, Redis and
HTTP; the SD-JWT VC is signed under a test agency CA that the wallet is configured to trust."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from microcred.sdjwt.view import enveloped, sd_jwt_id
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.sd_jwt import SdWorld, make_world
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_api import assert_problem, ids, sign_up, until_held
from tests.verifier_support import Limits, RunningServer

pytestmark = pytest.mark.integration


@pytest.fixture
def sd() -> SdWorld:
    return make_world()


@pytest.fixture
async def wallet(infrastructure: Infrastructure, tmp_path: Path, sd: SdWorld) -> AsyncIterator[WalletUnderTest]:
    anchors = tmp_path / "agency-ca.pem"
    anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in sd.anchors))
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet",
                              x509_trust_anchors_file=anchors) as w:
        yield w


async def test_a_learner_imports_shows_and_shares_an_sd_jwt_vc(wallet: WalletUnderTest, sd: SdWorld) -> None:
    learner = await sign_up(wallet, "sdjwt")
    mc = valid_micro_credential()
    mc.learner.email = learner.email.lower()
    issued = sd.issue(mc=mc)
    held_id = sd_jwt_id(issued.compact)
    assert held_id is not None

    as_text = {**learner.headers, "content-type": "application/dc+sd-jwt"}
    response = await wallet.http.post("/v1/import", headers=as_text, content=issued.compact.encode())
    assert response.status_code == 201, response.text
    held = response.json()
    assert held["credential_id"] == held_id and held["source"] == "imported"
    assert held["elements"]["title"] == mc.title.values["en"] and held["issuer_id"] == sd.issuer.iss
    await until_held(wallet, learner, held_id)
    again = await wallet.http.post("/v1/import", headers=learner.headers, json=issued.compact)  # a JSON string
    assert assert_problem(again, 409)["code"] == "ALREADY_HELD"

    # someone else's SD-JWT VC, and a forged one, are refused by name
    other = await sign_up(wallet, "other")
    refused = await wallet.http.post("/v1/import", headers=other.headers, json=issued.compact)
    assert assert_problem(refused, 422)["code"] == "SUBJECT_NOT_LEARNER"
    jwt, *rest = issued.compact.split("~")
    forged = ".".join([*jwt.split(".")[:2], "A" * 86]) + "~" + "~".join(rest)
    refused = await wallet.http.post("/v1/import", headers=learner.headers, json=forged)
    assert assert_problem(refused, 422)["code"] == "INVALID_SIGNATURE"
    assert await ids(wallet, learner) == {held_id}

    # shared, the link holds the enveloped credential, which the gateway verifies as the SD-JWT VC it is
    share = await wallet.http.post("/v1/share-links", headers=learner.headers, json={"credential_ids": [held_id]})
    assert share.status_code == 201, share.text
    token = share.json()["url"].rsplit("/", 1)[1]
    shared = (await wallet.http.get(f"/v1/shares/{token}")).json()["credentials"]
    assert shared == [enveloped(issued.compact)]
    gateway = create_gateway_app(Limits())
    gateway.state.gateway = Gateway(sd.ports())
    async with RunningServer(gateway) as server, httpx.AsyncClient(base_url=server.url) as http:
        report = (await http.post("/v1/verify", json=shared[0])).json()
    assert report["verdict"] == "valid" and report["micro_credential"], report["checks"]
