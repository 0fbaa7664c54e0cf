"""The pasted-document page (``POST /view``) with hostile text: an error page or a report, never a 500."""

from __future__ import annotations

import json

import httpx

from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.verifier_support import Limits, RunningServer, World


async def test_hostile_pasted_text_gets_a_page_not_a_server_error() -> None:
    world = World()
    world.publish()
    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(world.ports())
    credential = world.credential()
    lone = json.dumps(credential).replace(json.dumps(credential["name"]), '"x\\ud800"', 1)
    async with RunningServer(app, proxy_headers=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        # nested deeper than the parser's stack: json.loads raised RecursionError, which is not a ValueError
        deep = await http.post("/view", data={"document": "[" * 30000 + "]" * 30000})
        assert deep.status_code == 422 and deep.headers["content-type"].startswith("text/html"), deep.status_code
        surrogate = await http.post("/view", data={"document": lone})
        assert surrogate.status_code == 200 and "text/html" in surrogate.headers["content-type"]
        assert 'data-verdict="invalid"' in surrogate.text and "lone surrogate" in surrogate.text
