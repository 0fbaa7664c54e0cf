"""Custodial holder keys: an Ed25519 key per learner DID, kept in the wallet's encrypted key store.

``POST /v1/holder-keys`` creates one; its ``did:key`` is what a learner gives an issuer as subject id, and
what signs the learner's presentations. The private key is generated into the key store
(:class:`~microcred.crypto.keystore.EncryptedFileKeyStore`: AES-256-GCM under the KEK from
``MICROCRED_KEK``/``MICROCRED_KEK_FILE``, on a volume every wallet instance shares); ``HolderKeyCreated`` on the
wallet topic carries only the account, the DID and the key id, because private keys are never sent in
events, not even encrypted. So after a Redis wipe the projection knows again which DID is whose and under
which key id its key is stored. Key ids are ``holder:{account id}:{random}``: :meth:`HolderKeys.recover`
publishes keys of an account found in the store but unknown to the read model (keys from before the wallet
topic, or a crash between storing and publishing).
"""

from __future__ import annotations

import asyncio
import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.did_key import verification_method_id
from microcred.crypto.keystore import KeyStore, KeyStoreError
from microcred.gen.microcred.v1 import events_pb2
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.store import r
from services.wallet.adapters.wallet_log import WalletLog, record_key
from services.wallet.domain.accounts import HolderKey
from services.wallet.domain.errors import NotFound

_KEY_PREFIX = "holder:"


class HolderKeys:
    """Creates, lists, recovers and uses the learners' holder keys."""

    def __init__(self, accounts: Accounts, log: WalletLog, keystore: KeyStore) -> None:
        self.accounts, self.log, self.keystore = accounts, log, keystore

    async def create(self, aid: str) -> HolderKey:
        """Generate a key for account ``aid`` in the key store, publish its DID and return it."""
        key_id = f"{_KEY_PREFIX}{aid}:{secrets.token_hex(8)}"
        multikey = await asyncio.to_thread(self.keystore.create_key, key_id)
        did = f"did:key:{multikey}"
        await self._publish(aid, key_id, did)
        return HolderKey(did, verification_method_id(did))

    async def _publish(self, aid: str, key_id: str, did: str) -> None:
        await self.log.publish(record_key("holder-key", did), events_pb2.HolderKeyCreated(
            account_id=aid, did=did, key_id=key_id))

    async def recover(self, aid: str) -> int:
        """Publish keys of ``aid`` that are in the key store but not in the read model; return how many."""
        prefix = f"{_KEY_PREFIX}{aid}:"
        key_ids = [k for k in await asyncio.to_thread(self.keystore.list_keys) if k.startswith(prefix)]
        found = 0
        for key_id in key_ids:
            did = f"did:key:{await asyncio.to_thread(self.keystore.public_key, key_id)}"
            if not await r(self.accounts.redis.hexists(self.accounts.keys.holder_key(did), "key_id")):
                await self._publish(aid, key_id, did)
                found += 1
        return found

    async def for_account(self, aid: str) -> list[HolderKey]:
        """The account's holder keys, ordered by DID."""
        return [HolderKey(did, verification_method_id(did)) for did in sorted(await self.accounts.holder_keys(aid))]

    async def signing_key(self, aid: str, did: str) -> Ed25519PrivateKey:
        """The private key of one of ``aid``'s DIDs (NotFound for any other DID)."""
        key_id = (await self.accounts.holder_keys(aid)).get(did)
        if key_id is None:
            raise NotFound("no such holder key")
        try:
            return await asyncio.to_thread(self.keystore.get_signing_key, key_id)
        except KeyStoreError:
            raise NotFound("no such holder key") from None
