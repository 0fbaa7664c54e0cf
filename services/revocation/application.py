"""Use cases of the revocation service: reserve indexes, change one or many credentials, read a status.

Each use case validates, authorizes and decides with the pure rules of :mod:`services.revocation.domain`,
publishes the resulting events to Kafka (the source of truth; acks=all) and waits until the projector has
applied them to Redis before answering, so the caller reads its own writes. Nothing is written for a request
that is refused: errors are raised as :class:`~services.revocation.domain.DomainError` before any event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Protocol

from microcred.errors import Unavailable
from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import events_pb2, status_pb2
from microcred.kafka.publisher import EventPublisher, Published
from microcred.kafka.topics import STATUS
from microcred.model.errors import OUT_OF_RANGE, REQUIRED, FieldViolation
from microcred.pki import ROLE_ISSUER, Identity
from microcred.registry.domain import certificate_pinned
from microcred.registry.ports import RegistryReader
from microcred.status.allocator import IndexAllocator
from services.revocation.domain import (
    LIST_SIZE,
    MAX_BLOCK_SIZE,
    MAX_BULK_ITEMS,
    Action,
    Change,
    CredentialRecord,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    ListMeta,
    NotFound,
    PermissionDenied,
    Purpose,
    StatusWrite,
    actor_of,
    authorize_change,
    authorize_read,
    authorize_reservation,
    authorize_supersede,
    decide,
    list_id_for,
    list_url_for,
    validate_change,
    validate_credential_id,
    validate_reason,
    validate_reservation,
    validate_supersede,
)

__all__ = ["BulkItem", "ItemResult", "ProjectionWait", "ReadModelGuard", "ReadModelUnavailable", "ReservedBlock",
           "RevocationCommands", "StatusEvent", "StatusState", "status_write"]

log = logging.getLogger(__name__)


StatusEvent = events_pb2.CredentialRevoked | events_pb2.CredentialSuspended | events_pb2.CredentialReinstated


def status_write(envelope: EventEnvelope, payload: StatusEvent, partition: int, offset: int) -> StatusWrite:
    """The read-model write of a status event at ``partition``/``offset`` of the status topic (the projector's
    and, once the event is on Kafka, the command side's)."""
    return StatusWrite(payload.status_list_id, payload.status_list_index,
                       not isinstance(payload, events_pb2.CredentialReinstated), payload.credential_id,
                       envelope.occurred_at.ToDatetime(tzinfo=UTC), payload.actor, payload.reason,
                       partition, offset)


class StatusState(Protocol):
    """Port: the read model of credentials and lists (:class:`~.adapters.store.RevocationStore` in Redis)."""

    async def credential(self, credential_id: str) -> CredentialRecord | None:
        """The credential's record, or None when unknown."""
        ...

    async def credentials(self, credential_ids: Sequence[str]) -> list[CredentialRecord | None]:
        """The records of ``credential_ids``, in order (None where unknown)."""
        ...

    async def list_meta(self, list_id: str) -> ListMeta | None:
        """A list's metadata, or None when no such list exists."""
        ...

    async def lists_of(self, issuer_id: str, purpose: str) -> list[tuple[str, int]]:
        """The issuer's lists of ``purpose``: (list id, number), oldest first."""
        ...

    async def used_count(self, list_id: str) -> int:
        """How many of the list's indexes are taken."""
        ...

    async def create_list(self, meta: ListMeta) -> tuple[bool, bool]:
        """Create the list unless it exists: (usable, created)."""
        ...

    async def used_bitmap(self, list_id: str) -> bytes:
        """The list's taken indexes as a bitmap."""
        ...

    async def claim(self, list_id: str, indexes: Sequence[int],
                    guard: tuple[str, bytes | str] | None = None) -> list[int]:
        """Claim the free ones of ``indexes`` atomically (refused while ``guard``'s sentinel has changed)."""
        ...

    async def apply_changes(self, changes: Sequence[StatusWrite]) -> None:
        """Write status changes whose events are on Kafka, in one transaction (a newer change of a bit wins)."""
        ...


class ProjectionWait(Protocol):
    """Port: waits until the projection has applied the given published events (read-your-writes)."""

    async def wait(self, published: Iterable[Published], timeout: float) -> bool:
        """True once every one is applied, False after ``timeout`` seconds."""
        ...


class ReadModelGuard(Protocol):
    """Port: whether the read model is complete (:class:`~microcred.storage.positions.ProjectionEpoch`)."""

    @property
    def key(self) -> str:
        """The sentinel's key, checked atomically with index claims."""
        ...

    async def ready(self) -> bytes | str | None:
        """The sentinel's token while the read model is complete and current, else None."""
        ...

#: The reason of a revocation by correction (CredentialRevoked.superseded_by names the replacement).
SUPERSEDED = "superseded"
_PROTO_PURPOSE = {Purpose.REVOCATION: status_pb2.STATUS_PURPOSE_REVOCATION,
                  Purpose.SUSPENSION: status_pb2.STATUS_PURPOSE_SUSPENSION}
_PUBLISH_CHUNK = 5_000
_CLAIM_ROUNDS = 8


@dataclass(frozen=True)
class ReservedBlock:
    """Indexes reserved in one list."""

    meta: ListMeta
    indexes: tuple[int, ...]


@dataclass(frozen=True)
class BulkItem:
    """One credential of a bulk request."""

    credential_id: str
    reason: str = ""


@dataclass(frozen=True)
class ItemResult:
    """The outcome for one bulk item: ``error`` is None when the credential is in the requested state."""

    credential_id: str
    error: DomainError | None = None


class ReadModelUnavailable(Unavailable):
    """The read model was lost (Redis wiped) and is being rebuilt from Kafka; retry shortly (UNAVAILABLE)."""


class NotYetRead(Unavailable):
    """A credential is unknown, and the service could not read the credentials topic to its end in time to be
    sure that it was never issued: retry shortly (UNAVAILABLE, never a NOT_FOUND that may be wrong)."""


class RevocationCommands:
    """The application service behind the gRPC API.

    With a ``guard`` (the projection's :class:`~microcred.storage.positions.ProjectionEpoch`) every command first
    checks that the read model is intact and not being rebuilt, and index claims re-check it atomically: on a
    wiped Redis every index looks free and every credential unknown, so answering then would hand out indexes
    twice or refuse with NOT_FOUND.
    """

    def __init__(self, store: StatusState, events: EventPublisher, tracker: ProjectionWait, *,
                 base_url: str, ensure_published: Callable[[Sequence[str]], Awaitable[object]] | None = None,
                 max_block_size: int = MAX_BLOCK_SIZE, max_bulk_items: int = MAX_BULK_ITEMS,
                 projection_wait_seconds: float = 10.0, guard: ReadModelGuard | None = None,
                 registry: RegistryReader | None = None,
                 registry_available: Callable[[], Awaitable[bool]] | None = None, list_size: int = LIST_SIZE,
                 on_lists_changed: Callable[[set[str]], None] | None = None,
                 credential_ends: Callable[[], Awaitable[Sequence[Published]]] | None = None,
                 unknown_wait_seconds: float = 2.0) -> None:
        """``registry`` (the trust registry's read side) holds the issuers' pinned certificate fingerprints;
        None skips that check (unit tests of the rules). ``registry_available`` is False while it rebuilds.
        ``list_size``: entries of each *new* list (an existing list keeps the size it was created with).
        ``on_lists_changed``: told the lists a status change wrote (the publisher, to re-sign them).
        ``credential_ends``: the last record of each partition of the credentials topic, now; with it, a
        credential not found is looked up again once the projection applied them (up to
        ``unknown_wait_seconds``), see :meth:`_records`. None: not found is final at once (unit tests)."""
        self.store = store
        self.registry = registry
        self.registry_available = registry_available
        self.events = events
        self.tracker = tracker
        self.base_url = base_url
        self.ensure_published = ensure_published
        self.max_block_size = max_block_size
        self.max_bulk_items = max_bulk_items
        self.list_size = list_size
        self.projection_wait_seconds = projection_wait_seconds
        self.guard = guard
        self.on_lists_changed = on_lists_changed
        self.credential_ends = credential_ends
        self.unknown_wait_seconds = unknown_wait_seconds
        self._reserve_locks: defaultdict[tuple[str, Purpose], asyncio.Lock] = defaultdict(asyncio.Lock)

    # -------------------------------------------------------------------------------- caller

    async def authenticate(self, identity: Identity, certificate_sha256: str) -> None:
        """Check an issuer's client certificate against the trust registry, as issuance does.

        The CA vouches for the names in a certificate; the registry may pin *which* certificates an issuer
        uses (``client_certificate_sha256``). A pinned issuer calling with any other certificate (the right
        CN, another key) is PERMISSION_DENIED, and so is a certificate naming another agency than the
        issuer's. Issuers the registry does not hold, and other roles, are authorised by their names alone
        (an unregistered issuer cannot have issued anything). While the registry is rebuilt: UNAVAILABLE.
        """
        if self.registry is None or identity.role != ROLE_ISSUER:
            return
        if self.registry_available is not None and not await self.registry_available():
            raise ReadModelUnavailable("the trust registry read model is being rebuilt from Kafka; retry shortly")
        issuer = await self.registry.get_issuer(identity.subject_id)
        if issuer is None:
            return
        if issuer.agency_id and issuer.agency_id != identity.agency_id:
            raise PermissionDenied(f"the client certificate names agency {identity.agency_id!r}, but issuer "
                                   f"{identity.subject_id!r} belongs to {issuer.agency_id!r}")
        if not certificate_pinned(issuer, certificate_sha256):
            log.warning("unpinned issuer certificate refused", extra={"issuer_id": identity.subject_id,
                                                                      "certificate_sha256": certificate_sha256})
            raise PermissionDenied(f"the client certificate is not registered for issuer {identity.subject_id!r}")

    # -------------------------------------------------------------------------------- reservations

    async def reserve(self, identity: Identity, issuer_id: str, purposes: Sequence[Purpose | None],
                      count: int) -> tuple[str, list[ReservedBlock]]:
        """Reserve ``count`` random, never-used indexes per purpose; return the reservation id and blocks.

        The ``StatusIndexesReserved`` event is durable and projected before this returns, so a replay after
        a Redis wipe knows these indexes are taken.
        """
        validate_reservation(issuer_id, purposes, count, self.max_block_size)
        authorize_reservation(identity, issuer_id)
        guard = await self._require_read_model()
        blocks: list[ReservedBlock] = []
        created: list[str] = []
        for purpose in purposes:
            assert purpose is not None  # validated above
            block, new = await self._reserve_block(issuer_id, purpose, count, guard)
            blocks.append(block)
            if new:
                created.append(block.meta.list_id)
        reservation_id = str(uuid.uuid4())
        payload = events_pb2.StatusIndexesReserved(reservation_id=reservation_id, issuer_id=issuer_id, blocks=[
            status_pb2.StatusIndexBlock(status_list_id=b.meta.list_id, status_purpose=_PROTO_PURPOSE[Purpose(
                b.meta.purpose)], status_list_credential=b.meta.url, indexes=list(b.indexes),
                status_list_size=b.meta.size) for b in blocks])
        tenant = identity.agency_id if identity.role == "issuer" else ""
        envelope = new_envelope(payload, subject=issuer_id, tenant=tenant, issuer_id=issuer_id)
        published = await self.events.publish(STATUS.name, issuer_id, envelope)
        await self._wait_projected([published])
        if created and self.ensure_published is not None:
            await self.ensure_published(created)
        log.info("status indexes reserved", extra={"issuer_id": issuer_id, "count": count,
                                                   "lists": [b.meta.list_id for b in blocks]})
        return reservation_id, blocks

    async def _records(self, credential_ids: Sequence[str]) -> list[CredentialRecord | None]:
        """The credentials' records, read your writes: a credential the issuer was just answered for is on Kafka
        but may not be applied yet (the projection fetches in batches). So when one is missing, wait until every
        record on the credentials topic *now* is applied, and look again; only then is it unknown. Could not
        tell in time (Kafka unreachable, the projection stuck): :class:`NotYetRead`."""
        records = await self.store.credentials(credential_ids)
        if self.credential_ends is None or all(record is not None for record in records):
            return records
        try:  # one deadline for both steps (the bound the README states)
            async with asyncio.timeout(self.unknown_wait_seconds):
                caught_up = await self.tracker.wait(await self.credential_ends(), self.unknown_wait_seconds)
        except Exception as exc:  # Kafka unreachable or slow: whatever it was, we cannot tell
            raise NotYetRead("cannot tell yet whether the credential was issued; retry shortly") from exc
        if not caught_up:
            raise NotYetRead("the revocation service has not yet read every issued credential; retry shortly")
        return await self.store.credentials(credential_ids)

    async def _require_read_model(self) -> tuple[str, bytes | str] | None:
        """The guard's (sentinel key, token) while the read model is usable; raise while it is lost/rebuilding."""
        if self.guard is None:
            return None
        token = await self.guard.ready()
        if token is None:
            raise ReadModelUnavailable("the revocation read model is being rebuilt from Kafka; retry shortly")
        return self.guard.key, token

    async def _reserve_block(self, issuer_id: str, purpose: Purpose, count: int,
                             guard: tuple[str, bytes | str] | None = None) -> tuple[ReservedBlock, bool]:
        async with self._reserve_locks[(issuer_id, purpose)]:
            lists = await self.store.lists_of(issuer_id, purpose.value)
            number = lists[-1][1] if lists else 0
            created = False
            meta = (await self.store.list_meta(lists[-1][0])) if lists else None
            for _ in range(64):
                if meta is None or meta.size - await self.store.used_count(meta.list_id) < count:
                    if meta is not None:
                        number += 1
                    meta, created = await self._new_list(issuer_id, purpose, number)
                    if meta is None:
                        number += 1
                        continue
                won = await self._claim(meta, count, guard)
                if won is not None:
                    return ReservedBlock(meta, tuple(won)), created
                # Another instance took what was left: the rest of this list stays unused (never reused).
            raise FailedPrecondition(f"could not open a status list for issuer {issuer_id!r}")

    async def _new_list(self, issuer_id: str, purpose: Purpose, number: int) -> tuple[ListMeta | None, bool]:
        list_id = list_id_for(issuer_id, purpose, number)
        meta = ListMeta(list_id, issuer_id, purpose.value, list_url_for(self.base_url, list_id), number,
                        self.list_size)
        usable, created = await self.store.create_list(meta)
        if not usable:
            return None, False
        return (meta if created else await self.store.list_meta(list_id)), created

    async def _claim(self, meta: ListMeta, count: int,
                     guard: tuple[str, bytes | str] | None = None) -> list[int] | None:
        """Claim ``count`` random free indexes of the list, or None when it no longer has that many."""
        won: list[int] = []
        for _ in range(_CLAIM_ROUNDS):
            allocator = IndexAllocator(meta.size, await self.store.used_bitmap(meta.list_id))
            if allocator.available < count - len(won):
                return None
            won += await self.store.claim(meta.list_id, allocator.reserve(count - len(won)), guard)
            if len(won) == count:
                return won
        return None

    # ------------------------------------------------------------------------------ status changes

    async def change(self, identity: Identity, action: Action, credential_id: str,
                     reason: str) -> CredentialRecord:
        """Revoke, suspend or reinstate one credential; return its status afterwards."""
        validate_change(credential_id, reason)
        await self._require_read_model()
        [record] = await self._records([credential_id])
        if record is None:
            raise NotFound(f"credential {credential_id!r} is not known to the revocation service")
        authorize_change(identity, record, action)
        outcome = decide(action, record)
        if not isinstance(outcome, Change):
            return record
        await self._check_list(record, outcome, {})
        event = self._event(identity, record, outcome, reason)
        published = await self.events.publish(STATUS.name, credential_id, event[1])
        await self._write_changes([event], [published])
        log.info("credential status changed", extra={"credential_id": credential_id, "action": action.value,
                                                     "actor": actor_of(identity)})
        return await self.store.credential(credential_id) or record

    async def supersede(self, identity: Identity, credential_id: str, superseded_by: str, issuer_id: str,
                        actor: str) -> CredentialRecord:
        """Revoke ``credential_id`` with reason "superseded" because ``superseded_by`` replaced it (a correction).

        The event's actor is the issuer the calling service authenticated; revoking a revoked credential
        changes nothing (the correction's retries), as with :meth:`change`.
        """
        validate_supersede(credential_id, superseded_by, issuer_id, actor)
        await self._require_read_model()
        [record] = await self._records([credential_id])
        if record is None:
            raise NotFound(f"credential {credential_id!r} is not known to the revocation service")
        authorize_supersede(identity, record, issuer_id)
        outcome = decide(Action.REVOKE, record)
        if not isinstance(outcome, Change):
            return record
        await self._check_list(record, outcome, {})
        event = self._event(identity, record, outcome, SUPERSEDED, superseded_by=superseded_by, actor=actor)
        published = await self.events.publish(STATUS.name, credential_id, event[1])
        await self._write_changes([event], [published])
        log.info("credential superseded", extra={"credential_id": credential_id, "superseded_by": superseded_by,
                                                 "actor": actor})
        return await self.store.credential(credential_id) or record

    async def change_many(self, identity: Identity, action: Action, items: Sequence[BulkItem],
                          default_reason: str) -> list[ItemResult]:
        """Apply ``action`` to many credentials; one result per item, in request order.

        Items are independent: a refused item changes nothing and does not stop the others. An item that
        names a credential already in the requested state succeeds without a new event.
        """
        if not items:
            raise InvalidArgument([FieldViolation("items", "name at least one credential", REQUIRED)])
        if len(items) > self.max_bulk_items:
            raise InvalidArgument([FieldViolation("items", f"at most {self.max_bulk_items} per request",
                                                  OUT_OF_RANGE)])
        await self._require_read_model()
        records = await self._records([item.credential_id for item in items])
        metas: dict[str, ListMeta | None] = {}
        results: list[ItemResult] = []
        batch: list[tuple[str, EventEnvelope]] = []
        changes: list[tuple[StatusEvent, EventEnvelope]] = []
        seen: set[str] = set()
        for i, (item, record) in enumerate(zip(items, records, strict=True)):
            reason = item.reason or default_reason
            try:
                violations = (validate_credential_id(item.credential_id, f"items[{i}].credential_id")
                              + validate_reason(reason, f"items[{i}].reason"))
                if violations:
                    raise InvalidArgument(violations)
                if record is None:
                    raise NotFound(f"credential {item.credential_id!r} is not known to the revocation service")
                authorize_change(identity, record, action)
                outcome = decide(action, record)
                if isinstance(outcome, Change) and item.credential_id not in seen:
                    await self._check_list(record, outcome, metas)
                    changes.append(self._event(identity, record, outcome, reason))
                    batch.append((item.credential_id, changes[-1][1]))
                    seen.add(item.credential_id)
                results.append(ItemResult(item.credential_id))
            except DomainError as exc:
                results.append(ItemResult(item.credential_id, exc))
        published: list[Published] = []
        for start in range(0, len(batch), _PUBLISH_CHUNK):
            published += await self.events.publish_many(STATUS.name, batch[start:start + _PUBLISH_CHUNK])
        if published:
            await self._write_changes(changes, published)
        log.info("bulk status change", extra={"action": action.value, "items": len(items), "events": len(batch),
                                              "actor": actor_of(identity)})
        return results

    async def status(self, identity: Identity, credential_id: str) -> CredentialRecord:
        """The current status of one credential."""
        violations = validate_credential_id(credential_id)
        if violations:
            raise InvalidArgument(violations)
        await self._require_read_model()
        [record] = await self._records([credential_id])
        if record is None:
            raise NotFound(f"credential {credential_id!r} is not known to the revocation service")
        authorize_read(identity, record)
        return record

    # ------------------------------------------------------------------------------------- helpers

    async def _check_list(self, record: CredentialRecord, change: Change,
                          metas: dict[str, ListMeta | None]) -> None:
        list_id = change.entry.list_id
        if list_id not in metas:
            metas[list_id] = await self.store.list_meta(list_id)
        meta = metas[list_id]
        if meta is None or meta.issuer_id != record.issuer_id or meta.purpose != change.entry.purpose:
            raise FailedPrecondition(f"the {change.entry.purpose} entry of credential {record.credential_id!r} "
                                     f"names list {list_id!r}, which this service did not reserve for its issuer")
        if not 0 <= change.entry.index < meta.size:
            raise FailedPrecondition(f"status index {change.entry.index} is outside list {list_id!r}")

    def _event(self, identity: Identity, record: CredentialRecord, change: Change, reason: str, *,
               superseded_by: str = "", actor: str = "") -> tuple[StatusEvent, EventEnvelope]:
        """The status event of ``change``: its payload, and the envelope that carries it."""
        kind = {Action.REVOKE: events_pb2.CredentialRevoked, Action.SUSPEND: events_pb2.CredentialSuspended,
                Action.REINSTATE: events_pb2.CredentialReinstated}[change.action]
        payload = kind(credential_id=record.credential_id, issuer_id=record.issuer_id,
                       actor=actor or actor_of(identity), reason=reason, status_list_id=change.entry.list_id,
                       status_list_index=change.entry.index)
        if superseded_by:
            assert isinstance(payload, events_pb2.CredentialRevoked)
            payload.superseded_by = superseded_by
        envelope = new_envelope(payload, subject=record.credential_id, tenant=record.tenant,
                                issuer_id=record.issuer_id)
        if actor:  # the issuer the calling service acted for, not the service itself
            envelope.actor = actor
        return payload, envelope

    async def _write_changes(self, events: Sequence[tuple[StatusEvent, EventEnvelope]],
                             published: Sequence[Published]) -> None:
        """Write the changes whose events Kafka now holds into the read model, and queue their lists for signing.

        Not left to the projector alone: its partition may belong to a replica that just died, and nobody applies
        it until the consumer group notices (seconds), while a revocation must be seen within one. Each write
        carries its event's position, so the projector's later write of the same event changes nothing and an
        older change never overwrites a newer one (adapters/store.py). Should the write fail (Redis slow or
        away), the events are durable and the projector applies them: then wait for it, as before.
        """
        writes = [status_write(envelope, payload, at.partition, at.offset)
                  for (payload, envelope), at in zip(events, published, strict=True)]
        try:
            await self.store.apply_changes(writes)
        except Exception:  # any failure of the read model's store; the change itself is already durable
            log.warning("status changes not written ahead; waiting for the projector", exc_info=True,
                        extra={"events": len(writes)})
            await self._wait_projected(published, scale=len(published))
            return
        if self.on_lists_changed is not None:
            self.on_lists_changed({write.list_id for write in writes})

    async def _wait_projected(self, published: Sequence[Published], scale: int = 1) -> None:
        timeout = self.projection_wait_seconds * max(1.0, scale / 1000)
        if not await self.tracker.wait(published, timeout):
            # The events are durable and will be applied; only read-your-writes is late. Say so loudly.
            log.warning("events not yet projected; answering anyway", extra={"events": len(published),
                                                                             "waited_s": timeout})
