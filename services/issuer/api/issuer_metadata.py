"""JWT VC Issuer Metadata (draft-ietf-oauth-sd-jwt-vc §3) of the issuers whose SD-JWT VCs this service signs.

``GET /.well-known/jwt-vc-issuer/issuers/{issuer_id}`` answers ``{issuer, jwks}`` for an SD-JWT VC whose ``iss`` is
``https://{did web host}/issuers/{issuer_id}`` (the issuer's did:web in https form, §3.1: the well-known segment goes
between host and path). The JWKS holds every SD-JWT VC key of the issuer that may sign now (during a rotation the
old and the new), each the P-256 key derived from one of its signing keys and certified by the document-signing CA
(its ``x5c`` leaf, :mod:`~services.issuer.adapters.document_signing`), under the ``kid`` its SD-JWT VCs name in
their header, so a wallet can match an SD-JWT VC by ``kid`` or by its ``x5c`` leaf. A retired key is no longer
published: its credentials still carry their ``x5c`` chain.

Served by the issuer service's REST front because the key is derived from the issuer's private key, which only
this service holds: a deployment routes ``/.well-known/jwt-vc-issuer/`` of the did:web host here
(docs/sd-jwt-vc.md). Public, no client authentication; unknown issuers, issuers without a did:web and a service
without a document-signing CA are a 404 problem naming why (nothing else is revealed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from microcred.registry import domain
from microcred.registry.did_web import https_of_did_web
from microcred.registry.ports import RegistryReader
from microcred.sdjwt.issuer_metadata import issuer_metadata, well_known_url
from services.issuer.application.ports import DocumentSigning, DocumentSigningUnavailable

__all__ = ["CACHE", "issuer_metadata_router"]

#: Short: a key rotation must reach wallets soon (the old key's credentials keep their x5c chain meanwhile).
CACHE = "public, max-age=300"



def _not_found(detail: str) -> JSONResponse:
    """An RFC 9457 problem naming the path parameter."""
    return JSONResponse({"type": "about:blank", "title": "Not Found", "status": 404, "detail": detail,
                         "field": "issuer_id"}, status_code=404, media_type="application/problem+json")


def issuer_metadata_router(registry: RegistryReader, documents: DocumentSigning,
                           clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> APIRouter:
    """The metadata route over the registry read model and the issuers' SD-JWT VC keys."""
    router = APIRouter(tags=["SD-JWT VC"])

    @router.get("/.well-known/jwt-vc-issuer/issuers/{issuer_id}", summary="JWT VC Issuer Metadata of an issuer",
                response_model=None)
    async def get_issuer_metadata(issuer_id: str, request: Request) -> Response:
        issuer = await registry.get_issuer(issuer_id) if domain.ID_PATTERN.fullmatch(issuer_id) else None
        iss = https_of_did_web(issuer.did) if issuer is not None else None
        # the issuer's iss must name exactly this path, else this is not its metadata (§3.1)
        if issuer is None or iss is None or urlsplit(well_known_url(iss)).path != request.url.path:
            return _not_found(f"no SD-JWT VC issuer {issuer_id!r} here")
        try:
            keys = documents.issuer_keys(issuer, clock())
        except DocumentSigningUnavailable as exc:
            return _not_found(f"issuer {issuer_id!r} has no SD-JWT VC key here: {exc}")
        return JSONResponse(issuer_metadata(iss, keys), headers={"Cache-Control": CACHE})

    return router
