"""The pasted-document page (``POST /view``) with hostile text: an error page or a report, never a 500."""

from __future__ import annotations

import base64
import json
import threading

import httpx
import pikepdf
import pytest

from microcred.pdf import embedded
from services.verifier.api import routes
from services.verifier.api.edge import GatewayApp
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.unit.test_pdf_embedded import _deflated_zeros, _with_stream
from tests.verifier_support import Limits, RunningServer, World


def _gateway() -> tuple[World, GatewayApp]:
    world = World()
    world.publish()
    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(world.ports())
    return world, app


async def test_hostile_pasted_text_gets_a_page_not_a_server_error() -> None:
    world, app = _gateway()
    credential = world.credential()
    lone = json.dumps(credential).replace(json.dumps(credential["name"]), '"x\\ud800"', 1)
    async with RunningServer(app, proxy_headers=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        # nested deeper than the parser's stack: json.loads raised RecursionError, which is not a ValueError
        deep = await http.post("/view", data={"document": "[" * 30000 + "]" * 30000})
        assert deep.status_code == 422 and deep.headers["content-type"].startswith("text/html"), deep.status_code
        surrogate = await http.post("/view", data={"document": lone})
        assert surrogate.status_code == 200 and "text/html" in surrogate.headers["content-type"]
        assert 'data-verdict="invalid"' in surrogate.text and "lone surrogate" in surrogate.text


async def test_pdf_upload_with_stacked_filters_is_refused_off_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A doubled /FlateDecode on the embedded file (a decompression bomb) gets the unreadable-PDF page, and the
    PDF is parsed in a worker thread, not on the event loop."""
    pdf = _with_stream(_deflated_zeros(32 * 1024 * 1024, 2), [pikepdf.Name.FlateDecode] * 2)
    threads: list[str] = []

    def extract(data: bytes) -> list[tuple[str, bytes]]:
        threads.append(threading.current_thread().name)
        return embedded.extract_embedded_credentials(data)

    monkeypatch.setattr(routes, "extract_embedded_credentials", extract)
    _, app = _gateway()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
        page = await http.post("/view", data={"document": "", "pdf": base64.b64encode(pdf).decode()})
    assert page.status_code == 422 and "not a readable PDF" in page.text
    assert threads and threads[0] != threading.main_thread().name


async def test_a_form_with_more_fields_than_the_page_sends_is_a_400_problem() -> None:
    world, app = _gateway()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
        flood = await http.post("/view", content=b"&".join([b"a=1"] * 50_000),
                                headers={"content-type": "application/x-www-form-urlencoded"})
        assert flood.status_code == 400 and flood.headers["content-type"] == "application/problem+json"
        assert flood.json()["field"] == "body" and flood.json()["type"].endswith("/too-many-fields")
        assert "more than 2 fields (document, pdf)" in flood.json()["detail"]
        three = await http.post("/view", data={"document": "{}", "pdf": "", "x": "y"})
        assert three.status_code == 400
        page = await http.post("/view", data={"document": json.dumps(world.credential()), "pdf": ""})
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
