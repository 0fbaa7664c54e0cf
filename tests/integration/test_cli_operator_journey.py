"""An agency's day one with nothing but ``mcred``, one fresh process per command, against running services:
register and list agencies, register an issuer, accredit it, issue a cohort, read a credential, suspend,
reinstate and revoke (one and in bulk), correct a credential (the learner's wallet, read through its HTTP API,
shows the replacement), list the issuer's credentials, rotate and retire the issuer's keys, suspend the
accreditation, read the audit trail. Every command's exit code and ``--json`` answer is checked, and so are the
refusals an operator meets.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from microcred import pki
from tests.conftest import Infrastructure
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.harness.waiting import eventually
from tests.harness.wallet.harness import WalletUnderTest, running_wallet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issuer"


@pytest.fixture(scope="module")
async def wallet(infrastructure: Infrastructure, stack: IssuerHarness) -> AsyncIterator[WalletUnderTest]:
    """The learners' wallet on the platform's own topics (no prefix), where the services under test publish; its
    data directory sits next to the issuer's, so both use the run's privacy key (it opens what the issuer sealed)."""
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], stack.work_dir / "wallet",
                              wallet_topic_prefix="") as w:
        yield w


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


async def wallet_credentials(wallet: WalletUnderTest, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The learner's credentials as the wallet's HTTP API lists them."""
    response = await wallet.http.get("/v1/credentials", headers=headers)
    assert response.status_code == 200, response.text
    credentials: list[dict[str, Any]] = response.json()["credentials"]
    return credentials


async def held(wallet: WalletUnderTest, headers: dict[str, str], credential_id: str) -> bool:
    """True once the learner's wallet lists ``credential_id``."""
    return any(c["credential_id"] == credential_id for c in await wallet_credentials(wallet, headers))


def results_of(path: str) -> list[dict[str, str]]:
    import csv

    with Path(path).open(newline="") as fh:
        return list(csv.DictReader(fh))


async def test_an_agency_runs_its_day_one_with_mcred_alone(stack: IssuerHarness, wallet: WalletUnderTest,
                                                          tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    agency, uni = f"ie-{tag}", f"uni-{tag}"
    certs = certificates(stack, tmp_path, agency, uni)
    assert stack.revocation is not None
    issuer_at = ("--server", stack.target)
    revocation_at = ("--server", stack.revocation.target)
    as_platform, as_agency, as_issuer = (("--tls-dir", str(certs[k])) for k in ("platform", "agency", "issuer"))
    stranger = tmp_path / "stranger"  # another issuer of the same agency
    pki.create_client_cert(stack.ca, f"uni-b-{tag}", agency, pki.ROLE_ISSUER).write(stranger, "uni-b")
    stack.ca.write(stranger, "ca")
    as_stranger = ("--tls-dir", str(stranger))

    registered = await ok("agency", "register", agency, "--name", "Quality and Qualifications Ireland",
                          "--country", "IE",
                    *issuer_at, *as_platform)
    assert registered["agency_id"] == agency
    code, _, err = await run("agency", "register", agency, "--name", "Again", *issuer_at, *as_platform)
    assert code == 1 and "ALREADY_EXISTS" in err
    agencies = await ok("agency", "list", *issuer_at, *as_platform)
    assert [a for a in agencies if a["agency_id"] == agency] == [registered]
    code, _, err = await run("agency", "list", *issuer_at, *as_agency)  # the platform operator's list only
    assert code == 1 and "PERMISSION_DENIED" in err

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

    # Correct: one more learner is issued a credential with a misspelt name; the issuer corrects it.
    learner_email = f"cy-{tag}@example.org"
    wrong = tmp_path / "late.csv"
    wrong.write_text("key,full_name,email,did,date_of_birth,grade,grade_status\n"
                     f"s-0004,Cy Cygns,{learner_email},,2001-03-04,Pass,passed\n")
    late_from = datetime.now(UTC)
    code, out, err = await run("issue", "--file", str(wrong), "--template", str(FIXTURES / "achievement.yaml"),
                               *issuer_at, *as_issuer, "--quiet", "--json")
    assert code == 0 and json.loads(out)["issued"] == 1, (out, err)
    [old] = [line["credential_id"] for line in results_of(json.loads(out)["results"])]
    learner = wallet.auth(f"cy-{tag}", learner_email)
    await eventually(lambda: held(wallet, learner, old), 30, "the wallet never showed the credential")
    await eventually_ok("status", "show", old, *revocation_at, *as_issuer)  # the revocation service knows it
    fix = ("--set", "learner.full_name=Cy Cygnus", "--reason", "given name misspelt")
    corrected = await ok("credential", "correct", old, *fix, *issuer_at, *as_issuer)
    new = corrected["credential"]["credential_id"]
    assert new != old and corrected["superseded_credential_id"] == old and corrected["credential"]["replaces"] == old
    assert not corrected.get("already_corrected", False)
    signed = corrected["credential"]["credential_json"]
    assert "Cy Cygnus" in signed and "Cy Cygns" not in signed and json.loads(signed)["id"] == new
    again = await ok("credential", "correct", old, *fix, *issuer_at, *as_issuer)  # a retry issues nothing
    assert again["credential"]["credential_id"] == new and again["already_corrected"] is True
    code, _, err = await run("credential", "correct", old, "--set", "learner.full_name=Cy Cygnet", "--reason", "x",
                             *issuer_at, *as_issuer)
    assert code == 1 and "FAILED_PRECONDITION" in err and "already corrected" in err and new in err
    assert (await ok("status", "show", old, *revocation_at, *as_issuer))["revoked"] is True
    code, _, err = await run("credential", "correct", ids[1], *fix, *issuer_at, *as_issuer)
    assert code == 1 and "FAILED_PRECONDITION" in err and "revoked" in err
    assert (await eventually_ok("status", "show", new, *revocation_at, *as_issuer)).get("revoked", False) is False
    elements = tmp_path / "corrected.json"  # the whole corrected credential, as `credential get --json` shows it
    elements.write_text(json.dumps((await ok("credential", "get", new, *issuer_at, *as_issuer))["micro_credential"]))
    code, _, err = await run("credential", "correct", new, "--file", str(elements), "--reason", "x", *issuer_at,
                             *as_stranger)  # another issuer's credential: refused, whatever the content
    assert code == 1 and "PERMISSION_DENIED" in err and "only its own credentials" in err
    code, _, err = await run("credential", "correct", new, "--set", "learner.full_name=X", "--reason", "",
                             *issuer_at, *as_issuer)
    assert code == 1 and "INVALID_ARGUMENT" in err and "reason" in err
    code, _, err = await run("credential", "correct", new, "--set", "learner.nickname=X", "--reason", "x",
                             *issuer_at, *as_issuer)
    assert code == 2 and "does not fit the model" in err

    # The learner's wallet (its HTTP API) shows the old credential revoked and pointing to the replacement.
    async def replaced() -> bool:
        shown = {c["credential_id"]: c for c in await wallet_credentials(wallet, learner)}
        return shown.get(old, {}).get("replaced_by") == new and new in shown
    await eventually(replaced, 30, "the wallet never linked the replacement")
    shown = {c["credential_id"]: c for c in await wallet_credentials(wallet, learner)}
    assert (shown[old]["status"], shown[old]["status_reason"]) == ("REVOKED", "superseded")
    assert (shown[new]["status"], shown[new]["replaces"]) == ("ACTIVE", old)

    listed = await ok("credential", "list", *issuer_at, *as_issuer)
    assert [c["credential_id"] for c in listed["credentials"]][:2] == [new, old] and not listed["next_page_token"]
    assert set(ids) <= {c["credential_id"] for c in listed["credentials"]} and len(listed["credentials"]) == 4
    assert listed["credentials"][0]["replaces"] == old
    assert listed["credentials"][0]["title"] == "Digital micro-credential creation"
    late = await ok("credential", "list", "--since", late_from.isoformat(), *issuer_at, *as_issuer)
    assert [c["credential_id"] for c in late["credentials"]] == [new, old]
    first = await ok("credential", "list", "--limit", "1", *issuer_at, *as_issuer)
    assert [c["credential_id"] for c in first["credentials"]] == [new] and first["next_page_token"]
    rest = await ok("credential", "list", "--page-token", first["next_page_token"], *issuer_at, *as_issuer)
    assert [c["credential_id"] for c in rest["credentials"]] == [c["credential_id"] for c in listed["credentials"]][1:]

    rotated = await ok("issuer", "rotate-key", uni, *issuer_at, *as_agency)
    assert len(rotated["verification_methods"]) == 2 and "retired_at" in rotated["verification_methods"][0]
    code, _, err = await run("issuer", "retire-key", uni, "key-2", *issuer_at, *as_agency)
    assert code == 1 and "FAILED_PRECONDITION" in err and "last current key" in err
    grace = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    rotated = await ok("issuer", "rotate-key", uni, "--retire-at", grace, *issuer_at, *as_agency)
    assert [vm.get("retired_at") is None for vm in rotated["verification_methods"]] == [False, False, True]
    retired = await ok("issuer", "retire-key", uni, "key-2", *issuer_at, *as_agency)  # ends the grace period
    [key2] = [vm for vm in retired["verification_methods"] if vm["id"].endswith("#key-2")]
    assert datetime.fromisoformat(key2["retired_at"]) < datetime.now(UTC) + timedelta(minutes=1)
    assert "retired_at" not in retired["verification_methods"][2]
    code, _, err = await run("issuer", "retire-key", uni, "key-2", *issuer_at, *as_agency)
    assert code == 1 and "already retired" in err
    withdrawn = await ok("accreditation", "suspend", uni, accreditation["accreditation_id"], "--reason", "QA review",
                   *issuer_at, *as_agency)
    assert withdrawn["status"] == "ACCREDITATION_STATUS_SUSPENDED"

    code, out, err = await run("audit", "list", "--agency", agency, *issuer_at, *as_agency, "--json")
    assert code == 0, err
    entries = [json.loads(line) for line in out.splitlines()]
    actions = [entry["action"] for entry in entries]
    assert actions == ["AgencyRegistered", "IssuerRegistered", "IssuerAccredited", "CredentialIssued",
                       "CredentialIssued", "CredentialSuspended", "CredentialReinstated", "CredentialRevoked",
                       "CredentialRevoked", "CredentialIssued", "CredentialIssued", "CredentialRevoked",
                       "IssuerKeyRotated", "IssuerKeyRotated", "IssuerKeyRotated", "AccreditationSuspended"], actions
    # The correction's link, both ways: the replacement names the old credential, its revocation the replacement.
    issue_of_new, revocation_of_old = entries[10], entries[11]
    assert (issue_of_new["subject"], issue_of_new["replaces"], issue_of_new["reason"]) == (
        new, old, "given name misspelt")
    assert (revocation_of_old["subject"], revocation_of_old["superseded_by"], revocation_of_old["reason"]) == (
        old, new, "superseded")
    assert revocation_of_old["actor"] == issue_of_new["actor"] == f"issuer:{uni}@{agency}"
