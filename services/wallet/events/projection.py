"""Writing a whole fetch of changes into the wallet's read model in one Redis transaction.

Applying records one by one cost a transaction and a few lookups each (100-700 records/s), too slow to rebuild
a national wallet by replay. :class:`BatchWrite` is handed to
:func:`~microcred.storage.positions.apply_batch_at_positions`: it first reads, under ``WATCH``, the little the
batch depends on (which salts are new, the accounts' e-mails, the previous e-mail of relinked accounts), then
queues every write of the batch into one ``MULTI`` with the batch's positions. A concurrent change of a
watched key (another wallet instance filing a new salt or linking an e-mail) makes the whole batch retry, so
the e-mail × salt ownership entries are right whichever of the two comes first.

Inside the batch the reads are kept current as the changes are queued (a salt filed earlier in the batch is
known to an account linked later in it, and the other way round), so the result equals applying the records
one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio.client import Pipeline

from services.wallet.adapters.account_state import AccountState
from services.wallet.adapters.holdings import completion_marker
from services.wallet.adapters.pending_offers import PendingOffers
from services.wallet.adapters.share_links import ShareLinks
from services.wallet.adapters.store import CredentialStore, text
from services.wallet.domain.credentials import StatusChange
from services.wallet.events.changes import (
    AccountLinked,
    Bound,
    Change,
    DeferredKept,
    HolderKeyAdded,
    Imported,
    Issued,
    OfferAddressed,
    OfferClosed,
    PathwayDefined,
    PathwayDone,
    ShareChanged,
)


def _unconfirmed_salts(change: Change) -> list[str]:
    if not isinstance(change, Issued) or change.credential.subject.email_index:
        return []
    return [h.salt for h in change.credential.subject.email_hashes()]


class BatchWrite:
    """Reads what a batch of changes depends on, then queues all its writes (see the module docstring)."""

    def __init__(self, store: CredentialStore, state: AccountState, shares: ShareLinks, completed_key: str,
                 changes: Sequence[Change], offers: PendingOffers) -> None:
        self.store, self.state, self.shares, self.completed_key = store, state, shares, completed_key
        self.offers = offers
        self.changes = changes
        self._known: set[str] = set()
        self._salts: set[str] = set()
        self._emails: dict[str, str] | None = None
        self._previous: dict[str, str | None] = {}

    @property
    def watch(self) -> list[str]:
        """Keys :meth:`prepare` reads that other instances write."""
        return [self.store.salts_key, self.state.keys.emails]

    async def prepare(self, pipe: Pipeline, fresh: list[int]) -> None:
        """Read (the pipeline is in immediate mode, under ``WATCH``) what the changes at ``fresh`` depend on."""
        changes = [self.changes[i] for i in fresh]
        salts = list(dict.fromkeys(s for change in changes for s in _unconfirmed_salts(change)))
        self._known, self._emails, self._salts, self._previous = set(), None, set(), {}
        if salts:
            flags = await pipe.smismember(self.store.salts_key, salts)
            self._known = {salt for salt, known in zip(salts, flags, strict=True) if known}
        if any(salt not in self._known for salt in salts):
            raw = await pipe.hgetall(self.state.keys.emails)
            self._emails = {text(k) or "": text(v) or "" for k, v in raw.items()}
        linked = list(dict.fromkeys(c.account_id for c in changes if isinstance(c, AccountLinked)))
        if linked:
            self._salts = {text(s) or "" for s in await pipe.smembers(self.store.salts_key)}
            for aid in linked:
                self._previous[aid] = text(await pipe.hget(self.state.keys.account(aid), "email"))

    def queue(self, pipe: Pipeline, fresh: list[int]) -> None:
        """Queue the writes of the changes at ``fresh`` (the pipeline is in ``MULTI``)."""
        known, salts, current = set(self._known), set(self._salts), dict(self._previous)
        emails = None if self._emails is None else dict(self._emails)
        for change in (self.changes[i] for i in fresh):
            match change:
                case Issued():
                    self.store.write_issued(pipe, change.credential)
                    for salt in _unconfirmed_salts(change):
                        if salt not in known:
                            known.add(salt)
                            salts.add(salt)
                            self.state.write_new_salt(pipe, salt, emails or {})
                case StatusChange():
                    self.store.write_status(pipe, change)
                case PathwayDefined():
                    self.store.write_pathway(pipe, change.pathway)
                case PathwayDone():
                    pipe.sadd(self.completed_key, completion_marker(change.pathway_id, change.learner_id))
                case AccountLinked():
                    self.state.write_link(pipe, change.account_id, change.email, change.email_index,
                                          current.get(change.account_id), salts)
                    current[change.account_id] = change.email
                    if emails is not None and change.email is not None:
                        emails[change.account_id] = change.email
                    elif emails is not None:
                        emails.pop(change.account_id, None)
                case HolderKeyAdded():
                    self.state.write_holder_key(pipe, change.account_id, change.did, change.key_id)
                case Bound():
                    self.state.write_binding(pipe, change.account_id, change.credential_id, change.did)
                case Imported():
                    self.state.write_import(pipe, change.account_id, change.credential)
                case DeferredKept():
                    self.state.write_deferred(pipe, change.account_id, change.ref, change.sealed)
                case ShareChanged():
                    self.shares.write(pipe, change.share)
                case OfferAddressed():
                    self.offers.write_offered(pipe, change.offer, email_index=change.email_index, did=change.did,
                                              pseudonym=change.pseudonym)
                case OfferClosed():
                    self.offers.write_closed(pipe, change.offer_ref)
