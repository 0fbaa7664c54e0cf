"""Server-rendered pages for people (employers): a shared or pasted credential, what it says, its checks.

Rendered with Jinja2 (autoescaping on) from ``services/verifier/api/templates``; the words come from
:mod:`.page_text`. The language is ``?lang=`` when given, else the best ``Accept-Language`` match, else English.

The page tells the truth plainly (issue 23):

* the headline is one of valid, unreadable (not a credential this verifier reads), unsigned, altered (signature
  or issuer key failed: the content is shown only behind an explicit "show what the altered document claims"
  disclosure), revoked, suspended, expired, not yet valid, not valid (naming the failed checks) and undetermined
  (naming what could not be checked);
* a credential's content is shown as fact only when its seal was verified; otherwise only behind a disclosure;
* each check says in plain words what it means and what to do; the verifier's technical messages (cryptosuite,
  DIDs, reason codes, status list ages) are behind a "technical details" disclosure;
* dates, numbers and country names follow the reader's locale (:mod:`microcred.i18n`, Babel);
* the content comes before the checks; a print stylesheet gives a clean paper report.

Accessibility (WCAG 2.1 AA): ``lang`` on ``<html>``, landmarks, a skip link, real tables with captions and header
cells, every mark spelled out in text (never colour alone), contrast of at least 4.5:1, visible focus, no script
needed to read a report, every control reachable by keyboard.

A credential whose issuer the trust registry does not vouch for can still be "Valid"; its page then says the
issuer's statements are self-asserted and marks those rows (the JSON report carries ``issuer_vouched: false``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from microcred.i18n import element_value, format_when
from microcred.sharing.linkedin import add_to_profile_url, share_url
from microcred.verification.checks import CheckId, CheckResult
from microcred.verification.messages import check_title, render
from microcred.verification.report import POLICY_URL, VerificationReport
from services.verifier.api.page_text import CHECK_PLAIN, DETAIL_VALUES, HEADLINES, LABELS, LANGUAGE_NAMES
from services.verifier.api.page_text_de import LINKEDIN_DE
from services.verifier.api.page_text_fr import LINKEDIN_FR

__all__ = ["LABELS", "flatten_reports", "headline_kind", "linkedin_links", "render_error", "render_home",
           "render_reports"]

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_LANGUAGES = list(LANGUAGE_NAMES)
_ACCREDITATION_FIELDS = ("agency", "framework", "type", "max_eqf_level", "accrediting_body", "decision_reference",
                         "valid_until")
_MARKS = {"valid": "✔", "invalid": "✘", "unknown": "?"}
#: Summary rows that speak about the issuer's standing: only the registry could vouch for them.
_ISSUER_CLAIMS = frozenset({"issuer", "awarding_body", "country", "eqf_level", "quality_assurance"})
#: Checks whose failure means the content is not the issuer's: then nothing it says is shown as fact.
_AUTHENTICITY = (CheckId.FORMAT, CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY)
#: The LinkedIn links' words (kept here, next to the only template that shows them).
_LINKEDIN = {"en": {"h": "Share on LinkedIn", "add": "Add to LinkedIn profile", "share": "Share on LinkedIn",
                    "new_tab": "(opens LinkedIn in a new tab)"},
             "pl": {"h": "Udostępnij w LinkedIn", "add": "Dodaj do profilu LinkedIn", "share": "Udostępnij w LinkedIn",
                    "new_tab": "(otwiera LinkedIn w nowej karcie)"},
             "de": LINKEDIN_DE, "fr": LINKEDIN_FR}


def _status(report: VerificationReport, check: CheckId) -> str | None:
    found = report.check(check)
    return found.status.value if found is not None else None


def headline_kind(report: VerificationReport) -> str:
    """Which plain-language headline a report gets: valid, unreadable (not a credential in a form this verifier
    reads), unsigned, altered, revoked, suspended, expired, not_yet_valid, invalid or undetermined (the verdict
    decides valid/invalid/undetermined; the failed check says which kind)."""
    verdict = report.verdict.value
    if verdict == "valid":
        return "valid"
    if _status(report, CheckId.FORMAT) == "invalid":
        return "unreadable"
    signature = report.check(CheckId.SIGNATURE)
    if signature is not None and signature.reason_code.value == "NO_PROOF":
        return "unsigned"
    if any(_status(report, c) == "invalid" for c in (CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY)):
        return "altered"
    if verdict == "invalid":
        if _status(report, CheckId.REVOCATION) == "invalid":
            return "revoked"
        if _status(report, CheckId.SUSPENSION) == "invalid":
            return "suspended"
        window = report.check(CheckId.VALIDITY_WINDOW)
        if window is not None and window.status.value == "invalid":
            return "expired" if window.reason_code.value == "EXPIRED" else "not_yet_valid"
        return "invalid"
    return "undetermined"


def _authentic(report: VerificationReport) -> bool:
    """Whether the content may be shown as the issuer's: every authenticity check passed."""
    return all(_status(report, c) in ("valid", None) for c in _AUTHENTICITY) and \
        _status(report, CheckId.SIGNATURE) == "valid"


def _technical(check: CheckResult, lang: str) -> str:
    """The verifier's own message, its English detail words (kind, key source) in the reader's language."""
    words = DETAIL_VALUES.get(lang, {})
    details = {k: words.get(v, v) if isinstance(v, str) else v for k, v in check.details.items()}
    return render(check.reason_code.value, lang, details)


def _check_view(check: CheckResult, lang: str) -> dict[str, Any]:
    labels, status = LABELS[lang], check.status.value
    technical = _technical(check, lang)
    # A check added without plain words yet is explained by the verifier's own message rather than not at all.
    means, todo_failed, todo_unknown = CHECK_PLAIN.get(check.id.value, {}).get(lang, (technical, "", ""))
    return {"id": check.id.value, "title": check_title(check.id.value, lang), "status": status,
            "mark": _MARKS[status], "label": labels[status], "means": means,
            "todo": todo_failed if status == "invalid" else todo_unknown if status == "unknown" else "",
            "technical": technical, "reason": check.reason_code.value}


def _headline(report: VerificationReport, kind: str, lang: str) -> tuple[str, str]:
    title, sentence = HEADLINES[kind][lang]
    labels = LABELS[lang]
    issuer = str(report.summary.get("issuer") or report.issuer or "?") if _authentic(report) else "?"
    date, reason = "", labels["no_reason"]
    if kind in ("revoked", "suspended"):
        status = report.check(CheckId.REVOCATION if kind == "revoked" else CheckId.SUSPENSION)
        if status is not None:
            date = format_when(status.details.get("obtained_at"), lang, time=True) or "?"
            reason = str(status.details.get("status_message") or reason)
    elif kind in ("expired", "not_yet_valid"):
        window = report.check(CheckId.VALIDITY_WINDOW)
        key = "valid_until" if kind == "expired" else "valid_from"
        date = format_when(window.details.get(key) if window else None, lang, time=True) or "?"
    wanted = "invalid" if kind in ("invalid", "unreadable") else "unknown"
    checks = "; ".join(check_title(c.id.value, lang) for c in report.checks if c.status.value == wanted)
    return title, sentence.format(issuer=issuer, date=date, reason=reason, checks=checks or "?")


def _view(report: VerificationReport, lang: str) -> dict[str, Any]:
    labels = LABELS[lang]
    kind = headline_kind(report)
    headline, sentence = _headline(report, kind, lang)
    authentic = _authentic(report)
    accreditation = report.check(CheckId.ACCREDITATION)
    acc_rows = []
    if accreditation is not None and authentic:
        acc_rows = [(labels.get(k, k), element_value(k, accreditation.details[k], lang)) for k in _ACCREDITATION_FIELDS
                    if accreditation.details.get(k) not in (None, "")]
    vouched = report.kind != "credential" or report.issuer_vouched
    summary = [(_summary_label(k, labels, vouched), element_value(k, v, lang)) for k, v in report.summary.items()]
    title = report.summary.get("title") if authentic else None
    return {"verdict": report.verdict.value, "kind": kind, "headline": headline, "verdict_text": sentence,
            "verdict_mark": {"valid": "✔", "invalid": "✘", "undetermined": "?"}[report.verdict.value],
            "vouched": vouched, "not_vouched": "" if vouched or not authentic else _not_vouched(report, labels),
            "authentic": authentic, "checks": [_check_view(c, lang) for c in report.checks], "summary": summary,
            "title": title or labels["credential"], "accreditation": acc_rows,
            "accreditation_message": _technical(accreditation, lang) if accreditation and authentic else "",
            "verified_at": format_when(report.verified_at, lang, time=True), "id": report.document_id,
            "issuer_id": report.issuer, "issuer_name": str(report.summary.get("issuer") or "") if authentic else ""}


def linkedin_links(report: VerificationReport, verification_url: str | None) -> dict[str, str] | None:
    """LinkedIn "Add to profile" and share URLs for a credential shown at its public verification link, built
    only from what was verified and only when the verdict is valid (never for a doubtful or altered document)."""
    if not verification_url or report.kind != "credential" or report.verdict.value != "valid":
        return None
    summary = report.summary

    def text(key: str) -> str | None:
        value = summary.get(key)
        return value if isinstance(value, str) and value else None

    add = add_to_profile_url(name=text("title") or report.document_id or "", organization_name=text("issuer") or
                             report.issuer or "", issued=text("issued_at"), expires=text("valid_until"),
                             cert_url=verification_url, cert_id=report.document_id or "")
    return {"add": add, "share": share_url(verification_url)}


def _summary_label(key: str, labels: Mapping[str, str], vouched: bool) -> str:
    label = labels.get(key, key)
    return label if vouched or key not in _ISSUER_CLAIMS else f"{label} ({labels['self_asserted']})"


def _not_vouched(report: VerificationReport, labels: Mapping[str, str]) -> str:
    """Why nobody vouches for the issuer's statements, naming the issuer as it names itself."""
    name = str(report.summary.get("issuer") or "")
    issuer = f"“{name}”" if name else report.issuer or "?"
    accreditation = report.check(CheckId.ACCREDITATION)
    missing = accreditation is None or accreditation.reason_code.value == "ISSUER_NOT_IN_REGISTRY"
    text = labels["not_vouched_missing" if missing else "not_vouched_other"].format(issuer=issuer)
    return f"{text} {labels['valid_means']}"


def flatten_reports(reports: Sequence[VerificationReport]) -> list[VerificationReport]:
    """The credential reports a page shows, in order (a presentation's credentials in its place)."""
    out: list[VerificationReport] = []
    for report in reports:
        out.extend(report.credentials if report.kind == "presentation" else [report])
    return out


def render_reports(reports: Sequence[VerificationReport], lang: str, *, path: str,
                   expires_at: str | None = None, verification_url: str | None = None,
                   logos: Sequence[str | None] = ()) -> str:
    """The page for one or more verified credentials (a share link, or a pasted document); ``verification_url``
    (a public verification link's page) adds LinkedIn links to each valid credential; ``logos``, aligned with
    :func:`flatten_reports`, the ``data:`` URI of each issuer's logo *from the trust registry* or None
    (:mod:`.issuer_logos` decides when one may be shown)."""
    template = _ENV.get_template("report.html")
    flat = flatten_reports(reports)
    shown = list(logos) + [None] * (len(flat) - len(logos))
    views = [_view(r, lang) | {"linkedin": linkedin_links(r, verification_url), "logo": logo}
             for r, logo in zip(flat, shown, strict=False)]
    return template.render(lang=lang, t=LABELS[lang], reports=views, path=path, policy_url=POLICY_URL,
                           linkedin_t=_LINKEDIN.get(lang, _LINKEDIN["en"]),
                           expires_at=format_when(expires_at, lang, time=True) if expires_at else None,
                           languages=_LANGUAGES)


def render_home(lang: str, *, path: str) -> str:
    """The start page with a form to paste a credential or read it from a file."""
    return _ENV.get_template("home.html").render(lang=lang, t=LABELS[lang], path=path, languages=_LANGUAGES)


def render_error(lang: str, message: str, *, path: str) -> str:
    """A plain error page (unknown or expired link, wallet unavailable)."""
    return _ENV.get_template("error.html").render(lang=lang, t=LABELS[lang], message=message, path=path,
                                                  languages=_LANGUAGES)
