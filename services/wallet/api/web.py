"""The learner page (plain HTML + a little JavaScript over the API) and the dev-only login.

``GET /`` (also ``/app``) renders ``static/index.html`` in English or Polish (``?lang=en|pl``, else
``Accept-Language``); the script keeps the bearer token in ``sessionStorage`` and calls the ``/v1`` API.

Dev login: ``POST /dev/login {"sub": ..., "email": ...}`` returns a token signed with the development key
set, so the page can be used without an identity provider. The route exists only when the wallet runs with
``MICROCRED_ENVIRONMENT=dev`` or ``test`` and has a dev signing key (``MICROCRED_OIDC_DEV_SIGNING_KEY_FILE``,
or the key generated under the data directory in ``dev``); in ``prod`` it is never registered. The e-mail is
marked verified, so credentials issued to a hashed e-mail appear: acceptable for development only.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from string import Template
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from services.wallet.api.deps import Context
from services.wallet.api.i18n import LABELS, pick_language
from services.wallet.application.ports import TokenMinter

STATIC = resources.files("services.wallet.api") / "static"
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
DEV_TOKEN_SECONDS = 3600

router = APIRouter(include_in_schema=False)


@cache
def _template() -> Template:
    return Template((STATIC / "index.html").read_text(encoding="utf-8"))


def render_page(lang: str, dev_login: bool) -> str:
    """The learner page in ``lang``."""
    labels = LABELS[lang]
    values = {key: html.escape(value) for key, value in labels.items()}
    # The JSON sits in a <script> data block: "</" must not appear in it, so escape "<" as \u003c.
    labels_json = json.dumps(dict(labels), ensure_ascii=False).replace("<", "\\u003c")
    return _template().safe_substitute(values, lang=lang, labels_json=labels_json,
                                       dev_login="true" if dev_login else "false")


@router.get("/", response_class=HTMLResponse)
@router.get("/app", response_class=HTMLResponse)
async def page(ctx: Context, lang: Annotated[str | None, Query()] = None,
               accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    """The learner page."""
    chosen = pick_language(lang, accept_language)
    return HTMLResponse(render_page(chosen, ctx.minter is not None), headers={
        "Content-Security-Policy": _CSP, "Content-Language": chosen, "Vary": "Accept-Language",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


class DevLoginRequest(BaseModel):
    """Who to sign in as (development only)."""

    sub: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    scopes: list[str] = Field(default_factory=list, max_length=10)


def dev_login_router(minter: TokenMinter) -> APIRouter:
    """``POST /dev/login`` bound to ``minter`` (register only in dev/test)."""
    dev = APIRouter(prefix="/dev", tags=["dev"])

    @dev.post("/login", summary="Development sign-in (dev/test environments only)")
    async def dev_login(body: DevLoginRequest) -> dict[str, str | int]:
        token = minter.mint(body.sub, body.email or None, True, body.scopes, DEV_TOKEN_SECONDS)
        return {"access_token": token, "token_type": "Bearer", "expires_in": DEV_TOKEN_SECONDS}

    return dev


def install_web(app: FastAPI, minter: TokenMinter | None) -> None:
    """The page, its static files and, when a dev minter is given, the dev login."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    if minter is not None:
        app.include_router(dev_login_router(minter))
