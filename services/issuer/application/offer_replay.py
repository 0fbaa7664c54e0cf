"""Rebuilding the issuer's open OpenID4VCI offers from its own offer events, after a loss of its Redis.

The issuer keeps its offers in Redis (:mod:`~services.issuer.adapters.offers`) and publishes each change on the
credentials topic. ``CredentialOfferCreated`` carries, sealed under the learner's data key, what Redis held of
the offer (``recovery``: its id, Credential Offer, code digests, award, reference); the later events of the same
offer (same key, same partition, in order) say how it ended. Replaying them:

* a ``CredentialOfferCreated`` whose offer has not expired is **restored**, unless Redis still has the offer
  (the normal case: the issuer wrote Redis before it published; an offer's ref and code are remembered a day
  past it, so a live offer is never overwritten, whatever happened to it since, and its record is not even
  opened);
* ``CredentialOfferRedeemed``, ``CredentialOfferWithdrawn`` (withdrawn, locked, learner erased) and
  ``CredentialOfferExpired`` **close** the offer again (the adapter finds it by ``offer_ref``; one that already
  has the state the event reports is left as it is).

An offer whose learner was erased cannot be opened and stays gone; events made before offers carried
``recovery`` restore nothing. What a replay does not bring back: access tokens, nonces and deferred transactions
(minutes-lived; the wallet starts again from the offer, which is open again if no credential was issued for it:
issuance under the offer's idempotency keys never makes a second credential), and the count of wrong
``tx_code`` attempts.

:meth:`OfferReplay.restore` and :func:`closing_state` decide per record (pure); :meth:`OfferReplay.apply_batch`
opens the sealed parts of the offers Redis lacks and hands the actions to the store with the records' positions.
When it runs (only to replay) is :mod:`services.issuer.events.offer_projection`'s business.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from google.protobuf.message import Message

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import Position
from microcred.oid4vci.offers import digest
from microcred.privacy.events import EventPrivacy
from services.issuer.application.offer_records import Offer
from services.issuer.application.oid4vci_authorization import learner_digest

__all__ = ["OFFER_EVENTS", "Action", "Close", "OfferReplay", "OfferReplayStore", "Restore", "closing_state"]

#: The payload types the projection reads (everything else on the topic is passed over).
OFFER_EVENTS = frozenset(m.DESCRIPTOR.full_name for m in (
    events_pb2.CredentialOfferCreated, events_pb2.CredentialOfferRedeemed, events_pb2.CredentialOfferWithdrawn,
    events_pb2.CredentialOfferExpired))
#: An offer with less than this left is not restored (it would expire before anyone could use it).
MIN_SECONDS_LEFT = 2


@dataclass(frozen=True)
class Restore:
    """Put an offer back as ``offered`` (if its code is unknown to Redis): the record, its digests, when it was
    made and expires (epoch seconds), how long Redis keeps it (``ttl``), and its learner's sign-in digest ('')."""

    offer: Offer
    offer_ref: str
    code_digest: str
    tx_digest: str
    state_digest: str
    created: float
    expires_at: float
    ttl: int
    learner: str


@dataclass(frozen=True)
class Close:
    """Record the end of offer ``offer_ref``: ``redeemed``, ``withdrawn``, ``locked`` or ``expired``."""

    offer_ref: str
    issuer_id: str
    state: str


#: What one record asks of the store.
Action = Restore | Close


class OfferReplayStore(Protocol):
    """Port: :class:`~services.issuer.adapters.offer_replay.RedisOfferReplay`."""

    async def position(self, topic: str, partition: int) -> int | None: ...
    async def offer_ids(self, offer_refs: Sequence[str]) -> dict[str, str]: ...
    async def replay(self, positions: Sequence[Position], actions: Sequence[Action | None],
                     known: Mapping[str, str]) -> None: ...


def closing_state(payload: Message) -> str:
    """The state an end event leaves its offer in ('' for other events)."""
    match payload:
        case events_pb2.CredentialOfferRedeemed():
            return "redeemed"
        case events_pb2.CredentialOfferWithdrawn():
            return "locked" if payload.reason == "locked" else "withdrawn"
        case events_pb2.CredentialOfferExpired():
            return "expired"
    return ""


class OfferReplay:
    """The offer projection's handler (see the module docstring)."""

    def __init__(self, store: OfferReplayStore, privacy: EventPrivacy, clock: Callable[[], datetime],
                 learner_index_key: bytes | None = None) -> None:
        """``learner_index_key``: files restored offers for their learner's sign-in, as
        :class:`~.offers.Offers` does with the same key."""
        self._store, self._privacy, self._clock, self._learner_key = store, privacy, clock, learner_index_key

    async def position(self, topic: str, partition: int) -> int | None:
        """Where the projection resumes."""
        return await self._store.position(topic, partition)

    async def apply(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """One record (the runner's fallback when a batch fails)."""
        await self.apply_batch([(envelope, payload, position)])

    async def apply_batch(self, items: Sequence[tuple[EventEnvelope, Message, Position]]) -> None:
        """A fetch: which of its offers Redis has (one read), the sealed parts of the ``CredentialOfferCreated``
        events whose offer Redis lacks opened in one data-key read, then every action with the positions in one
        transaction."""
        refs = {str(getattr(payload, "offer_ref", "")) for _, payload, _ in items} - {""}
        known = await self._store.offer_ids(sorted(refs)) if refs else {}
        # normally none is left: the issuer wrote Redis before it published (not opened, not sealed again)
        made = [(i, envelope, payload) for i, (envelope, payload, _) in enumerate(items)
                if isinstance(payload, events_pb2.CredentialOfferCreated) and payload.sealed_personal
                and payload.offer_ref not in known]
        opened = await self._privacy.open_imported([(envelope, payload) for _, envelope, payload in made]) \
            if made else []
        now = self._clock().timestamp()
        actions: list[Action | None] = [None] * len(items)
        for (i, envelope, _), (event, erased) in zip(made, opened, strict=True):
            if not erased:
                actions[i] = self.restore(envelope, event, now)
        for i, (_, payload, _) in enumerate(items):
            state = closing_state(payload)
            offer_ref = str(getattr(payload, "offer_ref", ""))
            if state and offer_ref:
                actions[i] = Close(offer_ref, str(getattr(payload, "issuer_id", "")), state)
        await self._store.replay([p for _, _, p in items], actions, known)

    def restore(self, envelope: EventEnvelope, event: events_pb2.CredentialOfferCreated,
                now: float) -> Restore | None:
        """The restore an opened ``CredentialOfferCreated`` (``envelope``: as published, sealed) asks for, or None:
        no recovery part (made before offers carried one) or too little time left."""
        if not event.HasField("recovery") or not event.recovery.offer_id or not event.recovery.code_digest:
            return None
        r = event.recovery
        if digest(r.offer_id) != event.offer_ref:  # the event's key names another offer: not this issuer's doing
            return None
        expires = event.expires_at.seconds + event.expires_at.nanos / 1e9
        left = math.floor(expires - now)
        if left < MIN_SECONDS_LEFT:
            return None
        # the award is kept as the event itself, sealed as it was published (Offers.create keeps it so)
        offer = Offer(r.offer_id, "offered", event.issuer_id, envelope.tenant, r.offer_document,
                      envelope.SerializeToString(deterministic=True), r.not_before, r.reference, r.credential_issuer)
        learner = learner_digest(event.learner_email, self._learner_key) \
            if self._learner_key is not None and event.learner_email.strip() else ""
        return Restore(offer, event.offer_ref, r.code_digest, r.tx_digest, r.state_digest,
                       r.created_at.seconds + r.created_at.nanos / 1e9, expires, left, learner)
