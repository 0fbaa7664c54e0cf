"""The revocation service honours the issuer's pinned client-certificate fingerprints, as issuance does.

A certificate from the platform CA with the issuer's CN, agency and role, but another key (so another
fingerprint), is refused with PERMISSION_DENIED over a real mutual-TLS gRPC call, and nothing changes; the
pinned certificate itself may act.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from microcred import pki
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2, revocation_pb2, revocation_pb2_grpc, status_pb2
from microcred.grpc_server import TlsFiles, client_channel
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import REGISTRY
from tests.conftest import Infrastructure
from tests.harness.factories import organisation
from tests.harness.revocation import Harness, start_harness
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration

REVOCATION = status_pb2.STATUS_PURPOSE_REVOCATION


@pytest.fixture(scope="module")
async def harness(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                            Path(tmp_path_factory.mktemp("revocation-pins")))
    try:
        yield h
    finally:
        await h.close()


def fingerprint(cert: pki.CertifiedKey) -> str:
    return x509.load_pem_x509_certificate(cert.cert_pem).fingerprint(hashes.SHA256()).hex()


async def register(bootstrap: str, issuer_id: str, agency_id: str, pinned: list[str]) -> None:
    publisher = KafkaEventPublisher(bootstrap, client_id="pins-test")
    await publisher.start()
    at = datetime.now(UTC) - timedelta(days=1)
    try:
        for subject, payload in (
            (agency_id, events_pb2.AgencyRegistered(agency_id=agency_id, organisation=organisation("Agency"))),
            (issuer_id, events_pb2.IssuerRegistered(
                issuer_id=issuer_id, agency_id=agency_id, organisation=organisation(),
                did=f"did:web:trust.example:issuers:{issuer_id}", client_certificate_sha256=pinned)),
        ):
            await publisher.publish(REGISTRY.name, subject, new_envelope(payload, subject=subject, occurred_at=at))
    finally:
        await publisher.stop()


def stub(h: Harness, cert: pki.CertifiedKey) -> tuple[grpc.aio.Channel, revocation_pb2_grpc.RevocationServiceAsyncStub]:
    channel = client_channel(h.target, TlsFiles(h.ca.cert_pem, cert.cert_pem, cert.key_pem))
    return channel, cast("revocation_pb2_grpc.RevocationServiceAsyncStub",
                         revocation_pb2_grpc.RevocationServiceStub(channel))


async def wait_registered(h: Harness, issuer_id: str) -> None:
    registry = h.app.registry
    assert registry is not None, "the revocation service reads no trust registry"

    async def registered() -> bool:
        return await registry.get_issuer(issuer_id) is not None

    await eventually(registered, 10, "the registry projection did not apply the issuer", interval=0.05)


async def test_a_certificate_with_the_right_cn_but_another_fingerprint_is_denied(
        harness: Harness, infrastructure: Infrastructure) -> None:
    issuer, agency = f"uni-{uuid.uuid4().hex[:8]}", f"ag-{uuid.uuid4().hex[:6]}"
    pinned_cert = pki.create_client_cert(harness.ca, issuer, agency, pki.ROLE_ISSUER)
    impostor = pki.create_client_cert(harness.ca, issuer, agency, pki.ROLE_ISSUER)  # same names, another key
    assert fingerprint(pinned_cert) != fingerprint(impostor)
    await register(infrastructure.kafka_bootstrap, issuer, agency, [fingerprint(pinned_cert).upper()])
    await wait_registered(harness, issuer)
    first, second = await harness.issue(issuer, agency, 2)
    list_before = await harness.fetch_list(first.entry(REVOCATION).status_list_credential)

    channel, impostor_stub = stub(harness, impostor)
    try:
        for call in (impostor_stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                         credential_id=first.credential_id, reason="impostor")),
                     impostor_stub.SuspendCredential(revocation_pb2.SuspendCredentialRequest(
                         credential_id=first.credential_id, reason="impostor")),
                     impostor_stub.GetCredentialStatus(revocation_pb2.GetCredentialStatusRequest(
                         credential_id=first.credential_id))):
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await call
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "certificate" in (denied.value.details() or "")
    finally:
        await channel.close()

    status = await harness.service_stub().GetCredentialStatus(
        revocation_pb2.GetCredentialStatusRequest(credential_id=first.credential_id))
    assert not status.status.revoked and not status.status.suspended
    after = await harness.fetch_list(first.entry(REVOCATION).status_list_credential)
    assert after["credentialSubject"] == list_before["credentialSubject"]

    channel, pinned_stub = stub(harness, pinned_cert)
    try:
        reply = await pinned_stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
            credential_id=second.credential_id, reason="issued in error"))
    finally:
        await channel.close()
    assert reply.status.revoked
