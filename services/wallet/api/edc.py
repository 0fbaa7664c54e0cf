"""The learner's EDC download: ``GET /v1/credentials/{id}/edc`` returns the sealed European Digital Credential
(JAdES JSON serialisation, exactly as the issuer sealed it) as a ``.jsonld`` file for a Europass wallet.

Its own router, included before the learner router: ``/credentials/{credential_id:path}`` there would otherwise
take ``.../edc`` as part of the id. A credential not issued in the EDC format is 404 with a problem naming why.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Response

from services.wallet.api.deps import Learner
from services.wallet.domain.errors import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["learner"])

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@router.get("/credentials/{credential_id:path}/edc", summary="Download the credential as a sealed EDC (.jsonld)",
            response_class=Response, responses={200: {"content": {"application/ld+json": {}}}})
async def download_edc(session: Learner, credential_id: str) -> Response:
    """The sealed EDC of one of the learner's credentials (404 when it was not issued in that format)."""
    credential = await session.ctx.holdings.one(session.account, credential_id)
    if not credential.edc_jsonld:
        raise NotFound("this credential was not issued as a European Digital Credential (EDC)")
    name = _UNSAFE.sub("-", credential_id).strip("-")[:100] or "credential"
    return Response(credential.edc_jsonld, media_type="application/ld+json", headers={
        "Content-Disposition": f'attachment; filename="{name}.edc.jsonld"', "Cache-Control": "no-store"})
