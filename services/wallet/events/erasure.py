"""Erasure in the wallet: ``LearnerErased`` and the tombstones of a deleted wallet account.

``LearnerErased`` drops what the wallet's read model holds of an erased learner's credentials.

The event names the learner's credentials (pseudonymous ids). Their records and the indexes pointing at them
(subject DID, e-mail, hashed identifiers, achievement) are deleted; the wallet's own records about the learner's
account (bindings, share links) stay until the learner deletes the account. On a replay the credentials' own
events no longer open (the data key is gone) and are dropped, so nothing comes back. Dropping is idempotent, so
it runs before the batch's positions are stored: a crash in between drops again on redelivery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.credential.identifiers import identity_hash
from microcred.kafka.consumer import Position
from microcred.storage.positions import apply_at_position
from microcred.storage.replies import awaited, text
from services.wallet.adapters.account_state import AccountKeys
from services.wallet.adapters.store import CredentialStore

__all__ = ["WalletRecordDeletion", "drop_credentials"]


async def drop_credentials(store: CredentialStore, credential_ids: Iterable[str]) -> int:
    """Delete the wallet's records of ``credential_ids`` and every index entry pointing at them.

    Records spread over slot groups (a cluster) are deleted after the transaction that drops the index
    entries and statuses: a crash in between leaves records no index names, which the retry (the batch is
    applied again) still finds and deletes; the other order could leave index entries behind."""
    ids = sorted(set(credential_ids))
    if not ids:
        return 0
    held = await store.load(ids)
    spread = store.documents is not None
    async with store.redis.pipeline(transaction=True) as pipe:
        for credential in held:
            cid = credential.credential_id
            if credential.subject.did:
                pipe.srem(store.did_key(credential.subject.did), cid)
            if credential.subject.email_index:
                pipe.srem(store.email_key(credential.subject.email_index), cid)
            for hashed in credential.subject.email_hashes():
                pipe.srem(store.hash_key(hashed.identity_hash), cid)
            if credential.elements.achievement_id:
                pipe.srem(store.achievement_key(credential.elements.achievement_id), cid)
        for cid in ids:
            pipe.delete(*([] if spread else [store.cred_key(cid)]), store.status_key(cid))
        await pipe.execute()
    if spread:
        for cid in ids:  # one key each: every record is in its own group's slot
            await store.redis.delete(store.cred_key(cid))
    return len(held)


class WalletRecordDeletion:
    """Tombstones on the compacted wallet topic (a learner deleting their account): the state the record's key
    named is dropped from the read model, with the record's position, in one transaction; never dead-lettered.

    ``account:{id}`` drops the account (its e-mail and the e-mail indexes pointing at it, holder keys and their
    owners, bindings, imported credentials, deferred issuances, the share-link index); ``holder-key:{did}``,
    ``binding:{id}/{cred}``, ``import:{id}/{cred}``, ``deferred:{id}/{ref}`` and ``share:{id}`` drop that one
    thing. An unknown kind only moves the position.
    """

    def __init__(self, redis: Redis, projection: str, keys: AccountKeys, store: CredentialStore,
                 share_key: Callable[[str], str],
                 mark_share_deleted: Callable[[Pipeline, str], None] | None = None) -> None:
        self.redis, self.projection, self.keys, self.store, self._share_key = redis, projection, keys, store, share_key
        # A dropped link answers "gone" (410) for the gone-link retention rather than "unknown" (404).
        self._mark = mark_share_deleted or (lambda pipe, share_id: None)

    async def __call__(self, record_key: str, position: Position) -> None:
        """Apply the tombstone of ``record_key`` at ``position``."""
        kind, _, ident = record_key.partition(":")
        write = await self._plan(kind, ident)
        await apply_at_position(self.redis, self.projection, position, write)

    async def _plan(self, kind: str, ident: str) -> Callable[[Pipeline], None]:
        k, r = self.keys, self.redis
        if kind == "account" and ident:
            account = {text(f): text(v) for f, v in (await awaited(r.hgetall(k.account(ident)))).items()}
            dids = [text(d) or "" for d in await awaited(r.hkeys(k.account(ident, ":keys")))]
            imported = [text(i) or "" for i in await awaited(r.smembers(k.account(ident, ":imported")))]
            shares = [text(m) or "" for m in await awaited(r.zrange(k.account(ident, ":shares"), 0, -1))]
            email, index = account.get("email") or "", account.get("email_index") or ""
            salts = await self.store.salts() if email else []

            def drop_account(pipe: Pipeline) -> None:
                if index:
                    pipe.srem(k.email_owners(index), ident)
                for salt in salts:
                    pipe.srem(k.hash_owners(identity_hash(email, salt)), ident)
                pipe.hdel(k.emails, ident)
                for did in dids:
                    pipe.delete(k.holder_key(did), k.did_owner(did))
                for share in shares:
                    pipe.delete(self._share_key(share))
                    self._mark(pipe, share)
                pipe.delete(*[k.account(ident, f":imp:{c}") for c in imported], k.account(ident),
                            k.account(ident, ":keys"), k.account(ident, ":bindings"),
                            k.account(ident, ":imported"), k.account(ident, ":shares"),
                            k.account(ident, ":deferred"))

            return drop_account
        if kind == "holder-key" and ident:
            owner = text(await awaited(r.get(k.did_owner(ident)))) or ""

            def drop_key(pipe: Pipeline) -> None:
                if owner:
                    pipe.hdel(k.account(owner, ":keys"), ident)
                pipe.delete(k.holder_key(ident), k.did_owner(ident))

            return drop_key
        aid, _, cid = ident.partition("/")
        if kind == "binding" and cid:
            def drop_binding(pipe: Pipeline) -> None:
                pipe.hdel(k.account(aid, ":bindings"), cid)

            return drop_binding
        if kind == "import" and cid:
            def drop_import(pipe: Pipeline) -> None:
                pipe.srem(k.account(aid, ":imported"), cid)
                pipe.delete(k.account(aid, f":imp:{cid}"))

            return drop_import
        if kind == "deferred" and cid:  # collected, refused or gone: the issuance is no longer waited for
            def drop_deferred(pipe: Pipeline) -> None:
                pipe.hdel(k.account(aid, ":deferred"), cid)

            return drop_deferred
        if kind == "share" and ident:
            owner = text(await awaited(r.hget(self._share_key(ident), "account"))) or ""

            def drop_share(pipe: Pipeline) -> None:
                if owner:
                    pipe.zrem(k.account(owner, ":shares"), ident)
                pipe.delete(self._share_key(ident))
                self._mark(pipe, ident)

            return drop_share
        return lambda pipe: None
