"""``mcred issue`` end to end: 10,000 CSV rows (1% bad) through the batch RPC, then the same command again.

The CLI runs as a real subprocess against an in-process issuer and revocation service (real Kafka and Redis).
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
from services.issuer.harness import IssuerHarness, start_issuer_harness
from tests.conftest import Infrastructure

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY, ISSUER = f"ie-{TAG}", f"uni-cohort-{TAG}"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issuer"
ROWS, BAD_EVERY = 10_000, 100
MCRED = Path(sys.executable).with_name("mcred")


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    harness = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
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


async def run_cli(stack: IssuerHarness, csv_path: Path, tls_dir: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(MCRED), "issue", "--csv", str(csv_path), "--template", str(FIXTURES / "achievement.yaml"),
        "--server", stack.target, "--tls-dir", str(tls_dir), "--quiet",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def results(path: Path) -> dict[int, dict[str, str]]:
    with path.open(newline="") as fh:
        return {int(line["row"]): line for line in csv.DictReader(fh)}


async def test_a_cohort_of_10000_issues_9900_reports_100_and_reruns_safely(
        stack: IssuerHarness, infrastructure: Infrastructure, tmp_path: Path) -> None:
    csv_path = tmp_path / "cohort.csv"
    bad = write_cohort(csv_path)
    tls_dir = tmp_path / "uni"
    pki.create_client_cert(stack.ca, ISSUER, AGENCY, pki.ROLE_ISSUER).write(tls_dir, ISSUER)
    stack.ca.write(tls_dir, "ca")
    before = await credentials_end_offset(infrastructure.kafka_bootstrap)

    code, output = await run_cli(stack, csv_path, tls_dir)
    assert code == 1, output  # some rows were not issued
    assert "9900 of 10000 rows issued, 100 not" in output
    first = results(csv_path.with_suffix(".results.csv"))
    assert len(first) == ROWS
    failed = {n for n, line in first.items() if line["status"] != "issued"}
    assert failed == bad
    for n in bad:
        line = first[n]
        assert line["code"] == "INVALID_ARGUMENT" and line["errors"] and not line["credential_id"]
        expected = ("learner.full_name", "learner.email", "date_of_birth")[(n // BAD_EVERY) % 3]
        assert expected in line["errors"], line
    ids = {line["credential_id"] for line in first.values() if line["status"] == "issued"}
    assert len(ids) == 9_900
    published = await credentials_end_offset(infrastructure.kafka_bootstrap)
    assert published - before == 9_900

    code, output = await run_cli(stack, csv_path, tls_dir)  # the same command again: nothing new
    assert code == 1 and "9900 of 10000 rows issued" in output
    assert results(csv_path.with_suffix(".results.csv")) == first
    assert await credentials_end_offset(infrastructure.kafka_bootstrap) == published

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
