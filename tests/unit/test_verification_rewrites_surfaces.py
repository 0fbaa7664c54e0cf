"""The two rewrites of issue 14 through every place a verdict is formed: the gateway over a socket (fast path and
FastAPI route), ``mcred verify`` and the wallet's import (pipeline and Data Integrity adapters, and its
presentation check).

* a revoked credential whose ``credentialStatus`` key is written as the term's full IRI;
* an expired credential whose ``validUntil`` is written under its IRI as an expanded value object.

Both keep the signed data (same canonical N-Quads); each must still not verify, refused as NOT_COMPACTED.
The issuer is a did:key (resolvable offline, so the CLI can judge the original as ``invalid``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from microcred.cli.main import app as cli
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from services.wallet.adapters.importer import DataIntegrityVerifier, PipelineVerifier
from services.wallet.domain.presentations import sign_presentation, verify_presentation_binding
from tests.unit.test_verification_gateway import Limits
from tests.unit.test_verification_rewrites import credential_status_as_iri, valid_until_as_value_object
from tests.verifier_support import RunningServer, World

KEY = Ed25519PrivateKey.from_private_bytes(b"\x0b" * 32)
DID = did_key_from_public_key(KEY.public_key())
HOLDER = Ed25519PrivateKey.from_private_bytes(b"\x0c" * 32)
HOLDER_DID = did_key_from_public_key(HOLDER.public_key())
NOW = datetime.now(UTC).replace(microsecond=0)


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.revocation.set(21)
    world.publish(NOW)
    return world


def _credential(world: World, index: int, **fields: Any) -> dict[str, Any]:
    doc = world.credential(index)
    doc.pop("proof")
    doc["issuer"]["id"] = DID
    doc["credentialSubject"]["id"] = HOLDER_DID
    doc.update(fields)
    return sign_eddsa_rdfc_2022(doc, KEY, verification_method_id(DID), created=_stamp(NOW - timedelta(days=2)))


@pytest.fixture(scope="module")
def cases(world: World) -> dict[str, tuple[dict[str, Any], dict[str, Any], str]]:
    """name -> (original, rewritten, the original's failing reason)."""
    revoked = _credential(world, 21)
    expired = _credential(world, 22, validFrom=_stamp(NOW - timedelta(days=9)),
                          validUntil=_stamp(NOW - timedelta(days=1)))
    return {"revoked-status-as-iri": (revoked, credential_status_as_iri(revoked), "REVOKED"),
            "expired-valid-until-as-value-object": (expired, valid_until_as_value_object(expired), "EXPIRED")}


NAMES = ["revoked-status-as-iri", "expired-valid-until-as-value-object"]


def _reasons(report: dict[str, Any]) -> set[str]:
    return {c["reason_code"] for c in report["checks"]}


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "fastapi-route"])
async def gateway(request: pytest.FixtureRequest, world: World) -> AsyncIterator[str]:
    app = create_gateway_app(Limits(), fast_path=request.param)
    app.state.gateway = Gateway(world.ports())
    async with RunningServer(app) as server:
        yield server.url


@pytest.mark.parametrize("name", NAMES)
async def test_gateway_over_http(gateway: str, cases: Any, name: str) -> None:
    original, rewritten, reason = cases[name]
    async with httpx.AsyncClient(base_url=gateway) as http:
        before = (await http.post("/v1/verify", json=original)).json()
        after = (await http.post("/v1/verify", json=rewritten)).json()
    assert before["verdict"] == "invalid" and reason in _reasons(before), before
    assert after["verdict"] != "valid", after
    assert after["checks"][0]["reason_code"] == "NOT_COMPACTED"


@pytest.mark.parametrize("name", NAMES)
def test_mcred_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, world: World, cases: Any,
                      name: str) -> None:
    monkeypatch.setenv("MICROCRED_CACHE", str(tmp_path / "cache"))
    original, rewritten, reason = cases[name]
    lists = list(world.status.lists.values())
    results = []
    for i, doc in enumerate((original, rewritten)):
        path = tmp_path / f"{i}.json"
        path.write_text(json.dumps({"credential": doc, "status_lists": lists}))
        run = CliRunner().invoke(cli, ["verify", str(path), "--offline"])
        results.append((run.exit_code, json.loads(run.stdout)))
    (code_before, before), (code_after, after) = results
    assert code_before == 1 and reason in _reasons(before), before
    assert code_after != 0 and after["verdict"] != "valid", after
    assert after["checks"][0]["reason_code"] == "NOT_COMPACTED"


@pytest.mark.parametrize("name", NAMES)
async def test_wallet_import(world: World, cases: Any, name: str) -> None:
    original, rewritten, reason = cases[name]
    pipeline = PipelineVerifier(status=world.status)
    before = await pipeline.verify(original, NOW)
    assert not before.accepted and before.code == reason, before
    for verifier in (pipeline, DataIntegrityVerifier()):
        after = await verifier.verify(rewritten, NOW)
        assert not after.accepted and after.code == "NOT_COMPACTED", (verifier, after)


async def test_wallet_presentation_check_refuses_a_rewritten_presentation(world: World) -> None:
    vp = sign_presentation({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                            "holder": HOLDER_DID, "verifiableCredential": [_credential(world, 23)]},
                           HOLDER, "c-1", "employer.example")
    assert verify_presentation_binding(vp, "c-1", "employer.example").verified is True
    vp[IRI_HOLDER] = vp.pop("holder")
    check = verify_presentation_binding(vp, "c-1", "employer.example")
    assert check.verified is False and check.code == "NOT_COMPACTED"


IRI_HOLDER = "https://www.w3.org/2018/credentials#holder"
