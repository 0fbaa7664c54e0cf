"""The ports the wallet's use cases need; the adapters in :mod:`services.wallet.adapters` implement them.

The use cases (:mod:`services.wallet.application.use_cases`) see only these protocols and the domain, so they
name no Redis, Kafka or HTTP type. ``app.py`` hands them the real adapters; mypy checks that each adapter
fits its port.

=====================  ==========================================================================
port                   adapter
=====================  ==========================================================================
``PathwayReader``      ``adapters.store.CredentialStore`` (the pathways in the read model)
``AccountStore``       ``adapters.accounts.Accounts`` (read model + ``microcred.wallet.v1``)
``HoldingsReader``     ``adapters.holdings.Holdings`` (which credentials are this account's)
``HolderKeyStore``     ``adapters.holder_keys.HolderKeys`` (the encrypted key store)
``ShareLinkStore``     ``adapters.share_links.ShareLinks``
``CompletionPolicy``   ``adapters.holdings.PathwayCompletions`` (announces ``PathwayCompleted`` once)
``BearerTokens``       ``adapters.auth.TokenVerifier`` (OIDC, JWKS over HTTP or from a file)
``TokenMinter``        ``adapters.auth.DevTokenMinter`` (dev/test only)
``CredentialVerifier`` ``adapters.importer.PipelineVerifier``, ``DataIntegrityVerifier``
``AccountDeleter``     ``adapters.account_deletion.AccountDeletion`` (tombstones, key store, data key)
``OffersReader``       ``adapters.pending_offers.PendingOffers`` (offers addressed to learners)
``PendingAuthorizationStore``  ``adapters.pending_authorizations.PendingAuthorizations`` (code flow attempts)
``EventPublisher``     ``microcred.kafka.publisher`` (shared port)
=====================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.wallet.domain.accounts import Account, CredentialKey, HolderKey, LearnerClaims
from services.wallet.domain.addressed_offers import AddressedOffer
from services.wallet.domain.credentials import HeldCredential
from services.wallet.domain.deferred import DeferredIssuance
from services.wallet.domain.offer_authorization import PendingAuthorization
from services.wallet.domain.share_link import Resolution, Share
from services.wallet.domain.stacking import Pathway, PathwayProgress

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


class OffersReader(Protocol):
    """The open OpenID4VCI offers issuers of this platform addressed to learners."""

    async def for_learner(self, dids: Iterable[str], email: str | None, now: float) -> list[AddressedOffer]:
        """The open offers addressed to any of ``dids`` or to ``email``, soonest to expire first."""
        ...


class PendingAuthorizationStore(Protocol):
    """The OpenID4VCI authorization code attempts in progress, each taken once."""

    async def put(self, pending: PendingAuthorization) -> None:
        """Keep an attempt until the learner comes back (or it expires)."""
        ...

    async def take(self, state: str) -> PendingAuthorization | None:
        """The attempt of ``state``, removed in the same step (None: unknown, expired or taken)."""
        ...


class DeferredStore(Protocol):
    """The deferred OpenID4VCI issuances accounts wait for (durable; the secrets in them sealed at rest)."""

    async def put(self, item: DeferredIssuance) -> None:
        """Keep ``item`` until dropped."""
        ...

    async def of(self, account_id: str) -> list[DeferredIssuance]:
        """The account's, oldest first."""
        ...

    async def due(self, ref: str, interval: int) -> bool:
        """Whether the issuer may be asked about ``ref`` now (then not again for ``interval`` seconds, on any
        replica: a collection passes the length of its ask here, so that no other asks meanwhile)."""
        ...

    async def wait(self, ref: str, seconds: int) -> None:
        """Do not ask the issuer about ``ref`` for ``seconds`` from now (the interval its last answer named)."""
        ...

    async def drop(self, account_id: str, ref: str) -> None:
        """Stop waiting for ``ref``."""
        ...


class PathwayReader(Protocol):
    """The pathways the wallet knows of."""

    async def pathway(self, pathway_id: str) -> Pathway | None:
        """One pathway, or None."""
        ...

    async def pathways(self, ids: Iterable[str] | None = None) -> list[Pathway]:
        """The pathways with ``ids`` (default: all), ordered by id."""
        ...


class AccountDeleter(Protocol):
    """Deletes a learner's wallet account: its records, holder keys and learner data key."""

    async def delete(self, account: Account) -> dict[str, Any]:
        """Delete ``account``; answers what was deleted (ids only)."""
        ...


class AccountStore(Protocol):
    """Learner accounts: read from the read model, changed by publishing on the wallet topic."""

    async def ensure(self, claims: LearnerClaims) -> Account:
        """The account of ``claims`` (linked on first sight and when the e-mail changed)."""
        ...

    async def get(self, aid: str) -> Account | None:
        """An existing account by id (None when it has never signed in)."""
        ...

    async def bind(self, aid: str, credential_id: str, did: str) -> None:
        """Bind a credential under one of the account's holder DIDs."""
        ...

    async def add_imported(self, aid: str, document: Mapping[str, object], check: Mapping[str, object]) -> None:
        """Add a verified imported credential (``check``: the import verdict) to the account."""
        ...


class HoldingsReader(Protocol):
    """The credentials of one account, and nothing else (another learner's credential is not found)."""

    async def of(self, account: Account) -> list[HeldCredential]:
        """Every credential the account holds."""
        ...

    async def by_id(self, account: Account) -> dict[str, HeldCredential]:
        """The account's credentials by id (an issued SD-JWT VC also by its received copy's ``urn:sd-jwt:`` id)."""
        ...

    async def one(self, account: Account, credential_id: str) -> HeldCredential:
        """One of the account's credentials; ``NotFound`` for anything else."""
        ...

    async def some(self, account: Account, credential_ids: Sequence[str]) -> list[HeldCredential]:
        """The account's credentials with ``credential_ids``, in that order; ``NotFound`` if any is not its."""
        ...


class HolderKeyStore(Protocol):
    """The learners' custodial holder keys (private keys never leave the store)."""

    async def create(self, aid: str, alg: str = "EdDSA") -> HolderKey:
        """Generate a key the learner asked for (``alg``: EdDSA, or ES256 for P-256) and publish its DID (keys
        for one received credential: :meth:`make_for_credential`)."""
        ...

    async def make_for_credential(self, aid: str) -> CredentialKey:
        """A P-256 key for one credential about to be received: stored, not yet published (nor listed)."""
        ...

    async def publish_for_credential(self, aid: str, key: CredentialKey) -> None:
        """Publish a key of :meth:`make_for_credential` once the issuer answered (a credential, or deferred)."""
        ...

    async def discard(self, key: CredentialKey) -> None:
        """Delete a key of :meth:`make_for_credential` that was never published (its request failed)."""
        ...

    async def forget_for_credential(self, aid: str, did: str) -> bool:
        """Delete a published key made for one credential that was not kept after all (False: no such key, or
        a key the learner made, which is never deleted here)."""
        ...

    async def recover(self, aid: str) -> int:
        """Publish keys of the account found in the store but unknown to the read model; return how many."""
        ...

    async def for_account(self, aid: str, *, credential_keys: bool = False) -> list[HolderKey]:
        """The holder keys the learner made (with ``credential_keys``, those made for one received credential
        too), ordered by DID."""
        ...

    async def bound_key(self, aid: str, jwk: Mapping[str, Any] | None
                        ) -> Ed25519PrivateKey | EllipticCurvePrivateKey | None:
        """The account's private key whose public half is ``jwk`` (a credential's ``cnf.jwk``), or None."""
        ...

    async def signing_key(self, aid: str, did: str) -> Ed25519PrivateKey:
        """The private key of one of the account's DIDs (``NotFound`` for any other DID)."""
        ...

    async def jose_key(self, aid: str, did: str) -> Ed25519PrivateKey | EllipticCurvePrivateKey:
        """The private key of one of the account's DIDs for JWS (EdDSA or ES256), e.g. a Key Binding JWT."""
        ...


class ShareLinkStore(Protocol):
    """Share links: created and withdrawn by publishing, resolved (and counted) against the read model."""

    async def create(self, aid: str, credential_ids: list[str], expires_at: datetime,
                     now: datetime) -> tuple[str, Share]:
        """A new link; returns (token, share)."""
        ...

    async def get(self, aid: str, share_id: str) -> Share:
        """One of the account's links (``NotFound`` when unknown or someone else's)."""
        ...

    async def for_account(self, aid: str) -> list[Share]:
        """The account's links, newest first."""
        ...

    async def withdraw(self, aid: str, share_id: str) -> Share:
        """Withdraw one of the account's links."""
        ...

    async def resolve(self, token: str, now: datetime) -> tuple[Resolution, Share | None]:
        """Check a token and, when it works, count the access."""
        ...


class CompletionPolicy(Protocol):
    """Pathway progress of an account, announcing each completion once."""

    async def progress(self, account: Account, pathways: Sequence[Pathway]) -> list[PathwayProgress]:
        """Progress on ``pathways``; complete ones not yet announced are published."""
        ...


class BearerTokens(Protocol):
    """Checks a learner's bearer token."""

    async def verify(self, token: str) -> LearnerClaims:
        """The verified claims, or ``NotAuthenticated`` with the reason."""
        ...


class TokenMinter(Protocol):
    """Signs learner tokens (development sign-in only)."""

    def mint(self, sub: str, email: str | None = None, email_verified: bool = True, scopes: Sequence[str] = (),
             ttl_seconds: int = 3600) -> str:
        """A signed token for ``sub``."""
        ...


@dataclass(frozen=True, slots=True)
class ImportVerdict:
    """Whether the document may enter the wallet; ``code`` names the first failing check.

    ``unknown_checks`` lists the checks that could not be carried out on an accepted credential.
    """

    accepted: bool
    code: str
    message: str
    unknown_checks: tuple[str, ...] = ()


class CredentialVerifier(Protocol):
    """Port: verify a credential document before import."""

    async def verify(self, document: Mapping[str, Any], now: datetime) -> ImportVerdict:
        """Accept only a credential whose every check passed."""
        ...
