"""``mcred issue --csv ... --deliver offer --tx-code`` end to end: the CLI runs as a real subprocess against the
running issuer service (mTLS gRPC, its REST app serving the Credential Issuer endpoints, real Kafka and Redis).
25 rows, 2 of them invalid: 23 offers whose links and tx_codes (from the owner-only results file) the spec-written
test wallet redeems for credentials, and 2 rows with errors naming the field; ListOffers answers the row keys."""

from __future__ import annotations

import asyncio
import csv
import json
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from tests.conftest import Infrastructure
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import Wallet
from tests.integration.test_oid4vci import wallet_http
from tests.integration.test_oid4vci_offer_listing import all_offers

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY, ISSUER = f"agency-cli-offer-{TAG}", f"uni-cli-offer-{TAG}"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issuer"
MCRED = Path(sys.executable).with_name("mcred")
ROWS, BAD_DATE, BAD_EMAIL = 25, 7, 19


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    work = tmp_path_factory.mktemp("cli-offers")
    harness, _ = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY)
    try:
        await harness.onboard(AGENCY, {ISSUER: 7})
        yield harness
    finally:
        await harness.close()


def write_cohort(path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["key", "full_name", "email", "date_of_birth", "grade", "grade_status"])
        for n in range(1, ROWS + 1):
            email = "not-an-email" if n == BAD_EMAIL else f"learner{n}@example.org"
            born = "03/02/2001" if n == BAD_DATE else "2001-02-03"
            writer.writerow([f"student-{n:03d}", f"Learner {n}", email, born, "Pass", "passed"])


async def test_a_cohort_becomes_offers_the_wallet_redeems(stack: IssuerHarness, tmp_path: Path) -> None:
    csv_path, results_path = tmp_path / "cohort.csv", tmp_path / "offers.csv"
    write_cohort(csv_path)
    results_path.write_text("an older file, readable by all\n")
    results_path.chmod(0o644)
    tls_dir = tmp_path / "uni"
    pki.create_client_cert(stack.ca, ISSUER, AGENCY, pki.ROLE_ISSUER).write(tls_dir, ISSUER)
    stack.ca.write(tls_dir, "ca")
    process = await asyncio.create_subprocess_exec(
        str(MCRED), "issue", "--csv", str(csv_path), "--template", str(FIXTURES / "achievement.yaml"),
        "--server", stack.target, "--tls-dir", str(tls_dir), "--quiet", "--json", "--deliver", "offer",
        "--tx-code", "--chunk-size", "10", "--results", str(results_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 1, err.decode()  # two rows were not offered
    summary = json.loads(out)
    assert (summary["rows"], summary["offered"], summary["invalid"], summary["refused"],
            summary["not_processed"]) == (ROWS, ROWS - 2, 2, 0, 0), summary
    assert stat.S_IMODE(results_path.stat().st_mode) == 0o600  # it holds the tx_codes
    with results_path.open(newline="") as fh:
        lines = {int(line["row"]): line for line in csv.DictReader(fh)}
    assert sorted(lines) == list(range(1, ROWS + 1))
    for n, field in ((BAD_DATE, "date_of_birth"), (BAD_EMAIL, "learner.email")):
        line = lines[n]
        assert line["status"] == "invalid" and line["code"] == "INVALID_ARGUMENT" and field in line["errors"], line
        assert not line["offer_id"] and not line["link"] and not line["tx_code"]
    offered = {n: line for n, line in lines.items() if line["status"] == "offered"}
    assert len(offered) == ROWS - 2 and len({line["offer_id"] for line in offered.values()}) == ROWS - 2
    assert all(line["key"].endswith(f"student-{n:03d}") for n, line in lines.items())

    # every link and tx_code from the file gets the wallet its credential
    async with wallet_http(stack) as http:
        for line in offered.values():
            assert line["link"].startswith("openid-credential-offer://") and len(line["tx_code"]) == 6, line
            wallet = Wallet(http)
            await wallet.take_offer(line["link"])
            token = await wallet.token(tx_code=line["tx_code"])
            assert token.status_code == 200, token.text
            received = await wallet.receive(1)
            assert received.status_code == 200, received.text
            assert received.json()["credentials"][0]["credential"].count("~") >= 2  # an SD-JWT VC

    # the issuer finds them again by row key, all redeemed
    listed = await all_offers(stack.issuer_stub(ISSUER, AGENCY), page_size=500)
    assert {o.reference: o.offer_id for o in listed} == {line["key"]: line["offer_id"] for line in offered.values()}
    assert {o.state for o in listed} == {issuer_pb2.OFFER_STATE_REDEEMED}
