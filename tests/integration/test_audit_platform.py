"""The audit trail of real actions: performed through the issuer, registry and revocation services, then
read back with ``mcred audit list`` (a separate process, over mutual TLS) in exactly the order they happened.

Each step waits until the previous one is visible where the next one needs it, so the order of the actions is
the order in which they were answered. Another agency's actions never show up.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2, registry_pb2, revocation_pb2
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import PLATFORM, IssuerHarness, start_issuer_harness

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def _retry_not_found(call: Callable[[], Awaitable[object]], timeout: float = 20.0) -> None:
    """Run ``call``; while the revocation service has not yet seen the credential (NOT_FOUND), try again."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await call()
            return
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


def _audit_cli(stack: IssuerHarness, certs: Path, agency: str, since: datetime) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microcred.cli.main", "audit", "list", "--agency", agency,
         "--since", since.isoformat(), "--server", stack.target, "--tls-dir", str(certs), "--json"],
        capture_output=True, text=True, timeout=60, check=False)


async def test_audit_log_lists_the_exact_sequence_of_real_actions(
        infrastructure: Infrastructure, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    agency, other_agency, uni = f"pl-{tag}", f"cz-{tag}", f"uni-{tag}"
    operator = f"{agency}-operator"
    start = datetime.now(UTC) - timedelta(seconds=1)
    stack = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path,
                                       status_block_size=20)
    try:
        assert stack.revocation is not None
        await stack.onboard(agency, {uni: 8})  # RegisterAgency, RegisterIssuer, AccreditIssuer
        await stack.onboard(other_agency, {f"other-{tag}": 8})
        reply = await stack.issuer_stub(uni, agency).IssueCredential(issuer_pb2.IssueCredentialRequest(
            idempotency_key="audit-1", credential=valid_micro_credential()))
        credential_id = reply.credential.credential_id
        await stack.issuer_stub(f"other-{tag}", other_agency).IssueCredential(issuer_pb2.IssueCredentialRequest(
            idempotency_key="audit-x", credential=valid_micro_credential()))

        as_issuer = stack.revocation.stub(uni, agency, pki.ROLE_ISSUER)
        as_operator = stack.revocation.stub(operator, agency, pki.ROLE_AGENCY)
        await _retry_not_found(lambda: as_issuer.SuspendCredential(revocation_pb2.SuspendCredentialRequest(
            credential_id=credential_id, reason="under review")))
        await as_issuer.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
            credential_id=credential_id, reason="review cleared"))
        await as_operator.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
            credential_id=credential_id, reason="fraudulent assessment"))
        registry = stack.registry_stub(operator, agency, pki.ROLE_AGENCY)
        issuer = (await registry.GetIssuer(registry_pb2.GetIssuerRequest(issuer_id=uni))).issuer
        [accreditation] = issuer.accreditations
        await registry.WithdrawAccreditation(registry_pb2.WithdrawAccreditationRequest(
            issuer_id=uni, accreditation_id=accreditation.accreditation_id, reason="QA review failed"))

        platform_op = pki.actor_name(PLATFORM[2], PLATFORM[0], PLATFORM[1])  # (subject, agency, role)
        by_operator, by_issuer = pki.actor_name(pki.ROLE_AGENCY, operator, agency), pki.actor_name(
            pki.ROLE_ISSUER, uni, agency)
        expected = [
            ("AgencyRegistered", agency, platform_op, ""),
            ("IssuerRegistered", uni, by_operator, ""),
            ("IssuerAccredited", uni, by_operator, ""),
            ("CredentialIssued", credential_id, by_issuer, ""),
            ("CredentialSuspended", credential_id, by_issuer, "under review"),
            ("CredentialReinstated", credential_id, by_issuer, "review cleared"),
            ("CredentialRevoked", credential_id, by_operator, "fraudulent assessment"),
            ("AccreditationWithdrawn", uni, by_operator, "QA review failed"),
        ]
        certs = tmp_path / "operator-certs"
        cert = pki.create_client_cert(stack.ca, operator, agency, pki.ROLE_AGENCY)
        cert.write(certs, "operator")
        (certs / "ca.crt").write_bytes(stack.ca.cert_pem)

        got: list[tuple[str, str, str, str]] = []
        for _ in range(100):
            result = await asyncio.to_thread(_audit_cli, stack, certs, agency, start)
            assert result.returncode == 0, result.stdout + result.stderr
            entries = [json.loads(line) for line in result.stdout.splitlines()]
            got = [(e["action"], e["subject"], e["actor"], e["reason"]) for e in entries]
            if len(got) >= len(expected):
                break
            await asyncio.sleep(0.2)
        assert got == expected
        assert {e["agency_id"] for e in entries} == {agency}
        assert [e["occurred_at"] for e in entries] == sorted(e["occurred_at"] for e in entries)

        # The window bounds the trail: nothing before `since`, and an agency operator reads only its own agency.
        later = await asyncio.to_thread(_audit_cli, stack, certs, agency, datetime.now(UTC) + timedelta(minutes=1))
        assert later.returncode == 0 and later.stdout.strip() == ""
        foreign = await asyncio.to_thread(_audit_cli, stack, certs, other_agency, start)
        assert foreign.returncode == 1 and "PERMISSION_DENIED" in foreign.stdout
    finally:
        await stack.close()
