"""OpenID4VCI use cases of the issuer: create and withdraw offers, redeem a pre-authorized code, hand out
nonces, and issue the credential(s) at redemption, in either offered format: SD-JWT VC (``dc+sd-jwt``) or
Open Badges 3.0 with a Data Integrity proof (``ldp_vc``).

* **Create** (an authenticated issuer, REST ``POST /oid4vci/offers``): each award is validated exactly as
  ``IssueCredential`` validates it (:class:`~.validation_cache.CohortValidator`) before any offer exists; an
  award that fails is refused with its field violations and no offer is made for it.
* **Token**: the pre-authorized code is spent atomically in Redis (one replica wins), with the ``tx_code`` when
  the offer has one (``max_tx_attempts`` wrong codes lock the offer); or an authorization code, from PAR and the
  authorization endpoint with PKCE (:mod:`~.oid4vci_authorization`; offers without ``tx_code`` only).
* **Credential**: every proof is checked (pure), then all their nonces are spent in the same atomic step that starts
  issuing the requested configuration under the token (and reads the offer with the award the token holds); a
  token obtains each offered configuration once (:data:`TOKEN_CONFIGURATIONS`), and the award it holds goes with
  the last delivery or with the token; then :class:`~.issuance.Issuance` issues one
  credential per proof under idempotency key ``oid4vci:{offer id}:{n}``: the same validation, registry checks,
  status entries from the reserved blocks, signature and sealed ``CredentialIssued`` event as ``IssueCredential``
  with ``CREDENTIAL_FORMAT_SD_JWT_VC``, each SD-JWT VC bound (``cnf``) to its proof's key. For ``ldp_vc`` each
  credential is the Open Badges 3.0 ``AchievementCredential`` signed (``eddsa-rdfc-2022``) by the same issuance,
  with ``credentialSubject.id`` the DID its proof's ``kid`` names (a did:key or did:jwk, as the wallet wrote it),
  else the ``did:key`` of its proof's key (:func:`~microcred.oid4vci.holder_did.holder_did_key`), i.e. the award's
  learner DID set to it. If issuance fails, the token owes that configuration again.
* **Deferred** (§9): when the credential cannot be issued at once (the offer's ``not_before`` has not come, or
  issuance is UNAVAILABLE for a while: status indexes, signing workers, registry rebuilding, Kafka), the
  checked request is kept under a ``transaction_id`` (202); the deferred credential endpoint issues it once it
  can (same idempotency keys, so a retry never makes a second credential), else 202 again.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2, issuer_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import CREDENTIALS
from microcred.oid4vci import errors as e
from microcred.oid4vci.di_vp_proof import check_di_vp_proof
from microcred.oid4vci.dpop import DpopProof
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.holder_did import holder_did_key
from microcred.oid4vci.key_attestation import KeyAttestationPolicy
from microcred.oid4vci.metadata import (
    AUTHORIZATION_CODE_GRANT,
    OFFERED_CONFIGURATIONS,
    PRE_AUTHORIZED_GRANT,
    SD_JWT_CONFIGURATION,
)
from microcred.oid4vci.offers import (
    OFFER_SCHEMES,
    credential_offer,
    digest,
    new_secret,
    new_tx_code,
    offer_link,
    offer_uri,
)
from microcred.privacy.events import EventPrivacy
from microcred.verification.canonical import Canonicalizer
from services.issuer.application.credential_request import Holder, proven_keys, refuse_encryption, request_proofs
from services.issuer.application.issuance import Caller, IssueItem, Refusal
from services.issuer.application.issue_batching import IssuesCredentials
from services.issuer.application.offer_listing import Cursor, OfferIndex, OfferPage, list_page
from services.issuer.application.offer_records import Offer
from services.issuer.application.oid4vci_authorization import (
    AuthorizationCodes,
    GrantStore,
    LearnerLogin,
    learner_digest,
)
from services.issuer.application.validation_cache import CohortValidator

__all__ = ["TOKEN_CONFIGURATIONS", "CreatedOffer", "OfferSettings", "OfferStore", "Offers", "ReplayState"]

log = logging.getLogger(__name__)
_OFFER_CREATED = events_pb2.CredentialOfferCreated.DESCRIPTOR.full_name

NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")


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


@dataclass(frozen=True)
class CreatedOffer:
    """What the issuer gets back for one award (``tx_code`` to send out of band, '' for none)."""

    offer_id: str
    credential_offer_uri: str
    link: str
    tx_code: str
    expires_in: int


class Offers:
    """The use cases (see the module docstring)."""

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

    @property
    def takes_di_vp(self) -> bool:
        """Whether the ``ldp_vc`` configuration takes ``di_vp`` key proofs (as its metadata advertises)."""
        policy = self._s.key_attestations
        return self._canon is not None and (policy is None or not policy.required)

    @property
    def key_attestations(self) -> KeyAttestationPolicy | None:
        """The key attestations the credential endpoint checks (None: none), as its metadata advertises them."""
        return self._s.key_attestations

    async def learner_email(self, offer_id: str) -> str:
        """The e-mail address of an offer's learner, from its sealed award ('' when the offer is gone, redeemed
        (the award is its token's then) or the learner's data has been erased)."""
        offer = await self._store.offer(offer_id)
        award = await self._award(offer.award) if offer is not None and offer.award else None
        return award.learner.email if award is not None else ""

    async def _award(self, kept: bytes) -> pb.MicroCredential | None:
        """The award an offer keeps sealed (None: its learner's data was erased): its ``CredentialOfferCreated``
        as published (the award in its sealed recovery part), or, for offers made before that, a
        ``CredentialIssued`` envelope of its own."""
        envelope = EventEnvelope.FromString(kept)
        if envelope.payload_type == _OFFER_CREATED:
            made = events_pb2.CredentialOfferCreated.FromString(envelope.payload)
            [(opened, erased)] = await self._privacy.open_imported([(envelope, made)])
            return None if erased or not opened.recovery.HasField("award") else opened.recovery.award
        [raw] = await self._privacy.open_envelopes([kept])
        issued = events_pb2.CredentialIssued.FromString(EventEnvelope.FromString(raw).payload)
        return issued.credential if issued.HasField("credential") else None

    async def offers_to(self, email: str) -> list[str]:
        """The ids of the offers filed under ``email``'s keyed hash (any state; [] without the index)."""
        digest_of = learner_digest(email, self._learner_key) if self._learner_key is not None else ""
        return await self._store.offers_to(digest_of) if digest_of else []

    async def _publish(self, events: list[tuple[Message, str, str, str]]) -> None:
        """Publish (payload, offer_ref, agency id, actor) events."""
        items = []
        for payload, ref, agency, actor in events:
            issuer_id = str(getattr(payload, "issuer_id"))  # noqa: B009
            items.append((ref, new_envelope(payload, subject=ref, tenant=agency, issuer_id=issuer_id, actor=actor)))
        await self._publisher.publish_many(self._topic, items)

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
            raise _restoring()
        if offer is None or offer.state != "offered":
            return None
        document: dict[str, Any] = json.loads(offer.offer_json)
        return document

    async def first_attestation_pop(self, jti: str) -> bool:
        """True the first time a wallet attestation PoP's ``jti`` is seen (each once, across replicas)."""
        return await self._store.first_use(digest(f"client-attestation-pop:{jti}"),
                                           int(self._s.proof_max_age) + 120)

    async def spend_dpop_proof(self, dpop: DpopProof) -> None:
        """Refuse a replayed DPoP proof at the PAR endpoint (each ``jti`` once, as at the token endpoint)."""
        await self._fresh(dpop)

    async def _fresh(self, dpop: DpopProof, status: int = 400) -> None:
        """Refuse a replayed DPoP proof (400 at the token endpoint, 401 at resource endpoints: RFC 9449 §7.1)."""
        if not await self._store.first_use(digest(dpop.jti), int(self._s.proof_max_age) + 120):
            raise OAuthError(e.INVALID_DPOP_PROOF, "this DPoP proof was used before (jti replayed)", status)

    async def token(self, form: Mapping[str, str], dpop: DpopProof | None = None) -> dict[str, Any]:
        """Token endpoint (§6: pre-authorized code or authorization code grant): the access token answer, or
        :class:`OAuthError`; with a checked DPoP proof the token is bound to its key (``token_type: DPoP``).
        While the offers are rebuilt from their events no code is spent: an offer back as offered may not have its
        end (redeemed, withdrawn) applied yet."""
        if self._replay is not None and self._replay.replaying:
            raise _restoring()
        if dpop is None and self._s.require_dpop:  # before any code is looked at: nothing is spent
            raise OAuthError(e.INVALID_DPOP_PROOF, "this issuer binds every access token to a key: send a DPoP "
                                                   "proof (RFC 9449) with the token request")
        if form.get("grant_type") == AUTHORIZATION_CODE_GRANT:
            if dpop is not None:
                await self._fresh(dpop)
            token, _ = await self.codes.token(form, dpop)
            return self._token_answer(token, dpop)
        if form.get("grant_type") != PRE_AUTHORIZED_GRANT:
            raise OAuthError(e.UNSUPPORTED_GRANT_TYPE, f"grant_type must be {PRE_AUTHORIZED_GRANT} or "
                                                       f"{AUTHORIZATION_CODE_GRANT}")
        code = form.get("pre-authorized_code", "")
        if not code or len(code) > 256:
            raise OAuthError(e.INVALID_REQUEST, "pre-authorized_code is required")
        tx = form.get("tx_code", "")
        if len(tx) > 64:
            raise OAuthError(e.INVALID_REQUEST, "tx_code is too long")
        if dpop is not None:
            await self._fresh(dpop)
        token = new_secret()
        why, offer_id = await self._store.redeem(digest(code), digest(tx) if tx else "", self._s.max_tx_attempts,
                                                 digest(token), self._s.token_seconds,
                                                 dpop.jkt if dpop is not None else "")
        if why == "unknown" and self._replay is not None and await self._replay.lost():
            raise _restoring()  # Redis was lost a moment ago: the offer may come back
        if why == "locked":
            offer = await self._store.offer(offer_id)
            if offer is not None:
                await self._publish([(events_pb2.CredentialOfferWithdrawn(
                    offer_ref=digest(offer_id), issuer_id=offer.issuer_id, reason="locked"), digest(offer_id),
                    offer.agency_id, "")])
        if why in _TX_REQUEST_ERRORS:  # §6.3: the request's fault, invalid_request (nothing counted or spent)
            raise OAuthError(e.INVALID_REQUEST, _TX_REQUEST_ERRORS[why])
        if why != "ok":
            raise OAuthError(e.INVALID_GRANT, _GRANT_ERRORS.get(why, "the pre-authorized code is not valid"))
        return self._token_answer(token, dpop)

    def _token_answer(self, token: str, dpop: DpopProof | None) -> dict[str, Any]:
        """§6.2: the token, and the configurations it obtains (each once), each with its one Credential Dataset
        (its ``credential_identifiers``: the configuration id)."""
        return {"access_token": token, "token_type": "DPoP" if dpop is not None else "Bearer",
                "expires_in": self._s.token_seconds,
                "authorization_details": [{"type": "openid_credential", "credential_configuration_id": configuration,
                                           "credential_identifiers": [configuration]}
                                          for configuration in TOKEN_CONFIGURATIONS]}

    async def nonce(self) -> str:
        """A fresh c_nonce (§7)."""
        nonce = new_secret()
        await self._store.add_nonce(digest(nonce), self._s.nonce_seconds)
        return nonce

    async def _token(self, access_token: str, dpop: DpopProof | None) -> tuple[str, str, str]:
        """The live token, its DPoP binding checked (a DPoP-bound token needs a proof by its key)."""
        found = await self._store.token_offer(digest(access_token))
        if found is None:
            raise OAuthError(e.INVALID_TOKEN, "the access token is unknown or expired", 401)
        if found[2]:
            if dpop is None:
                raise OAuthError(e.INVALID_DPOP_PROOF, "this access token is DPoP-bound: send it as "
                                 "'Authorization: DPoP' with a DPoP proof", 401)
            if dpop.jkt != found[2]:
                raise OAuthError(e.INVALID_DPOP_PROOF, "the DPoP proof is signed by another key than the token's",
                                 401)
            await self._fresh(dpop, 401)
        return found

    async def credential(self, access_token: str, body: Any, credential_issuer: str,
                         dpop: DpopProof | None = None) -> dict[str, Any]:
        """Credential endpoint (§8): one credential per proof in the requested configuration (SD-JWT VC bound by
        ``cnf``, or ``ldp_vc`` bound by its subject's DID), or :class:`OAuthError` with nothing changed."""
        token = digest(access_token)
        found = await self._token(access_token, dpop)
        policy = self._s.key_attestations
        configuration, kind, proofs = request_proofs(body, policy is not None, self.takes_di_vp)
        if kind == "di_vp":
            holders, nonces = await self._di_vp_holders(proofs, credential_issuer)
        else:
            holders, nonces = proven_keys(kind, proofs, credential_issuer, self._clock(), self._s.proof_max_age,
                                          policy)
        # A holder is its proof's JWK (SD-JWT VC) or {"did": the DID its kid named, else its key's did:key} (ldp_vc):
        # kept as such with a deferred transaction, so the deferred endpoint issues the same format. Derived before
        # any nonce is spent.
        keys = [jwk for jwk, _ in holders] if configuration == SD_JWT_CONFIGURATION \
            else [{"did": did or holder_did_key(jwk)} for jwk, did in holders]
        # nonces spent and the token's configuration moved to issuing in one step, which also reads the offer
        moved, offer = await self._store.begin_issuing(token, found[0], configuration, [digest(n) for n in nonces])
        if moved != "ok":
            raise _not_issued(moved, configuration)
        offer_id = found[0]
        try:
            answer = await self._issue_offer(offer_id, offer, keys)
        except _Pending as pending:  # the checked request waits under a transaction_id (§8.3: 202)
            transaction = new_secret()
            # kept a day past not_before too, however far ahead the issuer put it
            wait = max(0, math.ceil(pending.not_before - self._clock().timestamp()))
            if not await self._store.defer(token, digest(transaction), offer_id, configuration, keys,
                                           pending.not_before, self._s.deferred_seconds + wait):
                raise OAuthError(e.INVALID_TOKEN, "the access token was revoked", 401) from None
            return {"transaction_id": transaction, "interval": pending.interval}
        except BaseException:
            await self._store.release(token, configuration)
            raise
        await self._store.delivered(token, offer_id, configuration, TOKEN_CONFIGURATIONS,
                                    [answer["notification_id"]])
        return answer

    async def _di_vp_holders(self, proofs: list[Any], credential_issuer: str) -> tuple[list[Holder], list[str]]:
        """The holders (JWK, DID) of checked ``di_vp`` proofs, and their nonces
        (:mod:`microcred.oid4vci.di_vp_proof`; one after the other: each may need the JSON-LD worker)."""
        assert self._canon is not None
        checked = [await check_di_vp_proof(p, audience=credential_issuer, now=self._clock(), canon=self._canon,
                                           max_age=self._s.proof_max_age) for p in proofs]
        return [(c.jwk, c.did) for c in checked], [c.nonce for c in checked]

    async def deferred(self, access_token: str, body: Any, dpop: DpopProof | None = None) -> dict[str, Any]:
        """Deferred credential endpoint (§9): the credentials (then the ``transaction_id`` is spent), or
        ``{"transaction_id", "interval"}`` while still pending (202), or :class:`OAuthError`
        (``invalid_transaction_id``: unknown, another token's or used; ``credential_request_denied``: refused
        for good, the transaction dropped)."""
        token = digest(access_token)
        await self._token(access_token, dpop)
        if isinstance(body, dict):
            refuse_encryption(body)
        if not isinstance(body, dict) or not isinstance(body.get("transaction_id"), str) \
                or not 0 < len(body["transaction_id"]) <= 256:
            raise OAuthError(e.INVALID_CREDENTIAL_REQUEST, "transaction_id (a string) is required")
        transaction = body["transaction_id"]
        why, offer_id, keys, _, configuration = await self._store.claim_transaction(digest(transaction), token)
        if why == "issuing":  # another request (maybe on another replica) is issuing it right now
            return {"transaction_id": transaction, "interval": 1}
        if why != "ok":
            raise OAuthError(e.INVALID_TRANSACTION_ID, "the transaction_id is unknown, was issued with another "
                                                       "access token, or its credentials were already delivered")
        try:
            answer = await self._issue_offer(offer_id, await self._store.issuing_offer(offer_id, token), keys)
        except _Pending as pending:
            await self._store.release_transaction(digest(transaction))
            return {"transaction_id": transaction, "interval": pending.interval}
        except OAuthError as exc:  # refused for good: the wallet should stop asking (§9.3)
            await self._store.deny_transaction(digest(transaction), token, configuration)
            raise OAuthError(e.CREDENTIAL_REQUEST_DENIED, exc.description) from exc
        except BaseException:
            await self._store.release_transaction(digest(transaction))
            raise
        # delivered and the transaction_id spent in one step
        await self._store.delivered(token, offer_id, configuration, TOKEN_CONFIGURATIONS,
                                    [answer["notification_id"]], digest(transaction))
        return answer

    async def _issue_offer(self, offer_id: str, offer: Offer | None, keys: list[dict[str, Any]]) -> dict[str, Any]:
        """Issue the offer's credential (``offer`` as read, with the award its token holds; None: gone), one per
        holder (a JWK: SD-JWT VC; ``{"did": …}``: ``ldp_vc`` whose subject is that DID); :class:`_Pending` when it
        cannot be issued yet. What can never be issued (the offer expired, the learner erased, the award refused:
        invalid, or its issuer no longer accredited) is ``credential_request_denied`` (§8.3.1.2: the wallet treats
        it as unrecoverable); a failure that may pass is ``server_error`` (503)."""
        if offer is None:
            raise OAuthError(e.CREDENTIAL_REQUEST_DENIED, _DENIED["expired"])
        wait = offer.not_before - self._clock().timestamp()
        if wait > 0:  # the issuer asked for the credential not to be issued before then
            raise _Pending(max(1, math.ceil(wait)), offer.not_before)
        award = await self._award(offer.award) if offer.award else None
        if award is None:
            raise OAuthError(e.CREDENTIAL_REQUEST_DENIED, "the award is no longer available (the learner's data was "
                                                          "erased)")
        caller = Caller(offer.issuer_id, offer.agency_id)
        items = [_ldp_item(offer_id, n, award, key["did"]) if "did" in key
                 else IssueItem(f"oid4vci:{offer_id}:{n}", award, sd_jwt_vc=True, holder_jwk=key)
                 for n, key in enumerate(keys)]
        outcomes = await self._issuance.issue(caller, items)
        credentials: list[dict[str, Any]] = []
        ids: list[str] = []
        for key, outcome in zip(keys, outcomes, strict=True):
            if isinstance(outcome, Refusal):  # INVALID_ARGUMENT, PERMISSION_DENIED: the award; else: retry later
                if outcome.code == code_pb2.UNAVAILABLE:  # for a while: the wallet gets a transaction_id
                    raise _Pending(self._s.deferred_interval, offer.not_before)
                final = outcome.code in (code_pb2.INVALID_ARGUMENT, code_pb2.PERMISSION_DENIED)
                raise OAuthError(e.CREDENTIAL_REQUEST_DENIED if final else "server_error",
                                 f"the credential cannot be issued: {outcome.message[:200]}", 400 if final else 503)
            assert isinstance(outcome, issuer_pb2.IssuedCredential)
            # §8.3: an SD-JWT VC is a string, an ldp_vc the JSON object itself
            credentials.append({"credential": json.loads(outcome.credential_json) if "did" in key
                                else outcome.sd_jwt_vc})
            ids.append(outcome.credential_id)
        await self._publish([(events_pb2.CredentialOfferRedeemed(offer_ref=digest(offer_id), issuer_id=offer.issuer_id,
                                                                 credential_ids=ids), digest(offer_id),
                              offer.agency_id, "")])  # the actor is a wallet, not the issuer
        return {"credentials": credentials, "notification_id": new_secret()}

    async def notification(self, access_token: str, body: Any, dpop: DpopProof | None = None) -> None:
        """Notification endpoint (§11): accepted (204) or :class:`OAuthError`."""
        token = digest(access_token)
        await self._token(access_token, dpop)
        if not isinstance(body, dict) or not isinstance(body.get("notification_id"), str):
            raise OAuthError("invalid_notification_request", "notification_id is required")
        if body.get("event") not in NOTIFICATION_EVENTS:
            raise OAuthError("invalid_notification_request", f"event must be one of {list(NOTIFICATION_EVENTS)}")
        if not await self._store.notification_known(token, body["notification_id"]):
            raise OAuthError("invalid_notification_id", "the notification_id was not issued with this token")


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


def _restoring() -> OAuthError:
    return OAuthError(e.TEMPORARILY_UNAVAILABLE, "the issuer is restoring its offers after a storage failure; "
                      "try again in a few seconds", 503)


class _Pending(Exception):
    """The credential cannot be issued yet: ask again after ``interval`` seconds."""

    def __init__(self, interval: int, not_before: float) -> None:
        super().__init__(f"pending for {interval} s")
        self.interval, self.not_before = interval, not_before


#: The configurations an access token obtains, each once (every offer lists them all; the token response names
#: them): the last one delivered spends the token and drops the award it holds.
TOKEN_CONFIGURATIONS = OFFERED_CONFIGURATIONS

#: Why the credential endpoint does not issue a configuration under a token (the token's or the configuration's
#: state, from the store's first step), as credential_request_denied: for good, the wallet stops asking (§8.3.1.2).
_DENIED = {
    "delivered": "the {} credential was already delivered with this access token (a token obtains each offered "
                 "configuration once)",
    "spent": "every offered credential was already delivered with this access token",
    "issuing": "the {} credential is being issued to another request with this access token",
    "deferred": "the {} credential is pending under a transaction_id: ask the deferred credential endpoint",
    "denied": "the {} credential was refused for this access token",
    "expired": "the offer has expired since the access token was issued",
}


def _not_issued(why: str, configuration: str) -> OAuthError:
    """The error of a credential request the store's first step refused (nothing changed)."""
    if why == "nonce":
        return OAuthError(e.INVALID_NONCE, "the proof's nonce is unknown, expired or already used")
    if why == "unknown":
        return OAuthError(e.INVALID_TOKEN, "the access token is unknown or expired", 401)
    reason = _DENIED.get(why, "this access token can no longer obtain the {} credential")
    return OAuthError(e.CREDENTIAL_REQUEST_DENIED, reason.format(configuration))


_GRANT_ERRORS = {
    "unknown": "the pre-authorized code is unknown (or its offer expired more than a day ago)",
    "expired": "the offer has expired",
    "redeemed": "the pre-authorized code has already been used",
    "withdrawn": "the offer has been withdrawn by the issuer",
    "locked": "too many wrong tx_code attempts: the offer is locked",
    "tx_wrong": "the tx_code is wrong",
}
#: OpenID4VCI §6.3: "invalid_request" when a Transaction Code is expected but not sent, or sent but not expected.
_TX_REQUEST_ERRORS = {
    "tx_missing": "this offer requires a tx_code (the Transaction Code sent to the learner apart from the offer)",
    "tx_unexpected": "this offer has no tx_code: send the token request without one",
}


def _ldp_item(offer_id: str, n: int, award: pb.MicroCredential, did: str) -> IssueItem:
    """The ``ldp_vc`` for holder ``did``: the award with its learner DID set to it (the OB3 credential's
    ``credentialSubject.id``). Its own idempotency key: a token that failed an SD-JWT request may ask again
    for ``ldp_vc``, which must not be answered with the other format's earlier record."""
    bound = pb.MicroCredential()
    bound.CopyFrom(award)
    bound.learner.did = did
    return IssueItem(f"oid4vci:{offer_id}:ldp:{n}", bound)
