"""The authorization code flow (OpenID4VCI 1.0 §5, PKCE S256, PAR required) of the issuer's OpenID4VCI use cases.

There is no learner login at the issuer, so the authorization is the offer the learner holds: its
``issuer_state`` (a 256-bit secret in the Credential Offer, like the pre-authorized code beside it) must be in
the pushed request, and the offer must still be redeemable. The authorization endpoint then redirects at once
with the code (no consent page: the learner's consent was following the offer link in their wallet, and a page
here would show nothing the wallet did not already show from the offer and the metadata; docs/oid4vci.md).

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

from collections.abc import Mapping
from typing import Any, Protocol

from microcred.oid4vci import authorization as az
from microcred.oid4vci import errors as e
from microcred.oid4vci.dpop import DpopProof
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import OFFERED_CONFIGURATIONS
from microcred.oid4vci.offers import digest, new_secret

__all__ = ["AuthorizationCodes", "GrantStore", "Redirect"]

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
    async def defer(self, token_digest: str, tx_digest: str, offer_id: str, keys: list[dict[str, Any]],
                    not_before: float, ttl_seconds: int) -> bool: ...
    async def claim_transaction(self, tx_digest: str, token_digest: str
                                ) -> tuple[str, str, list[dict[str, Any]], float]: ...
    async def release_transaction(self, tx_digest: str) -> None: ...
    async def finish_transaction(self, tx_digest: str, token_digest: str) -> None: ...


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


class AuthorizationCodes:
    """PAR, the authorization endpoint and the authorization code grant (see the module docstring)."""

    def __init__(self, store: GrantStore, token_seconds: int) -> None:
        self._store, self._token_seconds = store, token_seconds

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
        if not form.get("issuer_state"):
            raise OAuthError(e.INVALID_REQUEST, "issuer_state is required: this issuer authorizes the offers it "
                                                "made (take the authorization code grant of a Credential Offer)")
        request = az.check_pushed_request(form, CONFIGURATIONS, CONFIGURATIONS,
                                          dpop_jkt=dpop.jkt if dpop is not None else "")
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
        try:
            offer_id = await self._offer_of(request.issuer_state)
        except OAuthError as exc:  # the redirect URI is known now: the client hears it (§4.1.2.1)
            raise Redirect("access_denied", exc.description, az.redirect_location(request.redirect_uri, {
                "error": "access_denied", "error_description": exc.description, "state": request.state,
                "iss": credential_issuer})) from exc
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
