"""The learner wallet app (plain HTML + a small script over the API, no build step; see docs/wallet-app.md) and the
dev-only login.

``GET /`` (also ``/app``) renders ``static/index.html`` in English, Polish, German or French
(``?lang=en|pl|de|fr``, else ``Accept-Language``; a word a catalogue lacks in the language is in English); the
script keeps the bearer token in ``sessionStorage`` and calls the ``/v1`` API.

Two helpers for the app, both for the signed-in learner only:

* ``GET /app/view/{credential_id}?lang=`` every EU element of one credential, labelled and formatted (dates,
  numbers, country names) in the chosen language, the download formats the wallet API offers for it, and
  ``registry_issuer`` (name and logo as a data URI) when the trust registry vouches for its issuer;
* ``POST /app/qr`` ``{"text": url}`` -> an SVG data URI of its QR code (segno), so a share link can be scanned.

Dev login: ``POST /dev/login {"sub": ..., "email": ...}`` returns a token signed with the development key
set, so the page can be used without an identity provider. The route exists only when the wallet runs with
``MICROCRED_ENVIRONMENT=dev`` or ``test`` and has a dev signing key (``MICROCRED_OIDC_DEV_SIGNING_KEY_FILE``,
or the key generated under the data directory in ``dev``); in ``prod`` it is never registered. The e-mail is
marked verified, so credentials issued to a hashed e-mail appear: acceptable for development only.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from string import Template
from typing import Annotated, Any

import segno
from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from microcred.i18n import ELEMENT_LABELS, element_value
from microcred.pdf.labels import LANGUAGES as PDF_LANGUAGES
from microcred.verification.summary import summarize
from services.wallet.api.app_text import APP_LABELS
from services.wallet.api.deps import Context, Learner
from services.wallet.api.i18n import LABELS, LANGUAGE_NAMES, in_language, pick_language
from services.wallet.api.offer_text import OFFER_LABELS
from services.wallet.api.registry_issuer import vouched_issuer
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
    labels = in_language(LABELS, lang)
    app_labels = {**in_language(APP_LABELS, lang), **in_language(OFFER_LABELS, lang)}
    values = {key: html.escape(value) for key, value in {**labels, **app_labels}.items()}
    return _template().safe_substitute(values, lang=lang, labels_json=_script_json(labels),
                                       app_labels_json=_script_json(app_labels),
                                       language_links=_language_links(lang),
                                       dev_login="true" if dev_login else "false")


def _language_links(lang: str) -> str:
    """The language picker's links, each language named in itself; the page's own marked as current."""
    links = []
    for code, name in LANGUAGE_NAMES.items():
        current = ' aria-current="page"' if code == lang else ""
        links.append(f'<a href="?lang={code}" lang="{code}" hreflang="{code}"{current}>{html.escape(name)}</a>')
    return " · ".join(links)


def _script_json(labels: Mapping[str, str]) -> str:
    # The JSON sits in a <script> data block: "</" must not appear in it, so escape "<" as \u003c.
    return json.dumps(dict(labels), ensure_ascii=False).replace("<", "\\u003c")


@router.get("/", response_class=HTMLResponse)
@router.get("/app", response_class=HTMLResponse)
async def page(ctx: Context, lang: Annotated[str | None, Query()] = None,
               accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    """The learner page."""
    chosen = pick_language(lang, accept_language)
    return HTMLResponse(render_page(chosen, ctx.minter is not None), headers={
        "Content-Security-Policy": _CSP, "Content-Language": chosen, "Vary": "Accept-Language",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


#: Download formats besides the signed JSON (which the app always offers from the credential itself): the last path
#: segment of a ``/v1/credentials/{credential_id}/...`` route of the wallet API, and the file name suffix. A format
#: is offered only when the running API has such a route (others add them; the app never links to a missing one),
#: and the EDC only for a credential the wallet holds in that format.
DOWNLOADS = {"sd-jwt": ".sd-jwt", "edc": ".jsonld", "pdf": ".pdf"}


def available_downloads(app: FastAPI) -> dict[str, str]:
    """Format -> URL template (``{credential_id}`` to fill) of the download routes the API publishes (its OpenAPI
    document, built once: included routers are not flattened into ``app.routes`` in this FastAPI)."""
    found: dict[str, str] = {}
    for path, operations in app.openapi().get("paths", {}).items():
        if path.startswith("/v1/credentials/{credential_id}/") and "get" in operations:
            last = path.rsplit("/", 1)[1]
            if last in DOWNLOADS:
                found[last] = path.lstrip("/")
    return found


def _elements(document: dict[str, Any], fallback: dict[str, Any], lang: str) -> list[tuple[str, Any]]:
    """(label, value) rows of every element the signed document carries, in ``lang``."""
    labels = ELEMENT_LABELS.get(lang, ELEMENT_LABELS["en"])
    summary = summarize(document) if document.get("type") != "EnvelopedVerifiableCredential" else {}
    if not summary:  # an SD-JWT VC held as an envelope: what the wallet read from it
        summary = {k: v for k, v in (("title", fallback.get("title")), ("issued_at", fallback.get("issued_at")),
                                     ("valid_until", fallback.get("valid_until")),
                                     ("credit_points", f"{fallback['ects']} ECTS" if fallback.get("ects") else None),
                                     ("eqf_level", fallback.get("eqf_level"))) if v not in (None, "")}
    return [(labels.get(key, key), element_value(key, value, lang)) for key, value in summary.items()]


def _query(fmt: str, lang: str) -> str:
    """The PDF is rendered in the page's language (English when the PDF lacks it); A4, the page offers no paper
    choice (the API takes ``paper=letter``)."""
    return f"?lang={lang if lang in PDF_LANGUAGES else 'en'}&paper=a4" if fmt == "pdf" else ""


@router.get("/app/view/{credential_id:path}")
async def credential_view(request: Request, session: Learner, credential_id: str,
                          lang: Annotated[str | None, Query(max_length=35)] = None,
                          accept_language: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """One of the learner's credentials as the app shows it: labelled elements and the download formats."""
    chosen = pick_language(lang, accept_language)
    held = await session.ctx.holdings.one(session.account, credential_id)
    rows = _elements(dict(held.document), held.elements.to_json(), chosen)
    downloads = [{"format": fmt, "url": url.replace("{credential_id}", credential_id) + _query(fmt, chosen),
                  "suffix": DOWNLOADS[fmt]}
                 for fmt, url in available_downloads(request.app).items() if fmt != "edc" or held.edc_jsonld]
    vouched = await vouched_issuer(session.ctx, held, chosen)
    issuer = {"name": vouched.name, "logo": vouched.logo.data_uri()} if vouched else None
    return {"credential_id": credential_id, "lang": chosen, "elements": [[label, value] for label, value in rows],
            "downloads": downloads, "registry_issuer": issuer}


class QrRequest(BaseModel):
    """The text (a share link's URL) to draw as a QR code."""

    text: str = Field(min_length=1, max_length=2000)


@router.post("/app/qr")
async def qr_code(session: Learner, body: QrRequest) -> dict[str, str]:
    """An SVG data URI of ``text``'s QR code (error correction M, dark modules on white for any scanner)."""
    del session  # signed-in learners only: the app's helper, not a public QR service
    return {"svg": segno.make(body.text, error="m").svg_data_uri(scale=4, border=4)}


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
