"""Server-rendered pages for people (employers): a shared credential, its checks and its issuer's accreditation.

Rendered with Jinja2 (autoescaping on) from ``services/verifier/api/templates``. The language is ``?lang=`` when
given, else the best ``Accept-Language`` match, else English (English and Polish). Accessibility basics
(WCAG 2.1 AA): ``lang`` on ``<html>``, a skip link, real tables with captions and header cells, every mark
spelled out in text (never colour alone), colours with at least 4.5:1 contrast, visible focus outlines, no
script needed, every control reachable by keyboard.

A credential whose issuer the trust registry does not vouch for (ACCREDITATION not valid: a did:key, a
partner outside the registry, a registry that could not be read) can still be "Valid" (authentic, in force,
not revoked). Its page then says, next to the verdict, that the issuer's name, EQF level and quality
assurance are self-asserted, and marks those rows "(self-asserted)"; the JSON report carries
``issuer_vouched: false``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from microcred.verification.checks import CheckId
from microcred.verification.messages import check_title, verdict_text
from microcred.verification.report import POLICY_URL, VerificationReport

__all__ = ["LABELS", "render_error", "render_home", "render_reports"]

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)

LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "page_title": "Credential verification", "skip": "Skip to the result", "language": "Language",
        "verdict": "Verdict", "credential": "Credential", "details": "What the credential says",
        "checks": "Checks", "check": "Check", "result": "Result", "explanation": "Explanation",
        "accreditation": "Issuer's accreditation", "no_accreditation": "No accreditation information is available.",
        "valid": "Passed", "invalid": "Failed", "unknown": "Not checked",
        "verified_at": "Verified at", "expires_at": "This share link expires at",
        "policy": "How the verdict is decided",
        "none_shared": "This share link holds no credential.", "home_intro":
        "Paste a credential or a presentation (JSON) to check it.", "document": "Credential or presentation (JSON)",
        "submit": "Verify", "error": "The credential could not be shown", "back": "Verify another credential",
        "title": "Title", "learner": "Learner", "awarding_body": "Awarding body", "issuer": "Issuer",
        "country": "Country", "issued_at": "Date of issue", "valid_until": "Valid until",
        "learning_outcomes": "Learning outcomes", "credit_points": "Workload (credits)",
        "workload_hours": "Workload (hours)", "eqf_level": "EQF level", "assessment": "Assessment",
        "participation": "Form of participation", "supervision": "Supervision and identity verification",
        "quality_assurance": "Quality assurance", "grade": "Grade", "stackability": "Stackability",
        "prerequisites": "Prerequisites", "further_information": "Further information",
        "agency": "Accrediting agency", "framework": "Framework", "type": "Type",
        "max_eqf_level": "Highest EQF level", "accrediting_body": "Accrediting body",
        "decision_reference": "Decision",
        "self_asserted": "self-asserted", "not_vouched_title": "Issuer not vouched for.",
        "details_self_asserted": "What the credential says (the issuer's own statements, not vouched for)",
        "not_vouched_missing": "{issuer} is not in this platform's trust registry, so nobody vouches for its name, "
                               "its EQF level or its quality assurance: they are self-asserted.",
        "not_vouched_other": "{issuer} could not be confirmed by this platform's trust registry, so nobody vouches "
                             "for its name, its EQF level or its quality assurance: they are self-asserted.",
        "valid_means": "“Valid” means only that the credential is authentic (signed with that issuer's key), in "
                       "force and not revoked.",
    },
    "pl": {
        "page_title": "Weryfikacja poświadczenia", "skip": "Przejdź do wyniku", "language": "Język",
        "verdict": "Wynik", "credential": "Poświadczenie", "details": "Co zawiera poświadczenie",
        "checks": "Sprawdzenia", "check": "Sprawdzenie", "result": "Wynik", "explanation": "Wyjaśnienie",
        "accreditation": "Akredytacja wystawcy", "no_accreditation": "Brak informacji o akredytacji.",
        "valid": "Pozytywnie", "invalid": "Negatywnie", "unknown": "Nie sprawdzono",
        "verified_at": "Zweryfikowano", "expires_at": "Ten link wygasa", "policy": "Jak ustalany jest wynik",
        "none_shared": "Ten link nie zawiera żadnego poświadczenia.", "home_intro":
        "Wklej poświadczenie lub prezentację (JSON), aby je sprawdzić.", "document": "Poświadczenie lub prezentacja "
        "(JSON)", "submit": "Sprawdź", "error": "Nie można wyświetlić poświadczenia",
        "back": "Sprawdź inne poświadczenie",
        "title": "Tytuł", "learner": "Uczący się", "awarding_body": "Instytucja przyznająca", "issuer": "Wystawca",
        "country": "Kraj", "issued_at": "Data wydania", "valid_until": "Ważne do",
        "learning_outcomes": "Efekty uczenia się", "credit_points": "Nakład pracy (punkty)",
        "workload_hours": "Nakład pracy (godziny)", "eqf_level": "Poziom EQF", "assessment": "Forma oceny",
        "participation": "Forma udziału", "supervision": "Nadzór i weryfikacja tożsamości",
        "quality_assurance": "Zapewnienie jakości", "grade": "Ocena", "stackability": "Możliwość łączenia",
        "prerequisites": "Wymagania wstępne", "further_information": "Dodatkowe informacje",
        "agency": "Agencja akredytująca", "framework": "Ramy", "type": "Rodzaj",
        "max_eqf_level": "Najwyższy poziom EQF", "accrediting_body": "Organ akredytujący",
        "decision_reference": "Decyzja",
        "self_asserted": "deklaracja wystawcy", "not_vouched_title": "Wystawca niepotwierdzony.",
        "details_self_asserted": "Co zawiera poświadczenie (deklaracje samego wystawcy, niepotwierdzone)",
        "not_vouched_missing": "{issuer} nie figuruje w rejestrze zaufania tej platformy, więc nikt nie potwierdza "
                               "jego nazwy, poziomu EQF ani zapewnienia jakości: to deklaracje samego wystawcy.",
        "not_vouched_other": "Rejestr zaufania tej platformy nie potwierdził wystawcy {issuer}, więc nikt nie "
                             "potwierdza jego nazwy, poziomu EQF ani zapewnienia jakości: to deklaracje samego "
                             "wystawcy.",
        "valid_means": "„Ważne” oznacza tylko, że poświadczenie jest autentyczne (podpisane kluczem tego "
                       "wystawcy), obowiązuje i nie zostało unieważnione.",
    },
}
_ACCREDITATION_FIELDS = ("agency", "framework", "type", "max_eqf_level", "accrediting_body", "decision_reference",
                         "valid_until")
_MARKS = {"valid": "✔", "invalid": "✘", "unknown": "?"}
#: Summary rows that speak about the issuer's standing: only the registry could vouch for them.
_ISSUER_CLAIMS = frozenset({"issuer", "awarding_body", "country", "eqf_level", "quality_assurance"})


def _value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def _view(report: VerificationReport, lang: str) -> dict[str, Any]:
    labels = LABELS[lang]
    checks = [{"id": c.id.value, "title": check_title(c.id.value, lang), "status": c.status.value,
               "mark": _MARKS[c.status.value], "label": labels[c.status.value], "message": c.to_dict(lang)["message"],
               "reason": c.reason_code.value} for c in report.checks]
    accreditation = report.check(CheckId.ACCREDITATION)
    acc_rows = []
    if accreditation is not None:
        acc_rows = [(labels.get(k, k), _value(accreditation.details[k])) for k in _ACCREDITATION_FIELDS
                    if accreditation.details.get(k) not in (None, "")]
    vouched = report.kind != "credential" or report.issuer_vouched
    summary = [(_summary_label(k, labels, vouched), _value(v)) for k, v in report.summary.items()]
    return {"verdict": report.verdict.value, "verdict_text": verdict_text(report.verdict.value, lang),
            "verdict_mark": {"valid": "✔", "invalid": "✘", "undetermined": "?"}[report.verdict.value],
            "vouched": vouched, "not_vouched": "" if vouched else _not_vouched(report, labels),
            "checks": checks, "summary": summary,
            "title": report.summary.get("title") or report.document_id or labels["credential"],
            "accreditation": acc_rows,
            "accreditation_message": accreditation.to_dict(lang)["message"] if accreditation else "",
            "verified_at": report.verified_at.strftime("%Y-%m-%d %H:%M:%S %Z"), "id": report.document_id}


def _summary_label(key: str, labels: Mapping[str, str], vouched: bool) -> str:
    label = labels.get(key, key)
    return label if vouched or key not in _ISSUER_CLAIMS else f"{label} ({labels['self_asserted']})"


def _not_vouched(report: VerificationReport, labels: Mapping[str, str]) -> str:
    """Why nobody vouches for the issuer's statements, naming the issuer as it names itself."""
    name = str(report.summary.get("issuer") or "")
    issuer = f"“{name}” ({report.issuer})" if name and report.issuer else name or report.issuer or "?"
    accreditation = report.check(CheckId.ACCREDITATION)
    missing = accreditation is None or accreditation.reason_code.value == "ISSUER_NOT_IN_REGISTRY"
    text = labels["not_vouched_missing" if missing else "not_vouched_other"].format(issuer=issuer)
    return f"{text} {labels['valid_means']}"


def _flatten(reports: Sequence[VerificationReport]) -> list[VerificationReport]:
    out: list[VerificationReport] = []
    for report in reports:
        out.extend(report.credentials if report.kind == "presentation" else [report])
    return out


def render_reports(reports: Sequence[VerificationReport], lang: str, *, path: str,
                   expires_at: str | None = None) -> str:
    """The page for one or more verified credentials (a share link, or a pasted document)."""
    template = _ENV.get_template("report.html")
    views = [_view(r, lang) for r in _flatten(reports)]
    return template.render(lang=lang, t=LABELS[lang], reports=views, expires_at=expires_at, path=path,
                           policy_url=POLICY_URL, languages=[("en", "English"), ("pl", "Polski")])


def render_home(lang: str, *, path: str) -> str:
    """The start page with a form to paste a credential."""
    return _ENV.get_template("home.html").render(lang=lang, t=LABELS[lang], path=path,
                                                 languages=[("en", "English"), ("pl", "Polski")])


def render_error(lang: str, message: str, *, path: str) -> str:
    """A plain error page (unknown or expired link, wallet unavailable)."""
    return _ENV.get_template("error.html").render(lang=lang, t=LABELS[lang], message=message, path=path,
                                                  languages=[("en", "English"), ("pl", "Polski")])
