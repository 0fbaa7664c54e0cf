"""OpenID4VCI use cases of the issuer (:class:`Offers`): create, list and withdraw offers, serve them, and publish
the expiry of those never redeemed; redeeming an offer is :mod:`.offer_tokens` (the token endpoint) and
:mod:`.offer_credentials` (the credential, deferred credential and notification endpoints), the base classes of
:class:`Offers`; its ports and settings are :mod:`.offer_ports`.

* **Create** (an authenticated issuer, REST ``POST /oid4vci/offers``): each award is validated exactly as
  ``IssueCredential`` validates it (:class:`~.validation_cache.CohortValidator`) before any offer exists; an
  award that fails is refused with its field violations and no offer is made for it.

Events (on the credentials topic, keyed by ``offer_ref`` = SHA-256 of the offer id, which is itself a bearer
secret): ``CredentialOfferCreated``, ``CredentialOfferRedeemed`` (with the issued credential ids),
``CredentialOfferWithdrawn`` (reason ``withdrawn`` or ``locked``), ``CredentialOfferExpired`` (an offer that
expired unredeemed, published by :meth:`Offers.publish_expired`, which :meth:`Offers.expire_forever` runs on every
replica, each expired offer handed to one). Nothing personal or secret is in clear in them: the learner, the link
and the issuer's record of the offer (with its award) are sealed under the learner's key in
``CredentialOfferCreated``, which is also what the store keeps as the offer's award; an issued credential is in
its ``CredentialIssued``, sealed the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import CREDENTIALS
from microcred.oid4vci.metadata import OFFERED_CONFIGURATIONS, SD_JWT_CONFIGURATION
from microcred.oid4vci.offers import credential_offer, digest, new_secret, new_tx_code, offer_link, offer_uri
from microcred.privacy.events import EventPrivacy
from microcred.verification.canonical import Canonicalizer
from services.issuer.application.issuance import Caller, Refusal
from services.issuer.application.issue_batching import IssuesCredentials
from services.issuer.application.offer_credentials import OfferCredentials
from services.issuer.application.offer_listing import Cursor, OfferPage, list_page
from services.issuer.application.offer_ports import OfferSettings, OfferStore, ReplayState
from services.issuer.application.offer_records import Offer
from services.issuer.application.offer_tokens import restoring
from services.issuer.application.oid4vci_authorization import AuthorizationCodes, LearnerLogin, learner_digest
from services.issuer.application.validation_cache import CohortValidator

__all__ = ["CreatedOffer", "Offers"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatedOffer:
    """What the issuer gets back for one award (``tx_code`` to send out of band, '' for none)."""

    offer_id: str
    credential_offer_uri: str
    link: str
    tx_code: str
    expires_in: int


class Offers(OfferCredentials):
    """The use cases (see the module docstring), with those of its base classes."""

    def __init__(self, store: OfferStore, issuance: IssuesCredentials, publisher: EventPublisher, privacy: EventPrivacy,
                 settings: OfferSettings = OfferSettings(),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), topic: str = CREDENTIALS.name,
                 login: LearnerLogin | None = None, learner_index_key: bytes | None = None,
                 replay: ReplayState | None = None, canon: Canonicalizer | None = None) -> None:
        """``privacy`` seals each award at rest (the learner's key, as the credential store does); with ``login``
        the authorization code grant needs the offer's learner to sign in (:mod:`.oid4vci_authorization`), and
        with ``learner_index_key`` as well offers are filed under their learner's keyed e-mail hash, so that a
        wallet may start the grant without an offer. ``replay``: whether the offers are being rebuilt from their
        events (:mod:`.offer_replay`), when no code is spent and an unknown offer or code is "try again".
        ``canon``: canonicalises the presentations of ``di_vp`` key proofs (None: that proof type is not taken)."""
        self._store, self._issuance, self._s, self._clock = store, issuance, settings, clock
        self._canon = canon
        self._replay = replay
        self._publisher, self._topic, self._privacy = publisher, topic, privacy
        self._validator = CohortValidator()
        self._learner_key = learner_index_key if login is not None else None
        self.codes = AuthorizationCodes(store, settings.token_seconds, login, self.learner_email,
                                        self.offers_to if self._learner_key is not None else None)

    @property
    def offer_scheme(self) -> str:
        """The scheme of this issuer's offer links."""
        return self._s.offer_scheme

    async def learner_email(self, offer_id: str) -> str:
        """The e-mail address of an offer's learner, from its sealed award ('' when the offer is gone, redeemed
        (the award is its token's then) or the learner's data has been erased)."""
        offer = await self._store.offer(offer_id)
        award = await self._award(offer.award) if offer is not None and offer.award else None
        return award.learner.email if award is not None else ""

    async def offers_to(self, email: str) -> list[str]:
        """The ids of the offers filed under ``email``'s keyed hash (any state; [] without the index)."""
        digest_of = learner_digest(email, self._learner_key) if self._learner_key is not None else ""
        return await self._store.offers_to(digest_of) if digest_of else []

    def validate(self, awards: Sequence[pb.MicroCredential]) -> list[Refusal | None]:
        """Per award: None if it may be offered, else the refusal (the issuer's validation)."""
        now = self._clock()
        out: list[Refusal | None] = []
        for award in awards:
            violations = self._validator.validate(award, now)
            out.append(None if not violations else Refusal(
                code_pb2.INVALID_ARGUMENT,
                "invalid credential: " + "; ".join(f"{v.field}: {v.description}" for v in violations),
                tuple(violations)))
        return out

    async def create(self, caller: Caller, credential_issuer: str, awards: Sequence[pb.MicroCredential],
                     *, tx_code: bool, expires_in: int | None = None,
                     not_before: datetime | None = None, references: Sequence[str] = ()) -> list[CreatedOffer]:
        """One offer per (already validated) award, kept in one Redis round trip; with ``not_before``, its
        credential is not issued before then (the wallet gets a deferred ``transaction_id``). An offer without
        ``tx_code`` also offers the authorization code grant (its ``issuer_state``); one with a ``tx_code`` does
        not, since that grant would skip the ``tx_code``. ``references`` (checked by the caller: none, or one per
        award) are kept in the issuer's offer index for :meth:`list_offers`."""
        ttl = min(expires_in or self._s.offer_seconds, self._s.offer_seconds)
        kept: list[tuple[Offer, str, str, str]] = []
        created: list[CreatedOffer] = []
        secrets = [_OfferSecrets.new(credential_issuer, tx_code) for _ in awards]
        now = self._clock()
        expires_at = now + timedelta(seconds=ttl)
        expires, made_at = Timestamp(), Timestamp()
        expires.FromDatetime(expires_at)
        made_at.FromDatetime(now)
        refs = list(references) or [""] * len(awards)
        after = not_before.timestamp() if not_before is not None else 0.0
        # The CredentialOfferCreated event names the learner and carries the link for our wallet and the issuer's
        # record of the offer (the recovery part, with the award: a lost Redis is rebuilt from it), sealed under
        # the learner's data key; the sealed event is also what Redis keeps as the offer's award. Erasing the
        # learner makes both unreadable.
        made = [events_pb2.CredentialOfferCreated(
            offer_ref=x.ref, issuer_id=caller.issuer_id, credential_configuration_id=SD_JWT_CONFIGURATION,
            tx_code_required=tx_code, expires_at=expires, learner_did=award.learner.did,
            learner_email=award.learner.email, offer_uri=offer_uri(credential_issuer, x.offer_id), title=award.title,
            awarding_body=award.awarding_bodies[0].legal_name if award.awarding_bodies else None,
            recovery=events_pb2.OfferRecovery(
                offer_id=x.offer_id, offer_document=x.document, code_digest=x.code_digest, tx_digest=x.tx_digest,
                state_digest=x.state_digest, award=award, not_before=after, reference=reference,
                credential_issuer=credential_issuer, created_at=made_at))
            for x, award, reference in zip(secrets, awards, refs, strict=True)]
        actor = caller.actor
        envelopes = [new_envelope(event, subject=x.ref, tenant=caller.agency_id, issuer_id=caller.issuer_id,
                                  actor=actor) for x, event in zip(secrets, made, strict=True)]
        sealed = await self._privacy.seal(envelopes, made)
        for x, envelope, reference in zip(secrets, sealed, refs, strict=True):
            kept.append((Offer(x.offer_id, "offered", caller.issuer_id, caller.agency_id, x.document,
                               envelope.SerializeToString(deterministic=True), after, reference, credential_issuer),
                         x.code_digest, x.tx_digest, x.state_digest))
            uri = offer_uri(credential_issuer, x.offer_id)
            created.append(CreatedOffer(x.offer_id, uri, offer_link(uri, self._s.offer_scheme), x.tx, ttl))
        learners = [learner_digest(award.learner.email, self._learner_key) for award in awards] \
            if self._learner_key is not None else []
        await self._store.add_offers(kept, ttl, expires_at.timestamp(), learners)
        await self._publisher.publish_many(self._topic, [(x.ref, envelope)
                                                         for x, envelope in zip(secrets, sealed, strict=True)])
        return created

    async def list_offers(self, caller: Caller, *, size: int, cursor: Cursor, state: str = "",
                   since: datetime | None = None) -> OfferPage:
        """A page of the caller's own offers, newest first (:func:`~.offer_listing.list_page`)."""
        return await list_page(self._store, caller.issuer_id, self._clock().timestamp(), size=size, cursor=cursor,
                               state=state, since=since.timestamp() if since is not None else -math.inf)

    async def withdraw(self, caller: Caller, offer_id: str) -> str:
        """'ok', or why not ('unknown', 'redeemed', 'withdrawn', 'locked')."""
        outcome = await self._store.withdraw(caller.issuer_id, offer_id)
        if outcome == "ok":
            await self._publish([(events_pb2.CredentialOfferWithdrawn(
                offer_ref=digest(offer_id), issuer_id=caller.issuer_id, reason="withdrawn"), digest(offer_id),
                caller.agency_id, caller.actor)])
        return outcome

    async def publish_expired(self, limit: int = 500) -> int:
        """Publish ``CredentialOfferExpired`` for offers that expired unredeemed (each taken by one replica, then
        forgotten once Kafka acknowledged); the number published."""
        now = self._clock().timestamp()
        due = await self._store.claim_expired(now - self._s.expiry_grace_seconds,
                                              now + self._s.expiry_lease_seconds, limit)
        if not due:
            return 0
        expired_at = Timestamp()
        expired_at.FromDatetime(self._clock())
        await self._publish([(events_pb2.CredentialOfferExpired(offer_ref=digest(offer_id), issuer_id=issuer_id,
                                                                expired_at=expired_at), digest(offer_id), agency, "")
                             for offer_id, issuer_id, agency in due])
        await self._store.forget_expired([offer_id for offer_id, _, _ in due])
        return len(due)

    async def expire_forever(self) -> None:
        """Run :meth:`publish_expired` every ``expiry_sweep_seconds`` until cancelled (failures are logged and
        retried: a leased offer comes back to the next sweep)."""
        while True:
            try:
                while await self.publish_expired() == 500:  # a backlog: drain it before sleeping
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or Kafka down: try again at the next sweep
                log.warning("offer expiry sweep failed", extra={"error": repr(exc)})
            await asyncio.sleep(self._s.expiry_sweep_seconds)

    async def offer_document(self, offer_id: str) -> dict[str, Any] | None:
        """The Credential Offer served at its ``credential_offer_uri`` while it can still be redeemed."""
        offer = await self._store.offer(offer_id)
        if offer is None and self._replay is not None and (self._replay.replaying or await self._replay.lost()):
            raise restoring()
        if offer is None or offer.state != "offered":
            return None
        document: dict[str, Any] = json.loads(offer.offer_json)
        return document


@dataclass(frozen=True)
class _OfferSecrets:
    """A new offer's id, pre-authorized code, ``tx_code`` and ``issuer_state`` ('' for none), their digests ('' for
    none), the ``offer_ref`` its events are keyed by, and its Credential Offer document."""

    offer_id: str
    code: str
    tx: str
    state: str
    document: str
    ref: str
    code_digest: str
    tx_digest: str
    state_digest: str

    @classmethod
    def new(cls, credential_issuer: str, tx_code: bool) -> _OfferSecrets:
        """Fresh secrets: a ``tx_code`` when asked for, else an ``issuer_state`` (the authorization code grant would
        skip the ``tx_code``)."""
        offer_id, code, tx = new_secret(), new_secret(), new_tx_code() if tx_code else ""
        state = "" if tx_code else new_secret()
        document = json.dumps(credential_offer(credential_issuer, code, tx_code=tx_code, issuer_state=state,
                                               configurations=OFFERED_CONFIGURATIONS))
        return cls(offer_id, code, tx, state, document, digest(offer_id), digest(code), digest(tx) if tx else "",
                   digest(state) if state else "")
