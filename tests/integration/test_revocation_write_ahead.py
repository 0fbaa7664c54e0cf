"""Status changes are written by the instance that accepted them as soon as their event is on Kafka (issue 24).

The projector of a status event's partition may be on a replica that just died; until the consumer group notices,
nobody applies it, and a revocation must be in force within a second. So the command side writes the change
itself, carrying the event's Kafka position, and the projector's later write of the same event changes nothing
(services/revocation/adapters/store.py). Here: the ordering rules of those writes on a real Redis, and a service
whose projector has stopped answering every change at once, in force in its signed lists, then a fresh projector
replaying the same events over it without changing a thing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import cast

import pytest
from redis.asyncio import Redis

from microcred import pki
from microcred.gen.microcred.v1 import revocation_pb2, status_pb2
from microcred.lifecycle import one_slot
from microcred.status.bitstring import decode_list
from microcred.storage.replies import text
from services.revocation.adapters.store import RevocationStore
from services.revocation.domain import CredentialRecord, EntryRef, StatusWrite
from tests.conftest import Infrastructure
from tests.harness.redis_cluster import RedisClients
from tests.harness.revocation import Harness, IssuedCredential, start_harness
from tests.harness.waiting import eventually

pytestmark = pytest.mark.integration

REVOCATION = status_pb2.STATUS_PURPOSE_REVOCATION
SUSPENSION = status_pb2.STATUS_PURPOSE_SUSPENSION
T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def _write(list_id: str, value: bool, offset: int, *, partition: int = 3, reason: str = "") -> StatusWrite:
    return StatusWrite(list_id, 7, value, "urn:uuid:c1", T0 + dt.timedelta(seconds=offset), f"actor-{offset}",
                       reason or f"change {offset}", partition, offset)


async def _state(store: RevocationStore) -> tuple[bool, bool, str, str | None]:
    record = await store.credential("urn:uuid:c1")
    assert record is not None
    reason = await store.redis.hget(f"{store.prefix}:cred:urn:uuid:c1", "reason")
    return record.revoked, record.suspended, text(reason) or "", \
        record.updated_at.isoformat() if record.updated_at else None


@pytest.fixture
async def store(redis_clients: RedisClients, unique: str) -> RevocationStore:
    """The read model on the single node, then on the cluster (in one slot there, as the service keeps it)."""
    client = await redis_clients.new()
    revocation = RevocationStore(cast("Redis", client), one_slot(client, f"wa-{unique}"))
    redis = revocation.redis
    async with redis.pipeline(transaction=True) as pipe:
        revocation.write_credentials(pipe, [CredentialRecord("urn:uuid:c1", "uni-a", "PL", (
            EntryRef("rev-1", 7, "revocation"), EntryRef("sus-1", 7, "suspension")))])
        await pipe.execute()
    return revocation


async def test_an_older_change_of_a_bit_never_overwrites_a_newer_one(store: RevocationStore) -> None:
    # a reinstatement (offset 11) written ahead before the suspension it follows (offset 10) lands
    await store.apply_changes([_write("sus-1", False, 11)])
    await store.apply_changes([_write("sus-1", True, 10)])
    assert await _state(store) == (False, False, "change 11", (T0 + dt.timedelta(seconds=11)).isoformat())
    await store.apply_changes([_write("sus-1", True, 12)])
    assert (await _state(store))[:3] == (False, True, "change 12")


async def test_the_same_change_written_twice_changes_nothing_the_second_time(store: RevocationStore) -> None:
    await store.apply_changes([_write("rev-1", True, 5)])
    assert await store.pop_dirty() == {"rev-1"}  # queued for signing once
    await store.apply_changes([_write("rev-1", True, 5, reason="replayed")])  # the projector, later
    assert (await _state(store))[:3] == (True, False, "change 5")
    assert await store.pop_dirty() == set()  # not queued again


async def test_each_bit_keeps_its_own_order(store: RevocationStore) -> None:
    # A revocation (offset 9) written ahead, then a replay brings the suspension at offset 5: the suspension bit is
    # still set (the two bits are ordered separately); who/when/why stay the newest change's.
    await store.apply_changes([_write("rev-1", True, 9)])
    await store.apply_changes([_write("sus-1", True, 5)])
    assert await _state(store) == (True, True, "change 9", (T0 + dt.timedelta(seconds=9)).isoformat())


async def test_a_change_from_another_partition_is_applied(store: RevocationStore) -> None:
    # after the status topic was repartitioned the old offsets say nothing about order: applied, as before
    await store.apply_changes([_write("sus-1", True, 50, partition=3)])
    await store.apply_changes([_write("sus-1", False, 2, partition=4)])
    assert (await _state(store))[:3] == (False, False, "change 2")


# --------------------------------------------------------------------------------------------- the service


async def _bit(h: Harness, credential: IssuedCredential, purpose: int) -> int:
    entry = credential.entry(purpose)
    # the list as this instance serves it (the URL names the instance that opened the list)
    path = entry.status_list_credential.split("/", 3)[3]
    document = await h.fetch_list(f"{h.app.base_url}/{path}")
    return decode_list(document["credentialSubject"]["encodedList"], lenient_legacy=False).bits.get_status(
        entry.status_list_index)


async def _bits(h: Harness, credential: IssuedCredential) -> tuple[int, int]:
    return await _bit(h, credential, REVOCATION), await _bit(h, credential, SUSPENSION)


async def test_changes_are_in_force_while_nobody_projects_them_and_the_late_projection_keeps_them(
        infrastructure: Infrastructure, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    prefix, group = f"rev-wa-{tag}", f"revocation-wa-{tag}"
    issuer = f"uni-{tag}"
    h = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path / "first",
                            prefix=prefix, group=group, projection_wait_seconds=1.0)
    try:
        suspended_one, revoked_one = await h.issue(issuer, "PL", 2)
        assert h.app.runner is not None
        await h.app.runner.stop()  # the projector's owner is gone: nobody applies the status topic from here on
        await eventually(lambda: _projector_stopped(h), 30, "the projector did not stop")
        stub = h.stub(issuer, "PL", pki.ROLE_ISSUER)
        suspended = await stub.SuspendCredential(revocation_pb2.SuspendCredentialRequest(
            credential_id=suspended_one.credential_id, reason="under investigation"))
        revoked = await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
            credential_id=revoked_one.credential_id, reason="issued in error"))
        assert suspended.status.suspended and revoked.status.revoked  # the answers read their own writes
        await eventually(lambda: _bits(h, suspended_one), 10, "suspension not in the signed list",
                         until=lambda bits: bits == (0, 1), interval=0.05)
        await eventually(lambda: _bits(h, revoked_one), 10, "revocation not in the signed list",
                         until=lambda bits: bits == (1, 0), interval=0.05)
        reinstated = await stub.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
            credential_id=suspended_one.credential_id, reason="investigation closed"))
        assert not reinstated.status.suspended
        await eventually(lambda: _bits(h, suspended_one), 10, "reinstatement not in the signed list",
                         until=lambda bits: bits == (0, 0), interval=0.05)
        assert h.app.store is not None
        before = await h.app.store.credentials([suspended_one.credential_id, revoked_one.credential_id])
    finally:
        await h.close()
    # A new instance in the same group replays the three status events (their positions were never stored) over
    # the state they already made: nothing changes.
    again = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path / "second",
                                prefix=prefix, group=group)
    try:
        assert again.app.store is not None
        assert await again.app.store.credentials([suspended_one.credential_id, revoked_one.credential_id]) == before
        assert await _bits(again, suspended_one) == (0, 0)
        assert await _bits(again, revoked_one) == (1, 0)
    finally:
        await again.close()


async def _projector_stopped(h: Harness) -> bool:
    # the app keeps its background tasks to itself; the projector's is named for what it is
    return any(task.get_name() == "revocation-projector" and task.done() for task in h.app._tasks)
