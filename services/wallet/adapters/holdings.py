"""What a learner holds, and the pathway completions that follow from it.

:class:`Holdings` answers "which credentials are this account's": those filed under its holder DIDs, under
its verified e-mail hashed with each salt, and those it imported. Every learner endpoint goes through it,
so a credential of another learner is simply not found (404, never 403: existence is not revealed).

:class:`PathwayCompletions` evaluates pathways for an account (pure :func:`~services.wallet.domain.stacking.evaluate`)
and publishes ``PathwayCompleted`` the first time one is complete. The event id is derived from (pathway,
learner), and a ``completed`` marker is set only after Kafka acknowledged, so a crash in between republishes
the same event id, which consumers deduplicate. The wallet's projection also sets the marker when it consumes
its own ``PathwayCompleted`` events, so the ledger comes back when Redis is rebuilt by replay (until the replay
reaches them, a completion may be announced again: same event id, harmless).
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from microcred.kafka.publisher import EventPublisher
from microcred.sdjwt.view import sd_jwt_id
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.store import CredentialStore, r
from services.wallet.application.ports import Clock, utc_now
from services.wallet.domain.accounts import Account
from services.wallet.domain.credentials import HeldCredential
from services.wallet.domain.errors import NotFound
from services.wallet.domain.pathway_codec import completed_envelope
from services.wallet.domain.stacking import Pathway, PathwayProgress, evaluate


def completed_key(prefix: str) -> str:
    """The Redis set of announced completions under ``prefix``."""
    return f"{prefix}:completed"


def completion_marker(pathway_id: str, account_id: str) -> str:
    """The member of ``P:completed`` recording that (pathway, learner) was announced."""
    return f"{pathway_id}\x1f{account_id}"


class Holdings:
    """The credentials of one account."""

    def __init__(self, store: CredentialStore, accounts: Accounts) -> None:
        self.store, self.accounts = store, accounts

    async def of(self, account: Account) -> list[HeldCredential]:
        """Every credential the account holds, issued ones first by id, then imported ones (by id)."""
        return (await self._held(account))[0]

    async def by_id(self, account: Account) -> dict[str, HeldCredential]:
        """The account's credentials by id, and an issued SD-JWT VC also by the id its received copy had
        (``urn:sd-jwt:…``): the copy is not listed once the issued one is there, but the id the wallet gave the
        learner when it received it (in the accept answer, in a page still open) keeps naming the credential."""
        held, received_ids = await self._held(account)
        return {**received_ids, **{c.credential_id: c for c in held}}

    async def _held(self, account: Account) -> tuple[list[HeldCredential], dict[str, HeldCredential]]:
        """The credentials, and each issued SD-JWT VC by its ``urn:sd-jwt:`` id (computed once for both uses)."""
        bindings = await self.accounts.bindings(account.account_id)
        indexes = [self.store.email_index(account.email)] if account.email else []
        issued_ids = await self.store.ids_for(account.dids, await self.accounts.email_hashes(account), indexes)
        issued = await self.store.load(sorted(issued_ids), bindings)
        # An SD-JWT VC received through an OpenID4VCI offer of our own issuer is also issued over Kafka (same
        # Issuer-signed JWT): shown once, as the issued one, which follows its status (docs/wallet-oid4vci.md).
        also_issued = {alias: c for c in issued if c.sd_jwt_vc and (alias := sd_jwt_id(c.sd_jwt_vc)) is not None}
        imported_ids = await self.accounts.imported_ids(account.account_id) - issued_ids - also_issued.keys()
        imported = await self.accounts.load_imported(account.account_id, sorted(imported_ids), bindings)
        return issued + imported, also_issued

    async def one(self, account: Account, credential_id: str) -> HeldCredential:
        """One of the account's credentials; :class:`NotFound` for anything else."""
        found = (await self.by_id(account)).get(credential_id)
        if found is None:
            raise NotFound("no such credential")
        return found

    async def some(self, account: Account, credential_ids: Sequence[str]) -> list[HeldCredential]:
        """The account's credentials with ``credential_ids``, in that order (each once, however it is named);
        NotFound if any is not its."""
        held = await self.by_id(account)
        missing = [cid for cid in credential_ids if cid not in held]
        if missing or not credential_ids:
            raise NotFound("no such credential")
        return list({held[cid].credential_id: held[cid] for cid in credential_ids}.values())


class PathwayCompletions:
    """Evaluates an account's pathways and publishes each completion once."""

    def __init__(self, redis: Redis, prefix: str, holdings: Holdings, publisher: EventPublisher, topic: str,
                 clock: Clock = utc_now) -> None:
        self.redis, self.prefix, self.holdings = redis, prefix, holdings
        self.publisher, self.topic, self.clock = publisher, topic, clock

    async def progress(self, account: Account, pathways: Sequence[Pathway]) -> list[PathwayProgress]:
        """Progress on ``pathways``; complete ones not yet announced are published now."""
        return (await self._evaluate(account, pathways))[0]

    async def check(self, account_ids: set[str], pathways: Sequence[Pathway]) -> int:
        """Evaluate ``pathways`` for existing accounts among ``account_ids``; return completions announced."""
        announced = 0
        for aid in sorted(account_ids):
            account = await self.holdings.accounts.get(aid)
            if account is not None and pathways:
                announced += (await self._evaluate(account, pathways))[1]
        return announced

    async def _evaluate(self, account: Account, pathways: Sequence[Pathway]) -> tuple[list[PathwayProgress], int]:
        held = await self.holdings.of(account)
        now = self.clock()
        results = [evaluate(pathway, held, now) for pathway in pathways]
        announced = 0
        for progress in results:
            if progress.complete and await self._announce(account.account_id, progress, account.dids):
                announced += 1
        return results, announced

    @property
    def completed_key(self) -> str:
        """Set of (pathway, learner) markers of announced completions (also projected from the events)."""
        return completed_key(self.prefix)

    async def _announce(self, aid: str, progress: PathwayProgress, dids: tuple[str, ...]) -> bool:
        marker = completion_marker(progress.pathway.pathway_id, aid)
        if await r(self.redis.sismember(self.completed_key, marker)):
            return False
        envelope = completed_envelope(progress, aid, dids[0] if dids else "")
        await self.publisher.publish(self.topic, progress.pathway.pathway_id, envelope)
        await r(self.redis.sadd(self.completed_key, marker))
        return True
