"""The learner's PDF download: ``GET /v1/credentials/{id}/pdf?lang=en|pl|de|fr&paper=a4|letter`` (issue 23).

The PDF shows the credential in the chosen language with a QR code of a public verification link
(:mod:`services.wallet.api.verification_links`) and carries the signed credential as an attachment
(``credential.json``, ``credential-edc.jsonld`` when held as an EDC, ``credential.sd-jwt`` for an imported SD-JWT
VC). The QR code is ``link`` when that names one of the learner's live links to this credential (the token the
link was created with); otherwise the learner's active verification link the PDF made before, and a new one only
when there is none (:mod:`services.wallet.api.pdf_link`, which says what is guaranteed under concurrent downloads).
The issuer's registered name and logo head the PDF when the trust registry vouches for the issuer
(:mod:`services.wallet.api.registry_issuer`); otherwise the name the credential gives and no logo.
Every link is listed with the learner's share links and can be withdrawn there, after which the printed QR code
answers 410 Gone and the next download makes a new link.

Its own router, included before the learner router (whose ``{credential_id:path}`` would take ``.../pdf``).
Rendering (~30 ms of CPU) runs in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from microcred.pdf.render import CredentialPdf, render_pdf
from services.wallet.api.deps import Learner
from services.wallet.api.pdf_link import pdf_link
from services.wallet.api.registry_issuer import vouched_issuer
from services.wallet.api.verification_links import linkedin_links
from services.wallet.domain.credentials import HeldCredential
from services.wallet.domain.errors import NotFound
from services.wallet.domain.share_link import share_id_of

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["learner"])

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SD_JWT_DATA_URL = "data:application/dc+sd-jwt,"


def attachments(credential: HeldCredential) -> list[tuple[str, bytes]]:
    """The signed forms of ``credential`` the wallet holds, named per :mod:`microcred.pdf.embedded`."""
    document = credential.document
    envelope = document.get("id") if isinstance(document.get("id"), str) else ""
    if isinstance(envelope, str) and envelope.startswith(_SD_JWT_DATA_URL):
        files = [("credential.sd-jwt", envelope[len(_SD_JWT_DATA_URL):].encode())]
    else:
        text = credential.document_json or json.dumps(document, ensure_ascii=False)
        files = [("credential.json", text.encode())]
    if credential.edc_jsonld:
        files.append(("credential-edc.jsonld", credential.edc_jsonld.encode()))
    return files


async def _link(session: Learner, credential: HeldCredential, token: str | None) -> str:
    if token:
        share = await session.ctx.shares.get(session.account.account_id, share_id_of(token))
        now = session.ctx.now()
        if share.withdrawn or share.expires_at <= now or share.credential_ids != (credential.credential_id,):
            raise NotFound("link: not a live verification link of this credential")
        return session.ctx.settings.share_url_template.format(token=token)
    return await pdf_link(session, credential.credential_id)


@router.get("/credentials/{credential_id:path}/pdf", summary="Download the credential as a PDF",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def download_pdf(session: Learner, credential_id: str,
                       lang: Annotated[Literal["en", "pl", "de", "fr"], Query()] = "en",
                       paper: Annotated[Literal["a4", "letter"], Query()] = "a4",
                       link: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    """The credential as a PDF with a QR code of its public verification link and the signed credential attached."""
    credential = await session.ctx.holdings.one(session.account, credential_id)
    url = await _link(session, credential, link)
    add, _share = linkedin_links(credential, url)
    vouched = await vouched_issuer(session.ctx, credential, lang)  # the registry's name and logo, or none
    data = CredentialPdf(document=credential.document, credential_id=credential_id, verification_url=url,
                         issuer_name=vouched.name if vouched else credential.issuer_name or "",
                         logo=vouched.logo.data if vouched else None, linkedin_url=add,
                         attachments=attachments(credential))
    pdf = await run_in_threadpool(render_pdf, data, lang, paper)
    name = _UNSAFE.sub("-", credential_id).strip("-")[:100] or "credential"
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}.pdf"', "Cache-Control": "no-store"})
