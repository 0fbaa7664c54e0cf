"""The revocation service over real gRPC (mutual TLS), Kafka, Redis and HTTP.

One in-process service for the module (its own Redis key prefix and consumer group); issuance is simulated as
the issuer service does it: reserve indexes over gRPC with a ``service`` certificate, then publish
``CredentialIssued`` to Kafka.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiokafka import TopicPartition
from google.rpc import code_pb2, error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status

from microcred import pki
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.did_key import resolve_key
from microcred.gen.microcred.v1 import revocation_pb2, status_pb2
from microcred.kafka.topics import STATUS
from microcred.status.bitstring import MIN_LIST_BITS, decode_list
from microcred.status.cache import StatusListCache, topic_end_offsets
from microcred.status.check import StatusEntry, check_status
from tests.conftest import Infrastructure
from tests.harness.kafka import read_topic
from tests.harness.revocation import Harness, IssuedCredential, start_harness
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration

REVOCATION = status_pb2.STATUS_PURPOSE_REVOCATION
SUSPENSION = status_pb2.STATUS_PURPOSE_SUSPENSION
PROBLEM_TYPE = "https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR"


@pytest.fixture(scope="module")
async def harness(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                            Path(tmp_path_factory.mktemp("revocation")))
    try:
        yield h
    finally:
        await h.close()


@pytest.fixture(scope="module")
async def cache(infrastructure: Infrastructure, harness: Harness) -> AsyncIterator[StatusListCache]:
    assert harness.app.signer is not None
    c = StatusListCache(infrastructure.kafka_bootstrap, trusted_signers={harness.app.signer.did})
    await c.start()
    assert await c.wait_ready(60)
    try:
        yield c
    finally:
        await c.stop()


def issuer_id() -> str:
    return f"uni-{uuid.uuid4().hex[:8]}"


def status_at(document: dict[str, Any], index: int) -> int:
    return decode_list(document["credentialSubject"]["encodedList"], lenient_legacy=False).bits.get_status(index)


async def bit(h: Harness, credential: IssuedCredential, purpose: int) -> int:
    entry = credential.entry(purpose)
    return status_at(await h.fetch_list(entry.status_list_credential), entry.status_list_index)


async def wait_bit(h: Harness, credential: IssuedCredential, purpose: int, value: int, timeout: float = 1.0) -> float:
    """Poll the published list over HTTP until the bit has ``value``; return how long that took."""
    started = time.monotonic()
    await eventually(lambda: bit(h, credential, purpose), timeout, f"bit not {value}",
                     until=lambda bit_now: bit_now == value, interval=0.01)
    return time.monotonic() - started


def rpc_error_details(error: grpc.aio.AioRpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    status = rpc_status.from_call(error)
    assert status is not None
    violations: list[error_details_pb2.BadRequest.FieldViolation] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        violations.extend(bad_request.field_violations)
    return violations


def revoke(cid: str, reason: str = "issued in error") -> revocation_pb2.RevokeCredentialRequest:
    return revocation_pb2.RevokeCredentialRequest(credential_id=cid, reason=reason)


# ---------------------------------------------------------------------------------------------- revoke


async def test_revoke_sets_the_bit_in_a_signed_valid_list(harness: Harness) -> None:
    issuer = issuer_id()
    a, b = await harness.issue(issuer, "PL", 2)
    entry = a.entry(REVOCATION)
    before = await harness.fetch_list(entry.status_list_credential)
    assert status_at(before, entry.status_list_index) == 0

    reply = await harness.stub(issuer, "PL", pki.ROLE_ISSUER).RevokeCredential(revoke(a.credential_id))
    assert reply.status.revoked and not reply.status.suspended
    assert reply.status.updated_at.seconds > 0

    await wait_bit(harness, a, REVOCATION, 1)
    document = await harness.fetch_list(entry.status_list_credential)
    assert harness.app.signer is not None
    assert document["issuer"] == harness.app.signer.did
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == entry.status_list_credential
    assert document["credentialSubject"]["statusPurpose"] == "revocation"
    assert document["credentialSubject"]["ttl"] == harness.settings.status_list_ttl_seconds * 1000
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    outcome = verify_data_integrity(document, resolve_key)
    assert outcome.verified is True, outcome.message
    bits = decode_list(document["credentialSubject"]["encodedList"], lenient_legacy=False).bits
    assert len(bits) == harness.settings.status_list_size == 1 << 20  # the default: 2^20 entries
    assert bits.get(entry.status_list_index) and not bits.get(b.entry(REVOCATION).status_list_index)
    # The W3C validation algorithm on the published list: revoked a, untouched b.
    now = datetime.now(UTC)
    result = check_status(StatusEntry("revocation", entry.status_list_index, entry.status_list_credential),
                          document, now, proofs_verified=True)
    assert result.valid is False and result.status == 1
    other = b.entry(REVOCATION)
    assert check_status(StatusEntry("revocation", other.status_list_index, other.status_list_credential),
                        document, now, proofs_verified=True).valid

    # Revoking again is idempotent; revocation is permanent (no suspend, no reinstate).
    again = await harness.stub(issuer, "PL", pki.ROLE_ISSUER).RevokeCredential(revoke(a.credential_id))
    assert again.status.revoked
    for call in (harness.stub(issuer, "PL", pki.ROLE_ISSUER).SuspendCredential(
                     revocation_pb2.SuspendCredentialRequest(credential_id=a.credential_id, reason="x")),
                 harness.stub(issuer, "PL", pki.ROLE_ISSUER).ReinstateCredential(
                     revocation_pb2.ReinstateCredentialRequest(credential_id=a.credential_id, reason="x"))):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await call
        assert failed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "permanent" in (failed.value.details() or "")
    assert await bit(harness, a, REVOCATION) == 1


async def test_http_serves_etag_cache_control_304_and_problem_404(harness: Harness) -> None:
    issuer = issuer_id()
    (a,) = await harness.issue(issuer, "PL", 1)
    url = a.entry(REVOCATION).status_list_credential
    first = await harness.fetch(url)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/vc+ld+json")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    ttl = harness.settings.status_list_ttl_seconds
    assert first.headers["cache-control"] in (f"public, max-age={ttl}", f"public, max-age={ttl - 1}")
    assert (await harness.fetch(url, {"Accept": "application/json"})).headers["content-type"].startswith(
        "application/json")

    not_modified = await harness.fetch(url, {"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.headers["etag"] == etag
    assert not_modified.content == b""

    await harness.stub(issuer, "PL", pki.ROLE_ISSUER).RevokeCredential(revoke(a.credential_id))
    await wait_bit(harness, a, REVOCATION, 1)
    changed = await harness.fetch(url, {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag

    missing = await harness.fetch(f"{harness.app.base_url}/status/no-such-list-0")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    problem = missing.json()
    assert problem["type"] == PROBLEM_TYPE and problem["status"] == 404

    health = await harness.fetch(f"{harness.app.base_url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    signer = (await harness.fetch(f"{harness.app.base_url}/signer")).json()
    assert harness.app.signer is not None and signer["did"] == harness.app.signer.did
    assert signer["verificationMethod"].startswith(signer["did"] + "#")


# ------------------------------------------------------------------------------------------ suspension


async def test_suspend_then_reinstate_clears_the_bit(harness: Harness) -> None:
    issuer = issuer_id()
    (a,) = await harness.issue(issuer, "PL", 1)
    stub = harness.stub(issuer, "PL", pki.ROLE_ISSUER)

    suspended = await stub.SuspendCredential(revocation_pb2.SuspendCredentialRequest(
        credential_id=a.credential_id, reason="under investigation"))
    assert suspended.status.suspended and not suspended.status.revoked
    await wait_bit(harness, a, SUSPENSION, 1)
    assert await bit(harness, a, REVOCATION) == 0

    reinstated = await stub.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
        credential_id=a.credential_id, reason="investigation closed"))
    assert not reinstated.status.suspended
    await wait_bit(harness, a, SUSPENSION, 0)
    document = await harness.fetch_list(a.entry(SUSPENSION).status_list_credential)
    assert document["credentialSubject"]["statusPurpose"] == "suspension"
    assert verify_data_integrity(document, resolve_key).verified is True

    status = await stub.GetCredentialStatus(revocation_pb2.GetCredentialStatusRequest(
        credential_id=a.credential_id))
    assert not status.status.suspended and not status.status.revoked
    assert {e.status_purpose for e in status.status.status_entries} == {REVOCATION, SUSPENSION}


# ------------------------------------------------------------------------------------------ authorization


async def test_only_the_issuer_or_its_agency_may_change_a_credential(harness: Harness) -> None:
    issuer_a, issuer_b = issuer_id(), issuer_id()
    a1, a2 = await harness.issue(issuer_a, "PL", 2)
    versions_before = await harness.fetch_list(a1.entry(REVOCATION).status_list_credential)

    for stub in (harness.stub(issuer_b, "PL", pki.ROLE_ISSUER),    # another issuer, same agency
                 harness.stub(issuer_a, "DE", pki.ROLE_AGENCY),    # an operator of another agency
                 harness.stub("issuer-service", "platform", pki.ROLE_SERVICE)):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.RevokeCredential(revoke(a1.credential_id))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert denied.value.details()
    status = await harness.service_stub().GetCredentialStatus(
        revocation_pb2.GetCredentialStatusRequest(credential_id=a1.credential_id))
    assert not status.status.revoked
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await harness.stub(issuer_b, "PL", pki.ROLE_ISSUER).GetCredentialStatus(
            revocation_pb2.GetCredentialStatusRequest(credential_id=a1.credential_id))
    assert hidden.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await harness.fetch_list(a1.entry(REVOCATION).status_list_credential))["credentialSubject"] == \
        versions_before["credentialSubject"]

    # The issuer's agency may act for it.
    reply = await harness.stub("operator-1", "PL", pki.ROLE_AGENCY).RevokeCredential(revoke(a2.credential_id))
    assert reply.status.revoked
    await wait_bit(harness, a2, REVOCATION, 1)


async def test_unknown_credential_is_not_found_and_changes_nothing(harness: Harness) -> None:
    issuer = issuer_id()
    (a,) = await harness.issue(issuer, "PL", 1)
    url = a.entry(REVOCATION).status_list_credential
    etag = (await harness.fetch(url)).headers["etag"]
    ends = await topic_end_offsets(harness.settings.kafka_bootstrap, [STATUS.name])
    unknown = f"urn:uuid:{uuid.uuid4()}"
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await harness.stub(issuer, "PL", pki.ROLE_ISSUER).RevokeCredential(revoke(unknown))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert unknown in (missing.value.details() or "")
    await asyncio.sleep(0.2)
    assert unknown.encode() not in await status_records_since(harness.settings.kafka_bootstrap, ends)
    assert (await harness.fetch(url)).headers["etag"] == etag
    status = await harness.service_stub().GetCredentialStatus(
        revocation_pb2.GetCredentialStatusRequest(credential_id=a.credential_id))
    assert not status.status.revoked and not status.status.suspended


async def test_a_credential_revoked_as_soon_as_kafka_has_it_is_found(harness: Harness) -> None:
    """Read your writes: the issuer is answered once Kafka has its CredentialIssued; the projection fetches in
    batches (up to 50 ms later), so a revocation at once must wait for it rather than answer NOT_FOUND."""
    issuer = issuer_id()
    stub = harness.stub(issuer, "PL", pki.ROLE_ISSUER)
    for _ in range(5):
        (a,) = await harness.issue(issuer, "PL", 1, wait=False)
        reply = await stub.RevokeCredential(revoke(a.credential_id))
        assert reply.status.revoked
    for _ in range(3):  # the bulk form too, and the status read
        fresh = await harness.issue(issuer, "PL", 2, wait=False)
        status = await harness.service_stub().GetCredentialStatus(
            revocation_pb2.GetCredentialStatusRequest(credential_id=fresh[0].credential_id))
        assert not status.status.revoked
        bulk = await stub.RevokeCredentials(revocation_pb2.RevokeCredentialsRequest(
            items=[revocation_pb2.RevokeCredentialsItem(credential_id=c.credential_id) for c in fresh],
            reason="issued in error"))
        assert [r.code for r in bulk.results] == [0, 0], bulk


async def status_records_since(bootstrap: str, ends: dict[TopicPartition, int]) -> list[bytes | None]:
    """Keys of the records written to the status topic after the ``ends`` snapshot."""
    start = {tp.partition: offset for tp, offset in ends.items() if tp.topic == STATUS.name}
    return [record.key for record in await read_topic(bootstrap, STATUS.name, start)]


async def test_bad_input_is_invalid_argument_with_field_violations(harness: Harness) -> None:
    issuer = issuer_id()
    (a,) = await harness.issue(issuer, "PL", 1)
    stub = harness.stub(issuer, "PL", pki.ROLE_ISSUER)
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(credential_id="", reason=""))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in rpc_error_details(bad.value)} == {"credential_id", "reason"}
    with pytest.raises(grpc.aio.AioRpcError) as no_reason:
        await stub.RevokeCredential(revoke(a.credential_id, reason="  "))
    assert [v.field for v in rpc_error_details(no_reason.value)] == ["reason"]
    assert not (await stub.GetCredentialStatus(
        revocation_pb2.GetCredentialStatusRequest(credential_id=a.credential_id))).status.revoked

    with pytest.raises(grpc.aio.AioRpcError) as bad_reservation:
        await harness.service_stub().ReserveStatusIndexes(revocation_pb2.ReserveStatusIndexesRequest(
            issuer_id=issuer, status_purposes=[status_pb2.STATUS_PURPOSE_UNSPECIFIED, REVOCATION, REVOCATION],
            count=0))
    assert bad_reservation.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in rpc_error_details(bad_reservation.value)} == {
        "status_purposes[0]", "status_purposes", "count"}


# ------------------------------------------------------------------------------------------ reservations


async def test_reservations_are_random_never_reused_and_authorized(harness: Harness) -> None:
    issuer = issuer_id()
    own = harness.stub(issuer, "PL", pki.ROLE_ISSUER)
    first = await own.ReserveStatusIndexes(revocation_pb2.ReserveStatusIndexesRequest(
        issuer_id=issuer, status_purposes=[REVOCATION, SUSPENSION], count=500))
    second = await harness.service_stub().ReserveStatusIndexes(revocation_pb2.ReserveStatusIndexesRequest(
        issuer_id=issuer, status_purposes=[REVOCATION], count=500))
    assert [b.status_purpose for b in first.blocks] == [REVOCATION, SUSPENSION]
    revocation_lists = {first.blocks[0].status_list_id, second.blocks[0].status_list_id}
    assert revocation_lists == {f"{issuer}-revocation-0"}
    assert first.blocks[1].status_list_id == f"{issuer}-suspension-0"
    size = harness.settings.status_list_size
    assert {b.status_list_size for b in (*first.blocks, *second.blocks)} == {size}  # the size travels
    taken = list(first.blocks[0].indexes) + list(second.blocks[0].indexes)
    assert len(set(taken)) == 1000
    assert all(0 <= i < size for i in taken)
    assert list(first.blocks[0].indexes) != sorted(first.blocks[0].indexes)  # random order, not sequential
    assert max(taken) - min(taken) > size // 2  # spread over the list
    # A fresh list is published (all zeros) as soon as its first indexes are handed out.
    published = await harness.fetch_list(first.blocks[0].status_list_credential)
    assert decode_list(published["credentialSubject"]["encodedList"]).bits.count() == 0

    for stub, who in ((harness.stub(issuer_id(), "PL", pki.ROLE_ISSUER), "another issuer"),
                      (harness.stub("operator", "PL", pki.ROLE_AGENCY), "an agency")):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.ReserveStatusIndexes(revocation_pb2.ReserveStatusIndexesRequest(
                issuer_id=issuer, status_purposes=[REVOCATION], count=1))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED, who


@pytest.fixture
async def small_lists(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[Harness]:
    """A service creating lists of the minimum size (131,072), so that filling one stays quick."""
    h = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path,
                            status_list_size=MIN_LIST_BITS)
    try:
        yield h
    finally:
        await h.close()


async def test_a_full_list_is_followed_by_a_new_one(small_lists: Harness) -> None:
    issuer = issuer_id()
    stub = small_lists.service_stub()
    seen: set[int] = set()
    lists: list[str] = []
    for _ in range(MIN_LIST_BITS // 10_000):  # 13 blocks: 130,000 of the 131,072 indexes
        reply = await stub.ReserveStatusIndexes(revocation_pb2.ReserveStatusIndexesRequest(
            issuer_id=issuer, status_purposes=[REVOCATION], count=10_000))
        lists.append(reply.blocks[0].status_list_id)
        seen.update(reply.blocks[0].indexes)
    assert set(lists) == {f"{issuer}-revocation-0"} and len(seen) == 130_000
    overflow = await stub.ReserveStatusIndexes(revocation_pb2.ReserveStatusIndexesRequest(
        issuer_id=issuer, status_purposes=[REVOCATION], count=10_000))
    assert overflow.blocks[0].status_list_id == f"{issuer}-revocation-1"
    assert overflow.blocks[0].status_list_credential.endswith(f"/status/{issuer}-revocation-1")
    assert len(set(overflow.blocks[0].indexes)) == 10_000


# ------------------------------------------------------------------------------------------ bulk and push


async def test_bulk_revocation_of_a_cohort(harness: Harness) -> None:
    issuer, other = issuer_id(), issuer_id()
    cohort = await harness.issue(issuer, "PL", 300)
    (foreign,) = await harness.issue(other, "PL", 1)
    unknown = f"urn:uuid:{uuid.uuid4()}"
    items = [revocation_pb2.RevokeCredentialsItem(credential_id=c.credential_id) for c in cohort]
    items += [revocation_pb2.RevokeCredentialsItem(credential_id=unknown),
              revocation_pb2.RevokeCredentialsItem(credential_id=foreign.credential_id),
              revocation_pb2.RevokeCredentialsItem(credential_id=cohort[0].credential_id, reason="duplicate")]
    reply = await harness.stub(issuer, "PL", pki.ROLE_ISSUER).RevokeCredentials(
        revocation_pb2.RevokeCredentialsRequest(items=items, reason="cohort issued in error"))
    codes = [r.code for r in reply.results]
    assert codes[:300] == [code_pb2.OK] * 300
    assert codes[300:] == [code_pb2.NOT_FOUND, code_pb2.PERMISSION_DENIED, code_pb2.OK]
    assert reply.results[301].message and [r.credential_id for r in reply.results[:2]] == \
        [cohort[0].credential_id, cohort[1].credential_id]

    returned = time.monotonic()
    while True:  # every bit of the cohort is published within a second of the call returning
        document = await harness.fetch_list(cohort[0].entry(REVOCATION).status_list_credential)
        bits = decode_list(document["credentialSubject"]["encodedList"]).bits
        if bits.count() == 300:
            break
        assert time.monotonic() - returned < 1.0
        await asyncio.sleep(0.01)
    assert all(bits.get(c.entry(REVOCATION).status_list_index) for c in cohort)
    assert await bit(harness, foreign, REVOCATION) == 0

    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await harness.stub(issuer, "PL", pki.ROLE_ISSUER).RevokeCredentials(
            revocation_pb2.RevokeCredentialsRequest(items=[], reason="x"))
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_bulk_suspension_of_a_cohort(harness: Harness) -> None:
    issuer = issuer_id()
    cohort = await harness.issue(issuer, "PL", 50)
    items = [revocation_pb2.RevokeCredentialsItem(credential_id=c.credential_id) for c in cohort]
    reply = await harness.stub(issuer, "PL", pki.ROLE_AGENCY).SuspendCredentials(
        revocation_pb2.SuspendCredentialsRequest(items=items, reason="cohort under investigation"))
    assert [r.code for r in reply.results] == [code_pb2.OK] * 50
    for credential in (cohort[0], cohort[-1]):
        await wait_bit(harness, credential, SUSPENSION, 1)
        assert await bit(harness, credential, REVOCATION) == 0


async def test_the_push_cache_sees_a_revocation_within_one_second(harness: Harness,
                                                                   cache: StatusListCache) -> None:
    issuer = issuer_id()
    credentials = await harness.issue(issuer, "PL", 5)
    url = credentials[0].entry(REVOCATION).status_list_credential
    deadline = time.monotonic() + 5
    while cache.get(url) is None:  # the fresh list reached the cache too
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    stub = harness.stub(issuer, "PL", pki.ROLE_ISSUER)
    latencies = []
    for credential in credentials:
        index = credential.entry(REVOCATION).status_list_index
        last_revoke = datetime.now(UTC)
        await stub.RevokeCredential(revoke(credential.credential_id))
        returned = time.monotonic()
        while True:
            hit = cache.get(url)
            if hit is not None and status_at(hit[0], index) == 1:
                break
            assert time.monotonic() - returned < 1.0, "the cache did not see the revocation within 1 s"
            await asyncio.sleep(0.005)
        latencies.append(time.monotonic() - returned)
    assert max(latencies) < 1.0
    cached = cache.entry(url)
    assert cached is not None and cached.version >= 2 and cache.is_current(url)
    # The newest version arrived after the last revocation was asked for: its age can be no older than that.
    freshness = cache.freshness(url)
    assert freshness is not None and 0 <= freshness <= (datetime.now(UTC) - last_revoke).total_seconds()
