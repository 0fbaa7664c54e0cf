"""A learner as the wallet knows one: the verified claims of a bearer token, the account they map to, and a
holder key as the API shows it.

Pure module. An account is keyed by :func:`~services.wallet.domain.credentials.account_id` of the token's
provider and ``sub``; it links the holder DIDs created for it and its *verified* e-mail address. Where these
are kept (Redis read model, Kafka wallet topic) is :mod:`services.wallet.adapters.accounts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from microcred.credential.identifiers import normalise_email
from services.wallet.domain.credentials import account_id


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


@dataclass(frozen=True, slots=True)
class HolderKey:
    """A learner's holder key as the API shows it (never the private key)."""

    did: str
    verification_method: str
    #: Made by the wallet for one credential it received (a key per credential), not by the learner.
    for_credential: bool = False

    def to_json(self) -> dict[str, str | bool]:
        """JSON-ready form."""
        return {"did": self.did, "verification_method": self.verification_method,
                "for_credential": self.for_credential}


@dataclass(frozen=True, slots=True)
class CredentialKey:
    """A P-256 key made for one credential being received, not yet published (the wallet's key store has it;
    services/wallet/adapters/holder_keys.py says when it is published or deleted)."""

    holder: HolderKey
    private: EllipticCurvePrivateKey
    #: Where the key store keeps it.
    key_id: str
