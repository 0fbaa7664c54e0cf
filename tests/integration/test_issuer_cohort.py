"""``mcred issue`` end to end: 10,000 CSV rows (1% bad) through the batch RPC, then the same command again.

The CLI runs as a real subprocess against an in-process issuer and revocation service (real Kafka and Redis). The
module has a Kafka broker of its own: its 10,000 credentials on the session's broker would be replayed by every
later test's new consumer groups.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from microcred import pki
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.kafka.topics import CREDENTIALS
from tests.conftest import Infrastructure
from tests.harness.issuer import IssuerHarness, start_issuer_harness

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY, ISSUER = f"ie-{TAG}", f"uni-cohort-{TAG}"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issuer"
ROWS, BAD_EVERY = 10_000, 100
MCRED = Path(sys.executable).with_name("mcred")


@pytest.fixture(scope="module")
async def stack(own_kafka: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    harness = await start_issuer_harness(own_kafka.kafka_bootstrap, own_kafka.redis_url,
                                         tmp_path_factory.mktemp("cohort-stack"), status_block_size=2000)
    try:
        await harness.onboard(AGENCY, {ISSUER: 7})
        yield harness
    finally:
        await harness.close()


def write_cohort(path: Path) -> set[int]:
    """10,000 learners; every 100th row is bad in one of three ways. Returns the bad row numbers."""
    bad: set[int] = set()
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["key", "full_name", "email", "date_of_birth", "grade", "grade_status"])
        for n in range(1, ROWS + 1):
            name, email, born = f"Learner {n}", f"learner{n}@example.org", "2001-02-03"
            if n % BAD_EVERY == 0:
                bad.add(n)
                kind = (n // BAD_EVERY) % 3
                name = "" if kind == 0 else name                        # no name: server-side violation
                email = "not-an-email" if kind == 1 else email          # malformed e-mail: server-side violation
                born = "03/02/2001" if kind == 2 else born              # not ISO: refused before sending
            writer.writerow([f"student-{n:05d}", name, email, born, "Pass", "passed"])
    return bad


async def credentials_end_offset(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(CREDENTIALS.name, p) for p in range(CREDENTIALS.partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def run_cli(stack: IssuerHarness, csv_path: Path, tls_dir: Path, *extra: str) -> tuple[int, str, str]:
    """``mcred issue ... --quiet [extra]`` in a fresh process: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        str(MCRED), "issue", "--csv", str(csv_path), "--template", str(FIXTURES / "achievement.yaml"),
        "--server", stack.target, "--tls-dir", str(tls_dir), "--quiet", *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def results_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("cohort.results-*.csv"))


def content(path: Path) -> bytes:
    return path.read_bytes()


def change_row(path: Path, row: int, old: str, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[row] = lines[row].replace(old, new)
    path.write_text("\n".join(lines) + "\n")


def results(path: Path) -> dict[int, dict[str, str]]:
    with path.open(newline="") as fh:
        return {int(line["row"]): line for line in csv.DictReader(fh)}


async def test_a_cohort_of_10000_issues_9900_reports_100_and_reruns_safely(
        stack: IssuerHarness, own_kafka: Infrastructure, tmp_path: Path) -> None:
    csv_path = tmp_path / "cohort.csv"
    bad = write_cohort(csv_path)
    tls_dir = tmp_path / "uni"
    pki.create_client_cert(stack.ca, ISSUER, AGENCY, pki.ROLE_ISSUER).write(tls_dir, ISSUER)
    stack.ca.write(tls_dir, "ca")
    before = await credentials_end_offset(own_kafka.kafka_bootstrap)

    code, out, err = await run_cli(stack, csv_path, tls_dir, "--json")
    assert code == 1, err  # some rows were not issued
    summary = json.loads(out)
    assert (summary["rows"], summary["issued"], summary["already_issued"], summary["invalid"]) == (
        ROWS, 9_900, 0, 100), summary
    first_path = Path(summary["results"])
    assert first_path.parent == tmp_path and first_path.name.startswith("cohort.results-")
    first = results(first_path)
    assert len(first) == ROWS
    failed = {n for n, line in first.items() if line["status"] != "issued"}
    assert failed == bad
    for n in bad:
        line = first[n]
        assert line["status"] == "invalid" and line["code"] == "INVALID_ARGUMENT" and line["errors"], line
        assert not line["credential_id"]
        expected = ("learner.full_name", "learner.email", "date_of_birth")[(n // BAD_EVERY) % 3]
        assert expected in line["errors"], line
    ids = {line["credential_id"] for line in first.values() if line["status"] == "issued"}
    assert len(ids) == 9_900
    published = await credentials_end_offset(own_kafka.kafka_bootstrap)
    assert published - before == 9_900

    first_bytes = content(first_path)
    code, out, err = await run_cli(stack, csv_path, tls_dir)  # the same command again: nothing new
    assert code == 1 and "10000 rows: 0 new, 9900 already issued, 0 conflicts, 100 invalid" in err, err
    [second_path] = [p for p in results_files(tmp_path) if p != first_path]
    assert content(first_path) == first_bytes  # an earlier run's results are never overwritten
    second = results(second_path)
    assert {n: line["credential_id"] for n, line in second.items()} == {
        n: line["credential_id"] for n, line in first.items()}
    assert {line["status"] for n, line in second.items() if n not in bad} == {"already_issued"}
    assert await credentials_end_offset(own_kafka.kafka_bootstrap) == published

    # A corrected name under the same key is a conflict naming the field, never a silent "issued".
    change_row(csv_path, 7, "Learner 7,", "Learner Seven,")
    code, out, err = await run_cli(stack, csv_path, tls_dir, "--json", "--results", str(tmp_path / "third.csv"))
    summary = json.loads(out)
    assert code == 1 and (summary["conflict"], summary["already_issued"], summary["issued"]) == (1, 9_899, 0)
    third = results(tmp_path / "third.csv")
    assert third[7]["status"] == "conflict" and third[7]["code"] == "ALREADY_EXISTS"
    assert third[7]["errors"] == "fields that differ from the credential issued under this key: learner.full_name"
    assert [n for n, line in third.items() if line["status"] == "conflict"] == [7]
    assert await credentials_end_offset(own_kafka.kafka_bootstrap) == published

    stub = stack.issuer_stub(ISSUER, AGENCY)
    registry = stack.app_registry()
    key = (await registry.get_issuer(ISSUER)).verification_methods[0]
    from microcred.crypto.multikey import decode_ed25519_public_key

    public_key = decode_ed25519_public_key(key.public_key_multibase)
    for n in (1, 2, 4_321, 9_999):
        got = await stub.GetCredential(issuer_pb2.GetCredentialRequest(credential_id=first[n]["credential_id"]))
        doc = json.loads(got.credential.credential_json)
        assert got.micro_credential.learner.full_name == f"Learner {n}"
        assert verify_data_integrity(doc, lambda vm: public_key).verified is True


async def test_a_client_the_service_refuses_stops_the_run_before_anything_is_sent(
        stack: IssuerHarness, own_kafka: Infrastructure, tmp_path: Path) -> None:
    csv_path = tmp_path / "cohort.csv"
    csv_path.write_bytes(content(FIXTURES / "cohort.csv"))
    before = await credentials_end_offset(own_kafka.kafka_bootstrap)
    agency_dir, foreign_dir = tmp_path / "agency", tmp_path / "foreign"
    pki.create_client_cert(stack.ca, AGENCY, AGENCY, pki.ROLE_AGENCY).write(agency_dir, AGENCY)  # not an issuer
    stack.ca.write(agency_dir, "ca")
    stranger = pki.create_ca("another platform")
    pki.create_client_cert(stranger, ISSUER, AGENCY, pki.ROLE_ISSUER).write(foreign_dir, ISSUER)  # wrong CA
    stack.ca.write(foreign_dir, "ca")
    for tls_dir, says in ((agency_dir, "PERMISSION_DENIED"), (foreign_dir, "rejected the client certificate")):
        code, out, err = await run_cli(stack, csv_path, tls_dir, "--attempts", "2")
        assert code == 2, (tls_dir, out, err)
        assert "refuses this client; no retry can help" in err and says in err, err
        assert results_files(tmp_path) == []  # stopped before any row
    assert await credentials_end_offset(own_kafka.kafka_bootstrap) == before
