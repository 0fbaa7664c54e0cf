"""The PDF reuses the learner's verification link (issue 23): downloads, concurrent or one after the other, print
one link and add one to the learner's share-link list; once it is withdrawn, the next download makes a new one.
The link is read off each PDF by a real QR decoder (pdftoppm + zbarimg). Real Kafka and Redis, wallet and
gateway over loopback sockets (port 0)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest

from services.wallet.domain.share_link import share_id_of
from tests.harness.wallet.harness import WalletUnderTest
from tests.integration.test_pdf_verification import hold_credential, stack  # noqa: F401 - the fixture
from tests.integration.test_wallet_api import sign_up
from tests.verifier_support import World

pytestmark = pytest.mark.integration


def _qr(pdf: bytes, where: Path, name: str) -> str:
    (where / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(where / f"{name}.pdf"), str(where / name)],
                   check=True, timeout=60)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(where / f"{name}.png")], check=True, timeout=60,
                             capture_output=True, text=True).stdout.split()
    assert len(decoded) == 1, decoded
    return decoded[0]


async def test_downloads_reuse_one_link_until_it_is_withdrawn(
        stack: tuple[WalletUnderTest, str, World], tmp_path: Path) -> None:  # noqa: F811
    wallet, _gateway_url, world = stack
    learner = await sign_up(wallet, "pdflink")

    cid, _document = await hold_credential(wallet, world, learner, 7002)

    async def download() -> bytes:
        response = await wallet.http.get(f"/v1/credentials/{cid}/pdf", headers=learner.headers)
        assert response.status_code == 200, response.text
        return response.content

    async def links() -> set[str]:
        listed = (await wallet.http.get("/v1/share-links", headers=learner.headers)).json()["share_links"]
        return {s["share_id"] for s in listed if s["credential_ids"] == [cid] and s["state"] == "active"}

    async def until_links(expected: set[str]) -> None:
        deadline = time.monotonic() + 60
        while (found := await links()) != expected:
            assert time.monotonic() < deadline, (found, expected)
            await asyncio.sleep(0.1)

    # two concurrent first downloads, then a later one: one link, printed in all three
    first, second = await asyncio.gather(download(), download())
    url = _qr(first, tmp_path, "first")
    assert _qr(second, tmp_path, "second") == url
    token = url.rsplit("/", 1)[1]
    await until_links({share_id_of(token)})
    assert _qr(await download(), tmp_path, "third") == url
    assert await links() == {share_id_of(token)}

    # withdrawn, it is not printed again: the next download makes (and then keeps) a new link
    withdrawn = await wallet.http.delete(f"/v1/verification-links/{share_id_of(token)}", headers=learner.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    await until_links(set())
    fresh = _qr(await download(), tmp_path, "fresh")
    assert fresh != url
    await until_links({share_id_of(fresh.rsplit("/", 1)[1])})
    assert _qr(await download(), tmp_path, "fresh-again") == fresh
