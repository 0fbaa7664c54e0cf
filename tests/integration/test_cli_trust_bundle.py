"""``mcred verify --trust-bundle`` offline against the running platform, a fresh ``mcred`` process per command:
issue two credentials, ``mcred trust export`` (sealed with the agency operator's certificate), revoke one
(``mcred status revoke``) and export again, stop the platform, then verify in processes whose every network
connection is refused: valid with the first bundle (its seal checked against the platform CA), undetermined
(exit 3, "trust bundle too old") once the verification time is past the bundle's status limit, invalid (revoked)
with the second bundle.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.status.check import check_status, parse_status_entries
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import start_issuer_harness
from tests.harness.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# Runs mcred with every way out of the process refused: a verification that tried the network would fail.
NO_NETWORK = """
import socket
def _refuse(*args, **kwargs):
    raise OSError("network disabled: mcred must verify offline")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.socket.sendto = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
from microcred.cli.main import app
app(prog_name="mcred")
"""


def mcred(*args: str, offline: bool = False) -> tuple[int, str, str]:
    """``mcred ARGS`` in a fresh process (``offline``: with the network refused): exit code, stdout, stderr."""
    command = [sys.executable, "-c", NO_NETWORK] if offline else [sys.executable, "-m", "microcred.cli.main"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, done.stdout, done.stderr


async def run(*args: str) -> tuple[int, str, str]:
    """:func:`mcred` off the event loop (the services under test answer on it)."""
    return await asyncio.to_thread(mcred, *args)


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["id"] == check_id)
    return found


def offline_verify(*args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = mcred("verify", *args, offline=True)
    assert out.strip(), (code, err)
    report: dict[str, Any] = json.loads(out)
    return code, report, err


async def test_verify_offline_with_a_trust_bundle(infrastructure: Infrastructure, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    agency, uni = f"tb-ag-{tag}", f"tb-uni-{tag}"
    # status lists signed for an hour (the default five minutes would expire before a slow machine verifies)
    stack = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path / "platform",
                                       status_block_size=20,
                                       revocation_settings={"status_list_validity_seconds": 3600})
    stopped = False
    try:
        assert stack.revocation is not None
        await stack.onboard(agency, {uni: 7})
        as_agency, as_issuer = tmp_path / "agency", tmp_path / "issuer"
        pki.create_client_cert(stack.ca, f"{agency}-operator", agency, pki.ROLE_AGENCY).write(as_agency, "operator")
        pki.create_client_cert(stack.ca, uni, agency, pki.ROLE_ISSUER).write(as_issuer, uni)
        for directory in (as_agency, as_issuer):
            stack.ca.write(directory, "ca")
        files = {}
        for name in ("kept", "revoked"):
            reply = await stack.issuer_stub(uni, agency).IssueCredential(issuer_pb2.IssueCredentialRequest(
                idempotency_key=f"{name}-{tag}", credential=valid_micro_credential()))
            files[name] = tmp_path / f"{name}.json"
            files[name].write_text(reply.credential.credential_json)
        revoked = json.loads(files["revoked"].read_text())
        export = ("trust", "export", "--server", stack.target, "--status-url", stack.revocation.app.base_url,
                  "--tls-dir", str(as_agency), "--json")

        first = tmp_path / "trust-1.json"
        code, out, err = await run(*export, "--out", str(first), "--status-max-age", "5m")
        assert code == 0, (out, err)
        summary = json.loads(out)
        assert summary["issuers"] == [uni] and summary["status_lists"] >= 2 and summary["token_status_lists"] >= 1
        assert summary["status_signers"] == [stack.revocation.app.signer.did]  # type: ignore[union-attr]
        assert summary["status_max_age_seconds"] == 300 and summary["registry_max_age_seconds"] == 86_400
        assert summary["sealed_by"] == f"agency:{agency}-operator@{agency}"

        revoke = ("status", "revoke", revoked["id"], "--reason", "issued in error", "--server",
                  stack.revocation.target, "--tls-dir", str(as_issuer), "--json")

        async def revoke_once() -> tuple[int, str, str]:
            return await run(*revoke)

        code, out, err = await eventually(revoke_once, 30, lambda r: f"revoke: {r}", until=lambda r: r[0] == 0,
                                          interval=0.3)
        [entry] = [e for e in parse_status_entries(revoked) if e.purpose == "revocation"]

        async def list_shows_revocation() -> bool:
            assert stack.revocation is not None
            listed = await stack.revocation.fetch_list(entry.list_credential)
            return not check_status(entry, listed, datetime.now(UTC), proofs_verified=True).valid

        await eventually(list_shows_revocation, 30, "the published list never showed the revocation")
        second = tmp_path / "trust-2.json"
        code, out, err = await run(*export, "--out", str(second))
        assert code == 0, (out, err)
    finally:
        await stack.close()
        stopped = True
    assert stopped

    # The guard works: with the network refused, even a gateway one could reach is not.
    code, _, err = await asyncio.to_thread(mcred, "verify", "--gateway", "http://127.0.0.1:9", str(files["kept"]),
                                           offline=True)
    assert code == 3 and "network disabled" in err, err

    code, report, err = await asyncio.to_thread(offline_verify, "--trust-bundle", str(first), "--trust-ca",
                                                str(as_agency / "ca.crt"), str(files["kept"]))
    assert code == 0 and report["verdict"] == "valid", (err, json.dumps(report)[:3000])
    assert report["trust_bundle"]["seal"]["checked"] is True
    assert report["trust_bundle"]["seal"]["sealed_by"] == f"agency:{agency}-operator@{agency}"
    assert {c["status"] for c in report["checks"]} == {"valid"}
    assert check(report, "accreditation")["reason_code"] == "ACCREDITED"
    fresh = report["trust_bundle"]
    assert fresh["registry"]["usable"] and fresh["registry"]["limit_seconds"] == 86_400
    assert len(fresh["status_lists"]) == 2 and all(u["usable"] and u["limit_seconds"] == 300
                                                   for u in fresh["status_lists"])

    later = (datetime.fromisoformat(fresh["created_at"]) + timedelta(minutes=10)).isoformat()
    code, report, err = await asyncio.to_thread(offline_verify, "--trust-bundle", str(first), "--at", later,
                                                str(files["kept"]))
    assert code == 3 and report["verdict"] == "undetermined", err
    for check_id in ("revocation", "suspension"):
        result = check(report, check_id)
        assert result["status"] == "unknown" and "trust bundle too old (age 10m" in result["message"], result
        assert "> limit 5m00s)" in result["message"]
    assert check(report, "signature")["status"] == "valid"  # the registry snapshot is usable for 24 h

    code, report, err = await asyncio.to_thread(offline_verify, "--trust-bundle", str(second), str(files["revoked"]))
    assert code == 1 and report["verdict"] == "invalid", err
    assert check(report, "revocation")["reason_code"] == "REVOKED"
    assert check(report, "signature")["status"] == "valid"

    tampered = json.loads(second.read_text())
    tampered["status_lists"] = [e for e in tampered["status_lists"] if e["url"] != entry.list_credential]
    forged = tmp_path / "trust-forged.json"
    forged.write_text(json.dumps(tampered))
    code, out, err = await asyncio.to_thread(mcred, "verify", "--trust-bundle", str(forged), str(files["revoked"]),
                                             offline=True)
    assert code == 2 and "DIGEST_MISMATCH" in err and not out.strip()
