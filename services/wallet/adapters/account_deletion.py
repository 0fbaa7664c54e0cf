"""A learner deletes their wallet account (issue 18, docs/privacy.md).

Every record the account owns on the compacted wallet topic gets a tombstone (share links, bindings, imports,
deferred issuances and holder keys first, the account last), so compaction removes them from Kafka and the
projection drops them from the read model (:class:`~services.wallet.events.erasure.WalletRecordDeletion`;
never dead-lettered). Then:

* the holder keys' private keys are deleted from the key store (else signing in again would recover them);
* the account learner's data key is destroyed (:class:`~microcred.privacy.datakeys.DataKeys`): the imported
  credentials and the completions' holder DID sealed under it no longer open anywhere, replays included;
* the PDF's remembered verification links (``P:pdf-link:{account}:*``, plain Redis keys) are deleted.

Every step is idempotent, so a deletion that failed half-way is finished by asking again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from microcred.crypto.keystore import KeyStore
from microcred.privacy.datakeys import DataKeys
from microcred.privacy.events import account_identifier
from microcred.privacy.pseudonym import Pseudonymizer
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.share_links import ShareLinks
from services.wallet.adapters.wallet_log import WalletLog, record_key
from services.wallet.domain.accounts import Account


@dataclass(frozen=True)
class AccountKeyShredder:
    """Destroys the data key of a wallet account's learner (``urn:microcred:wallet-account:{id}``)."""

    keys: DataKeys
    pseudonyms: Pseudonymizer

    async def destroy(self, account_id: str) -> bool:
        """True when there was a key to destroy."""
        return await self.keys.destroy(self.pseudonyms.of_identifier(account_identifier(account_id)))


class AccountDeletion:
    """Deletes one account's records (tombstones), holder private keys and learner data key."""

    def __init__(self, accounts: Accounts, shares: ShareLinks, log: WalletLog, keystore: KeyStore,
                 shredder: AccountKeyShredder | None) -> None:
        self.accounts, self.shares, self.log, self.keystore = accounts, shares, log, keystore
        self.shredder = shredder

    async def delete(self, account: Account) -> dict[str, Any]:
        """Delete ``account``; answers what was deleted (ids only, nothing personal)."""
        aid = account.account_id
        holder_keys = await self.accounts.holder_keys(aid)
        bindings = sorted(await self.accounts.bindings(aid))
        imported = sorted(await self.accounts.imported_ids(aid))
        deferred = sorted(await self.accounts.deferred_refs(aid))
        shares = [s.share_id for s in await self.shares.for_account(aid)]
        keys = ([record_key("share", s) for s in shares] + [record_key("binding", aid, c) for c in bindings]
                + [record_key("import", aid, c) for c in imported] + [record_key("deferred", aid, d) for d in deferred]
                + [record_key("holder-key", did) for did in sorted(holder_keys)] + [record_key("account", aid)])
        await self.log.delete(keys)
        for key_id in holder_keys.values():
            await asyncio.to_thread(self.keystore.delete_key, key_id)
        destroyed = await self.shredder.destroy(aid) if self.shredder is not None else False
        # the PDF's remembered verification links (sealed tokens of links just tombstoned): not on Kafka, so
        # they are deleted here, last, so that a deletion retried after a failure deletes them too
        forgotten = await self.shares.forget_pdf_links(aid)
        return {"account_id": aid, "deleted": {
            "holder_dids": sorted(holder_keys), "bindings": bindings, "imported_credentials": imported,
            "share_links": shares, "deferred_issuances": len(deferred), "records": len(keys)},
            "learner_data_key_destroyed": destroyed,
            "pdf_links_forgotten": forgotten}
