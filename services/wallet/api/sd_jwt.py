"""The learner's SD-JWT VC download: ``GET /v1/credentials/{id}/sd-jwt`` returns the credential as a compact SD-JWT VC
(``application/dc+sd-jwt``, every Disclosure, exactly as the issuer issued it, or as the learner imported it) for an
EUDI wallet.

Its own router, included before the learner router: ``/credentials/{credential_id:path}`` there would otherwise
take ``.../sd-jwt`` as part of the id. A credential not issued (nor imported) as an SD-JWT VC is 404 with a problem
naming why. The credential is the learner's own (``Holdings.one``: another learner's is simply not found).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Response

from services.wallet.api.deps import Learner
from services.wallet.domain.errors import NotFound

__all__ = ["MEDIA_TYPE", "router"]

MEDIA_TYPE = "application/dc+sd-jwt"  # SD-JWT VC §3.1 (draft-ietf-oauth-sd-jwt-vc)

router = APIRouter(prefix="/v1", tags=["learner"])

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@router.get("/credentials/{credential_id:path}/sd-jwt", summary="Download the credential as an SD-JWT VC",
            response_class=Response, responses={200: {"content": {MEDIA_TYPE: {}}}})
async def download_sd_jwt(session: Learner, credential_id: str) -> Response:
    """The SD-JWT VC of one of the learner's credentials (404 when it was not issued in that format)."""
    credential = await session.ctx.holdings.one(session.account, credential_id)
    compact = credential.sd_jwt_compact
    if not compact:
        raise NotFound("this credential was not issued as an SD-JWT VC")
    name = _UNSAFE.sub("-", credential_id).strip("-")[:100] or "credential"
    return Response(compact, media_type=MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}.sd-jwt"', "Cache-Control": "no-store"})
