"""The issuer's OpenID4VCI Credential Issuer side (the base class of :class:`~.offers.Offers`, on
:class:`~.offer_tokens.OfferTokens`): the credential endpoint, issuing at redemption in either offered format,
SD-JWT VC (``dc+sd-jwt``) or Open Badges 3.0 with a Data Integrity proof (``ldp_vc``), the deferred credential
endpoint and the notification endpoint.

* **Credential**: every proof is checked (pure), then all their nonces are spent in the same atomic step that starts
  issuing the requested configuration under the token (and reads the offer with the award the token holds); a
  token obtains each offered configuration once (:data:`~.offer_tokens.TOKEN_CONFIGURATIONS`), and the award it
  holds goes with the last delivery or with the token; then :class:`~.issuance.Issuance` issues one
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
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2, issuer_pb2
from microcred.oid4vci import errors as e
from microcred.oid4vci.di_vp_proof import check_di_vp_proof
from microcred.oid4vci.dpop import DpopProof
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.holder_did import holder_did_key
from microcred.oid4vci.key_attestation import KeyAttestationPolicy
from microcred.oid4vci.metadata import SD_JWT_CONFIGURATION
from microcred.oid4vci.offers import digest, new_secret
from microcred.privacy.events import EventPrivacy
from microcred.verification.canonical import Canonicalizer
from services.issuer.application.credential_request import Holder, proven_keys, refuse_encryption, request_proofs
from services.issuer.application.issuance import Caller, IssueItem, Refusal
from services.issuer.application.issue_batching import IssuesCredentials
from services.issuer.application.offer_records import Offer
from services.issuer.application.offer_tokens import TOKEN_CONFIGURATIONS, OfferTokens

__all__ = ["NOTIFICATION_EVENTS", "OfferCredentials"]

_OFFER_CREATED = events_pb2.CredentialOfferCreated.DESCRIPTOR.full_name

NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")


class OfferCredentials(OfferTokens):
    """The credential side of :class:`~.offers.Offers` (its base class: ``Offers.__init__`` sets the state
    declared here and on :class:`~.offer_tokens.OfferTokens`)."""

    _clock: Callable[[], datetime]
    _issuance: IssuesCredentials
    _privacy: EventPrivacy
    _canon: Canonicalizer | None

    @property
    def takes_di_vp(self) -> bool:
        """Whether the ``ldp_vc`` configuration takes ``di_vp`` key proofs (as its metadata advertises)."""
        policy = self._s.key_attestations
        return self._canon is not None and (policy is None or not policy.required)

    @property
    def key_attestations(self) -> KeyAttestationPolicy | None:
        """The key attestations the credential endpoint checks (None: none), as its metadata advertises them."""
        return self._s.key_attestations

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
        claimed = await self._store.claim_transaction(digest(transaction), token)
        why, offer_id, keys, _, configuration, claim = claimed
        if why == "issuing":  # another request (maybe on another replica) is issuing it right now
            return {"transaction_id": transaction, "interval": 1}
        if why != "ok":
            raise OAuthError(e.INVALID_TRANSACTION_ID, "the transaction_id is unknown, was issued with another "
                                                       "access token, or its credentials were already delivered")
        try:
            answer = await self._issue_offer(offer_id, await self._store.issuing_offer(offer_id, token), keys)
        except _Pending as pending:
            await self._store.release_transaction(digest(transaction), claim)
            return {"transaction_id": transaction, "interval": pending.interval}
        except OAuthError as exc:  # refused for good: the wallet should stop asking (§9.3)
            await self._store.deny_transaction(digest(transaction), token, configuration)
            raise OAuthError(e.CREDENTIAL_REQUEST_DENIED, exc.description) from exc
        except BaseException:
            await self._store.release_transaction(digest(transaction), claim)
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


class _Pending(Exception):
    """The credential cannot be issued yet: ask again after ``interval`` seconds."""

    def __init__(self, interval: int, not_before: float) -> None:
        super().__init__(f"pending for {interval} s")
        self.interval, self.not_before = interval, not_before


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


def _ldp_item(offer_id: str, n: int, award: pb.MicroCredential, did: str) -> IssueItem:
    """The ``ldp_vc`` for holder ``did``: the award with its learner DID set to it (the OB3 credential's
    ``credentialSubject.id``). Its own idempotency key: a token that failed an SD-JWT request may ask again
    for ``ldp_vc``, which must not be answered with the other format's earlier record."""
    bound = pb.MicroCredential()
    bound.CopyFrom(award)
    bound.learner.did = did
    return IssueItem(f"oid4vci:{offer_id}:ldp:{n}", bound)
