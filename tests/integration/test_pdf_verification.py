"""The credential PDF end to end (issue 23): a credential reaches the wallet over Kafka; its PDF, rasterised with
pdftoppm, carries a QR code (decoded with zbarimg) of a public verification link that the running verifier gateway
resolves to a ``valid`` report; the credential extracted from the PDF verifies on its own; the Polish PDF's text
(pdftotext) has Polish labels with their diacritics; once the learner withdraws the link it answers 410 Gone.
Real Kafka and Redis, wallet and gateway over loopback sockets (port 0)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from microcred.gen.microcred.v1 import events_pb2
from microcred.pdf.embedded import extract_embedded_credentials
from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from services.wallet.domain.share_link import share_id_of
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.wallet.credentials import Issued
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_api import sign_up, until_held
from tests.verifier_support import Limits, RunningServer, World

pytestmark = pytest.mark.integration


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture
async def stack(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[tuple[WalletUnderTest, str, World]]:
    world = World()
    world.publish(datetime.now(UTC))
    gateway = create_gateway_app(Limits())
    gateway.state.gateway = Gateway(world.ports())
    async with RunningServer(gateway) as server, running_wallet(
            infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet",
            share_url_template=f"{server.url}/shares/{{token}}") as wallet, httpx.AsyncClient(timeout=30) as to_wallet:
        # the gateway resolves share links at the wallet, which only now has an address
        gateway.state.gateway = Gateway(world.ports(), WalletClient(str(wallet.http.base_url), to_wallet))
        yield wallet, server.url, world


async def hold_credential(wallet: WalletUnderTest, world: World, learner: Any, number: int
                          ) -> tuple[str, dict[str, Any]]:
    """A credential issued to ``learner`` (by e-mail) arrives over Kafka and is held; its id and document."""

    def for_learner(mc: Any) -> None:
        mc.learner.ClearField("did")
        mc.learner.email = learner.email.lower()

    document = world.credential(number, mutate=for_learner)
    mc = valid_micro_credential()
    for_learner(mc)
    cid = document["id"]
    await wallet.issue(Issued(cid, document, events_pb2.CredentialIssued(
        credential_id=cid, issuer_id=world.issuer_id, credential_json=json.dumps(document), credential=mc)))
    await until_held(wallet, learner, cid)
    return cid, document


async def test_pdf_qr_link_verifies_embedded_credential_verifies_and_withdrawal(
        stack: tuple[WalletUnderTest, str, World], tmp_path: Path) -> None:
    wallet, gateway_url, world = stack
    learner = await sign_up(wallet, "pdf")

    cid, document = await hold_credential(wallet, world, learner, 7001)

    response = await wallet.http.get(f"/v1/credentials/{cid}/pdf", params={"lang": "en", "paper": "letter"},
                                     headers=learner.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "en.pdf"
    pdf.write_bytes(response.content)

    # the QR code, read off the rendered page by a real decoder, is the public verification link
    _run("pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "en"))
    decoded = _run("zbarimg", "-q", "--raw", str(tmp_path / "en.png")).split()
    assert len(decoded) == 1 and decoded[0].startswith(f"{gateway_url}/shares/"), decoded
    url = decoded[0]
    token = url.rsplit("/", 1)[1]
    async with httpx.AsyncClient(timeout=60) as http:
        page = await http.get(url)
        assert page.status_code == 200, page.text
        report = (await http.get(f"{gateway_url}/v1/shares/{token}/report")).json()
        assert report["verdict"] == "valid", report
        assert [r["verdict"] for r in report["reports"]] == ["valid"]
        # the printed URL is the same link, and LinkedIn's add-to-profile points to it too
        assert url in "".join(_run("pdftotext", str(pdf), "-").split())

        # the signed credential embedded in the PDF is what the issuer signed, and verifies on its own
        attached = dict(extract_embedded_credentials(response.content))
        assert set(attached) == {"credential.json"}
        assert json.loads(attached["credential.json"]) == document
        own = (await http.post(f"{gateway_url}/v1/verify", content=attached["credential.json"],
                               headers={"content-type": "application/json"})).json()
        assert own["verdict"] == "valid", own

        # the Polish PDF shows Polish labels with their diacritics
        polish = await wallet.http.get(f"/v1/credentials/{cid}/pdf", params={"lang": "pl"}, headers=learner.headers)
        assert polish.status_code == 200
        (tmp_path / "pl.pdf").write_bytes(polish.content)
        text = _run("pdftotext", str(tmp_path / "pl.pdf"), "-")
        for label in ("Mikropoświadczenie", "Efekty uczenia się", "Zapewnienie jakości", "Nakład pracy (godziny)",
                      "Zweryfikuj to poświadczenie"):
            assert label in text, label

        # a verification link with LinkedIn links; withdrawn, it answers gone (the PDF's link too)
        created = await wallet.http.post(f"/v1/credentials/{cid}/verification-link", headers=learner.headers)
        assert created.status_code == 201, created.text
        link = created.json()
        assert link["expires_at"] is None and link["url"].startswith(f"{gateway_url}/shares/")
        added = parse_qs(urlsplit(link["linkedin_add_to_profile"]).query)
        assert added["certUrl"] == [link["url"]] and added["certId"] == [cid]
        assert added["startTask"] == ["CERTIFICATION_NAME"]
        shares = (await wallet.http.get("/v1/share-links", headers=learner.headers)).json()["share_links"]
        assert {share_id_of(token), link["share_id"]} <= {s["share_id"] for s in shares}
        # a PDF may print an existing link instead of a new one
        again = await wallet.http.get(f"/v1/credentials/{cid}/pdf", params={"link": link["token"]},
                                      headers=learner.headers)
        assert again.status_code == 200, again.text
        (tmp_path / "again.pdf").write_bytes(again.content)
        _run("pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "again.pdf"), str(tmp_path / "again"))
        assert _run("zbarimg", "-q", "--raw", str(tmp_path / "again.png")).split() == [link["url"]]
        for share_id, gone_url in ((link["share_id"], link["url"]), (share_id_of(token), url)):
            withdrawn = await wallet.http.delete(f"/v1/verification-links/{share_id}", headers=learner.headers)
            assert withdrawn.status_code == 200, withdrawn.text
            assert (await http.get(gone_url)).status_code == 410
        stale = await wallet.http.get(f"/v1/credentials/{cid}/pdf", params={"link": link["token"]},
                                      headers=learner.headers)
        assert stale.status_code == 404 and "link" in stale.text

        bad = await wallet.http.get(f"/v1/credentials/{cid}/pdf", params={"lang": "xx"}, headers=learner.headers)
        assert bad.status_code == 422 and "lang" in bad.text
