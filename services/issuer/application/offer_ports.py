"""The ports and settings of the issuer's OpenID4VCI use cases (:class:`~.offers.Offers`, with its token side
:class:`~.offer_tokens.OfferTokens` and credential side :class:`~.offer_credentials.OfferCredentials`): the offer
store, whether offers are being rebuilt from their events, and the lifetimes and limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from microcred.oid4vci.key_attestation import KeyAttestationPolicy
from microcred.oid4vci.offers import OFFER_SCHEMES
from services.issuer.application.offer_listing import OfferIndex
from services.issuer.application.offer_records import Offer
from services.issuer.application.oid4vci_authorization import GrantStore

__all__ = ["OfferSettings", "OfferStore", "ReplayState"]


class OfferStore(GrantStore, OfferIndex, Protocol):
    """Port: :class:`~services.issuer.adapters.offers.RedisOfferStore`."""

    async def add_offers(self, offers: list[tuple[Offer, str, str, str]], ttl_seconds: int,
                         expires_at: float = 0.0, learners: Sequence[str] = ()) -> None: ...
    async def offers_to(self, learner_digest: str) -> list[str]: ...
    async def offer(self, offer_id: str) -> Offer | None: ...
    async def redeem(self, code_digest: str, tx_digest: str, max_attempts: int, token_digest: str,
                     token_ttl: int, jkt: str = "") -> tuple[str, str]: ...
    async def first_use(self, jti_digest: str, ttl_seconds: int) -> bool: ...
    async def add_nonce(self, nonce_digest: str, ttl_seconds: int) -> None: ...
    async def begin_issuing(self, token_digest: str, offer_id: str, configuration: str,
                            nonce_digests: list[str]) -> tuple[str, Offer | None]: ...
    async def issuing_offer(self, offer_id: str, token_digest: str) -> Offer | None: ...
    async def release(self, token_digest: str, configuration: str) -> None: ...
    async def token_offer(self, token_digest: str) -> tuple[str, str, str] | None: ...
    async def delivered(self, token_digest: str, offer_id: str, configuration: str, covered: Sequence[str],
                        notification_ids: list[str], transaction_digest: str = "") -> None: ...
    async def notification_known(self, token_digest: str, notification_id: str) -> bool: ...
    async def withdraw(self, issuer_id: str, offer_id: str) -> str: ...
    async def claim_expired(self, due: float, lease_until: float, limit: int) -> list[tuple[str, str, str]]: ...
    async def forget_expired(self, offer_ids: list[str]) -> None: ...


class ReplayState(Protocol):
    """Port: :class:`~services.issuer.events.offer_projection.OfferProjection` (whether offers are being rebuilt
    from their events)."""

    @property
    def replaying(self) -> bool: ...
    async def lost(self) -> bool: ...


@dataclass(frozen=True)
class OfferSettings:
    """Lifetimes and limits (``MICROCRED_OID4VCI_*``)."""

    offer_seconds: int = 7 * 86400
    token_seconds: int = 300
    nonce_seconds: int = 300
    max_tx_attempts: int = 5
    proof_max_age: float = 300.0
    #: How long a deferred transaction (and the token that made it) is kept; the wallet's polling interval while
    #: issuance is unavailable.
    deferred_seconds: int = 86400
    deferred_interval: int = 5
    #: The key attestations checked at the credential endpoint (None: not read; no ``attestation`` proof type).
    key_attestations: KeyAttestationPolicy | None = None
    #: How often each replica looks for expired offers; how long after its expiry an offer is counted expired
    #: (Redis expires keys by its own clock); how long a replica has to publish the expiries it took.
    expiry_sweep_seconds: float = 2.0
    expiry_grace_seconds: float = 2.0
    expiry_lease_seconds: float = 60.0
    #: The scheme of the offer links handed out (``openid-credential-offer``, or HAIP's ``haip-vci``).
    offer_scheme: str = OFFER_SCHEMES[0]
    #: Every access token sender-constrained: a token request without a DPoP proof is refused (HAIP 1.0 §4 by
    #: way of FAPI 2.0). Off: a token without DPoP is a Bearer token, as wallets without DPoP need.
    require_dpop: bool = False
