"""An agency's day one with nothing but ``mcred``, one fresh process per command, against running services:
register the agency and an issuer, accredit it, issue a cohort, read a credential, suspend, reinstate and
revoke (one and in bulk), rotate the issuer's key, suspend the accreditation, read the audit trail. Every
command's exit code and ``--json`` answer is checked, and so are the refusals an operator meets.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from microcred import pki
from tests.conftest import Infrastructure
from tests.harness.issuer import IssuerHarness, start_issuer_harness

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issuer"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    harness = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                                         tmp_path_factory.mktemp("cli-journey"), status_block_size=50)
    try:
        yield harness
    finally:
        await harness.close()


def mcred(*args: str) -> tuple[int, str, str]:
    """``mcred ARGS`` in a fresh process: exit code, stdout, stderr."""
    done = subprocess.run([sys.executable, "-m", "microcred.cli.main", *args], capture_output=True, text=True,
                          timeout=120, check=False)
    return done.returncode, done.stdout, done.stderr


async def run(*args: str) -> tuple[int, str, str]:
    """:func:`mcred` off the event loop (the services under test answer on it)."""
    return await asyncio.to_thread(mcred, *args)


async def ok(*args: str) -> Any:
    """``mcred ARGS --json`` that must succeed; its JSON answer."""
    code, out, err = await run(*args, "--json")
    assert code == 0, (args, out, err)
    return json.loads(out)


async def eventually_ok(*args: str, timeout: float = 30.0) -> Any:
    """Like :func:`ok`, retried while the service has not yet seen the credential (it learns of it by Kafka)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        code, out, err = await run(*args, "--json")
        if code == 0:
            return json.loads(out)
        assert "NOT_FOUND" in err and asyncio.get_running_loop().time() < deadline, (args, out, err)
        await asyncio.sleep(0.3)


def certificates(stack: IssuerHarness, root: Path, agency: str, issuer: str) -> dict[str, Path]:
    """Certificate directories of the platform operator, the agency operator and the issuer."""
    dirs = {"platform": root / "platform", "agency": root / "agency", "issuer": root / "issuer"}
    pki.create_client_cert(stack.ca, "platform-operator", pki.ROLE_PLATFORM, pki.ROLE_SERVICE).write(
        dirs["platform"], "platform-operator")
    pki.create_client_cert(stack.ca, f"{agency}-operator", agency, pki.ROLE_AGENCY).write(dirs["agency"], "operator")
    pki.create_client_cert(stack.ca, issuer, agency, pki.ROLE_ISSUER).write(dirs["issuer"], issuer)
    for directory in dirs.values():
        stack.ca.write(directory, "ca")
    return dirs


def results_of(path: str) -> list[dict[str, str]]:
    import csv

    with Path(path).open(newline="") as fh:
        return list(csv.DictReader(fh))


async def test_an_agency_runs_its_day_one_with_mcred_alone(stack: IssuerHarness, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    agency, uni = f"ie-{tag}", f"uni-{tag}"
    certs = certificates(stack, tmp_path, agency, uni)
    assert stack.revocation is not None
    issuer_at = ("--server", stack.target)
    revocation_at = ("--server", stack.revocation.target)
    as_platform, as_agency, as_issuer = (("--tls-dir", str(certs[k])) for k in ("platform", "agency", "issuer"))

    registered = await ok("agency", "register", agency, "--name", "Quality and Qualifications Ireland",
                          "--country", "IE",
                    *issuer_at, *as_platform)
    assert registered["agency_id"] == agency
    code, _, err = await run("agency", "register", agency, "--name", "Again", *issuer_at, *as_platform)
    assert code == 1 and "ALREADY_EXISTS" in err

    issuer = await ok("issuer", "register", uni, "--name", "University A", "--country", "IE",
                "--identifier", "registration=12345", "--pin-cert", str(certs["issuer"] / f"{uni}.crt"),
                *issuer_at, *as_agency)
    assert issuer["did"].startswith("did:web:") and len(issuer["verification_methods"]) == 1
    assert len(issuer["client_certificate_sha256"]) == 1
    code, _, err = await run("issuer", "register", "Bad Id!", "--name", "X", "--country", "IE", *issuer_at, *as_agency)
    assert code == 1 and "INVALID_ARGUMENT" in err and "issuer_id" in err

    accreditation = await ok("accreditation", "grant", uni, "--max-eqf", "7", "--framework", "ESG 2015",
                             "--body", "QQI",
                       "--decision", "QQI/2026/17", "--valid-from", "2026-01-01", *issuer_at, *as_agency)
    assert accreditation["max_eqf_level"] == "EQF_LEVEL_7" and accreditation["accreditation_id"]
    [listed] = await ok("accreditation", "list", uni, *issuer_at, *as_agency)
    assert listed["accreditation_id"] == accreditation["accreditation_id"]
    assert [i["issuer_id"] for i in (await ok("issuer", "list", *issuer_at, *as_agency))] == [uni]
    code, _, err = await run("issuer", "show", uni, *issuer_at, *as_platform)  # the platform may not read issuers
    assert code == 1 and "PERMISSION_DENIED" in err

    cohort = tmp_path / "cohort.csv"
    cohort.write_bytes((FIXTURES / "cohort.csv").read_bytes())
    code, out, err = await run("issue", "--file", str(cohort), "--template", str(FIXTURES / "achievement.yaml"),
                           *issuer_at, *as_issuer, "--quiet", "--json")
    summary = json.loads(out)
    assert code == 1 and (summary["issued"], summary["invalid"]) == (2, 1), (out, err)  # the fixture's row 3
    ids = [line["credential_id"] for line in results_of(summary["results"]) if line["status"] == "issued"]
    got = await ok("credential", "get", ids[0], *issuer_at, *as_issuer)
    assert got["credential"]["credential_id"] == ids[0]
    assert json.loads(got["credential"]["credential_json"])["id"] == ids[0]

    suspended = await eventually_ok("status", "suspend", ids[0], "--reason", "under review", *revocation_at,
                                    *as_issuer)
    assert suspended["suspended"] is True
    assert (await ok("status", "show", ids[0], *revocation_at, *as_issuer))["suspended"] is True
    reinstated = await ok("status", "reinstate", ids[0], "--reason", "review cleared", *revocation_at, *as_issuer)
    assert reinstated.get("suspended", False) is False
    id_file = tmp_path / "ids.txt"
    id_file.write_text("# fraud case 2026-17\n" + "\n".join(ids) + "\n\n")
    await eventually_ok("status", "show", ids[1], *revocation_at, *as_issuer)
    bulk = await ok("status", "revoke", "--file", str(id_file), "--reason", "fraudulent assessment", *revocation_at,
              *as_agency)
    assert (bulk["changed"], bulk["failed"]) == (2, 0)
    assert (await ok("status", "show", ids[1], *revocation_at, *as_issuer))["revoked"] is True
    code, out, err = await run("status", "revoke", f"urn:uuid:{uuid.uuid4()}", "--reason", "x", *revocation_at,
                           *as_issuer)
    assert code == 1 and "NOT_FOUND" in err

    rotated = await ok("issuer", "rotate-key", uni, *issuer_at, *as_agency)
    assert len(rotated["verification_methods"]) == 2 and "retired_at" in rotated["verification_methods"][0]
    withdrawn = await ok("accreditation", "suspend", uni, accreditation["accreditation_id"], "--reason", "QA review",
                   *issuer_at, *as_agency)
    assert withdrawn["status"] == "ACCREDITATION_STATUS_SUSPENDED"

    code, out, err = await run("audit", "list", "--agency", agency, *issuer_at, *as_agency, "--json")
    assert code == 0, err
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    assert actions == ["AgencyRegistered", "IssuerRegistered", "IssuerAccredited", "CredentialIssued",
                       "CredentialIssued", "CredentialSuspended", "CredentialReinstated", "CredentialRevoked",
                       "CredentialRevoked", "IssuerKeyRotated", "AccreditationSuspended"], actions
