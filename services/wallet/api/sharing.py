"""Sharing HTTP API: share links (learner side and the public resolver) and presentations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from services.wallet.api.deps import Context, Learner
from services.wallet.domain.share_link import Share

router = APIRouter(prefix="/v1", tags=["sharing"])
public = APIRouter(prefix="/v1", tags=["public"])


class ShareRequest(BaseModel):
    """A share link to one or several of the learner's credentials."""

    credential_ids: list[str] = Field(min_length=1, max_length=100)
    expires_in_seconds: int | None = Field(default=None, ge=1, description="default 7 days")


class PresentationRequest(BaseModel):
    """A verifier's request: which credentials, and the verifier's challenge and domain."""

    credential_ids: list[str] = Field(min_length=1, max_length=100)
    challenge: str = Field(min_length=1, max_length=512)
    domain: str = Field(min_length=1, max_length=512)
    holder_did: str | None = Field(default=None, max_length=512, description="default: the bound or only DID")


def _share_json(session: Learner, share: Share) -> dict[str, Any]:
    return share.to_json(session.ctx.now())


@router.post("/share-links", status_code=201, summary="Create a share link")
async def create_share(session: Learner, body: ShareRequest, request: Request) -> dict[str, Any]:
    """An unguessable, expiring link. The token is returned only now (the wallet stores its hash)."""
    token, share = await session.ctx.create_share(session.account, body.credential_ids, body.expires_in_seconds)
    return {**_share_json(session, share), "token": token,
            "url": session.ctx.settings.share_url_template.format(token=token),
            "api_url": str(request.url_for("resolve_share", token=token))}


@router.get("/share-links", summary="List the learner's share links")
async def list_shares(session: Learner) -> dict[str, Any]:
    """Every link with its state (active, withdrawn, expired) and access count, newest first."""
    shares = await session.ctx.shares.for_account(session.account.account_id)
    return {"share_links": [_share_json(session, s) for s in shares]}


@router.delete("/share-links/{share_id}", summary="Withdraw a share link")
async def withdraw_share(session: Learner, share_id: str) -> dict[str, Any]:
    """The link stops working at once (410 Gone for whoever holds it)."""
    return _share_json(session, await session.ctx.shares.withdraw(session.account.account_id, share_id))


@public.get("/shares/{token}", name="resolve_share", summary="Resolve a share link (verifier gateway)")
async def resolve_share(ctx: Context, token: str, response: Response) -> dict[str, Any]:
    """The shared credentials; each call counts as an access. 404 unknown, 410 withdrawn or expired."""
    share, documents = await ctx.resolve_share(token)
    response.headers["Cache-Control"] = "no-store"
    return {"credentials": documents, "expires_at": share.to_json(ctx.now())["expires_at"],
            "access_count": share.access_count}


@router.post("/presentations", summary="Create a Verifiable Presentation")
async def create_presentation(session: Learner, body: PresentationRequest) -> dict[str, Any]:
    """A VP of the chosen credentials signed by the learner's holder key (eddsa-rdfc-2022, authentication)."""
    return await session.ctx.present(session.account, body.credential_ids, body.challenge, body.domain,
                                     body.holder_did)
