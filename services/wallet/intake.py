"""Intake: the wallet's projection of credential, status and pathway events (consumer group
``microcred-wallet``).

:meth:`WalletIntake.handle` is the ``ConsumerRunner`` handler. Each record's state change and its Kafka
position are written in one Redis ``MULTI`` (:func:`~microcred.storage.positions.apply_at_position`): a
redelivered record is skipped, and every write is idempotent anyway, so a duplicate event at another offset
leaves the same state. With an empty Redis there are no positions, the runner starts at the beginning of each
topic, and the read model is rebuilt by replay.

=======================  ==========================================================================
CredentialIssued         file the signed credential under its subject DID and hashed e-mail identifiers
CredentialRevoked        status REVOKED (permanent)
CredentialSuspended      status SUSPENDED
CredentialReinstated     status ACTIVE again (unless revoked)
PathwayPublished         store the pathway
anything else            position only (e.g. our own PathwayCompleted, status-list events)
=======================  ==========================================================================

After the write, a policy step looks for accounts the change concerns and checks their pathways, publishing
``PathwayCompleted`` once per (pathway, learner). The policy runs for duplicates too (it is idempotent), so a
crash between the write and the publication is repaired on redelivery.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import Position
from microcred.storage.positions import apply_at_position, stored_position
from services.wallet.accounts import Accounts
from services.wallet.domain import HeldCredential, Source
from services.wallet.elements import elements_from_event, identity_from_event, issuer_of
from services.wallet.holdings import PathwayCompletions
from services.wallet.pathway_codec import InvalidPathway, pathway_from_event
from services.wallet.store import CredentialStore, StatusChange

log = logging.getLogger(__name__)


class UnusableEvent(Exception):
    """An event that can never be applied (goes to the dead-letter topic with this message)."""

    retriable = False


def _no_write(_: Pipeline) -> None:
    return None


def issued_credential(event: events_pb2.CredentialIssued, envelope_issuer: str = "",
                      index_key: bytes | None = None) -> HeldCredential:
    """The held credential a ``CredentialIssued`` event describes; :class:`UnusableEvent` if it has none."""
    try:
        document = json.loads(event.credential_json)
    except ValueError:
        raise UnusableEvent("credential_json is not JSON") from None
    if not isinstance(document, dict):
        raise UnusableEvent("credential_json is not a JSON object")
    credential_id = event.credential_id or document.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        raise UnusableEvent("the event names no credential id")
    return HeldCredential(
        credential_id=credential_id, issuer_id=event.issuer_id or envelope_issuer or issuer_of(document) or "",
        issuer_did=issuer_of(document), elements=elements_from_event(event, document),
        subject=identity_from_event(event, document, index_key), source=Source.ISSUED, document=document,
    )


class WalletIntake:
    """Applies events to the read model and runs the completion policy."""

    def __init__(self, redis: Redis, projection: str, store: CredentialStore, accounts: Accounts,
                 completions: PathwayCompletions | None) -> None:
        self.redis, self.projection, self.store = redis, projection, store
        self.accounts, self.completions = accounts, completions
        self.applied = 0

    async def stored_position(self, topic: str, partition: int) -> int | None:
        """Where the runner resumes ``topic/partition`` (None: from the beginning)."""
        return await stored_position(self.redis, self.projection, topic, partition)

    async def _apply(self, position: Position, write: Callable[[Pipeline], Any]) -> None:
        if await apply_at_position(self.redis, self.projection, position, write):
            self.applied += 1

    async def handle(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """The ``ConsumerRunner`` handler."""
        if isinstance(payload, events_pb2.CredentialIssued):
            await self._issued(envelope, payload, position)
        elif isinstance(payload, events_pb2.CredentialRevoked):
            change = StatusChange(payload.credential_id, revoked=True, reason=payload.reason)
            await self._apply(position, lambda pipe: self.store.write_status(pipe, change))
        elif isinstance(payload, events_pb2.CredentialSuspended):
            change = StatusChange(payload.credential_id, suspended=True, reason=payload.reason)
            await self._apply(position, lambda pipe: self.store.write_status(pipe, change))
        elif isinstance(payload, events_pb2.CredentialReinstated):
            change = StatusChange(payload.credential_id, suspended=False, reason=payload.reason)
            await self._apply(position, lambda pipe: self.store.write_status(pipe, change))
            await self._after_status(payload.credential_id)
        elif isinstance(payload, events_pb2.PathwayPublished):
            await self._pathway(payload, position)
        else:
            await self._apply(position, _no_write)

    async def _issued(self, envelope: EventEnvelope, event: events_pb2.CredentialIssued, position: Position) -> None:
        credential = issued_credential(event, envelope.issuer_id, self.store.index_key)
        unconfirmed = () if credential.subject.email_index else credential.subject.email_hashes()
        new_salts = {h.salt for h in unconfirmed if not await self.store.salt_known(h.salt)}
        await self._apply(position, lambda pipe: self.store.write_issued(pipe, credential))
        for salt in sorted(new_salts):
            await self.accounts.link_new_salt(salt)
        if self.completions is not None:
            owners = await self.accounts.owners(credential.subject)
            if owners:
                pathways = await self.store.pathways_for([credential.elements.achievement_id])
                await self.completions.check(owners, pathways)

    async def _after_status(self, credential_id: str) -> None:
        if self.completions is None:
            return
        held = await self.store.load([credential_id])
        if not held:
            return
        owners = await self.accounts.owners(held[0].subject)
        if owners:
            await self.completions.check(owners, await self.store.pathways_for([held[0].elements.achievement_id]))

    async def _pathway(self, event: events_pb2.PathwayPublished, position: Position) -> None:
        try:
            pathway = pathway_from_event(event)
        except InvalidPathway as exc:
            raise UnusableEvent(f"PathwayPublished {event.pathway_id!r}: {exc}") from None
        await self._apply(position, lambda pipe: self.store.write_pathway(pipe, pathway))
        if self.completions is None or not pathway.required_achievement_ids:
            return  # an ECTS-only pathway could concern anyone: it is evaluated when learners look at it
        owners: set[str] = set()
        for credential in await self.store.load(sorted(await self.store.ids_for_achievements(
                pathway.required_achievement_ids))):
            owners |= await self.accounts.owners(credential.subject)
        await self.completions.check(owners, [pathway])
