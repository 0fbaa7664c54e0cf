"""NaN and ±Infinity are refused with 400 problem+json naming the field, on the fast path and the FastAPI route.

orjson writes non-finite numbers as ``null``, so a credential carrying NaN would share its result-cache digest
with the same credential carrying ``null``: such bodies must never reach verification.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from tests.unit.test_verification_gateway import Limits, client, make_app
from tests.verifier_support import World


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))
    return world


def _body(world: World, literal: str) -> bytes:
    credential = world.credential()
    credential["credentialSubject"]["score"] = "__HERE__"
    return json.dumps(credential).replace('"__HERE__"', literal).encode()


@pytest.mark.parametrize("fast_path", [True, False])
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
async def test_non_finite_numbers_are_400_naming_the_field(world: World, literal: str, fast_path: bool) -> None:
    from services.verifier.adapters.sources import WalletClient
    from services.verifier.api.routes import create_gateway_app
    from services.verifier.application import Gateway
    from tests.unit.test_verification_gateway import fake_wallet

    app = create_gateway_app(Limits(), fast_path=fast_path)
    app.state.gateway = Gateway(world.ports(), WalletClient("http://wallet.test", fake_wallet({})))
    async with client(app) as http:
        response = await http.post("/v1/verify", content=_body(world, literal),
                                   headers={"content-type": "application/json"})
        wrapped = await http.post("/v1/verify", content=b'{"credential": {"@context": [], "n": [1, %s]}}'
                                  % literal.encode(), headers={"content-type": "application/json"})
        control = await http.post("/v1/verify", content=_body(world, "null"),
                                  headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["field"] == "credentialSubject.score" and problem["type"].endswith("/non-finite-number")
    assert wrapped.status_code == 400 and wrapped.json()["field"] == "credential.n.1"
    assert control.status_code == 200  # null itself is an ordinary JSON value


async def test_the_paste_form_refuses_non_finite_numbers(world: World) -> None:
    async with client(make_app(world)) as http:
        view = await http.post("/view", content=urlencode({"document": _body(world, "NaN").decode()}),
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert view.status_code == 422 and 'data-verdict' not in view.text
