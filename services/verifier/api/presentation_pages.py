"""The employer's OpenID4VP pages, in English, Polish, German and French (issue 21).

* ``GET /presentations/new``: pick a template or paste a DCQL query, and the response mode;
* ``POST /presentations/new`` (form): create the request, then 303 to its page;
* ``GET /presentations/{result_id}``: while pending, the QR code and the ``openid4vp://`` link (and, where the
  browser has the Digital Credentials API, a button asking the wallet through it); once answered, the verdict,
  whether the query was satisfied and what is missing, and every check of every presentation in plain words.

No script is needed: a pending page refreshes itself every 3 seconds (``<meta http-equiv=refresh>``); the
script only adds the Digital Credentials API button. Words are in :data:`TEXT` (English and Polish here, German
and French from ``page_text_de.py`` / ``page_text_fr.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from microcred.i18n import element_value, with_colon
from microcred.oid4vp.dcql import DcqlError
from microcred.oid4vp.templates import TEMPLATES
from microcred.sdjwt.jose import strict_json_loads
from microcred.verification.messages import check_title, pick_language
from services.verifier.api.page_text import CHECK_PLAIN, LABELS, LANGUAGE_NAMES
from services.verifier.api.page_text_de import PRESENTATION_TEXT_DE
from services.verifier.api.page_text_fr import PRESENTATION_TEXT_FR
from services.verifier.api.presentation_service import PresentationService, RequestUnknown

__all__ = ["TEXT", "presentation_pages_router"]

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_LANGUAGES = list(LANGUAGE_NAMES)

TEXT: Mapping[str, Mapping[str, str]] = with_colon({
    "en": {
        "page_title": "Ask for a credential", "skip": "Skip to the content", "language": "Language",
        "intro": "Ask a learner to show you a credential from their wallet. Pick what you need, then show them "
                 "the QR code.",
        "template": "What to ask for", "template_micro-credential": "A micro-credential (title, learning outcomes, "
        "issuer)", "template_micro-credential-eqf6": "A micro-credential at EQF level 6 or higher",
        "template_open-badge": "An Open Badge 3.0 achievement",
        "template_custom": "A custom query from your IT team (below)",
        "query": "Custom query (DCQL, JSON), only for the option above", "mode": "How the wallet answers",
        "mode_direct_post.jwt": "Encrypted (recommended)", "mode_direct_post": "Not encrypted",
        "create": "Create the request", "scan": "Scan this code with the learner's wallet",
        "qr_alt": "QR code of the request",
        "or_link": "Or open this link on the learner's phone:", "dc_api": "Ask a wallet on this device",
        "dc_api_failed": "No answer came from a wallet on this device. The QR code above still works.",
        "waiting": "Waiting for the wallet's answer. This page updates by itself.",
        "expired": "The request expired before the wallet answered. Create a new one.",
        "refused": "The learner declined to share the credential.",
        "wallet_error": "The learner's wallet could not answer this request: it may not support what you asked "
                        "for. Ask the learner to try again, or ask for a micro-credential (the first choice).",
        "failed": "The wallet answered, but its answer could not be checked, so nothing from it is shown. Create a "
                  "new request and ask the learner to answer it again.",
        "result": "Result", "verdict_valid": "Verified: every required check passed and you got what you asked for.",
        "verdict_invalid": "Not verified: see what failed below.",
        "verdict_undetermined": "Not fully verified: some checks could not be carried out (below).",
        "query_ok": "The credential shows everything you asked for.",
        "query_missing": "The learner's wallet did not show everything you asked for.",
        "discarded": "Not counted: this credential failed a check, so what it shows was set aside.",
        "why_failed": "What failed, and what to do:", "why_unknown": "What could not be checked, and what to do:",
        "not_confirmed": "Not confirmed:", "not_checked": "Could not be checked:",
        "content": "What the credential shows", "technical": "Technical details",
        "technical_intro": "For IT staff: what the wallet sent and every check, as the verifier reports them.",
        "missing_details": "What the query lacks", "wallet_said": "The wallet's answer",
        "presentation": "Presented credential", "check": "Check", "status": "Result", "message": "What it means",
        "valid": "Passed", "invalid": "Failed", "unknown": "Not checked", "again": "Ask for another credential",
        "unknown_result": "No such request, or its result is no longer kept.", "bad_query": "The query is not valid",
    },
    "pl": {
        "page_title": "Poproś o poświadczenie", "skip": "Przejdź do treści", "language": "Język",
        "intro": "Poproś osobę uczącą się o pokazanie poświadczenia z jej portfela. Wybierz, czego potrzebujesz, "
                 "a potem pokaż jej kod QR.",
        "template": "O co poprosić", "template_micro-credential": "Mikropoświadczenie (tytuł, efekty uczenia się, "
        "wystawca)", "template_micro-credential-eqf6": "Mikropoświadczenie na poziomie ERK 6 lub wyższym",
        "template_open-badge": "Osiągnięcie Open Badge 3.0",
        "template_custom": "Własne zapytanie przygotowane przez dział IT (poniżej)",
        "query": "Własne zapytanie (DCQL, JSON), tylko dla opcji powyżej", "mode": "Jak odpowiada portfel",
        "mode_direct_post.jwt": "Zaszyfrowana odpowiedź (zalecane)", "mode_direct_post": "Bez szyfrowania",
        "create": "Utwórz prośbę", "scan": "Zeskanuj ten kod portfelem osoby uczącej się", "qr_alt": "Kod QR prośby",
        "or_link": "Albo otwórz ten link na jej telefonie:", "dc_api": "Zapytaj portfel na tym urządzeniu",
        "dc_api_failed": "Żaden portfel na tym urządzeniu nie odpowiedział. Kod QR powyżej nadal działa.",
        "waiting": "Czekamy na odpowiedź portfela. Ta strona odświeża się sama.",
        "expired": "Prośba wygasła, zanim portfel odpowiedział. Utwórz nową.",
        "refused": "Osoba ucząca się odmówiła udostępnienia poświadczenia.",
        "wallet_error": "Portfel osoby uczącej się nie mógł odpowiedzieć na tę prośbę: być może nie obsługuje tego, "
                        "o co poproszono. Poproś o ponowną próbę albo poproś o mikropoświadczenie (pierwsza opcja).",
        "failed": "Portfel odpowiedział, ale nie udało się sprawdzić odpowiedzi, więc nic z niej nie pokazano. "
                  "Utwórz nową prośbę i poproś osobę uczącą się o ponowną odpowiedź.",
        "result": "Wynik", "verdict_valid": "Zweryfikowano: wszystkie wymagane sprawdzenia przeszły i otrzymano "
        "to, o co proszono.", "verdict_invalid": "Nie zweryfikowano: poniżej, co się nie powiodło.",
        "verdict_undetermined": "Nie w pełni zweryfikowano: niektórych sprawdzeń nie dało się wykonać (poniżej).",
        "query_ok": "Poświadczenie pokazuje wszystko, o co proszono.",
        "query_missing": "Portfel osoby uczącej się nie pokazał wszystkiego, o co proszono.",
        "discarded": "Nie uwzględniono: to poświadczenie nie przeszło sprawdzenia, więc jego treść pominięto.",
        "why_failed": "Co się nie powiodło i co zrobić:", "why_unknown": "Czego nie dało się sprawdzić i co zrobić:",
        "not_confirmed": "Nie potwierdzono:", "not_checked": "Nie dało się sprawdzić:",
        "content": "Co pokazuje poświadczenie", "technical": "Szczegóły techniczne",
        "technical_intro": "Dla działu IT: co wysłał portfel i wszystkie sprawdzenia, tak jak podaje je weryfikator.",
        "missing_details": "Czego brakuje w odpowiedzi na zapytanie", "wallet_said": "Odpowiedź portfela",
        "presentation": "Przedstawione poświadczenie", "check": "Sprawdzenie", "status": "Wynik",
        "message": "Co to znaczy", "valid": "Zaliczone", "invalid": "Niezaliczone", "unknown": "Niesprawdzone",
        "again": "Poproś o inne poświadczenie",
        "unknown_result": "Nie ma takiej prośby albo jej wynik nie jest już przechowywany.",
        "bad_query": "Zapytanie jest nieprawidłowe",
    },
    "de": PRESENTATION_TEXT_DE,
    "fr": PRESENTATION_TEXT_FR,
})


def _lang(request: Request) -> str:
    lang = pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    return lang if lang in TEXT else "en"


def _page(name: str, lang: str, path: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _ENV.get_template(name).render(lang=lang, t=TEXT[lang], path=path, languages=_LANGUAGES, **values)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _checks(outcome: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """Each presentation for the template: its title and content (only when it counts), the failed checks in
    plain words with what to do (when it was discarded), and every check (for the technical details)."""
    out = []
    labels = LABELS[lang]
    for item in outcome.get("presentations", []):
        report = item["report"]
        checks = list(report.get("checks", []))
        for inner in report.get("credentials", []):
            checks += inner.get("checks", [])
        rows = [{"title": check_title(c["id"], lang), "status": c["status"], "message": c["message"],
                 "code": c.get("reason_code", "")} for c in checks]
        discarded = bool(item.get("discarded"))
        summary = report.get("summary") or {}
        # in plain words: what failed (a discarded presentation) or could not be checked (one that counts), and
        # what to do; a check without plain words yet is named by its title
        shown = "invalid" if discarded else "unknown"
        failed = []
        for c in checks:
            if c["status"] == shown:
                means, todo_failed, todo_unknown = CHECK_PLAIN.get(c["id"], {}).get(
                    lang, (check_title(c["id"], lang), "", ""))
                failed.append({"means": means, "todo": todo_failed if discarded else todo_unknown})
        out.append({"query": item["query"], "verdict": report["verdict"], "rows": rows, "discarded": discarded,
                    "title": "" if discarded else str(summary.get("title") or ""), "failed": failed,
                    "content": [] if discarded else [(labels.get(k, k), element_value(k, v, lang))
                                                     for k, v in summary.items() if v not in (None, "", [])]})
    return out


def presentation_pages_router(public_url: str | None = None) -> APIRouter:
    """The employer's pages (``public_url`` as for :func:`~.presentation.presentation_router`)."""
    router = APIRouter(include_in_schema=False)

    def service(request: Request) -> PresentationService:
        found: PresentationService = request.app.state.presentations
        return found

    def new_page(request: Request, lang: str, status: int = 200, error: str | None = None,
                 query: str = "") -> HTMLResponse:
        return _page("request_new.html", lang, request.url.path, status, templates=list(TEMPLATES),
                     error=error, query=query)

    @router.get("/presentations/new", response_class=HTMLResponse)
    async def new(request: Request) -> Response:
        return new_page(request, _lang(request))

    @router.post("/presentations/new", response_class=HTMLResponse)
    async def create(request: Request) -> Response:
        lang = _lang(request)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace"),
                                             max_num_fields=8).items()}
        choice, mode = form.get("template", ""), form.get("response_mode", "direct_post.jwt")
        if mode not in ("direct_post", "direct_post.jwt"):
            mode = "direct_post.jwt"
        try:
            query = strict_json_loads(form.get("dcql_query", "")) if choice == "custom" else None  # depth-bounded
            made = await service(request).create(public_url or str(request.base_url), query=query,
                                                 template_name=None if choice == "custom" else choice,
                                                 response_mode=mode)
        except (DcqlError, ValueError) as exc:
            detail = f"{exc.field}: {exc.problem}" if isinstance(exc, DcqlError) else "not JSON"
            return new_page(request, lang, 400, f"{TEXT[lang]['bad_query']} ({detail})", form.get("dcql_query", ""))
        return RedirectResponse(f"/presentations/{made.result_id}?lang={lang}", status_code=303)

    @router.get("/presentations/{result_id}", response_class=HTMLResponse)
    async def show(request: Request, result_id: str) -> Response:
        lang = _lang(request)
        try:
            found = await service(request).result(result_id)
        except RequestUnknown:
            return _page("request_status.html", lang, request.url.path, 404, found={"status": "unknown"})
        outcome = found.get(lang) or found.get("en") or {}
        return _page("request_status.html", lang, request.url.path, found=found, outcome=outcome,
                     result_id=result_id, presentations=_checks(outcome, lang))

    return router
