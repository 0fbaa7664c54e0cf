"""What the offer store keeps per OpenID4VCI credential offer: the record the use cases read and the adapter
writes (it lives here, below the adapters, so the use cases name it without importing an adapter)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Offer"]


@dataclass(frozen=True)
class Offer:
    """A stored offer. ``award``: the offer's ``CredentialOfferCreated`` envelope as published, its award in the
    part sealed under the learner's key (offers made before that: a sealed ``CredentialIssued`` envelope);
    ``not_before``: epoch seconds before which its credential is not issued, the wallet getting a deferred
    ``transaction_id``, 0 for none; ``reference``: what the issuer gave to find it again in ``ListOffers``, '' for
    none; ``credential_issuer``: the Credential Issuer identifier its links were made with, which ``ListOffers``
    makes them with again."""

    offer_id: str
    state: str
    issuer_id: str
    agency_id: str
    offer_json: str
    award: bytes
    not_before: float = 0.0
    reference: str = ""
    credential_issuer: str = ""

