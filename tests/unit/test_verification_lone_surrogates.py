"""A lone surrogate in a credential (``"\\ud800"``: valid JSON escaping, not Unicode text) is the FORMAT check's
named refusal, at the pipeline and through the gateway over a socket. It used to reach the signature check, where
hashing the canonical form raised UnicodeEncodeError: both proof rows ``unknown`` INTERNAL_ERROR, a traceback in
the log per request, and the verdict "undetermined" for a document that is simply malformed."""

from __future__ import annotations

import copy
import json
import logging
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
