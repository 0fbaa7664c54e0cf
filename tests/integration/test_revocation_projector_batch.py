"""The revocation projector applies a whole fetch in one transaction with the same effect as record by record.

The same event sequence (reservations, issued credentials, status changes, a record the projector ignores) is
applied to two read models on the session's Redis: one record at a time through ``handle``, and in uneven
batches through ``handle_batch``, one of them replayed (as after a rebalance). Both must end with identical
keys, values and positions; the replayed batch must change nothing.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any, cast

import pytest
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import events_pb2, registry_pb2, status_pb2
from microcred.kafka.consumer import Position
from microcred.kafka.publisher import Published
from microcred.kafka.topics import CREDENTIALS, STATUS
from services.revocation.adapters.store import RevocationStore
from services.revocation.events.projector import RevocationProjector
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration

Item = tuple[EventEnvelope, Message, Position]
REVOCATION, SUSPENSION = status_pb2.STATUS_PURPOSE_REVOCATION, status_pb2.STATUS_PURPOSE_SUSPENSION



def _item(payload: Message, topic: str, partition: int, offset: int, subject: str) -> Item:
    envelope = new_envelope(payload, subject=subject, tenant="agency-a", issuer_id="uni-a")
    return envelope, payload, Position(topic, partition, offset)


def _events() -> list[Item]:
    """Reservations, 30 issued credentials over two partitions, changes to some of them, an ignored event."""
    lists = {REVOCATION: "uni-a-revocation-0", SUSPENSION: "uni-a-suspension-0"}
    reserved = events_pb2.StatusIndexesReserved(reservation_id="r1", issuer_id="uni-a", blocks=[
        status_pb2.StatusIndexBlock(status_list_id=lists[p], status_purpose=p, indexes=range(p * 100, p * 100 + 30),
                                    status_list_credential=f"https://status.example/status/{lists[p]}")
        for p in (REVOCATION, SUSPENSION)])
    status_offset = 0
    items = [_item(reserved, STATUS.name, 0, status_offset, "uni-a")]
    credential_offsets = [0, 0]
    for n in range(30):
        partition = n % 2
        entries = [status_pb2.StatusEntry(status_list_id=lists[p], status_list_index=p * 100 + n, status_purpose=p,
                                          status_list_credential=f"https://status.example/status/{lists[p]}")
                   for p in (REVOCATION, SUSPENSION)]
        issued = events_pb2.CredentialIssued(credential_id=f"urn:uuid:{n:04d}", issuer_id="uni-a",
                                             status_entries=entries)
        items.append(_item(issued, CREDENTIALS.name, partition, credential_offsets[partition], issued.credential_id))
        credential_offsets[partition] += 1
        if n == 10:  # another issuer reusing an id (in the middle of a batch) takes nothing over: the first wins
            taken = events_pb2.CredentialIssued(credential_id="urn:uuid:0002", issuer_id="uni-b")
            items.append(_item(taken, CREDENTIALS.name, 0, credential_offsets[0], taken.credential_id))
            credential_offsets[0] += 1
    changes: list[Message] = [
        events_pb2.CredentialRevoked(credential_id="urn:uuid:0003", issuer_id="uni-a", actor="a", reason="fraud",
                                     status_list_id=lists[REVOCATION], status_list_index=103),
        events_pb2.CredentialSuspended(credential_id="urn:uuid:0004", issuer_id="uni-a", actor="a", reason="check",
                                       status_list_id=lists[SUSPENSION], status_list_index=204),
        events_pb2.CredentialSuspended(credential_id="urn:uuid:0005", issuer_id="uni-a", actor="a", reason="check",
                                       status_list_id=lists[SUSPENSION], status_list_index=205),
        events_pb2.CredentialReinstated(credential_id="urn:uuid:0004", issuer_id="uni-a", actor="a", reason="ok",
                                        status_list_id=lists[SUSPENSION], status_list_index=204),
        registry_pb2.Agency(agency_id="not-a-status-event"),  # ignored, but its position still counts
    ]
    for change in changes:
        status_offset += 1
        items.append(_item(change, STATUS.name, 0, status_offset, "urn:uuid:x"))
    return items


async def _dump(redis: Redis, prefix: str) -> dict[str, Any]:
    """Every key of a read model (its prefix replaced by ``P``) with its value, positions included."""
    out: dict[str, Any] = {}
    for pattern in (f"{prefix}:*", f"offsets:{prefix}:*"):
        async for raw in redis.scan_iter(match=pattern, count=1000):
            key = raw.decode()
            kind = (await redis.type(key)).decode()
            if kind == "hash":
                value: Any = await redis.hgetall(key)
            elif kind == "set":
                value = sorted(await redis.smembers(key))
            elif kind == "zset":
                value = await redis.zrange(key, 0, -1, withscores=True)
            else:
                value = await redis.get(key)
            out[key.replace(prefix, "P")] = value
    return out


async def test_batches_and_single_records_build_the_same_read_model(redis_clients: RedisClients) -> None:
    redis = cast("Redis", await redis_clients.new())
    events = _events()
    one, many = f"rev-one-{uuid.uuid4().hex[:8]}", f"rev-many-{uuid.uuid4().hex[:8]}"
    if redis_clients.topology == "cluster":  # the read model in one slot (docs/redis-keys.md)
        one, many = f"{{{one}}}", f"{{{many}}}"
    single_changes: set[str] = set()
    batch_changes: set[str] = set()
    single = RevocationProjector(RevocationStore(redis, one), on_lists_changed=single_changes.update)
    batched = RevocationProjector(RevocationStore(redis, many), on_lists_changed=batch_changes.update)
    try:
        for envelope, payload, position in events:
            await single.handle(envelope, payload, position)
        cuts = [0, 1, 10, 14, 29, len(events)]
        for start, end in itertools.pairwise(cuts):
            await batched.handle_batch(events[start:end])
        state = await _dump(redis, many)
        applied = batched.applied
        await batched.handle_batch(events[5:20])  # a redelivered fetch: already applied, changes nothing

        assert await _dump(redis, many) == state
        assert batched.applied == applied == single.applied == len(events)
        assert state == await _dump(redis, one)
        assert (await batched.store.credential("urn:uuid:0002")).issuer_id == "uni-a"  # type: ignore[union-attr]
        assert (await batched.store.credential("urn:uuid:0003")).revoked  # type: ignore[union-attr]
        assert (await batched.store.credential("urn:uuid:0005")).suspended  # type: ignore[union-attr]
        assert not (await batched.store.credential("urn:uuid:0004")).suspended  # type: ignore[union-attr]
        assert batch_changes == single_changes == {"uni-a-revocation-0", "uni-a-suspension-0"}
        for topic, partition, end in ((STATUS.name, 0, 5), (CREDENTIALS.name, 0, 15), (CREDENTIALS.name, 1, 14)):
            assert await batched.store.position(topic, partition) == end + 1
            assert await batched.tracker.wait([Published(topic, partition, end)], timeout=0.01)
    finally:
        for prefix in (one, many):
            keys = [k for p in (f"{prefix}:*", f"offsets:{prefix}:*") async for k in redis.scan_iter(match=p)]
            if keys:
                await redis.delete(*keys)
