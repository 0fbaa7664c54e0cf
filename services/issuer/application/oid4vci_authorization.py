"""The authorization code flow (OpenID4VCI 1.0 §5, PKCE S256, PAR required) of the issuer's OpenID4VCI use cases.

The pushed request must carry the offer's ``issuer_state`` (a 256-bit secret in the Credential Offer, like the
pre-authorized code beside it), and the offer must still be redeemable. Then:

* without a learner login configured, the offer the learner holds is the authorization: the authorization
  endpoint redirects at once with the code (no consent page: the learner's consent was following the offer link
  in their wallet, and a page here would show nothing the wallet did not already show; docs/oid4vci.md);
* with the platform's learner login (:class:`LearnerLogin`), the authorization endpoint sends the learner to
  the OpenID Connect provider, and :meth:`AuthorizationCodes.signed_in` gives the code only when the learner who
  signed in has a verified e-mail address that is the award's learner's. Holding the offer link is then not
  enough: a forwarded or leaked link cannot be redeemed by someone else through this grant.

* **PAR** (:meth:`AuthorizationCodes.push`): the request is checked completely (pure,
  :func:`~microcred.oid4vci.authorization.check_pushed_request`) and kept 60 s under an unguessable
  ``request_uri``;
* **authorize** (:meth:`AuthorizationCodes.authorize`): the ``request_uri`` is taken (``GETDEL``: once, on one
  replica) and must be presented by the same ``client_id``; the code is bound to client, redirect URI, code
  challenge and offer, and lives 60 s;
* **token** (:meth:`AuthorizationCodes.token`): client, redirect URI and ``code_verifier`` are checked against
  the code (a mismatch changes nothing), then one Lua script spends the code, redeems the offer and keeps the
  access token. A replayed code is ``invalid_grant`` and revokes the token it gave.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from microcred.credential.identifiers import normalise_email
from microcred.oid4vci import authorization as az
from microcred.oid4vci import errors as e
from microcred.oid4vci.dpop import DpopProof
from microcred.oid4vci.errors import OAuthError, error_description
from microcred.oid4vci.metadata import OFFERED_CONFIGURATIONS
from microcred.oid4vci.offers import digest, new_secret

__all__ = ["AuthorizationCodes", "GrantStore", "LearnerLogin", "LoginAttemptLike", "Redirect", "SignedInLearner"]

CONFIGURATIONS = OFFERED_CONFIGURATIONS  # what every offer is for (the credential endpoint issues each)


class GrantStore(Protocol):
    """Port: :class:`~services.issuer.adapters.oid4vci_grants.RedisGrantStore`."""

    async def state_offer(self, state_digest: str) -> str: ...
    async def offer_state(self, offer_id: str) -> str: ...
    async def push_request(self, uri_digest: str, request_json: str, ttl_seconds: int) -> None: ...
    async def take_request(self, uri_digest: str) -> str: ...
    async def add_code(self, code_digest: str, offer_id: str, request: dict[str, str], ttl_seconds: int) -> None: ...
    async def code(self, code_digest: str) -> dict[str, Any] | None: ...
    async def exchange_code(self, code_digest: str, token_digest: str, token_ttl: int,
                            jkt: str = "") -> tuple[str, str]: ...
    async def defer(self, token_digest: str, tx_digest: str, offer_id: str, configuration: str,
                    keys: list[dict[str, Any]], not_before: float, ttl_seconds: int) -> bool: ...
    async def claim_transaction(self, tx_digest: str, token_digest: str
                                ) -> tuple[str, str, list[dict[str, Any]], float, str, str]: ...
    async def release_transaction(self, tx_digest: str, claim: str) -> None: ...
    async def deny_transaction(self, tx_digest: str, token_digest: str, configuration: str) -> None: ...


@dataclass(frozen=True)
class SignedInLearner:
    """Who signed in at the learner login: the provider's ``sub``, and their e-mail if the provider verified it."""

    subject: str
    verified_email: str  # '' when the provider gave none or did not verify it


class LoginAttemptLike(Protocol):
    """What a sign-in attempt keeps: the pushed request (without its issuer_state) and the offer it names."""

    @property
    def request_json(self) -> str: ...
    @property
    def offer_id(self) -> str: ...
    @property
    def credential_issuer(self) -> str: ...


class LearnerLogin(Protocol):
    """Port: the platform's learner login (:class:`~services.issuer.adapters.learner_login.OidcLearnerLogin`)."""

    async def begin(self, request_json: str, offer_id: str, credential_issuer: str) -> str: ...
    async def take(self, state: str) -> LoginAttemptLike | None: ...
    async def learner(self, attempt: Any, answer: Mapping[str, str]) -> SignedInLearner: ...


#: The e-mail address of an offer's learner, from its sealed award ('' once the learner's data is erased).
LearnerEmailOf = Callable[[str], Awaitable[str]]
#: The ids of the offers made to an e-mail address (any state; from the issuer's keyed index of its offers).
OffersToEmail = Callable[[str], Awaitable[list[str]]]


def same_email(a: str, b: str) -> bool:
    """Whether two e-mail addresses are the same mailbox (:func:`normalise_email`)."""
    return bool(normalise_email(a)) and normalise_email(a) == normalise_email(b)


def learner_digest(email: str, key: bytes) -> str:
    """The keyed hash under which an offer is filed for its learner's sign-in (HMAC-SHA256; '' without an
    e-mail address): the index holds no address, and without the key none can be guessed from it."""
    normal = normalise_email(email)
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest() if normal else ""


class Redirect(OAuthError):
    """An authorization error to send back to the client's redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str, location: str) -> None:
        super().__init__(error, description, 302)
        self.location = location


_OFFER_STATES = {
    "": "the issuer_state is unknown or its offer has expired",
    "expired": "the offer has expired",
    "redeemed": "the offer has already been redeemed",
    "withdrawn": "the offer has been withdrawn by the issuer",
    "locked": "the offer is locked (too many wrong tx_codes)",
}
_CODE_ERRORS = {
    "unknown": "the authorization code is unknown or expired",
    "code_used": "the authorization code has already been used (the token it gave is revoked)",
    **{k: v for k, v in _OFFER_STATES.items() if k},
}


#: How many of a learner's offers a wallet-initiated sign-in looks at (in id order: the same one each time).
MAX_OFFERS_LOOKED_AT = 100


class AuthorizationCodes:
    """PAR, the authorization endpoint and the authorization code grant (see the module docstring)."""

    def __init__(self, store: GrantStore, token_seconds: int, login: LearnerLogin | None = None,
                 learner_email: LearnerEmailOf | None = None, offers_to: OffersToEmail | None = None) -> None:
        """With ``login`` (and ``learner_email``, how the offer's learner is read), codes need a sign-in; with
        ``offers_to`` as well, a wallet may start without an offer (the signed-in learner's open offer is used)."""
        self._store, self._token_seconds = store, token_seconds
        self._login, self._learner_email, self._offers_to = login, learner_email, offers_to

    @property
    def wallet_initiated(self) -> bool:
        """Whether a pushed request may come without ``issuer_state`` (the learner then signs in)."""
        return self._login is not None and self._offers_to is not None

    async def _offer_of(self, issuer_state: str) -> str:
        """The redeemable offer an issuer_state names; else ``invalid_request`` saying why."""
        offer_id = await self._store.state_offer(digest(issuer_state)) if issuer_state else ""
        state = await self._store.offer_state(offer_id) if offer_id else ""
        if not state and offer_id:
            state = "expired"
        if state != "offered":
            raise OAuthError(e.INVALID_REQUEST, _OFFER_STATES.get(state, "the offer cannot be redeemed"))
        return offer_id

    async def push(self, form: Mapping[str, str], dpop: DpopProof | None = None) -> dict[str, Any]:
        """Pushed authorization request (RFC 9126 §2): ``{"request_uri", "expires_in"}``; a checked (and spent)
        DPoP proof, or a ``dpop_jkt``, binds the code to come to its key (RFC 9449 §10)."""
        if not form.get("issuer_state") and not self.wallet_initiated:
            raise OAuthError(e.INVALID_REQUEST, "issuer_state is required: this issuer authorizes the offers it "
                                                "made (take the authorization code grant of a Credential Offer)")
        request = az.check_pushed_request(form, CONFIGURATIONS, CONFIGURATIONS,
                                          dpop_jkt=dpop.jkt if dpop is not None else "",
                                          wallet_initiated=self.wallet_initiated)
        if request.issuer_state:
            await self._offer_of(request.issuer_state)
        secret = new_secret()
        await self._store.push_request(digest(secret), request.to_json(), az.REQUEST_URI_SECONDS)
        return {"request_uri": az.REQUEST_URI_PREFIX + secret, "expires_in": az.REQUEST_URI_SECONDS}

    async def authorize(self, query: Mapping[str, str], credential_issuer: str) -> str:
        """Authorization endpoint: the redirect location carrying the code; :class:`OAuthError` (shown here, the
        redirect URI being unknown) or :class:`Redirect` (sent to the client)."""
        secret = az.request_uri_secret(query.get("request_uri", ""))
        if not secret:
            raise OAuthError(az.INVALID_REQUEST_URI if "request_uri" in query else e.INVALID_REQUEST,
                             "request_uri from the pushed authorization request endpoint is required (PAR is "
                             "required here)")
        kept = await self._store.take_request(digest(secret))
        if not kept:
            raise OAuthError(az.INVALID_REQUEST_URI, "the request_uri is unknown, expired or already used")
        request = az.PushedRequest.from_json(kept)
        if query.get("client_id") != request.client_id:
            raise OAuthError(e.INVALID_REQUEST, "client_id must be the one of the pushed authorization request")
        offer_id = ""  # a wallet-initiated request: the signed-in learner's offer is found in signed_in()
        if request.issuer_state:
            try:
                offer_id = await self._offer_of(request.issuer_state)
            except OAuthError as exc:  # the redirect URI is known now: the client hears it (§4.1.2.1)
                raise _denied(request, credential_issuer, exc.description) from exc
        if self._login is not None:  # the learner signs in first; signed_in() gives the code
            try:
                return await self._login.begin(dataclasses.replace(request, issuer_state="").to_json(), offer_id,
                                               credential_issuer)
            except OAuthError as exc:
                raise _denied(request, credential_issuer, exc.description, exc.error) from exc
        return await self._code_for(request, offer_id, credential_issuer)

    async def signed_in(self, answer: Mapping[str, str]) -> str:
        """The login provider's redirect back (``/oid4vci/login/callback``): the wallet's redirect location with
        the code when the learner who signed in is the offer's learner; :class:`Redirect` to the wallet with
        ``access_denied`` (or ``temporarily_unavailable``) otherwise; :class:`OAuthError` for a callback whose
        ``state`` is unknown, expired or already used (there is no wallet to tell then)."""
        if self._login is None:
            raise OAuthError(e.INVALID_REQUEST, "this issuer has no learner login")
        attempt = await self._login.take(answer.get("state", ""))
        if attempt is None:
            raise OAuthError(e.INVALID_REQUEST, "the sign-in is unknown, expired or already completed")
        request = az.PushedRequest.from_json(attempt.request_json)
        credential_issuer = attempt.credential_issuer  # the identifier the wallet began with
        try:
            learner = await self._login.learner(attempt, answer)
        except OAuthError as exc:
            raise _denied(request, credential_issuer, exc.description, exc.error) from exc
        offer_id = attempt.offer_id or await self._open_offer_to(learner)
        if not offer_id:
            raise _denied(request, credential_issuer, "there is no open offer for the learner who signed in")
        state = await self._store.offer_state(offer_id)
        if state != "offered":
            raise _denied(request, credential_issuer, _OFFER_STATES.get(state or "expired", "the offer cannot be "
                                                                                             "redeemed"))
        email = await self._learner_email(offer_id) if self._learner_email is not None else ""
        if not learner.verified_email or not same_email(learner.verified_email, email):
            raise _denied(request, credential_issuer, "the learner who signed in is not the one this offer is for "
                                                      "(or has no verified e-mail address)")
        return await self._code_for(request, offer_id, credential_issuer)

    async def _open_offer_to(self, learner: SignedInLearner) -> str:
        """A redeemable offer made to the signed-in learner's verified e-mail ('' for none)."""
        if self._offers_to is None or not learner.verified_email:
            return ""
        for offer_id in sorted(await self._offers_to(learner.verified_email))[:MAX_OFFERS_LOOKED_AT]:
            if await self._store.offer_state(offer_id) == "offered":
                return offer_id
        return ""

    async def _code_for(self, request: az.PushedRequest, offer_id: str, credential_issuer: str) -> str:
        """A new code for the pushed request and its offer, as the redirect location to the wallet."""
        code = new_secret()
        await self._store.add_code(digest(code), offer_id, {
            "client_id": request.client_id, "redirect_uri": request.redirect_uri,
            "code_challenge": request.code_challenge, "dpop_jkt": request.dpop_jkt}, az.CODE_SECONDS)
        return az.redirect_location(request.redirect_uri, {"code": code, "state": request.state,
                                                           "iss": credential_issuer})

    async def token(self, form: Mapping[str, str], dpop: DpopProof | None) -> tuple[str, str]:
        """The authorization code grant: (access token, offer id), or :class:`OAuthError` (``invalid_grant`` for
        a bad, used or mismatched code; nothing spent then, except that a replay revokes the earlier token)."""
        code = form.get("code", "")
        if not code or len(code) > 256:
            raise OAuthError(e.INVALID_REQUEST, "code is required")
        kept = await self._store.code(digest(code))
        if kept is None:
            raise OAuthError(e.INVALID_GRANT, _CODE_ERRORS["unknown"])
        az.check_code_exchange(form, kept, dpop.jkt if dpop is not None else None)
        token = new_secret()
        why, offer_id = await self._store.exchange_code(digest(code), digest(token), self._token_seconds,
                                                        dpop.jkt if dpop is not None else "")
        if why != "ok":
            raise OAuthError(e.INVALID_GRANT, _CODE_ERRORS.get(why, "the authorization code is not valid"))
        return token, offer_id


def _denied(request: az.PushedRequest, credential_issuer: str, description: str,
            error: str = "access_denied") -> Redirect:
    """The authorization error sent to the wallet's redirect URI (RFC 6749 §4.1.2.1, ``iss`` per RFC 9207; its
    ``error_description`` in the characters that section allows)."""
    error = error if error == "temporarily_unavailable" else "access_denied"
    return Redirect(error, description, az.redirect_location(request.redirect_uri, {
        "error": error, "error_description": error_description(description), "state": request.state,
        "iss": credential_issuer}))
