"""The public gateway's routes: JSON verification API, share-link reports and the human pages.

=======================================  ==================================================================
``POST /v1/verify``                      a credential or a presentation (auto-detected) -> report JSON;
                                         ``challenge``/``domain`` as query parameters, or a wrapper body
                                         ``{"credential"|"presentation"|"document": ..., "challenge", "domain"}``;
                                         an SD-JWT VC as a string (``credential``) or enveloped (VCDM 2.0)
``GET  /v1/shares/{token}/report``       resolve a wallet share link and verify what it holds
``GET  /share/{token}``                  the employer page of a share link (also ``/shares/{token}``)
``GET  /`` and ``POST /view``            paste a credential (form) and see the same page
``GET  /trust-list``, ``/issuers/...``   the trust registry view (``trust_router``), mounted by ``app``
=======================================  ==================================================================

Messages follow ``?lang=`` or ``Accept-Language`` (English, Polish, German, French). Errors are RFC 9457 problem+json
(:mod:`~.problems`). Handlers reach their dependencies through ``request.app.state.gateway``
(:class:`~services.verifier.application.Gateway`), set by :mod:`services.verifier.app` at start-up or by tests.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs

from fastapi import APIRouter, Body, FastAPI, Header, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from microcred.credential.jsontext import parse
from microcred.http_limits import BodyLimitMiddleware
from microcred.pdf.embedded import PdfInputError, extract_embedded_credentials
from microcred.verification.edc import is_jades
from microcred.verification.messages import pick_language
from microcred.verification.policy import combine
from microcred.verification.report import VerificationReport
from microcred.verification.sd_jwt import is_sd_jwt
from services.verifier.api.admission import Admission
from services.verifier.api.edge import GatewayApp
from services.verifier.api.fastpath import FastVerify
from services.verifier.api.issuer_logos import registry_logos
from services.verifier.api.limits import TrustedProxies, add_cors, body_too_large
from services.verifier.api.page_text_de import ERROR_TEXT_DE, PDF_TEXT_DE
from services.verifier.api.page_text_fr import ERROR_TEXT_FR, PDF_TEXT_FR
from services.verifier.api.pages import flatten_reports, render_error, render_home, render_reports
from services.verifier.api.problems import (
    Problem,
    install_problem_handlers,
    non_finite_field,
    non_finite_problem,
    problem,
)
from services.verifier.application import (
    Gateway,
    ShareGone,
    ShareNotFound,
    WalletUnavailable,
    share_reports,
    verify_one,
)

__all__ = ["CheckOut", "GatewayLimits", "ReportOut", "ShareReportOut", "create_gateway_app", "router",
           "unwrap"]

_MAX_PARAM = 512
_TOKEN_PATH = Path(min_length=1, max_length=256, description="the share token from the wallet's link")


class GatewayLimits(Protocol):
    """The settings :func:`create_gateway_app` reads (a subset of ``services.verifier.config.Settings``).

    ``max_in_flight`` and ``shed_queue_delay_ms`` (process saturation, see :mod:`~.admission`),
    ``max_event_streams`` and ``max_event_streams_per_client`` (event streams, 128 and 4 without them) and
    ``trusted_proxies`` are read when present; without them only the per-client limit applies, per peer.
    """

    max_body_bytes: int
    rate_limit_per_second: float
    rate_limit_burst: int
    cors_origins: list[str]


class CheckOut(BaseModel):
    """One named check of a report."""

    id: str = Field(description="format, eu_elements, signature, issuer_identity, accreditation, validity_window, "
                                "revocation, suspension or holder_binding")
    status: str = Field(description="valid, invalid or unknown (could not be checked)")
    reason_code: str
    message: str
    details: dict[str, Any]


class ReportOut(BaseModel):
    """A verification report (see docs/verification.md)."""

    kind: str = Field(description="credential or presentation")
    verdict: str = Field(description="valid, invalid or undetermined")
    verdict_message: str
    verified_at: str
    id: str | None
    issuer: str | None
    micro_credential: bool
    lang: str
    policy: str
    required_checks: list[str]
    checks: list[CheckOut]
    issuer_vouched: bool | None = Field(None, description="credentials: whether the trust registry vouches for "
                                        "the issuer (accreditation valid); false: the summary is self-asserted")
    summary: dict[str, Any] | None = None
    credentials: list[ReportOut] | None = None


class ShareReportOut(BaseModel):
    """The reports of everything a share link holds, with their combined verdict."""

    verdict: str
    expires_at: str | None
    lang: str
    reports: list[ReportOut]


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}} for code in (413, 422, 429)
}
_SHARE_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}} for code in (404, 410, 429, 503)
}

router = APIRouter()


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


_WRAPPER_KEYS = ("credential", "presentation", "document")
_STRING = {"type": "string", "maxLength": _MAX_PARAM}
#: An SD-JWT VC travels as a string (``challenge``/``domain``: the nonce and audience of its Key Binding JWT).
#: The pattern is the shape :func:`microcred.sdjwt.verify.looks_like_sd_jwt` routes (an Issuer-signed JWT, ``~``).
_SD_JWT_KEYS = {k: {"anyOf": [{"type": "object"}, {"type": "string", "description": "a compact SD-JWT VC",
                                                   "pattern": r"^eyJ[^.~]*\.[^.~]*\.[^.~]*~"}]}
                for k in ("credential", "document")}
VERIFY_BODY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"title": "Document", "description": "a credential or presentation (JSON-LD, with @context)",
         "type": "object", "required": ["@context"], "properties": {"challenge": _STRING, "domain": _STRING}},
        {"title": "Wrapper", "description": "a document plus the verifier's challenge and domain",
         "type": "object",
         "properties": {**{k: {"type": "object"} for k in _WRAPPER_KEYS}, **_SD_JWT_KEYS, "challenge": _STRING,
                        "domain": _STRING},
         "anyOf": [{"required": [k]} for k in _WRAPPER_KEYS]},
    ],
}


def unwrap(body: dict[str, Any], challenge: str | None, domain: str | None
           ) -> tuple[Any, str | None, str | None] | JSONResponse:
    """The document and the challenge/domain, from a bare document or a wrapper body (see VERIFY_BODY_SCHEMA)."""
    if is_jades(body):  # a JAdES-sealed EDC on its own (microcred.verification.edc)
        return body, challenge, domain
    present = [k for k in _WRAPPER_KEYS if k in body]
    if "@context" not in body and not present:
        return problem(422, "expected a credential or presentation (with @context), or an object with one of "
                            "credential, presentation or document", code="validation", field="body")
    for key in present if "@context" not in body else ():
        if not isinstance(body[key], dict) and not (key != "presentation" and is_sd_jwt(body[key])):
            return problem(422, f"{key} must be a JSON object (an embedded credential or presentation) or a "
                                "compact SD-JWT VC", code="validation", field=key)
    for name in ("challenge", "domain"):
        value = body.get(name)
        if name in body and (not isinstance(value, str) or len(value) > _MAX_PARAM):
            return problem(422, f"{name} must be a string of at most {_MAX_PARAM} characters",
                           code="validation", field=name)
    if "@context" in body:
        return body, challenge, domain
    return body[present[0]], body.get("challenge", challenge), body.get("domain", domain)


@router.post("/v1/verify", summary="Verify a credential or a presentation", response_model=None,
             responses={200: {"model": ReportOut}, **_ERRORS}, tags=["verify"],
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": VERIFY_BODY_SCHEMA}}}})
async def verify_document(
    request: Request,
    body: dict[str, Any] = Body(..., description="a VC 2.0/1.1 credential, a presentation, or a wrapper object"),
    challenge: str | None = Query(None, max_length=_MAX_PARAM, description="expected proof challenge (presentations)"),
    domain: str | None = Query(None, max_length=_MAX_PARAM, description="expected proof domain (presentations)"),
    lang: str | None = Query(None, max_length=35, description="message language (en, pl, de, fr)"),
    accept_language: str | None = Header(None, max_length=500),
) -> Response:
    """Run every check and return the report; the verdict follows the documented policy."""
    bad = non_finite_field(body)  # the fast path never gets here with one: orjson refuses them
    if bad is not None:
        return non_finite_problem(bad)
    unwrapped = unwrap(body, challenge, domain)
    if isinstance(unwrapped, JSONResponse):
        return unwrapped
    document, challenge, domain = unwrapped
    report = await verify_one(_gateway(request), document, challenge, domain)
    return JSONResponse(report.to_dict(pick_language(lang, accept_language)))


@router.get("/v1/shares/{token}/report", summary="Verify what a wallet share link holds", response_model=None,
            responses={200: {"model": ShareReportOut}, **_SHARE_ERRORS}, tags=["verify"])
async def share_report(request: Request, token: str = _TOKEN_PATH,
                       lang: str | None = Query(None, max_length=35),
                       accept_language: str | None = Header(None, max_length=500)) -> Response:
    """One report per shared credential and the combined verdict."""
    language = pick_language(lang, accept_language)
    try:
        reports, expires = await share_reports(_gateway(request), token)
    except ShareNotFound:
        return problem(404, "no such share link", code="share-not-found", field="token")
    except ShareGone:
        return problem(410, "the share link expired or was withdrawn", code="share-gone", field="token")
    except WalletUnavailable:  # what went wrong is logged by the wallet client, never told to the public
        return problem(503, "the wallet could not be reached; retry in a moment", code="wallet-unavailable")
    return JSONResponse({"verdict": combine(r.verdict for r in reports).value, "expires_at": expires,
                         "lang": language, "reports": [r.to_dict(language) for r in reports]})


_ERROR_TEXT = {
    "en": {404: "There is no such share link. Check that the address is complete.",
           410: "This share link has expired or was withdrawn by the learner.",
           503: "The wallet could not be reached; please try again in a moment.",
           422: "The pasted text is not valid JSON."},
    "pl": {404: "Nie ma takiego linku. Sprawdź, czy adres jest kompletny.",
           410: "Ten link wygasł albo został wycofany przez uczącego się.",
           503: "Nie udało się połączyć z portfelem; spróbuj ponownie za chwilę.",
           422: "Wklejony tekst nie jest poprawnym JSON-em."},
    "de": ERROR_TEXT_DE, "fr": ERROR_TEXT_FR,
}


_HTML_ERRORS: dict[int | str, dict[str, Any]] = {code: {"description": "an error page", "content": {"text/html": {}}}
                                                  for code in (404, 410, 503)}


@router.get("/share/{token}", response_class=HTMLResponse, summary="Share link page (for people)", tags=["pages"],
            responses=_HTML_ERRORS)
@router.get("/shares/{token}", response_class=HTMLResponse, include_in_schema=False)
async def share_page(request: Request, token: str = _TOKEN_PATH, lang: str | None = Query(None, max_length=35),
                     accept_language: str | None = Header(None, max_length=500)) -> HTMLResponse:
    """The credentials of a share link, each check explained, in the reader's language."""
    language = pick_language(lang, accept_language)
    path = request.url.path
    try:
        reports, expires = await share_reports(_gateway(request), token)
    except (ShareNotFound, ShareGone, WalletUnavailable) as exc:
        status = 404 if isinstance(exc, ShareNotFound) else 410 if isinstance(exc, ShareGone) else 503
        return HTMLResponse(render_error(language, _ERROR_TEXT[language][status], path=path), status_code=status)
    # the page's own address (no query) is the public verification link LinkedIn points back to
    return HTMLResponse(render_reports(reports, language, path=path, expires_at=expires,
                                       verification_url=str(request.url.replace(query="")),
                                       logos=await _logos(request, reports)),
                        headers={"cache-control": "no-store"})


@router.get("/", response_class=HTMLResponse, summary="Start page (for people)", tags=["pages"])
async def home(request: Request, lang: str | None = Query(None, max_length=35),
               accept_language: str | None = Header(None, max_length=500)) -> HTMLResponse:
    """A form to paste a credential or a presentation."""
    return HTMLResponse(render_home(pick_language(lang, accept_language), path=request.url.path))


#: The fields of the start page's form (templates/home.html); ``lang`` travels in the query.
_VIEW_FIELDS = ("document", "pdf")


@router.post("/view", response_class=HTMLResponse, include_in_schema=False, responses=_HTML_ERRORS)
async def view(request: Request, lang: str | None = Query(None, max_length=35),
               accept_language: str | None = Header(None, max_length=500)) -> Response:
    """The page for a pasted document (form field ``document``, URL-encoded): JSON, or a compact SD-JWT VC; or for
    an uploaded PDF (field ``pdf``, base64, put there by the page's script) whose embedded credential is verified."""
    language = pick_language(lang, accept_language)
    try:
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=len(_VIEW_FIELDS))
    except ValueError:  # the page sends its two fields; thousands of them cost parse time and memory for nothing
        return problem(400, f"the form has more than {len(_VIEW_FIELDS)} fields ({', '.join(_VIEW_FIELDS)})",
                       code="too-many-fields", field="body")
    text = form.get("document", [""])[0].strip()
    if form.get("pdf", [""])[0]:
        found = await _from_pdf(form["pdf"][0], language)
        if isinstance(found, HTMLResponse):
            return found
        text = found
    try:
        document: Any = text if is_sd_jwt(text) else parse(text)
        if non_finite_field(document) is not None:
            raise ValueError("a number is not finite")
    except ValueError:
        return HTMLResponse(render_error(language, _ERROR_TEXT[language][422], path="/"), status_code=422)
    report = await verify_one(_gateway(request), document, None, None)
    return HTMLResponse(render_reports([report], language, path="/", logos=await _logos(request, [report])))


async def _logos(request: Request, reports: Sequence[VerificationReport]) -> list[str | None]:
    """The registry's logo of each shown credential's issuer, when the registry vouches for it."""
    return await registry_logos(_gateway(request).ports.trust, flatten_reports(reports), datetime.now(UTC))


#: The largest PDF the page takes (a credential PDF is ~100-300 kB), and the /view body bound that admits it as
#: base64 in a URL-encoded form (4/3, plus %2B/%2F escapes), only for that route.
MAX_PDF_UPLOAD_BYTES = 2 * 1024 * 1024
VIEW_MAX_BODY_BYTES = 3 * 1024 * 1024
#: Which embedded file is verified when a PDF carries several (the signed JSON first, as the wallet attaches it).
_PDF_ATTACHMENTS = ("credential.json", "credential.sd-jwt", "credential-edc.jsonld")
_PDF_TEXT = {
    "en": {"none": "This PDF carries no embedded credential, so it cannot be verified. Ask the learner for the "
                   "credential file, or use the QR code or link printed on the PDF.",
           "unreadable": "This file is not a readable PDF.",
           "too_big": f"This PDF is larger than {MAX_PDF_UPLOAD_BYTES // (1024 * 1024)} MB."},
    "pl": {"none": "Ten PDF nie zawiera osadzonego poświadczenia, więc nie można go zweryfikować. Poproś "
                   "uczącego się o plik poświadczenia albo użyj kodu QR lub linku wydrukowanego w PDF-ie.",
           "unreadable": "Ten plik nie jest czytelnym PDF-em.",
           "too_big": f"Ten PDF jest większy niż {MAX_PDF_UPLOAD_BYTES // (1024 * 1024)} MB."},
    **{lang: {k: v.format(mb=MAX_PDF_UPLOAD_BYTES // (1024 * 1024)) for k, v in words.items()}
       for lang, words in (("de", PDF_TEXT_DE), ("fr", PDF_TEXT_FR))},
}


def _pdf_attachments(encoded: str) -> dict[str, bytes]:
    return dict(extract_embedded_credentials(base64.b64decode(encoded, validate=True)))


async def _from_pdf(encoded: str, language: str) -> str | HTMLResponse:
    """The text of the credential embedded in an uploaded PDF, or the error page saying plainly why not.

    Decoding and parsing (qpdf, bounded by :mod:`microcred.pdf.embedded`) run in a worker thread, off the loop.
    """
    words = _PDF_TEXT.get(language, _PDF_TEXT["en"])
    if len(encoded) > MAX_PDF_UPLOAD_BYTES * 4 // 3 + 4:
        return HTMLResponse(render_error(language, words["too_big"], path="/"), status_code=413)
    try:
        files = await asyncio.to_thread(_pdf_attachments, encoded)
    except (binascii.Error, PdfInputError):
        return HTMLResponse(render_error(language, words["unreadable"], path="/"), status_code=422)
    for name in _PDF_ATTACHMENTS:
        if name in files:
            return files[name].decode("utf-8", "replace").strip()
    return HTMLResponse(render_error(language, words["none"], path="/"), status_code=422)


def create_gateway_app(settings: GatewayLimits, *, lifespan: Any = None, extra_routers: Sequence[APIRouter] = (),
                       fast_path: bool = True) -> GatewayApp:
    """The gateway application: admission control, limits, CORS, problem+json errors, these routes and
    ``extra_routers``; ``POST /v1/verify`` through :class:`~.fastpath.FastVerify` unless ``fast_path`` is False.

    ``app.state.gateway`` must be set (by the lifespan, or by a test) before requests arrive.
    """
    app = GatewayApp(title="microcred verifier gateway", version="1", lifespan=lifespan,
                  description="Verify W3C VC 2.0 / 1.1 and Open Badges 3.0 credentials and presentations. "
                              "Each check is reported as valid, invalid or unknown; the verdict policy is in "
                              "docs/verification.md. Errors are RFC 9457 problem+json.")
    install_problem_handlers(app)
    app.include_router(router)
    app.openapi = lambda: _openapi_with_problems(app)  # type: ignore[method-assign]
    for extra in extra_routers:
        app.include_router(extra, tags=["trust registry"])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, refuse=body_too_large,
                       per_path={"/view": max(settings.max_body_bytes, VIEW_MAX_BODY_BYTES)})
    add_cors(app, settings.cors_origins)
    # /metrics (when create_app serves it) is exempt: a scrape must see an overloaded gateway, not be shed by it
    admission = Admission(settings.rate_limit_per_second, settings.rate_limit_burst, exempt=("/healthz", "/metrics"),
                          proxies=TrustedProxies(getattr(settings, "trusted_proxies", [])),
                          max_in_flight=getattr(settings, "max_in_flight", 0),
                          max_streams=getattr(settings, "max_event_streams", 128),
                          max_streams_per_client=getattr(settings, "max_event_streams_per_client", 4),
                          max_queue_delay=getattr(settings, "shed_queue_delay_ms", 0.0) / 1000)
    fast = FastVerify(app.full_stack, app.state, settings.max_body_bytes, unwrap) if fast_path else None
    app.configure_edge(admission, fast, settings.cors_origins)
    return app


def _openapi_with_problems(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error the gateway can answer described as problem+json.

    FastAPI documents 422 as ``application/json`` HTTPValidationError; ours are RFC 9457 problems. The body
    limit (413) and the rate limit (429) apply to every operation, so every operation lists them.
    """
    if app.openapi_schema is not None:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem_media = {"schema": {"$ref": "#/components/schemas/Problem"}}
    problem_response: dict[str, Any] = {"description": "RFC 9457 problem details",
                                        "content": {"application/problem+json": problem_media}}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code in ("400", "413", "422", "429"):
                responses[code] = problem_response
            for code, response in responses.items():
                content = response.get("content", {})
                if code[0] in "45" and "application/problem+json" in content:
                    response["content"] = {"application/problem+json": problem_media}
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = spec
    return spec
