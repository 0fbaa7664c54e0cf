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

P-256 (ES256) holder keys, for SD-JWT VCs under HAIP: the key store keeps 32-byte secrets encrypted under the
KEK; a P-256 key is derived from its own such secret (HKDF-SHA256, rejection-sampled into the curve order), so it
lives in the same encrypted store, in the same file format, is recovered and deleted with the account's other
keys, and exists unencrypted only in memory. Its key id carries ``p256-`` and its DID is the P-256 ``did:key``
(multicodec ``0x1200``, compressed point). Such a key signs Key Binding JWTs (:meth:`HolderKeys.jose_key`), not
``eddsa-rdfc-2022`` presentations (:meth:`HolderKeys.signing_key` refuses it).

**A key per received credential.** The wallet proves a fresh P-256 key for every credential it receives over
OpenID4VCI (:meth:`HolderKeys.make_for_credential`: key id mark ``p256c-``), so no two of a learner's SD-JWT VCs
carry the same ``cnf``: verifiers (or issuers) comparing presentations cannot link them by the key (HAIP asks
wallets to keep presentations unlinkable). Such keys are the account's like any other (recovered, erased and
exported with it; a credential's key is found from its ``cnf`` by :meth:`HolderKeys.bound_key`), but the
learner's list of holder keys, which are what a learner hands an issuer, shows only those the learner made.
The OpenID4VCI flow makes such a key unpublished (:meth:`HolderKeys.make_for_credential`: in the key store, not
in the read model), proves it, and publishes it only once the issuer answered with a credential or a deferred
transaction (:meth:`HolderKeys.publish_for_credential`); a refused or failed request deletes it
(:meth:`HolderKeys.discard`), so the account gains no key that nothing is bound to. A crash in between leaves
the key in the store, and :meth:`HolderKeys.recover` publishes it as for any key. A published key whose
credential the wallet then does not keep (it fails verification or is bound elsewhere; a deferred issuance ends
without it) is deleted too (:meth:`HolderKeys.forget_for_credential`: its record tombstoned, its private key
deleted).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microcred.crypto.did_key import did_key_from_p256, did_key_from_public_key, verification_method_id
from microcred.crypto.keystore import KeyStore, KeyStoreError
from microcred.gen.microcred.v1 import events_pb2
from microcred.sdjwt.jose import JoseError, PrivateKey, jwk_to_public_key
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.store import r
from services.wallet.adapters.wallet_log import WalletLog, record_key
from services.wallet.domain.accounts import CredentialKey, HolderKey
from services.wallet.domain.errors import Conflict, NotFound

_KEY_PREFIX = "holder:"
_P256_MARK = "p256-"
_CREDENTIAL_MARK = "p256c-"  # a P-256 key made for one received credential
EDDSA, ES256 = "EdDSA", "ES256"
HOLDER_KEY_ALGS = (EDDSA, ES256)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def p256_from_secret(secret_key: Ed25519PrivateKey) -> ec.EllipticCurvePrivateKey:
    """The P-256 key derived from a key store secret (see the module docstring)."""
    seed = secret_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
    for counter in range(256):  # a candidate is out of range with probability ~2**-32: one round in practice
        info = b"microcred holder key P-256/" + bytes([counter])
        scalar = int.from_bytes(HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(seed), "big")
        if 0 < scalar < _P256_ORDER:
            return ec.derive_private_key(scalar, ec.SECP256R1())
    raise ValueError("no P-256 scalar could be derived")  # pragma: no cover (probability 2**-8192)


def p256_did(key: ec.EllipticCurvePrivateKey) -> str:
    """The ``did:key`` of a P-256 key (compressed point under multicodec 0x1200)."""
    return did_key_from_p256(key.public_key())


def _is_p256(key_id: str) -> bool:
    return key_id.rsplit(":", 1)[-1].startswith((_P256_MARK, _CREDENTIAL_MARK))


def _for_credential(key_id: str) -> bool:
    return key_id.rsplit(":", 1)[-1].startswith(_CREDENTIAL_MARK)


class HolderKeys:
    """Creates, lists, recovers and uses the learners' holder keys."""

    def __init__(self, accounts: Accounts, log: WalletLog, keystore: KeyStore) -> None:
        self.accounts, self.log, self.keystore = accounts, log, keystore

    async def create(self, aid: str, alg: str = EDDSA) -> HolderKey:
        """Generate a key the learner asked for (``alg``: EdDSA, or ES256 for P-256) for account ``aid`` in the
        key store, publish its DID and return it."""
        if alg not in HOLDER_KEY_ALGS:
            raise ValueError(f"alg must be one of {', '.join(HOLDER_KEY_ALGS)}")
        key_id = f"{_KEY_PREFIX}{aid}:{_P256_MARK if alg == ES256 else ''}{secrets.token_hex(8)}"
        multikey = await asyncio.to_thread(self.keystore.create_key, key_id)
        did = await self._did(key_id) if alg == ES256 else f"did:key:{multikey}"
        await self._publish(aid, key_id, did)
        return HolderKey(did, verification_method_id(did), False)

    async def make_for_credential(self, aid: str) -> CredentialKey:
        """A P-256 key for one credential about to be received: in the key store, not yet published (module
        docstring)."""
        key_id = f"{_KEY_PREFIX}{aid}:{_CREDENTIAL_MARK}{secrets.token_hex(8)}"
        await asyncio.to_thread(self.keystore.create_key, key_id)
        private = p256_from_secret(await asyncio.to_thread(self.keystore.get_signing_key, key_id))
        did = p256_did(private)
        return CredentialKey(HolderKey(did, verification_method_id(did), True), private, key_id)

    async def publish_for_credential(self, aid: str, key: CredentialKey) -> None:
        """Publish a key of :meth:`make_for_credential`: the issuer answered, something is bound to it."""
        await self._publish(aid, key.key_id, key.holder.did)

    async def discard(self, key: CredentialKey) -> None:
        """Delete an unpublished key of :meth:`make_for_credential` from the key store (its request failed)."""
        await asyncio.to_thread(self.keystore.delete_key, key.key_id)

    async def forget_for_credential(self, aid: str, did: str) -> bool:
        """Delete a published key made for one credential that the wallet did not keep after all (rejected, or
        its deferred issuance ended without it): its record tombstoned, then the private key deleted, as an
        account's deletion does. False for any other key (a key the learner made is never deleted here)."""
        key_id = (await self.accounts.holder_keys(aid)).get(did)
        if key_id is None or not _for_credential(key_id):
            return False
        await self.log.delete([record_key("holder-key", did)])
        await asyncio.to_thread(self.keystore.delete_key, key_id)
        return True

    async def _did(self, key_id: str) -> str:
        if _is_p256(key_id):
            return p256_did(p256_from_secret(await asyncio.to_thread(self.keystore.get_signing_key, key_id)))
        return f"did:key:{await asyncio.to_thread(self.keystore.public_key, key_id)}"

    async def _publish(self, aid: str, key_id: str, did: str) -> None:
        await self.log.publish(record_key("holder-key", did), events_pb2.HolderKeyCreated(
            account_id=aid, did=did, key_id=key_id))

    async def recover(self, aid: str) -> int:
        """Publish keys of ``aid`` that are in the key store but not in the read model; return how many."""
        prefix = f"{_KEY_PREFIX}{aid}:"
        key_ids = [k for k in await asyncio.to_thread(self.keystore.list_keys) if k.startswith(prefix)]
        found = 0
        for key_id in key_ids:
            did = await self._did(key_id)
            if not await r(self.accounts.redis.hexists(self.accounts.keys.holder_key(did), "key_id")):
                await self._publish(aid, key_id, did)
                found += 1
        return found

    async def for_account(self, aid: str, *, credential_keys: bool = False) -> list[HolderKey]:
        """The holder keys the learner made (with ``credential_keys``, those made for one received credential
        too), ordered by DID."""
        held = await self.accounts.holder_keys(aid)
        keys = [HolderKey(did, verification_method_id(did), _for_credential(held[did])) for did in sorted(held)]
        return [k for k in keys if credential_keys or not k.for_credential]

    async def bound_key(self, aid: str, jwk: Mapping[str, Any] | None) -> PrivateKey | None:
        """The private key of ``aid`` whose public half is ``jwk`` (a credential's ``cnf.jwk``), found by the
        ``did:key`` it has: None when it is none of the account's keys, or not a key a did:key names."""
        try:
            public = jwk_to_public_key(jwk) if jwk is not None else None
        except JoseError:
            return None
        if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
            did = did_key_from_p256(public)
        elif isinstance(public, Ed25519PublicKey):
            did = did_key_from_public_key(public)
        else:
            return None
        if did not in await self.accounts.holder_keys(aid):
            return None
        return await self.jose_key(aid, did)

    async def _secret(self, aid: str, did: str) -> tuple[str, Ed25519PrivateKey]:
        key_id = (await self.accounts.holder_keys(aid)).get(did)
        if key_id is None:
            raise NotFound("no such holder key")
        try:
            return key_id, await asyncio.to_thread(self.keystore.get_signing_key, key_id)
        except KeyStoreError:
            raise NotFound("no such holder key") from None

    async def signing_key(self, aid: str, did: str) -> Ed25519PrivateKey:
        """The Ed25519 private key of one of ``aid``'s DIDs (NotFound for any other DID; a P-256 key is refused)."""
        key_id, secret = await self._secret(aid, did)
        if _is_p256(key_id):
            raise Conflict("this holder key is P-256 (ES256): it signs SD-JWT presentations, not eddsa-rdfc-2022",
                           code="WRONG_KEY_TYPE")
        return secret

    async def jose_key(self, aid: str, did: str) -> PrivateKey:
        """The private key of one of ``aid``'s DIDs for JWS (EdDSA or ES256); NotFound for any other DID."""
        key_id, secret = await self._secret(aid, did)
        return p256_from_secret(secret) if _is_p256(key_id) else secret
