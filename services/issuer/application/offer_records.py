"""What the offer store keeps per OpenID4VCI credential offer: the record the use cases read and the adapter
writes (it lives here, below the adapters, so the use cases name it without importing an adapter)."""

from __future__ import annotations

from dataclasses import dataclass

from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2

__all__ = ["Offer", "award_envelope"]


@dataclass(frozen=True)
class Offer:
    """A stored offer (``award``: the sealed envelope of the ``MicroCredential``; ``not_before``: epoch seconds
    before which its credential is not issued, the wallet getting a deferred ``transaction_id``; 0 for none;
    ``reference``: what the issuer gave to find it again in ``ListOffers``, '' for none; ``credential_issuer``:
    the Credential Issuer identifier its links were made with, which ``ListOffers`` makes them with again)."""

    offer_id: str
    state: str
    issuer_id: str
    agency_id: str
    offer_json: str
    award: bytes
    not_before: float = 0.0
    reference: str = ""
    credential_issuer: str = ""


def award_envelope(offer_ref: str, issuer_id: str, agency_id: str, award: pb.MicroCredential) -> EventEnvelope:
    """The award of offer ``offer_ref`` in the form the store keeps it once sealed (:attr:`Offer.award`): a
    ``CredentialIssued`` envelope, so that the learner's key seals and erases it as it does issued credentials."""
    return new_envelope(events_pb2.CredentialIssued(credential_id=f"urn:microcred:offer:{offer_ref}",
                                                    issuer_id=issuer_id, credential=award),
                        subject=offer_ref, tenant=agency_id, issuer_id=issuer_id)
