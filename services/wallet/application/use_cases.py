"""The wallet's use cases, one method each, over the ports (:mod:`services.wallet.application.ports`); the HTTP
routers only translate.

Every learner use case takes the caller's :class:`~services.wallet.domain.accounts.Account` and reaches
credentials only through the holdings port (:class:`~services.wallet.adapters.holdings.Holdings`), which knows
nothing but that account's credentials: another learner's credential id is "not found", in every use case alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from microcred.credential.identifiers import identity_hash
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import PATHWAYS
from microcred.registry.ports import RegistryReader
from microcred.sdjwt.view import sd_jwt_id
from services.wallet.application.ports import (
    AccountDeleter,
    AccountStore,
    BearerTokens,
    Clock,
    CompletionPolicy,
    CredentialVerifier,
    DeferredStore,
    HolderKeyStore,
    HoldingsReader,
    OffersReader,
    PathwayReader,
    PendingAuthorizationStore,
    ShareLinkStore,
    TokenMinter,
)
from services.wallet.config import Settings
from services.wallet.domain.accounts import Account, LearnerClaims
from services.wallet.domain.addressed_offers import AddressedOffer
from services.wallet.domain.credentials import CredentialFilter, HeldCredential
from services.wallet.domain.elements import identity_from_document
from services.wallet.domain.errors import Conflict, ImportRejected, NotFound, ShareGone, Unavailable, Unprocessable
from services.wallet.domain.export import build_bundle
from services.wallet.domain.offers import MetadataTrust
from services.wallet.domain.pathway_codec import published_envelope
from services.wallet.domain.presentations import build_presentation, sign_presentation
from services.wallet.domain.share_link import Resolution, Share
from services.wallet.domain.stacking import Pathway, PathwayProgress


async def _always_ready() -> bool:
    return True


@dataclass
class WalletContext:
    """Everything the routers need, built once in ``app.py``.

    ``ready`` tells whether the read model is complete and current (False while Redis is lost or the state is
    being rebuilt by replay); learner requests and share links are then refused (retriably) rather than
    answered from a partial read model: a withdrawn link whose withdrawal is not replayed yet must not work,
    and a learner must not be told a credential is missing.
    """

    settings: Settings
    store: PathwayReader
    accounts: AccountStore
    holdings: HoldingsReader
    keys: HolderKeyStore
    shares: ShareLinkStore
    completions: CompletionPolicy
    verifier: CredentialVerifier
    tokens: BearerTokens
    minter: TokenMinter | None
    publisher: EventPublisher
    clock: Clock
    ready: Callable[[], Awaitable[bool]] = field(default=_always_ready)
    deletion: AccountDeleter | None = None
    # The trust registry's read model (issuers' names and logos on the PDF and the detail view); None: no logos.
    registry: RegistryReader | None = None
    # The offers addressed to learners (OpenID4VCI, issue 20); None: none are listed.
    offers: OffersReader | None = None
    # The authorization code attempts in progress (OpenID4VCI); None: offers of that grant are refused.
    authorizations: PendingAuthorizationStore | None = None
    # The deferred OpenID4VCI issuances accounts wait for; None: a deferred answer is refused.
    deferred: DeferredStore | None = None
    # Whether issuers' metadata is asked for signed, checked against which CAs, and required so; None: plain JSON.
    issuer_metadata_trust: MetadataTrust | None = None

    async def _available(self) -> None:
        if not await self.ready():
            raise Unavailable("the wallet is rebuilding its state from Kafka; try again in a few seconds")

    # -------------------------------------------------------------------------------------- accounts

    async def addressed_offers(self, account: Account) -> list[AddressedOffer]:
        """The open offers issuers of this platform made for the account's verified e-mail or holder DIDs."""
        await self._available()
        if self.offers is None:
            return []
        return await self.offers.for_learner(account.dids, account.email, self.clock().timestamp())

    async def sign_in(self, claims: LearnerClaims) -> Account:
        """The caller's account (created on first sight, holder keys recovered from the key store)."""
        await self._available()
        account = await self.accounts.ensure(claims)
        if account.created and await self.keys.recover(account.account_id):
            account = await self.accounts.ensure(claims)
        return account

    async def delete_account(self, account: Account) -> dict[str, Any]:
        """Delete the caller's account (docs/privacy.md); credentials already downloaded or shared stay theirs."""
        if self.deletion is None:
            raise Unavailable("account deletion is not configured in this wallet")
        return await self.deletion.delete(account)

    # ----------------------------------------------------------------------------------- credentials

    async def credentials(self, account: Account, filters: CredentialFilter) -> list[HeldCredential]:
        """The account's credentials that pass ``filters``."""
        return [c for c in await self.holdings.of(account) if filters.matches(c)]

    async def bind(self, account: Account, credential_id: str, did: str) -> HeldCredential:
        """Bind one of the account's credentials to one of its holder DIDs."""
        await self.holdings.one(account, credential_id)
        if did not in account.holder_keys:
            raise NotFound("no such holder key")
        await self.accounts.bind(account.account_id, credential_id, did)
        return await self.holdings.one(account, credential_id)

    # ----------------------------------------------------------------------------------------- shares

    async def create_share(self, account: Account, credential_ids: list[str],
                           expires_in_seconds: int | None) -> tuple[str, Share]:
        """A link to some of the account's credentials; returns (token, share)."""
        held = await self.holdings.some(account, credential_ids)
        seconds = expires_in_seconds or self.settings.share_default_seconds
        if not 0 < seconds <= self.settings.share_max_seconds:
            raise Unprocessable(f"expires_in_seconds must be between 1 and {self.settings.share_max_seconds}")
        now = self.clock()
        return await self.shares.create(account.account_id, [c.credential_id for c in held],
                                        now + timedelta(seconds=seconds), now)

    async def resolve_share(self, token: str) -> tuple[Share, list[Mapping[str, Any]]]:
        """The shared credentials behind a token (counted); NotFound or ShareGone otherwise."""
        await self._available()
        resolution, share = await self.shares.resolve(token, self.clock())
        if resolution is Resolution.DELETED:
            raise ShareGone("the learner deleted their wallet account", code="SHARE_DELETED")
        if resolution is Resolution.UNKNOWN or share is None:
            raise NotFound("no such share link")
        if resolution is Resolution.WITHDRAWN:
            raise ShareGone("the learner withdrew this share link", code="SHARE_WITHDRAWN")
        if resolution is Resolution.EXPIRED:
            raise ShareGone("this share link has expired", code="SHARE_EXPIRED")
        account = await self.accounts.get(share.account_id)
        if account is None:
            raise NotFound("no such share link")
        held = await self.holdings.by_id(account)  # also by a received copy's id (see Holdings.by_id)
        return share, [held[cid].document for cid in share.credential_ids if cid in held]

    # ---------------------------------------------------------------------------------- presentations

    async def present(self, account: Account, credential_ids: list[str], challenge: str, domain: str,
                      holder_did: str | None) -> dict[str, Any]:
        """A presentation of some of the account's credentials, signed for ``challenge`` and ``domain``."""
        held = await self.holdings.some(account, credential_ids)
        did = holder_did or _default_holder(account, held)
        key = await self.keys.signing_key(account.account_id, did)
        unsigned = build_presentation([c.document for c in held], did)
        return await asyncio.to_thread(sign_presentation, unsigned, key, challenge, domain)

    # ------------------------------------------------------------------------------------ portability

    async def export(self, account: Account) -> bytes:
        """The export bundle (zip) of everything the account holds."""
        held = await self.holdings.of(account)
        now = self.clock()
        keys = await self.keys.for_account(account.account_id, credential_keys=True)
        my_data = {
            "account": {"account_id": account.account_id, "email": account.email},
            "holder_keys": [k.to_json() for k in keys],
            "bindings": {c.credential_id: c.bound_did for c in held if c.bound_did},
            "share_links": [s.to_json(now) for s in await self.shares.for_account(account.account_id)],
            "pathway_progress": [p.to_json() for p in await self.progress(account)],
            "credentials": [c.meta_json() for c in held]}
        return build_bundle(held, account.account_id, account.dids, now, my_data)

    async def import_credential(self, account: Account, document: Mapping[str, Any]) -> HeldCredential:
        """Accept a credential issued elsewhere once it verifies and is the account's own."""
        verdict = await self.verifier.verify(document, self.clock())
        if not verdict.accepted:
            raise ImportRejected(verdict.message, code=verdict.code)
        identity = identity_from_document(document)
        mine = {identity_hash(account.email, h.salt) for h in identity.email_hashes()} if account.email else set()
        if identity.did not in account.holder_keys and not mine & {h.identity_hash for h in identity.hashed}:
            raise ImportRejected("the credential was not issued to this learner", code="SUBJECT_NOT_LEARNER")
        credential_id = sd_jwt_id(document) or str(document["id"])
        if any(c.credential_id == credential_id for c in await self.holdings.of(account)):
            raise Conflict("the credential is already in the wallet", code="ALREADY_HELD")
        check = {"verdict": verdict.code, "unknown_checks": list(verdict.unknown_checks),
                 "checked_at": self.clock().isoformat()}
        await self.accounts.add_imported(account.account_id, document, check)  # the projection files it
        return await self.holdings.one(account, credential_id)

    # --------------------------------------------------------------------------------------- stacking

    async def progress(self, account: Account, pathway_id: str | None = None) -> list[PathwayProgress]:
        """Progress on one pathway or on all; completions are announced as a side effect."""
        if pathway_id is None:
            pathways = await self.store.pathways()
        else:
            pathway = await self.store.pathway(pathway_id)
            if pathway is None:
                raise NotFound("no such pathway")
            pathways = [pathway]
        return await self.completions.progress(account, pathways)

    async def publish_pathway(self, pathway: Pathway) -> str:
        """Publish ``PathwayPublished`` (the wallet applies it when it consumes it); returns the event id."""
        envelope = published_envelope(pathway)
        await self.publisher.publish(self.settings.topic(PATHWAYS.name), pathway.pathway_id, envelope)
        return envelope.event_id

    def now(self) -> datetime:
        """The context's clock."""
        return self.clock()


def _default_holder(account: Account, held: list[HeldCredential]) -> str:
    """The DID the credentials are bound to (when they agree), else the account's only or first DID."""
    bound = {c.bound_did for c in held if c.bound_did}
    subjects = {c.subject.did for c in held if c.subject.did in account.holder_keys}
    for candidates in (bound, subjects):
        if len(candidates) == 1:
            return str(next(iter(candidates)))
    if not account.holder_keys:
        raise Conflict("create a holder key first (POST /v1/holder-keys)", code="NO_HOLDER_KEY")
    return account.dids[0]
