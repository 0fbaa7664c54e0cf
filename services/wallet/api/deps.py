"""FastAPI dependencies: the wallet context and the authenticated learner session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.wallet.application.use_cases import WalletContext
from services.wallet.domain.accounts import Account, LearnerClaims
from services.wallet.domain.errors import NotAuthenticated, NotPermitted

bearer = HTTPBearer(auto_error=False, description="the learner's OpenID Connect bearer token (JWT)")


def wallet(request: Request) -> WalletContext:
    """The wallet context installed on the app by ``app.create_app``."""
    return cast(WalletContext, request.app.state.wallet)


@dataclass(frozen=True)
class Session:
    """An authenticated caller: verified claims and the learner account they map to."""

    ctx: WalletContext
    claims: LearnerClaims
    account: Account


async def _claims(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> LearnerClaims:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotAuthenticated("a bearer token is required")
    return await wallet(request).tokens.verify(credentials.credentials)


async def learner_session(request: Request, claims: Annotated[LearnerClaims, Depends(_claims)]) -> Session:
    """The caller as a learner (account created on first sight)."""
    ctx = wallet(request)
    return Session(ctx, claims, await ctx.sign_in(claims))


async def pathway_publisher(request: Request, claims: Annotated[LearnerClaims, Depends(_claims)]) -> WalletContext:
    """The caller as an issuer or agency allowed to publish pathways (scope check)."""
    ctx = wallet(request)
    if ctx.settings.pathway_publisher_scope not in claims.scopes:
        raise NotPermitted(f"the token lacks the scope {ctx.settings.pathway_publisher_scope!r}")
    return ctx


Learner = Annotated[Session, Depends(learner_session)]
Publisher = Annotated[WalletContext, Depends(pathway_publisher)]
Context = Annotated[WalletContext, Depends(wallet)]
