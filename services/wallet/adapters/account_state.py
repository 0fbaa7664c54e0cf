"""The account part of the wallet's read model: its Redis keys and the writes the projection queues.

Accounts, holder keys, bindings and imports are projected from the wallet topic (``microcred.wallet.v1``), so a
wiped Redis gets them back by replay like the credential holdings. The command side never writes these keys;
it publishes an event and waits for the projection (:mod:`services.wallet.adapters.wallet_log`).

Keys (``P`` is the instance prefix)::

    P:acct:{id}                  hash  email_index ("" when none), email (only when linked)
    P:acct:{id}:keys             hash  holder DID -> key id
    P:acct:{id}:bindings         hash  credential id -> holder DID it is bound to
    P:acct:{id}:imported         set   ids of imported credentials
    P:acct:{id}:imp:{cred id}    hash  an imported credential (same fields as P:cred:*)
    P:holder-key:{did}           hash  account, key_id (the private key stays in the encrypted key store)
    P:did-owner:{did}            str   account id
    P:email-owners:{keyed hash}  set   account ids with that verified e-mail
    P:hash-owners:{hash}         set   account ids whose e-mail gives that hash under a known salt
    P:emails                     hash  account id -> verified e-mail (only for new-salt matching)

``email-owners``, ``hash-owners`` and ``emails`` are derived from the account records and the salts of filed
credentials; the projection keeps them right whichever of the two it meets first. Every write is a blind
overwrite, a set addition or the removal of what the account's previous e-mail added, so a record applied
twice leaves the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redis.asyncio.client import Pipeline

from microcred.credential.identifiers import identity_hash
from services.wallet.adapters.store import CredentialStore, record_fields
from services.wallet.domain.credentials import HeldCredential


@dataclass(frozen=True)
class AccountKeys:
    """Redis key names of the account read model under ``prefix``."""

    prefix: str

    def account(self, aid: str, suffix: str = "") -> str:
        """``P:acct:{aid}`` plus ``suffix`` (``:keys``, ``:bindings``, ``:imported``, ``:imp:{id}``, ``:shares``,
        ``:deferred``)."""
        return f"{self.prefix}:acct:{aid}{suffix}"

    def holder_key(self, did: str) -> str:
        """Hash of one holder key (owner, key id; the private key stays in the key store)."""
        return f"{self.prefix}:holder-key:{did}"

    def did_owner(self, did: str) -> str:
        """The account owning a holder DID."""
        return f"{self.prefix}:did-owner:{did}"

    def email_owners(self, index: str) -> str:
        """Accounts with the e-mail whose keyed hash is ``index``."""
        return f"{self.prefix}:email-owners:{index}"

    def hash_owners(self, hashed: str) -> str:
        """Accounts whose e-mail gives ``hashed`` under some salt."""
        return f"{self.prefix}:hash-owners:{hashed}"

    @property
    def emails(self) -> str:
        """Account id -> verified e-mail."""
        return f"{self.prefix}:emails"


class AccountState:
    """Queues the projection's writes for account records on a transaction pipeline."""

    def __init__(self, keys: AccountKeys, store: CredentialStore) -> None:
        self.keys, self.store = keys, store

    def write_link(self, pipe: Pipeline, aid: str, email: str | None, email_index: str, previous: str | None,
                   salts: Iterable[str]) -> None:
        """Link ``email`` (None: none) to the account, undoing what ``previous`` (its e-mail until now) added."""
        k, salts = self.keys, sorted(set(salts))
        if previous is not None and previous != email:
            pipe.srem(k.email_owners(self.store.email_index(previous)), aid)
            for salt in salts:
                pipe.srem(k.hash_owners(identity_hash(previous, salt)), aid)
        if email is None:
            pipe.hdel(k.account(aid), "email")
            pipe.hdel(k.emails, aid)
            pipe.hset(k.account(aid), "email_index", "")
            return
        pipe.hset(k.account(aid), mapping={"email": email, "email_index": email_index})
        pipe.hset(k.emails, aid, email)
        pipe.sadd(k.email_owners(email_index), aid)
        for salt in salts:
            pipe.sadd(k.hash_owners(identity_hash(email, salt)), aid)

    def write_new_salt(self, pipe: Pipeline, salt: str, emails: Mapping[str, str]) -> None:
        """Record which accounts' e-mails (``emails``: account id -> e-mail) hash to what under a new salt."""
        for aid, email in sorted(emails.items()):
            pipe.sadd(self.keys.hash_owners(identity_hash(email, salt)), aid)

    def write_holder_key(self, pipe: Pipeline, aid: str, did: str, key_id: str) -> None:
        """Link a holder DID (and the id of its key in the key store) to the account."""
        pipe.hset(self.keys.account(aid, ":keys"), did, key_id)
        pipe.hset(self.keys.holder_key(did), mapping={"account": aid, "key_id": key_id})
        pipe.set(self.keys.did_owner(did), aid)

    def write_binding(self, pipe: Pipeline, aid: str, credential_id: str, did: str) -> None:
        """Bind a credential to one of the account's holder DIDs."""
        pipe.hset(self.keys.account(aid, ":bindings"), credential_id, did)

    def write_deferred(self, pipe: Pipeline, aid: str, ref: str, sealed: bytes) -> None:
        """Keep a deferred OpenID4VCI issuance the account waits for (sealed as published)."""
        pipe.hset(self.keys.account(aid, ":deferred"), ref, sealed)

    def write_import(self, pipe: Pipeline, aid: str, credential: HeldCredential) -> None:
        """Store a verified imported credential in the account (its own namespace: no collisions)."""
        pipe.hset(self.keys.account(aid, f":imp:{credential.credential_id}"),
                  mapping=record_fields(credential))  # type: ignore[arg-type]
        pipe.sadd(self.keys.account(aid, ":imported"), credential.credential_id)
