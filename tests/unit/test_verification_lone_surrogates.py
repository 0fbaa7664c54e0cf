"""A lone surrogate in a credential (``"\\ud800"``: valid JSON escaping, not Unicode text) is the FORMAT check's
named refusal, at the pipeline and through the gateway over a socket. It used to reach the signature check, where
hashing the canonical form raised UnicodeEncodeError: both proof rows ``unknown`` INTERNAL_ERROR, a traceback in
the log per request, and the verdict "undetermined" for a document that is simply malformed."""

from __future__ import annotations

import copy
import json
import logging
import tracemalloc
from typing import Any

import httpx
import pytest

from microcred.credential.jsontext import lone_surrogate_path
from microcred.verification import verify
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.verifier_support import NOW, Limits, RunningServer, World

WORLD = World()
WORLD.publish()
LONE = "x\ud800y"


def _checks(report: Any) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["status"], c["reason_code"]) for c in report["checks"]}


@pytest.mark.parametrize(("where", "path"), [
    (("name",), "name"), (("credentialSubject", "achievement", "name"), "credentialSubject.achievement.name"),
    (("issuer", "name"), "issuer.name"), (("proof", "proofValue"), "proof.proofValue")])
async def test_a_lone_surrogate_is_refused_by_the_format_check(where: tuple[str, ...], path: str,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    document = copy.deepcopy(WORLD.credential())
    node = document
    for name in where[:-1]:
        node = node[name]
    node[where[-1]] = LONE
    with caplog.at_level(logging.WARNING):
        report = (await verify(document, WORLD.ports(), NOW)).to_dict()
    checks = _checks(report)
    assert checks["format"] == ("invalid", "INVALID_FIELD") and report["verdict"] == "invalid"
    assert report["checks"][0]["details"]["field"] == path
    assert checks["signature"] == ("unknown", "NOT_CHECKED")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # nothing failed: nothing logged


def test_the_path_names_member_names_and_array_items() -> None:
    assert lone_surrogate_path({"a": [1, {"b": "ok"}, {"c": ["é", LONE]}]}) == "a[2].c[1]"
    assert lone_surrogate_path({"a": {LONE: 1}}) == "a.'x\\ud800y'"
    assert lone_surrogate_path({"a": [2**70, "é 😀"]}) is None  # orjson refuses the integer: walked, and clean
    assert lone_surrogate_path(WORLD.credential()) is None


async def test_through_the_gateway_a_lone_surrogate_is_a_report_not_an_error() -> None:
    gateway = create_gateway_app(Limits())
    gateway.state.gateway = Gateway(WORLD.ports())
    credential = WORLD.credential()
    body = json.dumps({"credential": credential}).replace(json.dumps(credential["name"]), '"x\\ud800y"', 1)
    assert "\\ud800" in body
    async with RunningServer(gateway) as server, httpx.AsyncClient(timeout=60) as http:
        response = await http.post(server.url + "/v1/verify", content=body.encode(),
                                   headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert _checks(report)["format"] == ("invalid", "INVALID_FIELD") and report["verdict"] == "invalid"
    assert report["checks"][0]["details"]["field"] == "name"


def _path_bomb(tail: str) -> Any:
    """260 levels of 200-character names over a list of 5,000 numbers (about 60 KB of JSON): a text path kept
    per node asked for gigabytes."""
    return json.loads('{"a":' + '{"%s":' % ("k" * 200) * 260 + "[" + ",".join(["1"] * 5000) + tail + "]"
                      + "}" * 260 + "}")


def test_the_walks_cost_memory_linear_in_the_input() -> None:
    from services.verifier.api.problems import non_finite_field

    # an integer beyond 64 bits makes orjson refuse the document, so it is walked
    clean, lone, infinite = _path_bomb(",1" + "0" * 30), _path_bomb(',"\\ud800"'), _path_bomb(",1e999")
    tracemalloc.start()
    try:
        assert lone_surrogate_path(clean) is None
        assert (lone_surrogate_path(lone) or "").endswith("k[5000]")
        assert non_finite_field(clean) is None
        assert (non_finite_field(infinite) or "").endswith("k.5000")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, peak  # the paths of the hits (52 KB each) and the walk's links, not gigabytes
