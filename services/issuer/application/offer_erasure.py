"""An erased learner's open OpenID4VCI offers are withdrawn (issues 18 and 20).

Erasure destroys the learner's data key, so an open offer can no longer give its credential (its award is sealed
under that key) and the learner's wallet drops it. Left open, it would still be listed by ``ListOffers`` as
"offered", and an issuer could send its link again. :meth:`ErasedLearnerOffers.withdraw` withdraws it, as the
issuer would, and publishes ``CredentialOfferWithdrawn`` with the reason ``learner erased``.

The events name an offer by its digest (``offer_ref``), the store by its id: the store's ``ref -> id`` keys
(written with every offer, kept as long as its code) give the ids in one read. A ref they do not know (an offer
made before they were kept, or one already forgotten) is looked for in the issuer's index, read page by page,
newest first, each id digested, until every such ref is found or the index ends (a 50,000-offer index is
50,000 SHA-256s). The pages follow the creation time, not an offset, so offers created meanwhile do not shift
the window. The withdrawal itself checks that the offer is the issuer's and still offered.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import CREDENTIALS
from microcred.oid4vci.offers import digest
from services.issuer.application.offer_listing import OfferIndex

__all__ = ["ERASED", "ErasedLearnerOffers"]

ERASED = "learner erased"
PAGE = 1000


class WithdrawingIndex(OfferIndex, Protocol):
    """Port: the issuer's offer index and the withdrawal (:class:`~services.issuer.adapters.offers.RedisOfferStore`)."""

    async def withdraw(self, issuer_id: str, offer_id: str) -> str:
        """'ok', or the offer's state ('unknown' for others' offers)."""
        ...

    async def offer_ids(self, offer_refs: Sequence[str]) -> dict[str, str]:
        """Those of ``offer_refs`` the store keeps a ref for, with their offer ids."""
        ...


class ErasedLearnerOffers:
    """Withdraws the open offers an erasure names (see the module docstring)."""

    def __init__(self, store: WithdrawingIndex, publisher: EventPublisher, topic: str = CREDENTIALS.name,
                 page: int = PAGE) -> None:
        self._store, self._publisher, self._topic, self._page = store, publisher, topic, page

    async def withdraw(self, issuer_id: str, agency_id: str, offer_refs: Collection[str], actor: str) -> int:
        """Withdraw those of ``offer_refs`` (digests) that are ``issuer_id``'s and still offered; how many."""
        ids = await self._store.offer_ids(sorted(set(offer_refs)))
        found = [(offer_id, ref) for ref, offer_id in ids.items()]
        wanted = set(offer_refs) - set(ids)
        top, skip = float("inf"), 0
        while wanted:  # refs the store does not keep: look in the index
            page = await self._store.offer_window(issuer_id, top, skip, self._page, float("-inf"))
            if not page:
                break
            for entry in page:
                ref = digest(entry.offer_id)
                if ref in wanted:
                    wanted.discard(ref)
                    if entry.state == "offered":
                        found.append((entry.offer_id, ref))
            last = page[-1].created_at
            same = sum(1 for entry in page if entry.created_at == last)
            skip = skip + same if last == top else same  # entries at the window's top already read
            top = last
        withdrawn = []
        for offer_id, ref in found:
            if await self._store.withdraw(issuer_id, offer_id) == "ok":
                withdrawn.append((ref, new_envelope(
                    events_pb2.CredentialOfferWithdrawn(offer_ref=ref, issuer_id=issuer_id, reason=ERASED),
                    subject=ref, tenant=agency_id, issuer_id=issuer_id, actor=actor)))
        if withdrawn:
            await self._publisher.publish_many(self._topic, withdrawn)
        return len(withdrawn)
