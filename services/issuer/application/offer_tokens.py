"""The issuer's OpenID4VCI authorization server side (the base class of :class:`~.offers.Offers`): the token
endpoint, nonces, DPoP proofs and wallet attestation PoPs each taken once, and the access token a credential,
deferred or notification request carries.

* **Token**: the pre-authorized code is spent atomically in Redis (one replica wins), with the ``tx_code`` when
  the offer has one (``max_tx_attempts`` wrong codes lock the offer); or an authorization code, from PAR and the
  authorization endpoint with PKCE (:mod:`~.oid4vci_authorization`; offers without ``tx_code`` only).
* **Nonce**: a fresh ``c_nonce`` (§7), kept until a key proof spends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.message import Message

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.oid4vci import errors as e
from microcred.oid4vci.dpop import DpopProof
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import AUTHORIZATION_CODE_GRANT, OFFERED_CONFIGURATIONS, PRE_AUTHORIZED_GRANT
from microcred.oid4vci.offers import digest, new_secret
from services.issuer.application.offer_ports import OfferSettings, OfferStore, ReplayState
from services.issuer.application.oid4vci_authorization import AuthorizationCodes

__all__ = ["TOKEN_CONFIGURATIONS", "OfferTokens", "restoring"]

#: The configurations an access token obtains, each once (every offer lists them all; the token response names
#: them): the last one delivered spends the token and drops the award it holds.
TOKEN_CONFIGURATIONS = OFFERED_CONFIGURATIONS


class OfferTokens:
    """The token side of :class:`~.offers.Offers` (its base class: ``Offers.__init__`` sets the state declared
    here)."""

    _store: OfferStore
    _s: OfferSettings
    _replay: ReplayState | None
    _publisher: EventPublisher
    _topic: str
    codes: AuthorizationCodes

    async def _publish(self, events: list[tuple[Message, str, str, str]]) -> None:
        """Publish (payload, offer_ref, agency id, actor) events."""
        items = []
        for payload, ref, agency, actor in events:
            issuer_id = str(getattr(payload, "issuer_id"))  # noqa: B009
            items.append((ref, new_envelope(payload, subject=ref, tenant=agency, issuer_id=issuer_id, actor=actor)))
        await self._publisher.publish_many(self._topic, items)

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
            raise restoring()
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
            raise restoring()  # Redis was lost a moment ago: the offer may come back
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


def restoring() -> OAuthError:
    """The answer while the offers are rebuilt after a storage failure (503 ``temporarily_unavailable``)."""
    return OAuthError(e.TEMPORARILY_UNAVAILABLE, "the issuer is restoring its offers after a storage failure; "
                      "try again in a few seconds", 503)


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
