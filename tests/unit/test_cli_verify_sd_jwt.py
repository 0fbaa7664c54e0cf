"""``mcred verify`` on an SD-JWT VC file (compact form): with a trust bundle (registry and Status List Token from
the bundle, the agency CA from ``--x509-anchors``), offline without one, and through a gateway."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.status.token_status_list import INVALID
from microcred.verification.trust_bundle import FetchedToken, build_bundle
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.harness.sd_jwt import LIST_URI, NOW, SdWorld, make_world
from tests.verifier_support import Limits, RunningServer


async def _bundle(sd: SdWorld) -> dict[str, Any]:
    registry = sd.world.registry
    return build_bundle(created_at=NOW, registry_fetched_at=NOW, agencies=await registry.list_agencies(),
                        issuers=await registry.list_issuers(), status_lists=[],
                        token_status_lists=[FetchedToken(LIST_URI, NOW, sd.tokens.tokens[LIST_URI])])


def _files(sd: SdWorld, tmp_path: Path, *, bundle: bool = True) -> tuple[Path, Path, Path]:
    credential, anchors, bundle_file = tmp_path / "vc.sd-jwt", tmp_path / "agency-ca.pem", tmp_path / "trust.json"
    credential.write_text(sd.issue().compact + "\n")
    anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in sd.anchors))
    if bundle:
        bundle_file.write_text(json.dumps(asyncio.run(_bundle(sd))))
    return credential, anchors, bundle_file


def _checks(output: str) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["status"], c["reason_code"]) for c in json.loads(output)["checks"]}


def test_with_a_trust_bundle_and_the_agency_ca_an_sd_jwt_vc_is_valid_offline(tmp_path: Path) -> None:
    sd = make_world()
    credential, anchors, bundle = _files(sd, tmp_path)
    at = (NOW + timedelta(minutes=1)).isoformat()
    done = CliRunner().invoke(app, ["verify", "--trust-bundle", str(bundle), "--x509-anchors", str(anchors),
                                    "--at", at, str(credential)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["verdict"] == "valid"
    # without the agency CA the issuer's certificate cannot be checked: undetermined, never valid
    done = CliRunner().invoke(app, ["verify", "--trust-bundle", str(bundle), "--at", at, str(credential)])
    assert done.exit_code == 3 and _checks(done.stdout)["issuer_identity"][0] == "unknown"
    # a bundle taken after the revocation says so
    sd.statuses.set(17, INVALID)
    sd.publish()
    bundle.write_text(json.dumps(asyncio.run(_bundle(sd))))
    done = CliRunner().invoke(app, ["verify", "--trust-bundle", str(bundle), "--x509-anchors", str(anchors),
                                    "--at", at, str(credential)])
    assert done.exit_code == 1 and _checks(done.stdout)["revocation"] == ("invalid", "REVOKED")
    # past the token's own exp (an hour) its status is unknown
    late = (NOW + timedelta(hours=2)).isoformat()
    done = CliRunner().invoke(app, ["verify", "--trust-bundle", str(bundle), "--x509-anchors", str(anchors),
                                    "--at", late, str(credential)])
    assert done.exit_code == 3 and _checks(done.stdout)["revocation"][0] == "unknown"


def test_offline_without_a_bundle_what_needs_the_platform_is_unknown(tmp_path: Path) -> None:
    credential, anchors, _ = _files(make_world(), tmp_path)
    done = CliRunner().invoke(app, ["verify", "--offline", "--x509-anchors", str(anchors), str(credential)])
    assert done.exit_code == 3, done.output
    checks = _checks(done.stdout)
    assert checks["signature"] == ("valid", "SIGNATURE_VALID") and checks["disclosures"][0] == "valid"
    assert checks["revocation"] == ("unknown", "STATUS_RETRIEVAL_ERROR")
    assert checks["accreditation"] == ("unknown", "REGISTRY_UNAVAILABLE")


async def test_through_a_gateway_the_file_is_sent_as_an_sd_jwt(tmp_path: Path) -> None:
    sd = make_world()
    credential, _, _ = _files(sd, tmp_path, bundle=False)
    gateway = create_gateway_app(Limits())
    gateway.state.gateway = Gateway(sd.ports())
    async with RunningServer(gateway) as server:
        done = await asyncio.to_thread(CliRunner().invoke, app, ["verify", "--gateway", server.url, str(credential)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["micro_credential"] is True
