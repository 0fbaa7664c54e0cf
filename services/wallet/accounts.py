"""Learner accounts in Redis: the identifiers an account links, holder keys, bindings and imports.

An account is keyed by :func:`~services.wallet.domain.account_id` of the token's provider and ``sub``. It
links the holder DIDs created for it and its *verified* e-mail address (normalised, as issuers hash it). The
credential index never holds an e-mail address. Credentials whose e-mail the issuer's event confirmed are
filed under the wallet's keyed hash of it (one lookup); others, known only by a salted hash, are found by
hashing the account's address with every such salt (``sha256$hex(sha256(email + salt))``). For the other
direction (which account owns a newly filed credential, to check pathway completion at once) the accounts
keep ``email-owners`` and ``hash-owners`` entries, computed when an address is linked and when a new salt
appears.

Keys (``P`` is the instance prefix)::

    P:acct:{id}                  hash  sub, provider, email, created_at
    P:acct:{id}:keys             hash  holder DID -> key id in the encrypted key store
    P:acct:{id}:bindings         hash  credential id -> holder DID it is bound to
    P:acct:{id}:imported         set   ids of imported credentials
    P:acct:{id}:imp:{cred id}    hash  an imported credential (same fields as P:cred:*)
    P:did-owner:{did}            str   account id
    P:email-owners:{keyed hash}  set   account ids with that verified e-mail
    P:hash-owners:{hash}         set   account ids whose e-mail gives that hash
    P:emails                     hash  account id -> verified e-mail (only for new-salt matching)

This state is the learner's own, written through the HTTP API, not a projection of Kafka; holder keys can
be recovered from the key store (key ids embed the account id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from services.wallet.domain import HeldCredential, Identity, account_id, identity_hash, normalise_email
from services.wallet.store import CredentialStore, parse_record, r, record_fields, text


@dataclass(frozen=True, slots=True)
class LearnerClaims:
    """The verified claims of a bearer token that the wallet uses."""

    sub: str
    provider: str
    email: str | None = None
    email_verified: bool = False
    scopes: frozenset[str] = frozenset()

    @property
    def account_id(self) -> str:
        """The wallet account these claims belong to."""
        return account_id(self.sub, self.provider)

    @property
    def verified_email(self) -> str | None:
        """The normalised e-mail when the provider verified it, else None."""
        return normalise_email(self.email) if self.email and self.email_verified else None


@dataclass(frozen=True, slots=True)
class Account:
    """A learner account and the identifiers it links."""

    account_id: str
    email: str | None
    holder_keys: dict[str, str]  # DID -> key id
    created: bool = False

    @property
    def dids(self) -> tuple[str, ...]:
        """The holder DIDs, sorted."""
        return tuple(sorted(self.holder_keys))


class Accounts:
    """Account state of every learner."""

    def __init__(self, redis: Redis, prefix: str, credentials: CredentialStore) -> None:
        self.redis, self.prefix, self.credentials = redis, prefix, credentials

    def _acct(self, aid: str, suffix: str = "") -> str:
        return f"{self.prefix}:acct:{aid}{suffix}"

    async def ensure(self, claims: LearnerClaims) -> Account:
        """The account of ``claims``, created on first sight; re-links the e-mail when it changed."""
        aid = claims.account_id
        key = self._acct(aid)
        now = datetime.now(UTC).isoformat()
        created = bool(await r(self.redis.hsetnx(key, "created_at", now)))
        if created:
            await r(self.redis.hset(key, mapping={"sub": claims.sub, "provider": claims.provider}))
        email = claims.verified_email
        if text(await r(self.redis.hget(key, "email"))) != email:
            await self._link_email(aid, email)
        return Account(aid, email, await self.holder_keys(aid), created)

    async def get(self, aid: str) -> Account | None:
        """An existing account by id (None when it has never signed in)."""
        email = await r(self.redis.hget(self._acct(aid), "email"))
        if email is None and not await r(self.redis.exists(self._acct(aid))):
            return None
        return Account(aid, text(email), await self.holder_keys(aid))

    def _email_owners(self, email: str) -> str:
        return f"{self.prefix}:email-owners:{self.credentials.email_index(email)}"

    async def _link_email(self, aid: str, email: str | None) -> None:
        previous = text(await r(self.redis.hget(self._acct(aid), "email")))
        if previous is not None:
            await r(self.redis.srem(self._email_owners(previous), aid))
        if email is None:
            await r(self.redis.hdel(self._acct(aid), "email"))
            await r(self.redis.hdel(f"{self.prefix}:emails", aid))
            return
        await r(self.redis.sadd(self._email_owners(email), aid))
        await r(self.redis.hset(self._acct(aid), "email", email))
        await r(self.redis.hset(f"{self.prefix}:emails", aid, email))
        salts = await self.credentials.salts()
        async with self.redis.pipeline(transaction=False) as pipe:
            for salt in salts:
                pipe.sadd(f"{self.prefix}:hash-owners:{identity_hash(email, salt)}", aid)
            await pipe.execute()

    async def link_new_salt(self, salt: str) -> None:
        """Record which accounts' e-mails hash to what under a salt seen for the first time."""
        emails: dict[bytes, bytes] = await r(self.redis.hgetall(f"{self.prefix}:emails"))
        async with self.redis.pipeline(transaction=False) as pipe:
            for aid, email in emails.items():
                pipe.sadd(f"{self.prefix}:hash-owners:{identity_hash(email.decode(), salt)}", aid)
            await pipe.execute()

    async def owners(self, identity: Identity) -> set[str]:
        """Accounts that hold a credential issued to ``identity`` (its DID, keyed e-mail or hashed e-mails)."""
        did, hashes = identity.did, tuple(h.identity_hash for h in identity.email_hashes())
        owners: set[str] = set()
        if identity.email_index:
            members = await r(self.redis.smembers(f"{self.prefix}:email-owners:{identity.email_index}"))
            owners |= {text(m) or "" for m in members}
        if did:
            owner = text(await r(self.redis.get(f"{self.prefix}:did-owner:{did}")))
            owners |= {owner} if owner else set()
        for h in hashes:
            owners |= {text(m) or "" for m in await r(self.redis.smembers(f"{self.prefix}:hash-owners:{h}"))}
        return owners

    async def email_hashes(self, account: Account) -> list[str]:
        """The account e-mail's hash under every salt of unconfirmed e-mail identifiers (empty without e-mail)."""
        if account.email is None:
            return []
        return [identity_hash(account.email, salt) for salt in await self.credentials.salts()]

    # ------------------------------------------------------------------------------------ holder keys

    async def add_holder_key(self, aid: str, did: str, key_id: str) -> None:
        """Link a holder DID (its key in the key store) to the account."""
        await r(self.redis.hset(self._acct(aid, ":keys"), did, key_id))
        await r(self.redis.set(f"{self.prefix}:did-owner:{did}", aid))

    async def holder_keys(self, aid: str) -> dict[str, str]:
        """Holder DID -> key id of the account."""
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(self._acct(aid, ":keys")))
        return {k.decode(): v.decode() for k, v in raw.items()}

    # --------------------------------------------------------------------------------------- bindings

    async def bind(self, aid: str, credential_id: str, did: str) -> None:
        """Bind (claim) a credential under one of the account's holder DIDs."""
        await r(self.redis.hset(self._acct(aid, ":bindings"), credential_id, did))

    async def bindings(self, aid: str) -> dict[str, str]:
        """Credential id -> holder DID for the account's bound credentials."""
        raw: dict[bytes, bytes] = await r(self.redis.hgetall(self._acct(aid, ":bindings")))
        return {k.decode(): v.decode() for k, v in raw.items()}

    # --------------------------------------------------------------------------------------- imported

    async def add_imported(self, aid: str, credential: HeldCredential) -> None:
        """Store a verified imported credential in the account (its own namespace: no collisions)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._acct(aid, f":imp:{credential.credential_id}"),
                      mapping=record_fields(credential))  # type: ignore[arg-type]
            pipe.sadd(self._acct(aid, ":imported"), credential.credential_id)
            await pipe.execute()

    async def imported_ids(self, aid: str) -> set[str]:
        """Ids of the account's imported credentials."""
        return {text(m) or "" for m in await r(self.redis.smembers(self._acct(aid, ":imported")))}

    async def load_imported(self, aid: str, ids: list[str], bindings: dict[str, str]) -> list[HeldCredential]:
        """The account's imported credentials among ``ids``, with any status our events know of."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hgetall(self._acct(aid, f":imp:{cid}"))
                pipe.hgetall(self.credentials.status_key(cid))
            replies = await pipe.execute()
        return [parse_record(replies[2 * i], replies[2 * i + 1], bindings.get(cid))
                for i, cid in enumerate(ids) if replies[2 * i]]
