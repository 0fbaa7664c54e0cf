"""HTTP adapter: the signed status-list credentials at the URLs that credentials carry.

``GET /status/{list_id}`` serves the latest ``BitstringStatusListCredential`` exactly as signed, with a
strong ``ETag`` (hash of the body), ``If-None-Match`` → 304, and ``Cache-Control: public, max-age=<ttl>``
(never longer than the list stays valid), so caches and CDNs may serve it without tracking readers. An
unknown list is an RFC 9457 ``application/problem+json`` 404 whose type is the Recommendation's
``STATUS_RETRIEVAL_ERROR``. ``GET /healthz`` reports Redis and Kafka; ``GET /signer`` names the did:key
that signs the lists.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from microcred.http_service import add_health_route
from microcred.metrics import RequestMetrics
from microcred.status.errors import StatusErrorCode, problem_type
from services.revocation.adapters.store import RevocationStore

__all__ = ["cached_response", "create_http_app", "media_type_for"]

_LIST_ID = re.compile(r"[A-Za-z0-9._~-]{1,200}")
_MEDIA_TYPES = ("application/vc+ld+json", "application/vc", "application/ld+json", "application/json")
DEFAULT_MEDIA_TYPE = "application/vc+ld+json"


def media_type_for(accept: str | None) -> str:
    """The media type to answer with: the first of ours the ``Accept`` header names, else VC JSON-LD."""
    if accept:
        wanted = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
        for media_type in wanted:
            if media_type in _MEDIA_TYPES:
                return media_type
    return DEFAULT_MEDIA_TYPE


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


def cached_response(request: Request, body: bytes, media_type: str, *, etag: str, ttl_seconds: int,
                    expires: datetime, now: datetime) -> Response:
    """A signed list as HTTP: strong ``ETag``, ``If-None-Match`` -> 304, ``HEAD`` without the body, and
    ``Cache-Control: public, max-age`` no longer than ``ttl_seconds`` nor the time left until ``expires``.

    One mechanism for both published forms (Bitstring credentials here, Token Status List tokens in
    :mod:`services.revocation.api.token_status`).
    """
    max_age = max(0, min(ttl_seconds, int((expires - now).total_seconds())))
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", "Vary": "Accept"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    head = request.method == "HEAD"
    response = Response(content=b"" if head else body, status_code=200, media_type=media_type, headers=headers)
    if head:
        response.headers["Content-Length"] = str(len(body))
    return response


def _problem(status: int, detail: str, instance: str) -> JSONResponse:
    code = StatusErrorCode.STATUS_RETRIEVAL_ERROR
    return JSONResponse(
        {"type": problem_type(code), "title": "Retrieval of the status list failed.", "status": status,
         "detail": detail, "instance": instance, "code": code.value},
        status_code=status, media_type="application/problem+json", headers={"Cache-Control": "no-store"})


def create_http_app(store: RevocationStore, ttl_seconds: int, health: dict[str, Any],
                    clock: Callable[[], datetime] | None = None, signer: dict[str, str] | None = None,
                    ready: Callable[[], Awaitable[bool]] | None = None) -> FastAPI:
    """The FastAPI application; ``health`` holds ``redis`` and ``kafka_ready`` for ``/healthz``.

    ``signer`` (``did`` and ``verificationMethod``) is served at ``GET /signer`` so that the platform can
    tell verifiers which signer to trust for status lists. While ``ready`` says no (the read model is being
    rebuilt after Redis lost its data) lists are answered 503: what Redis holds then may be an old version.
    """
    now = clock or (lambda: datetime.now(UTC))
    app = FastAPI(title="microcred revocation: status lists", version="1")
    add_health_route(app, health)

    @app.get("/signer")
    async def status_list_signer() -> dict[str, str]:
        return dict(signer or {})

    @app.api_route("/status/{list_id}", methods=["GET", "HEAD"], response_model=None)
    async def status_list(list_id: str, request: Request) -> Response:
        if not _LIST_ID.fullmatch(list_id):
            return _problem(404, "no status list has this id", str(request.url.path))
        if ready is not None and not await ready():
            unavailable = _problem(503, "the status lists are being rebuilt; retry shortly", str(request.url.path))
            unavailable.headers["Retry-After"] = "1"
            return unavailable
        published = await store.published(list_id)
        if published is None:
            return _problem(404, f"status list {list_id!r} does not exist", str(request.url.path))
        return cached_response(request, published.body, media_type_for(request.headers.get("accept")),
                               etag=published.etag, ttl_seconds=ttl_seconds, expires=published.valid_until,
                               now=now())

    # counted by route template; exported on the service's metrics port with the gRPC series
    app.add_middleware(RequestMetrics, service="revocation")
    return app
