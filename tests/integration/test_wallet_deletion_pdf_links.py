"""Deleting a wallet account deletes the PDF's remembered verification links too (issue 23).

A learner downloads the PDF of two credentials (each download remembers its verification link's sealed token in
Redis, ``P:pdf-link:{account}:*``); another learner downloads one. The first deletes their account: their keys are
gone, the other learner's key stays and their next download still reuses the same link. Real Kafka and Redis, HTTP
over a socket."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_api import Learner, sign_up, until_held

pytestmark = pytest.mark.integration


@pytest.fixture
async def wallet(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[WalletUnderTest]:
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet") as w:
        yield w


async def pdf_link_keys(wallet: WalletUnderTest, account_id: str) -> set[bytes]:
    pattern = f"{wallet.prefix}:pdf-link:{account_id}:*"
    return {key async for key in wallet.redis.scan_iter(match=pattern)}


async def account_of(wallet: WalletUnderTest, learner: Learner) -> str:
    account: str = (await wallet.http.get("/v1/me", headers=learner.headers)).json()["account_id"]
    return account


async def test_account_deletion_forgets_the_pdf_links(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-pdf-del")
    leaving, staying = await sign_up(wallet, "leaving"), await sign_up(wallet, "staying")
    first, second = issuer.issue(learner_did=leaving.did), issuer.issue(learner_did=leaving.did)
    kept = issuer.issue(learner_did=staying.did)
    for issued in (first, second, kept):
        await wallet.issue(issued)
    await until_held(wallet, leaving, first.credential_id, second.credential_id)
    await until_held(wallet, staying, kept.credential_id)

    for learner, issued in ((leaving, first), (leaving, second), (staying, kept)):
        response = await wallet.http.get(f"/v1/credentials/{issued.credential_id}/pdf", headers=learner.headers)
        assert response.status_code == 200, response.text
    leaving_id, staying_id = await account_of(wallet, leaving), await account_of(wallet, staying)
    assert len(await pdf_link_keys(wallet, leaving_id)) == 2
    staying_keys = await pdf_link_keys(wallet, staying_id)
    assert len(staying_keys) == 1
    links_before = (await wallet.http.get("/v1/share-links", headers=staying.headers)).json()

    deleted = await wallet.http.delete("/v1/me", headers=leaving.headers, params={"confirm": "delete-my-account"})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["pdf_links_forgotten"] == 2
    assert await pdf_link_keys(wallet, leaving_id) == set()
    assert await pdf_link_keys(wallet, staying_id) == staying_keys

    again = await wallet.http.get(f"/v1/credentials/{kept.credential_id}/pdf", headers=staying.headers)
    assert again.status_code == 200
    assert (await wallet.http.get("/v1/share-links", headers=staying.headers)).json() == links_before
