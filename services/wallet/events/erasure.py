"""``LearnerErased``: the wallet drops what its read model holds of an erased learner's credentials.

The event names the learner's credentials (pseudonymous ids). Their records and the indexes pointing at them
(subject DID, e-mail, hashed identifiers, achievement) are deleted; the wallet's own records about the learner's
account (bindings, share links) stay until the learner deletes the account. On a replay the credentials' own
events no longer open (the data key is gone) and are dropped, so nothing comes back. Dropping is idempotent, so
it runs before the batch's positions are stored: a crash in between drops again on redelivery.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.wallet.adapters.store import CredentialStore

__all__ = ["drop_credentials"]


async def drop_credentials(store: CredentialStore, credential_ids: Iterable[str]) -> int:
    """Delete the wallet's records of ``credential_ids`` and every index entry pointing at them."""
    ids = sorted(set(credential_ids))
    if not ids:
        return 0
    held = await store.load(ids)
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
            pipe.delete(store.cred_key(cid), store.status_key(cid))
        await pipe.execute()
    return len(held)
