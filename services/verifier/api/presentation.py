"""OpenID4VP 1.0 routes of the gateway (docs/oid4vp.md has the shapes).

=========================================  ==========================================================
``POST /v1/presentation-requests``         employer: a DCQL query or a template -> request_uri, nonce,
                                           state, the ``openid4vp://`` link, its QR code's URL, result id
``GET  /v1/presentation-results/{id}``     employer: pending / expired / refused / verified (+ reports)
``GET  /v1/presentation-results/{id}/qr.svg``  the pending request's link as a QR code (SVG)
``GET  /v1/presentation-results/{id}/events``  the same as server-sent events, until it is no longer pending
``GET  /oid4vp/requests/{request_id}``     wallet: the request object (``application/oauth-authz-req+jwt``)
``POST /oid4vp/responses/{request_id}``    wallet: direct_post / direct_post.jwt form (``{}``, or in a
                                           same-device flow ``{"redirect_uri"}``: :mod:`.same_device`)
``GET  /oid4vp/dc-api/{request_id}``       page: ``{"protocol", "data"}`` for ``navigator.credentials.get``
``POST /oid4vp/dc-api/{request_id}``       page: the wallet's DC API answer as a form, with its origin
=========================================  ==========================================================

The two ``dc-api`` routes are OpenID4VP over the W3C Digital Credentials API (:mod:`microcred.oid4vp.dc_api`):
the page (ours, or an employer's on one of the request's ``expected_origins``) fetches what to pass to the
browser, and posts back what the browser returned: the wallet's ``response`` (``dc_api.jwt``) or ``vp_token``
(``dc_api``), and the page's ``origin`` (the form member, else the ``Origin`` header a browser sends).

The employer endpoints answer problem+json; the wallet endpoints answer OAuth errors (``error``,
``error_description``) as OpenID4VP requires. Handlers reach :class:`~.presentation_service.PresentationService`
through ``request.app.state.presentations``.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, StringConstraints

from microcred.oid4vp.dc_api import MAX_EXPECTED_ORIGINS
from microcred.oid4vp.dcql import DcqlError
from microcred.oid4vp.form import FormError, read_form, read_json_form
from microcred.oid4vp.request import REQUEST_TYP
from microcred.oid4vp.request_uri_post import WalletFetchError
from microcred.oid4vp.response import MAX_RESPONSE_BYTES, ResponseError
from microcred.oid4vp.webhook import MAX_URL_LENGTH, WebhookUrlError
from services.verifier.api.presentation_service import (
    OriginError,
    PresentationService,
    RequestGone,
    RequestUnknown,
)
from services.verifier.api.problems import problem
from services.verifier.api.same_device import MAX_REDIRECT_URI, RedirectUriError

__all__ = ["CreateRequestIn", "CreatedRequestOut", "presentation_router", "qr_svg"]

def _id() -> Any:
    """A path id (one Path object per parameter: FastAPI binds each to its parameter's name)."""
    return Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _code() -> Any:
    """The optional ``response_code`` query parameter of a same-device answer (:mod:`.same_device`)."""
    return Query(default=None, min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                 description="the response_code the wallet's redirect carried (same-device requests)")


_NO_STORE = {"Cache-Control": "no-store"}
_SSE_MAX_SECONDS = 15 * 60


class CreateRequestIn(BaseModel):
    """An employer's request: a DCQL query or a template name, and how the wallet answers."""

    dcql_query: dict[str, Any] | None = Field(default=None, description="a DCQL query (OpenID4VP 1.0 §6)")
    template: str | None = Field(default=None, max_length=64,
                                 description="micro-credential, micro-credential-eqf6 or open-badge")
    response_mode: Literal["direct_post", "direct_post.jwt"] = Field(
        default="direct_post.jwt", description="direct_post.jwt: the answer encrypted to this request's key (HAIP)")
    webhook: str | None = Field(default=None, max_length=MAX_URL_LENGTH,
                                description="https URL (its host in the gateway's allow-list) the final result is "
                                            "POSTed to, signed (docs/oid4vp.md, Signed webhook)")
    request_uri_method: Literal["get", "post"] = Field(
        default="get", description="post: the link asks wallets to POST to request_uri with their metadata and a "
                                   "nonce, which the signed request object carries back (OpenID4VP 1.0 §5.10); GET "
                                   "is served either way")
    redirect_uri: str | None = Field(default=None, max_length=MAX_REDIRECT_URI,
                                     description="same-device flow: the https page the wallet sends the learner's "
                                                 "browser to once it answered, with #response_code=…; the result "
                                                 "is then released only with that code (docs/oid4vp.md)")
    expected_origins: list[Annotated[str, StringConstraints(max_length=256)]] | None = Field(
        default=None, max_length=MAX_EXPECTED_ORIGINS,
        description="the origins (https://host[:port]) of the pages that may also ask a wallet for this request "
                    "through the W3C Digital Credentials API (OpenID4VP Appendix A; the signed request lists them, "
                    "a wallet answers no other page); default: this gateway's own origin; [] for none")


class CreatedRequestOut(BaseModel):
    """What the employer shows the learner (link or QR code) and polls (result_url)."""

    request_id: str
    client_id: str
    request_uri: str
    nonce: str
    state: str
    response_mode: str
    expires_at: int
    link: str = Field(description="openid4vp://?client_id=...&request_uri=...")
    dc_api_url: str | None = Field(description="GET: {protocol, data} for navigator.credentials.get; POST: the "
                                               "wallet's answer (None: no expected origins)")
    qr_url: str = Field(description="the link as a QR code (SVG), while the request is pending")
    result_id: str
    result_url: str


def qr_svg(link: str) -> str:
    """The link as an SVG QR code (segno; error correction M, a scale a phone camera reads from a screen)."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=4, border=2, title="OpenID4VP request")
    return out.getvalue().decode()


def _service(request: Request) -> PresentationService:
    service: PresentationService = request.app.state.presentations
    return service


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=_NO_STORE)


def presentation_router(public_url: str | None = None) -> APIRouter:
    """The routes; ``public_url``: the base URL wallets reach the gateway at (default: the request's own)."""
    router = APIRouter(tags=["OpenID4VP"])

    def base(request: Request) -> str:
        return public_url or str(request.base_url)

    @router.post("/v1/presentation-requests", status_code=201, response_model=CreatedRequestOut)
    async def create(body: CreateRequestIn, request: Request) -> Any:
        """Create an OpenID4VP presentation request (signed request object by reference)."""
        try:
            made = await _service(request).create(base(request), query=body.dcql_query, template_name=body.template,
                                                  response_mode=body.response_mode, webhook=body.webhook,
                                                  redirect_uri=body.redirect_uri,
                                                  request_uri_method=body.request_uri_method,
                                                  expected_origins=body.expected_origins)
        except DcqlError as exc:
            return problem(400, exc.problem, code="invalid-dcql-query", field=exc.field)
        except RedirectUriError as exc:
            return problem(400, f"redirect_uri: {exc.problem}", code="invalid-redirect-uri", field="redirect_uri")
        except WebhookUrlError as exc:
            return problem(400, f"webhook: {exc.problem}", code="invalid-webhook", field="webhook")
        except OriginError as exc:
            return problem(400, f"{exc.field}: {exc.problem}", code="invalid-expected-origin", field=exc.field)
        r = made.request
        dc_api_url = f"{base(request).rstrip('/')}/oid4vp/dc-api/{r.request_id}" if r.expected_origins else None
        result_url = f"{base(request).rstrip('/')}/v1/presentation-results/{made.result_id}"
        return JSONResponse(CreatedRequestOut(
            request_id=r.request_id, client_id=r.client_id, request_uri=made.request_uri, nonce=r.nonce,
            state=r.state, response_mode=r.response_mode, expires_at=r.expires_at, link=made.link,
            dc_api_url=dc_api_url, qr_url=result_url + "/qr.svg", result_id=made.result_id,
            result_url=result_url).model_dump(),
            status_code=201, headers=_NO_STORE)

    @router.get("/v1/presentation-results/{result_id}")
    async def result(request: Request, result_id: str = _id(), response_code: str | None = _code()) -> Any:
        """The result of a request: ``pending``, ``expired``, ``refused`` (the wallet's error) or ``verified``
        (``en``/``pl``: the verdict, the DCQL evaluation and a per-check report per presentation). A request
        made with ``redirect_uri`` shows its outcome only with the ``response_code`` the wallet's redirect
        carried (else ``response_code_required``)."""
        try:
            found = await _service(request).result(result_id, response_code)
        except RequestUnknown:
            return problem(404, "no such presentation result (unknown, or past its retention)",
                           code="unknown-presentation-result")
        return JSONResponse(found, headers=_NO_STORE)

    @router.get("/v1/presentation-results/{result_id}/qr.svg", response_class=Response,
                responses={200: {"content": {"image/svg+xml": {}}}})
    async def qr(request: Request, result_id: str = _id()) -> Response:
        """The QR code of a pending request's ``openid4vp://`` link (its own URL: drawing one costs ~15 ms of
        pure-Python encoding, which only the page showing it should pay)."""
        try:
            found = await _service(request).result(result_id)
        except RequestUnknown:
            found = {}
        if found.get("status") != "pending" or not found.get("link"):
            return problem(404, "no pending request with this result id", code="unknown-presentation-result")
        return Response(qr_svg(found["link"]), media_type="image/svg+xml", headers=_NO_STORE)

    @router.get("/v1/presentation-results/{result_id}/events", response_class=StreamingResponse,
                responses={200: {"content": {"text/event-stream": {}}}})
    async def events(request: Request, result_id: str = _id(), response_code: str | None = _code()) -> Response:
        """Server-sent events: ``event: result`` with the result JSON now and whenever its status changes; the
        stream ends once the status is no longer ``pending`` (or after ``_SSE_MAX_SECONDS``). Redis is read every
        half second (results live there, shared by every replica; a pub/sub channel would save those reads). A
        same-device answer's outcome, as on the result URL, only with its ``response_code``."""
        service = _service(request)
        try:
            first = await service.result(result_id, response_code)
        except RequestUnknown:
            return problem(404, "no such presentation result (unknown, or past its retention)",
                           code="unknown-presentation-result")

        async def stream() -> AsyncIterator[bytes]:
            current, last = first, None
            deadline = time.monotonic() + _SSE_MAX_SECONDS
            while True:
                if current.get("status") != last:
                    last = current.get("status")
                    yield b"event: result\ndata: " + json.dumps(current).encode() + b"\n\n"
                if last != "pending" or time.monotonic() > deadline or await request.is_disconnected():
                    return
                await asyncio.sleep(0.5)
                try:
                    current = await service.result(result_id, response_code)
                except RequestUnknown:
                    return

        return StreamingResponse(stream(), media_type="text/event-stream", headers=_NO_STORE)

    async def serve_request_object(request: Request, request_id: str, posted: bytes | None) -> Response:
        try:
            token = await _service(request).request_object(request_id, posted)
        except RequestUnknown:
            return _oauth_error(404, "invalid_request_uri", "unknown request")
        except RequestGone:
            return _oauth_error(410, "invalid_request_uri", "the request expired")
        except WalletFetchError as exc:
            return _oauth_error(400, "invalid_request", str(exc))
        return Response(token, media_type=f"application/{REQUEST_TYP}", headers=_NO_STORE)

    @router.get("/oid4vp/requests/{request_id}", response_class=Response,
                responses={200: {"content": {f"application/{REQUEST_TYP}": {}}}})
    async def request_object(request: Request, request_id: str = _id()) -> Response:
        """The request object a wallet fetches at ``request_uri``."""
        return await serve_request_object(request, request_id, None)

    @router.post("/oid4vp/requests/{request_id}", response_class=Response,
                 responses={200: {"content": {f"application/{REQUEST_TYP}": {}}}})
    async def request_object_posted(request: Request, request_id: str = _id()) -> Response:
        """``request_uri_method=post`` (§5.10): the wallet's ``wallet_nonce`` and ``wallet_metadata``
        (``application/x-www-form-urlencoded``, both optional), answered with the request object carrying that
        nonce. Served for every request, whatever its link says."""
        body = await request.body()  # read, bounded and refused by read_wallet_fetch once the request is known
        content_type = request.headers.get("content-type", "")
        if body and not content_type.startswith("application/x-www-form-urlencoded"):
            return _oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        return await serve_request_object(request, request_id, body)

    async def take_answer(request: Request, request_id: str, dc_api: bool) -> Response:
        content_type = request.headers.get("content-type", "")
        json_body = dc_api and content_type.startswith("application/json")
        if not json_body and not content_type.startswith("application/x-www-form-urlencoded"):
            also = " or application/json" if dc_api else ""
            return _oauth_error(400, "invalid_request", f"the response must be application/x-www-form-urlencoded{also}")
        try:
            body = await request.body()
            read = read_json_form if json_body else read_form
            form = read(body, max_bytes=MAX_RESPONSE_BYTES, max_fields=8, what="response")
        except FormError as exc:
            return _oauth_error(400, "invalid_request", str(exc))
        origin = None
        if dc_api:
            origin = form.pop("origin", None) or request.headers.get("origin")
            if not origin:
                return _oauth_error(400, "invalid_request", "origin: the page's origin is required (form member "
                                                            "origin, or the Origin header)")
        try:
            _, redirect = await _service(request).answer(request_id, form, origin)
        except ResponseError as exc:
            return _oauth_error(400, exc.error, exc.description)
        return JSONResponse({"redirect_uri": redirect} if redirect else {}, headers=_NO_STORE)

    @router.post("/oid4vp/responses/{request_id}")
    async def response(request: Request, request_id: str = _id()) -> Any:
        """A wallet's authorization response (``application/x-www-form-urlencoded``)."""
        return await take_answer(request, request_id, dc_api=False)

    @router.get("/oid4vp/dc-api/{request_id}")
    async def dc_api_request(request: Request, request_id: str = _id()) -> Any:
        """What a page on one of the request's expected origins passes to ``navigator.credentials.get``:
        ``{"protocol": "openid4vp-v1-signed", "data": {"request": <JWS>}}`` (``openid4vp-v1-unsigned`` and the
        parameters themselves with the development identity)."""
        try:
            protocol, data = await _service(request).dc_api_request(request_id)
        except RequestUnknown:
            return _oauth_error(404, "invalid_request", "unknown request, or not one to ask for over the DC API")
        except RequestGone:
            return _oauth_error(410, "invalid_request", "the request expired")
        return JSONResponse({"protocol": protocol, "data": data}, headers=_NO_STORE)

    @router.post("/oid4vp/dc-api/{request_id}")
    async def dc_api_response(request: Request, request_id: str = _id()) -> Any:
        """The wallet's answer a page got from the Digital Credentials API, as a form or a JSON object (the
        ``DigitalCredential``'s ``data``): ``response`` (``dc_api.jwt``) or ``vp_token`` (``dc_api``), or ``error``;
        ``origin``: the page's (else the ``Origin`` header), which must be one of the request's expected origins
        and which the presentations must name."""
        return await take_answer(request, request_id, dc_api=True)

    return router
