"""The authorization code flow's HTTP routes (OpenID4VCI 1.0 §5, RFC 9126 PAR, RFC 7636 PKCE S256), included in
the OpenID4VCI router (:mod:`.oid4vci`); the use cases are
:class:`~services.issuer.application.oid4vci_authorization.AuthorizationCodes`.

* ``POST /oid4vci/par`` (form): 201 ``{"request_uri", "expires_in": 60}``, ``Cache-Control: no-store``; a bad
  request is a 400 OAuth error (RFC 9126 §2.3). A ``DPoP`` proof header (checked, its ``jti`` spent) or a
  ``dpop_jkt`` parameter binds the code to that key (RFC 9449 §10).
* ``GET /oid4vci/authorize?client_id=...&request_uri=...``: 302 to the pushed ``redirect_uri`` with ``code``,
  ``state`` and ``iss``. An unknown, expired or used ``request_uri`` (or none) is a 400 OAuth error shown here,
  since there is no redirect URI to trust; an offer that can no longer be redeemed is redirected as
  ``error=access_denied`` (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from microcred.oid4vci.dpop import DpopProof
from microcred.oid4vci.errors import OAuthError
from services.issuer.api.oauth_errors import NO_STORE, oauth_response
from services.issuer.application.oid4vci_authorization import AuthorizationCodes, Redirect

__all__ = ["authorization_router"]

MAX_QUERY = 4096


def authorization_router(codes: AuthorizationCodes, form_of: Callable[[bytes], dict[str, str]],
                         ident: Callable[[Request], str], max_body: int,
                         dpop_of: Callable[[Request], Awaitable[DpopProof | None]],
                         authenticate: Callable[[Request, dict[str, str]], Awaitable[None]]) -> APIRouter:
    """PAR and the authorization endpoint; ``ident``: the Credential Issuer identifier of a request (``iss``);
    ``dpop_of``: a request's DPoP proof, checked and spent (None without one); ``authenticate``: the wallet's
    client authentication at PAR (:class:`~.client_auth.ClientAuthentication`)."""
    router = APIRouter(tags=["OpenID4VCI"])

    @router.post("/oid4vci/par", summary="Pushed authorization request (RFC 9126)", status_code=201,
                 response_model=None)
    async def par(request: Request) -> Response:
        raw = await request.body()
        try:
            if len(raw) > max_body:
                raise OAuthError("invalid_request", f"the body is larger than {max_body} bytes")
            form = form_of(raw)
            await authenticate(request, form)
            answer = await codes.push(form, await dpop_of(request))
        except OAuthError as exc:
            return oauth_response(exc, request.headers.get("authorization"))
        return JSONResponse(answer, 201, headers=NO_STORE)

    @router.get("/oid4vci/authorize", summary="Authorization endpoint (request_uri from PAR only)",
                response_model=None)
    async def authorize(request: Request) -> Response:
        try:
            if len(request.url.query) > MAX_QUERY:
                raise OAuthError("invalid_request", "the query is too long")
            location = await codes.authorize(dict(request.query_params), ident(request))
        except Redirect as redirect:
            return RedirectResponse(redirect.location, 302, headers=NO_STORE)
        except OAuthError as exc:
            return oauth_response(exc, request.headers.get("authorization"))
        return RedirectResponse(location, 302, headers=NO_STORE)

    @router.get("/oid4vci/login/callback", summary="The learner login provider's redirect back (OpenID Connect "
                "authorization response); redirects to the wallet with the code or an error", response_model=None)
    async def login_callback(request: Request) -> Response:
        try:
            if len(request.url.query) > MAX_QUERY:
                raise OAuthError("invalid_request", "the query is too long")
            location = await codes.signed_in(dict(request.query_params))
        except Redirect as redirect:
            return RedirectResponse(redirect.location, 302, headers=NO_STORE)
        except OAuthError as exc:
            return oauth_response(exc, request.headers.get("authorization"))
        return RedirectResponse(location, 302, headers=NO_STORE)

    return router
