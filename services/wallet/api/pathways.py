"""Stacking HTTP API: pathways, the learner's progress on them, and publishing a pathway (issuers, agencies)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.wallet.api.deps import Learner, Publisher
from services.wallet.domain.errors import Unprocessable
from services.wallet.domain.stacking import Pathway

router = APIRouter(prefix="/v1", tags=["stacking"])
admin = APIRouter(prefix="/v1/admin", tags=["admin"])


class PathwayRequest(BaseModel):
    """A pathway: a larger credential defined by the achievements it is made of."""

    pathway_id: str = Field(min_length=1, max_length=512)
    issuer_id: str = Field(min_length=1, max_length=512)
    title: dict[str, str] = Field(min_length=1, description="language code -> text")
    description: dict[str, str] = Field(default_factory=dict)
    required_achievement_ids: list[str] = Field(default_factory=list, max_length=200)
    min_total_ects: Decimal | None = Field(default=None, ge=0, le=1000)
    min_eqf_level: int | None = Field(default=None, ge=1, le=8)
    accepted_issuer_ids: list[str] = Field(default_factory=list, max_length=200, description="empty: any issuer")
    awarded_achievement_id: str | None = None


@router.get("/pathways", summary="Published pathways")
async def list_pathways(session: Learner) -> dict[str, Any]:
    """Every pathway the wallet knows of."""
    return {"pathways": [p.to_json() for p in await session.ctx.store.pathways()]}


@router.get("/pathways/progress", summary="The learner's progress on every pathway")
async def all_progress(session: Learner) -> dict[str, Any]:
    """Per pathway: ECTS gathered and missing, missing achievements, which credentials count and why not."""
    return {"progress": [p.to_json() for p in await session.ctx.progress(session.account)]}


@router.get("/pathways/{pathway_id:path}/progress", summary="The learner's progress on one pathway")
async def one_progress(session: Learner, pathway_id: str) -> dict[str, Any]:
    """Progress on one pathway (404 if unknown)."""
    return (await session.ctx.progress(session.account, pathway_id))[0].to_json()


@admin.post("/pathways", status_code=202, summary="Publish a pathway (issuers and agencies)")
async def publish_pathway(ctx: Publisher, body: PathwayRequest) -> dict[str, str]:
    """Publishes ``PathwayPublished`` on Kafka; needs the pathway-publisher scope in the token."""
    if not body.required_achievement_ids and body.min_total_ects is None:
        raise Unprocessable("a pathway needs required achievements or a minimum of ECTS")
    pathway = Pathway(
        pathway_id=body.pathway_id, issuer_id=body.issuer_id, title=body.title, description=body.description,
        required_achievement_ids=tuple(body.required_achievement_ids), min_total_ects=body.min_total_ects,
        min_eqf_level=body.min_eqf_level, accepted_issuer_ids=tuple(body.accepted_issuer_ids),
        awarded_achievement_id=body.awarded_achievement_id,
    )
    return {"pathway_id": pathway.pathway_id, "event_id": await ctx.publish_pathway(pathway)}
