"""Public verification links (issue 23): a share link to ONE credential that does not expire by default.

A verification link is what the PDF's QR code and the LinkedIn certification point to. It is a share link
(:mod:`services.wallet.adapters.share_links`): an unguessable ``secrets.token_urlsafe(32)`` token of which only
the hash is kept, state projected into Redis from the compacted wallet topic (so it works across replicas and
survives a Redis wipe), withdrawn with ``DELETE /v1/share-links/{share_id}`` or
``DELETE /v1/verification-links/{share_id}`` (the link then answers 410 Gone), and resolved by the verifier
gateway's share page, which verifies the credential and shows the report. "Does not expire" is an expiry
:data:`NON_EXPIRING_YEARS` years ahead: the share-link event carries an expiry, and a separate "kind" would mean
a new event field for no behaviour the learner could tell apart. A learner may still ask for an expiry.

Its own router, included before the learner router (whose ``/credentials/{credential_id:path}`` would otherwise
take ``.../verification-link`` as part of the id).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from microcred.sharing.linkedin import add_to_profile_url, share_url
from services.wallet.api.deps import Learner
from services.wallet.domain.credentials import HeldCredential
from services.wallet.domain.share_link import Share

__all__ = ["NON_EXPIRING_YEARS", "VerificationLink", "create_link", "router"]

router = APIRouter(prefix="/v1", tags=["sharing"])

NON_EXPIRING_YEARS = 100


class VerificationLinkRequest(BaseModel):
    """Optional expiry; none means the link does not expire."""

    expires_in_seconds: int | None = Field(default=None, ge=1, le=NON_EXPIRING_YEARS * 365 * 24 * 3600)


class VerificationLink(BaseModel):
    """A created link: the token and URL are returned only now (the wallet keeps only their hash)."""

    share_id: str
    credential_id: str
    token: str
    url: str
    expires_at: str | None
    linkedin_add_to_profile: str
    linkedin_share: str


def linkedin_links(credential: HeldCredential, url: str) -> tuple[str, str]:
    """("Add to profile", share) LinkedIn URLs of ``credential`` whose public verification link is ``url``."""
    e = credential.elements
    add = add_to_profile_url(name=e.title or credential.credential_id,
                             organization_name=credential.issuer_name or credential.issuer_id,
                             issued=e.issued_at or None, expires=e.valid_until or None, cert_url=url,
                             cert_id=credential.credential_id)
    return add, share_url(url)


async def create_link(session: Learner, credential_id: str,
                      expires_in_seconds: int | None = None) -> tuple[VerificationLink, HeldCredential]:
    """A new verification link to one of the learner's credentials (NotFound when it is not theirs)."""
    ctx = session.ctx
    credential = await ctx.holdings.one(session.account, credential_id)
    now = ctx.clock()
    lifetime = timedelta(seconds=expires_in_seconds) if expires_in_seconds else timedelta(
        days=365 * NON_EXPIRING_YEARS)
    token, share = await ctx.shares.create(session.account.account_id, [credential_id], now + lifetime, now)
    url = ctx.settings.share_url_template.format(token=token)
    add, share_link = linkedin_links(credential, url)
    return VerificationLink(share_id=share.share_id, credential_id=credential_id, token=token, url=url,
                            expires_at=_expiry(session, share) if expires_in_seconds else None,
                            linkedin_add_to_profile=add, linkedin_share=share_link), credential


def _expiry(session: Learner, share: Share) -> str | None:
    value = share.to_json(session.ctx.now()).get("expires_at")
    return str(value) if value else None


@router.post("/credentials/{credential_id:path}/verification-link", status_code=201,
             summary="Create a public verification link (QR code, LinkedIn)")
async def create_verification_link(session: Learner, credential_id: str,
                                   body: VerificationLinkRequest | None = None) -> VerificationLink:
    """An unguessable link to this credential's verification page; it does not expire unless asked to."""
    link, _ = await create_link(session, credential_id, body.expires_in_seconds if body else None)
    return link


@router.delete("/verification-links/{share_id}", summary="Withdraw a public verification link")
async def withdraw_verification_link(session: Learner, share_id: str) -> dict[str, Any]:
    """The link stops working at once (410 Gone); the same as withdrawing the share link."""
    share = await session.ctx.shares.withdraw(session.account.account_id, share_id)
    return share.to_json(session.ctx.now())
