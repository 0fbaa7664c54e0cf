"""Intake: the wallet's projection of credential, status, pathway and its own wallet events (consumer group
``microcred-wallet``).

:meth:`WalletIntake.handle_batch` is the ``ConsumerRunner`` batch handler: a whole fetch is decoded
(:mod:`services.wallet.events.changes`) and written with its Kafka positions in one Redis ``MULTI``
(:mod:`services.wallet.events.projection`); :meth:`WalletIntake.handle` does the same for one record. A redelivered
record is skipped, and every write is idempotent anyway, so a duplicate event at another offset leaves the same
state. With an empty Redis there are no positions, the runner starts at the beginning of each topic, and the
read model is rebuilt by replay, the learners' accounts, holder keys and share links included.

=======================  ==========================================================================
CredentialIssued         file the signed credential under its subject DID and hashed e-mail identifiers
CredentialRevoked        status REVOKED (permanent)
CredentialSuspended      status SUSPENDED
CredentialReinstated     status ACTIVE again (unless revoked)
PathwayPublished         store the pathway
PathwayCompleted         mark (pathway, learner) announced (our own event)
LearnerErased            drop the erased learner's credentials and offers (their sealed events no longer open)
(tombstone)              a deleted account's record on the wallet topic: drop what its key named
CredentialOfferCreated   the offer (its learner part opened) under the learner's e-mail and DID
CredentialOffer{Redeemed,Withdrawn,Expired}  the offer closed
WalletAccountLinked      the account and its verified e-mail (opened with the KEK), e-mail/hash owners
HolderKeyCreated         the holder DID, its owner and its key id in the encrypted key store
CredentialBound          the binding
CredentialImported       the imported credential in the account
WalletDeferredCredential a deferred OpenID4VCI issuance the account waits for (sealed)
ShareLinkCreated/...     the full link (withdrawn or not), its TTL and the account's index
anything else            position only (e.g. status-list events)
=======================  ==========================================================================

After the write, a policy step looks for accounts the batch's credentials concern and checks their pathways,
publishing ``PathwayCompleted`` once per (pathway, learner). The policy runs for duplicates too (it is
idempotent), so a crash between the write and the publication is repaired on redelivery.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import cast

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import ConsumerRunner, Position, StateGuard
from microcred.kafka.topics import CREDENTIALS, PATHWAYS, STATUS, WALLET, TopicSpec
from microcred.privacy.events import EventPrivacy
from microcred.storage.positions import ProjectionEpoch, apply_batch_at_positions, stored_position
from microcred.storage.slot_groups import GroupEpochs, IdlePositions, each_group
from services.wallet.adapters.account_state import AccountState
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.holdings import PathwayCompletions, completed_key
from services.wallet.adapters.pending_offers import PendingOffers
from services.wallet.adapters.sealing import Sealer
from services.wallet.adapters.share_links import ShareLinks
from services.wallet.adapters.store import CredentialStore
from services.wallet.domain.credentials import HeldCredential, StatusChange
from services.wallet.events.changes import (
    Change,
    Issued,
    Nothing,
    PathwayDefined,
    UnusableEvent,
    change_of,
    issued_credential,
)
from services.wallet.events.erasure import WalletRecordDeletion, drop_credentials
from services.wallet.events.projection import BatchWrite

__all__ = ["WALLET_TOPICS", "UnusableEvent", "WalletIntake", "build_intake", "issued_credential", "wallet_guard"]

#: The topics the wallet projects (it produces to the last two as well).
WALLET_TOPICS: tuple[TopicSpec, ...] = (CREDENTIALS, STATUS, PATHWAYS, WALLET)
#: How long withdrawn/expired links answer 410 before they are forgotten (the settings' default).
DEFAULT_GONE_RETENTION = 7 * 24 * 3600  # as Settings.share_gone_retention_seconds


class WalletIntake:
    """Applies events to the read model and runs the completion policy."""

    def __init__(self, redis: Redis, projection: str, store: CredentialStore, accounts: Accounts,
                 completions: PathwayCompletions | None, *, shares: ShareLinks | None = None,
                 sealer: Sealer | None = None, privacy: EventPrivacy | None = None,
                 documents: GroupEpochs | None = None) -> None:
        # ``documents``: the slot groups' positions and sentinels when the store's records are spread (a
        # cluster), the core's (``projection``) among them; None: one projection, one transaction per batch.
        self.redis, self.projection, self.store, self.documents = redis, projection, store, documents
        self._idle = None if documents is None else IdlePositions(redis, documents.names,
                                                                 generation=lambda: documents.resets)
        self.privacy = privacy  # opens the learners' sealed personal data (docs/privacy.md)
        self.accounts, self.completions, self.sealer = accounts, completions, sealer
        self.shares = shares or ShareLinks(redis, projection, DEFAULT_GONE_RETENTION)
        self.state = AccountState(accounts.keys, store)
        self.offers = PendingOffers(redis, store.prefix, store.index_key)
        self.applied = 0

    async def stored_position(self, topic: str, partition: int) -> int | None:
        """Where the runner resumes ``topic/partition`` (None: from the beginning; the lowest of the parts'
        positions when the records are spread)."""
        if self.documents is not None:
            return await self.documents.position(topic, partition)
        return await stored_position(self.redis, self.projection, topic, partition)

    async def idle(self, owned: Collection[tuple[str, int]]) -> None:
        """The ``ConsumerRunner``'s idle handler (a fetch brought nothing): the slot groups' held-back positions
        of the ``owned`` partitions are written, so that an idle wallet's positions reach what it applied."""
        if self._idle is not None:
            await self._idle.flush(owned)

    async def handle(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """The ``ConsumerRunner`` handler (one record)."""
        await self.handle_batch([(envelope, payload, position)])

    async def handle_batch(self, items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        """The ``ConsumerRunner`` batch handler: decode all, write all in one transaction, then the policy."""
        items, erased = await self._opened(items)
        # LearnerErased: drop the learner's credentials first (idempotent; see services.wallet.events.erasure).
        gone = [cid for _, payload, _ in items if isinstance(payload, events_pb2.LearnerErased)
                for cid in payload.credential_ids]
        if gone:
            await drop_credentials(self.store, gone)
        for _, payload, _ in items:
            if isinstance(payload, events_pb2.LearnerErased) and payload.learner_pseudonym:
                await self.offers.drop_learner(payload.learner_pseudonym)
        # An erased learner's credential (data key destroyed) is dropped, not dead-lettered: only the position moves.
        changes = [Nothing() if gone else change_of(envelope, payload, self.store.index_key, self.sealer)
                   for (envelope, payload, _), gone in zip(items, erased, strict=True)]
        positions = [p for _, _, p in items]
        if self.documents is not None:  # the records first: an index never names a record not yet written
            await self._write_documents(positions, changes)
        write = BatchWrite(self.store, self.state, self.shares, completed_key(self.projection), changes, self.offers)
        fresh = await apply_batch_at_positions(self.redis, self.projection, positions, write.queue, write.prepare,
                                               write.watch)
        self.applied += len(fresh)
        await self._policy(changes)

    async def _write_documents(self, positions: list[Position], changes: Sequence[Change]) -> None:
        """Each slot group's new records of the batch with the batch's positions, in one transaction of the
        group's slot (every group takes the positions, so the lowest one moves on); a group already past a
        record skips it."""
        documents, idle = self.documents, self._idle
        assert documents is not None and idle is not None
        groups = documents.groups
        touched = {groups.group_of(c.credential.credential_id) for c in changes if isinstance(c, Issued)}
        ends: dict[tuple[str, int], int] = {}
        for p in positions:
            ends[(p.topic, p.partition)] = max(ends.get((p.topic, p.partition), -1), p.offset)

        async def write_group(group: int) -> None:
            if group not in touched:  # nothing to keep atomic with the position: moved now and then
                for (topic, partition), offset in ends.items():
                    await idle.untouched(group, Position(topic, partition, offset))
                return

            def queue(pipe: Pipeline, fresh: list[int]) -> None:
                for i in fresh:
                    change = changes[i]
                    if isinstance(change, Issued) and groups.group_of(change.credential.credential_id) == group:
                        self.store.write_document(pipe, change.credential)

            await apply_batch_at_positions(self.redis, documents.names[group], positions, queue)
            for (topic, partition), offset in ends.items():
                idle.touched(group, Position(topic, partition, offset))

        await each_group(write_group(g) for g in groups.groups)

    async def _opened(self, items: Sequence[tuple[EventEnvelope, Message, Position]]
                      ) -> tuple[list[tuple[EventEnvelope, Message, Position]], list[bool]]:
        """The items with every sealed ``CredentialIssued``, ``CredentialImported`` and ``CredentialOfferCreated``
        opened, and which of them are erased."""
        out, erased = list(items), [False] * len(items)
        sealed = [i for i, (_, payload, _) in enumerate(items)
                  if isinstance(payload, events_pb2.CredentialIssued) and payload.sealed_personal]
        imported = [i for i, (_, payload, _) in enumerate(items)
                    if isinstance(payload, events_pb2.CredentialImported) and payload.sealed_personal]
        offered = [i for i, (_, payload, _) in enumerate(items)
                   if isinstance(payload, events_pb2.CredentialOfferCreated) and payload.sealed_personal]
        if not sealed and not imported and not offered:
            return out, erased
        if self.privacy is None:
            raise UnusableEvent("sealed personal data and no privacy key to open it")
        def put(at: list[int], results: Iterable[tuple[Message, bool]]) -> None:
            for i, (payload, gone) in zip(at, results, strict=True):
                out[i] = (items[i][0], payload, items[i][2])
                erased[i] = gone

        if sealed:
            opened = await self.privacy.open([(items[i][0], cast(events_pb2.CredentialIssued, items[i][1]))
                                              for i in sealed])
            put(sealed, ((result.payload, result.erased) for result in opened))
        if imported:
            put(imported, await self.privacy.open_imported(
                [(items[i][0], cast(events_pb2.CredentialImported, items[i][1])) for i in imported]))
        if offered:
            put(offered, await self.privacy.open_imported(
                [(items[i][0], cast(events_pb2.CredentialOfferCreated, items[i][1])) for i in offered]))
        return out, erased

    async def _policy(self, changes: Sequence[Change]) -> None:
        if self.completions is None:
            return
        credentials: list[HeldCredential] = [c.credential for c in changes if isinstance(c, Issued)]
        reinstated = sorted({c.credential_id for c in changes if isinstance(c, StatusChange) and c.suspended is False})
        if reinstated:
            credentials += await self.store.load(reinstated)
        achievements: dict[str, set[str | None]] = {}
        for credential, owners in zip(credentials, await self.accounts.owners_of([c.subject for c in credentials]),
                                      strict=True):
            for owner in owners:
                achievements.setdefault(owner, set()).add(credential.elements.achievement_id)
        # One evaluation per learner per batch (not per credential): a cohort replays in seconds.
        for owner, achievement_ids in sorted(achievements.items(), key=lambda item: item[0]):
            await self.completions.check({owner}, await self.store.pathways_for(achievement_ids))
        for change in changes:
            if isinstance(change, PathwayDefined) and change.pathway.required_achievement_ids:
                await self._pathway_policy(change)

    async def _pathway_policy(self, change: PathwayDefined) -> None:
        # An ECTS-only pathway could concern anyone: it is evaluated when learners look at it.
        assert self.completions is not None
        held = await self.store.load(sorted(await self.store.ids_for_achievements(
            change.pathway.required_achievement_ids)))
        owners: set[str] = set()
        for found in await self.accounts.owners_of([c.subject for c in held]):
            owners |= found
        await self.completions.check(owners, [change.pathway])


def build_intake(redis: Redis, prefix: str, index_key: bytes, bootstrap: str, group: str, topics: Sequence[str], *,
                 sealer: Sealer | None = None, completions: PathwayCompletions | None = None,
                 shares: ShareLinks | None = None, store: CredentialStore | None = None,
                 accounts: Accounts | None = None, epoch: StateGuard | None = None,
                 privacy: EventPrivacy | None = None) -> tuple[WalletIntake, ConsumerRunner]:
    """The wallet's intake and the ``ConsumerRunner`` that feeds it whole fetches, wired as the service does
    (``epoch``: the guard, :func:`wallet_guard` of the store when not given)."""
    store = store or CredentialStore(redis, prefix, index_key)
    accounts = accounts or Accounts(redis, prefix, store)
    epoch = epoch or wallet_guard(redis, prefix, store)
    intake = WalletIntake(redis, prefix, store, accounts, completions, shares=shares, sealer=sealer, privacy=privacy,
                          documents=epoch if isinstance(epoch, GroupEpochs) else None)
    # A deleted wallet account leaves tombstones on the compacted wallet topic: applied, never dead-lettered.
    deletion = WalletRecordDeletion(redis, prefix, accounts.keys, store, intake.shares.key,
                                    intake.shares.mark_deleted)
    runner = ConsumerRunner(bootstrap, group, topics, intake.handle, intake.stored_position,
                            guard=epoch, batch_handler=intake.handle_batch, idle_handler=intake.idle,
                            tombstones={t: deletion for t in topics if t.endswith(WALLET.name)})
    return intake, runner


def wallet_guard(redis: Redis, prefix: str, store: CredentialStore) -> ProjectionEpoch | GroupEpochs:
    """The projection's state guard: one sentinel (``epoch:{prefix}``) on a single node; with spread records,
    one per slot group plus the core's, all replayed together when any is lost."""
    if store.documents is None:
        return ProjectionEpoch(redis, prefix)
    return GroupEpochs(redis, store.documents, "docs", also=[prefix])
