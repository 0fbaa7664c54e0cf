"""LinkedIn links on a public verification link's page (issue 23): the real gateway over HTTP renders "Add to
profile" and share links built from the verified credential, and only when the verdict is valid; a tampered
credential's page and a pasted document's page have none. The wallet is an in-memory HTTP twin."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.unit.test_verification_gateway import Limits
from tests.verifier_support import RunningServer, World

TOKEN = "L" * 43


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))
    return world


async def pages(world: World, credential: dict[str, Any]) -> tuple[str, str, str, str]:
    """The share page, its Polish version, the page of the same document pasted, and the share page's URL."""
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"credentials": [credential], "expires_at": None})

    app = create_gateway_app(Limits())
    wallet = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    app.state.gateway = Gateway(world.ports(), WalletClient("http://wallet.test", wallet))
    async with RunningServer(app, proxy_headers=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        shared = (await http.get(f"/shares/{TOKEN}")).text
        polish = (await http.get(f"/shares/{TOKEN}?lang=pl")).text
        pasted = (await http.post("/view", content=urlencode({"document": json.dumps(credential)}),
                                  headers={"content-type": "application/x-www-form-urlencoded"})).text
        return shared, polish, pasted, f"{server.url}/shares/{TOKEN}"


def _href(page: str, testid: str) -> str:
    found = re.search(rf'<a href="([^"]+)"[^>]*data-testid="{testid}"', page)
    assert found, testid
    return unescape(found.group(1))


async def test_a_valid_credential_page_offers_linkedin_links_from_what_was_verified(world: World) -> None:
    credential = world.credential(8101)
    shared, polish, pasted, url = await pages(world, credential)
    assert 'data-verdict="valid"' in shared and 'data-testid="linkedin"' in shared
    add = urlsplit(_href(shared, "linkedin-add"))
    assert (add.scheme, add.netloc, add.path) == ("https", "www.linkedin.com", "/profile/add")
    params = parse_qs(add.query)
    subject = credential["credentialSubject"]["achievement"]
    assert params["startTask"] == ["CERTIFICATION_NAME"]
    assert params["name"] == [subject["name"]]
    assert params["certUrl"] == [url] and params["certId"] == [credential["id"]]
    issued = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    assert params["issueYear"] == [str(issued.year)] and params["issueMonth"] == [str(issued.month)]
    assert params["organizationName"] and params["organizationName"][0]
    share = urlsplit(_href(shared, "linkedin-share"))
    assert share.netloc == "www.linkedin.com" and parse_qs(share.query) == {"url": [url]}
    assert "Dodaj do profilu LinkedIn" in polish
    # a pasted document has no public link to point LinkedIn at
    assert 'data-testid="linkedin"' not in pasted


async def test_no_linkedin_links_unless_the_verdict_is_valid(world: World) -> None:
    tampered = copy.deepcopy(world.credential(8102))
    tampered["credentialSubject"]["achievement"]["name"] = "Doctor of Everything"
    shared, polish, _, _ = await pages(world, tampered)
    assert 'data-verdict="invalid"' in shared
    assert 'data-testid="linkedin"' not in shared and "linkedin.com" not in shared
    assert "linkedin.com" not in polish
