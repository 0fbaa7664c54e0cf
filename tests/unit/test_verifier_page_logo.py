"""The employer's report page shows the issuer's logo from the trust registry, and only when the registry vouches for
the issuer and the seal is the issuer's: never for a self-asserted issuer, never for an altered document (the page
shows no image a credential carries). The real gateway over HTTP, the registry in memory."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image

from microcred.registry.ports import Logo
from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.unit.test_verification_gateway import Limits
from tests.unit.test_verifier_page_self_asserted import fake_wallet, self_issued
from tests.verifier_support import RunningServer, World

TOKEN = "L" * 43


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (90, 30), (0, 51, 153)).save(out, format="PNG")
    return out.getvalue()


LOGO = png()
DATA_URI = "data:image/png;base64," + base64.b64encode(LOGO).decode()


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.registry.state.logos[world.issuer_id] = Logo(LOGO, "image/png")  # as IssuerRegistered with a logo sets it
    world.publish(datetime.now(UTC))
    return world


async def pages(world: World, credential: dict[str, Any]) -> tuple[str, str, str]:
    """The share page (en, pl) and the pasted-document page of ``credential``."""
    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(world.ports(), WalletClient("http://wallet.test", fake_wallet(credential)))
    async with RunningServer(app, proxy_headers=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        english = (await http.get(f"/share/{TOKEN}")).text
        polish = (await http.get(f"/share/{TOKEN}?lang=pl")).text
        pasted = (await http.post("/view", data={"document": json.dumps(credential)})).text
    return english, polish, pasted


def logos(page: str) -> list[tuple[str, str]]:
    """(src, alt) of every registry logo on the page."""
    found = re.findall(r'<img src="([^"]*)" data-testid="issuer-logo" alt="([^"]*)">', page)
    return [(html.unescape(src), html.unescape(alt)) for src, alt in found]


async def test_an_accredited_issuer_s_registered_logo_is_shown(world: World) -> None:
    english, polish, pasted = await pages(world, world.credential())
    [(src, alt)] = logos(english)
    assert src == DATA_URI and "trust registry" in alt and "University of Zed" in alt
    assert logos(pasted) == [(src, alt)]
    [(src_pl, alt_pl)] = logos(polish)
    assert src_pl == DATA_URI and "rejestru zaufania" in alt_pl


async def test_no_logo_for_a_self_asserted_issuer(world: World) -> None:
    credential = self_issued(world)
    assert credential["issuer"].get("id", "").startswith("did:key:")
    english, _, pasted = await pages(world, credential)
    assert 'data-verdict="valid"' in english and logos(english) == [] and logos(pasted) == []


async def test_no_logo_for_an_altered_document(world: World) -> None:
    credential = world.credential(4243)
    credential["credentialSubject"]["achievement"]["name"] = "Something else"  # breaks the seal
    english, _, _ = await pages(world, credential)
    assert 'data-verdict="invalid"' in english and logos(english) == []
