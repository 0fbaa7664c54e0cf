"""Learner accounts: the identifiers an account links, holder keys, bindings and imports.

An account is keyed by :func:`~services.wallet.domain.credentials.account_id` of the token's provider and ``sub``. It
links the holder DIDs created for it and its *verified* e-mail address (normalised, as issuers hash it). The
credential index never holds an e-mail address. Credentials whose e-mail the issuer's event confirmed are
filed under the wallet's keyed hash of it (one lookup); others, known only by a salted hash, are found by
hashing the account's address with every such salt (``sha256$hex(sha256(email + salt))``). For the other
direction (which account owns a newly filed credential, to check pathway completion at once) the read model
keeps ``email-owners`` and ``hash-owners`` entries (:mod:`services.wallet.adapters.account_state`).

Kafka is the source of truth: :meth:`Accounts.ensure`, :meth:`Accounts.bind` and :meth:`Accounts.add_imported`
publish ``WalletAccountLinked``, ``CredentialBound`` and ``CredentialImported`` on the wallet topic (the
e-mail sealed under the KEK, never in clear) and the projection writes the read model this class reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from microcred.credential.identifiers import identity_hash
from microcred.gen.microcred.v1 import events_pb2
from microcred.sdjwt.view import sd_jwt_id
from services.wallet.adapters.account_state import AccountKeys
from services.wallet.adapters.sealing import Sealer
from services.wallet.adapters.store import CredentialStore, parse_record, r, text
from services.wallet.adapters.wallet_log import WalletLog, record_key
from services.wallet.domain.accounts import Account, LearnerClaims
from services.wallet.domain.credentials import HeldCredential, Identity


class Accounts:
    """Account state of every learner: reads the read model, publishes changes."""

    def __init__(self, redis: Redis, prefix: str, credentials: CredentialStore, log: WalletLog | None = None,
                 sealer: Sealer | None = None) -> None:
        self.redis, self.prefix, self.credentials = redis, prefix, credentials
        self.keys = AccountKeys(prefix)
        self._log, self._sealer = log, sealer

    def _publisher(self) -> tuple[WalletLog, Sealer]:
        if self._log is None or self._sealer is None:
            raise RuntimeError("this Accounts instance is read-only (no wallet log)")
        return self._log, self._sealer

    async def ensure(self, claims: LearnerClaims) -> Account:
        """The account of ``claims``; publishes ``WalletAccountLinked`` on first sight and when the e-mail changed.

        An account the read model knows only from before accounts were kept on Kafka (no ``email_index``) is
        published now too, which moves it to Kafka on the learner's next sign-in."""
        aid, email = claims.account_id, claims.verified_email
        stored: dict[bytes, bytes] = await r(self.redis.hgetall(self.keys.account(aid)))
        known = b"email_index" in stored
        if not known or text(stored.get(b"email")) != email:
            log, sealer = self._publisher()
            index = self.credentials.email_index(email) if email else ""
            sealed = sealer.seal_email(aid, email) if email else b""
            await log.publish(record_key("account", aid),
                              events_pb2.WalletAccountLinked(account_id=aid, email_index=index, sealed_email=sealed))
        return Account(aid, email, await self.holder_keys(aid), created=not known)

    async def get(self, aid: str) -> Account | None:
        """An existing account by id (None when it has never signed in)."""
        stored: dict[bytes, bytes] = await r(self.redis.hgetall(self.keys.account(aid)))
        if not stored:
            return None
        return Account(aid, text(stored.get(b"email")), await self.holder_keys(aid))

    async def owners(self, identity: Identity) -> set[str]:
        """Accounts that hold a credential issued to ``identity`` (its DID, keyed e-mail or hashed e-mails)."""
        return (await self.owners_of([identity]))[0]

    async def owners_of(self, identities: Sequence[Identity]) -> list[set[str]]:
        """:meth:`owners` of each identity, looked up in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            plan: list[int] = []
            for identity in identities:
                lookups = 0
                if identity.email_index:
                    pipe.smembers(self.keys.email_owners(identity.email_index))
                    lookups += 1
                if identity.did:
                    pipe.get(self.keys.did_owner(identity.did))
                    lookups += 1
                for hashed in identity.email_hashes():
                    pipe.smembers(self.keys.hash_owners(hashed.identity_hash))
                    lookups += 1
                plan.append(lookups)
            replies = await pipe.execute() if any(plan) else []
        out, at = [], 0
        for lookups in plan:
            owners: set[str] = set()
            for reply in replies[at:at + lookups]:
                if isinstance(reply, set):
                    owners |= {text(m) or "" for m in reply}
                elif reply is not None:
                    owners.add(text(reply) or "")
            out.append(owners)
            at += lookups
        return out

    async def email_hashes(self, account: Account) -> list[str]:
        """The account e-mail's hash under every salt of unconfirmed e-mail identifiers (empty without e-mail)."""
        if account.email is None:
            return []
        return [identity_hash(account.email, salt) for salt in await self.credentials.salts()]

    async def holder_keys(self, aid: str) -> dict[str, str]:
        """Holder DID -> key id of the account."""
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(self.keys.account(aid, ":keys")))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def bind(self, aid: str, credential_id: str, did: str) -> None:
        """Bind (claim) a credential under one of the account's holder DIDs."""
        log, _ = self._publisher()
        await log.publish(record_key("binding", aid, credential_id),
                          events_pb2.CredentialBound(account_id=aid, credential_id=credential_id, holder_did=did))

    async def bindings(self, aid: str) -> dict[str, str]:
        """Credential id -> holder DID for the account's bound credentials."""
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(self.keys.account(aid, ":bindings")))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def add_imported(self, aid: str, document: Mapping[str, object], check: Mapping[str, object]) -> None:
        """Publish a verified imported credential (``check``: the import verdict) into the account."""
        log, _ = self._publisher()
        credential_id = sd_jwt_id(document) or str(document["id"])  # an SD-JWT VC: its short id
        await log.publish(record_key("import", aid, credential_id), events_pb2.CredentialImported(
            account_id=aid, credential_id=credential_id, credential_json=json.dumps(document),
            import_check_json=json.dumps(check, sort_keys=True)))

    async def imported_ids(self, aid: str) -> set[str]:
        """Ids of the account's imported credentials."""
        return {text(m) or "" for m in await r(self.redis.smembers(self.keys.account(aid, ":imported")))}

    async def deferred_refs(self, aid: str) -> set[str]:
        """Ids of the deferred OpenID4VCI issuances the account waits for
        (:class:`~services.wallet.adapters.deferred_issuances.DeferredIssuances`)."""
        return {text(f) or "" for f in await r(self.redis.hkeys(self.keys.account(aid, ":deferred")))}

    async def load_imported(self, aid: str, ids: list[str], bindings: dict[str, str]) -> list[HeldCredential]:
        """The account's imported credentials among ``ids``, with any status our events know of."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hgetall(self.keys.account(aid, f":imp:{cid}"))
                pipe.hgetall(self.credentials.status_key(cid))
            replies = await pipe.execute()
        return [parse_record(replies[2 * i], replies[2 * i + 1], bindings.get(cid))
                for i, cid in enumerate(ids) if replies[2 * i]]
