"""Custodial holder keys: an Ed25519 key per learner DID, kept in the wallet's encrypted key store.

``POST /v1/holder-keys`` creates one; its ``did:key`` is what a learner gives an issuer as subject id, and
what signs the learner's presentations. Key ids are ``holder:{account id}:{random}``, so an account's keys can
be found again in the key store if Redis loses the account. Key files are encrypted with AES-256-GCM under
the KEK (``MICROCRED_KEK``/``MICROCRED_KEK_FILE``); only ``dev``/``test`` may generate a KEK file, ``prod``
stops at start without one (same rule as the revocation service).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.did_key import verification_method_id
from microcred.crypto.keystore import KeyStore
from services.wallet.accounts import Accounts
from services.wallet.errors import NotFound

_KEY_PREFIX = "holder:"


@dataclass(frozen=True, slots=True)
class HolderKey:
    """A learner's holder key as the API shows it (never the private key)."""

    did: str
    verification_method: str

    def to_json(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"did": self.did, "verification_method": self.verification_method}


class HolderKeys:
    """Creates, lists, recovers and uses the learners' holder keys."""

    def __init__(self, keystore: KeyStore, accounts: Accounts) -> None:
        self.keystore, self.accounts = keystore, accounts

    async def create(self, aid: str) -> HolderKey:
        """Generate a key for account ``aid`` and link its did:key to the account."""
        key_id = f"{_KEY_PREFIX}{aid}:{secrets.token_hex(8)}"
        multikey = await asyncio.to_thread(self.keystore.create_key, key_id)
        did = f"did:key:{multikey}"
        await self.accounts.add_holder_key(aid, did, key_id)
        return HolderKey(did, verification_method_id(did))

    async def recover(self, aid: str) -> int:
        """Re-link keys of ``aid`` found in the key store but not in Redis; return how many."""
        prefix = f"{_KEY_PREFIX}{aid}:"
        known = set((await self.accounts.holder_keys(aid)).values())
        key_ids = await asyncio.to_thread(self.keystore.list_keys)
        found = 0
        for key_id in key_ids:
            if key_id.startswith(prefix) and key_id not in known:
                multikey = await asyncio.to_thread(self.keystore.public_key, key_id)
                await self.accounts.add_holder_key(aid, f"did:key:{multikey}", key_id)
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
        return await asyncio.to_thread(self.keystore.get_signing_key, key_id)
