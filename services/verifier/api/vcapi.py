"""VC-API (W3C VCALM) verification endpoints on the public gateway, over the same pipeline as ``/v1/verify``.

=====================================  ==============================================================
``POST /credentials/verify``           ``{"verifiableCredential": {...}, "options": {...}}``
``POST /presentations/verify``         ``{"verifiablePresentation": {...}, "options": {"challenge", "domain"}}``
=====================================  ==============================================================

Response: VCALM's ``VerificationResult`` — ``verified``, ``problemDetails`` (one per check that did not pass,
its ``title`` the check and reason code of the platform's report, its ``type`` the VC Data Model error class)
and ``results`` (``validFrom``/``validUntil``, ``credentialStatus`` and every ``proof``, each with ``verified``
and its ``input``); ``returnCredential`` echoes the document. Status codes (VCALM: 200 verified, 400 invalid
input; conformance suites take any 400/422 as "rejected"):

* 200 ``verified: true``: the verdict is valid;
* 400 ``verified: false``: the verdict is invalid (a check was carried out and failed), or the request is
  malformed (problem+json naming the field);
* 422 ``verified: false``: the verdict is undetermined (a required check could not be carried out). Never 200.

Options: ``returnCredential`` (echo the document), ``returnResults``/``returnProblemDetails`` (always returned),
``checks`` (accepted for older VC-API clients; every check runs regardless: a verdict never skips one), and for
presentations ``challenge``/``domain``. Any other option is refused (400, naming it). The full per-check report
(messages in English, Polish, German or French) is the platform's own ``POST /v1/verify``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from microcred.verification import VerificationReport, verify_credential, verify_presentation
from microcred.verification.checks import CheckId, CheckResult, CheckStatus, Reason
from microcred.verification.policy import Verdict
from services.verifier.api.problems import PROBLEM_BASE, non_finite_field, non_finite_problem, problem

__all__ = ["router"]

router = APIRouter(tags=["VC-API"])

_MAX_PARAM = 512
_CREDENTIAL_OPTIONS = {"checks", "returnResults", "returnProblemDetails", "returnCredential"}
_PRESENTATION_OPTIONS = _CREDENTIAL_OPTIONS | {"challenge", "domain"}
_VCDM = "https://www.w3.org/TR/vc-data-model#"
# VC Data Model 2.0 §7.1 error classes, by the check that failed.
_ERROR_CLASS = {CheckId.FORMAT: "PARSING_ERROR", CheckId.SIGNATURE: "CRYPTOGRAPHIC_SECURITY_ERROR",
                CheckId.ISSUER_IDENTITY: "CRYPTOGRAPHIC_SECURITY_ERROR",
                CheckId.HOLDER_BINDING: "CRYPTOGRAPHIC_SECURITY_ERROR", CheckId.VALIDITY_WINDOW: "RANGE_ERROR"}
_MALFORMED = {Reason.DATA_MODEL_VIOLATION, Reason.INVALID_FIELD, Reason.MISSING_FIELD, Reason.MALFORMED_PROOF,
              Reason.MALFORMED_STATUS_ENTRY}
_STATUS_CODE = {Verdict.VALID: 200, Verdict.INVALID: 400, Verdict.UNDETERMINED: 422}

_REQUEST_SCHEMA = {
    "credential": {"type": "object", "required": ["verifiableCredential"], "additionalProperties": False,
                   "properties": {"verifiableCredential": {"type": "object"}, "options": {"type": "object"}}},
    "presentation": {"type": "object", "required": ["verifiablePresentation"], "additionalProperties": False,
                     "properties": {"verifiablePresentation": {"type": "object"}, "options": {"type": "object"}}},
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "verified (verdict valid)"},
    400: {"description": "not verified (verdict invalid), or invalid input (problem+json)"},
    413: {"description": "body too large"}, 422: {"description": "not verified: a required check could not run"},
    429: {"description": "too many requests"},
}


def _problem_details(checks: tuple[CheckResult, ...]) -> list[dict[str, str]]:
    out = []
    for check in checks:
        if check.status is CheckStatus.VALID:
            continue
        malformed = check.reason_code in _MALFORMED and check.id is not CheckId.FORMAT
        kind = "MALFORMED_VALUE_ERROR" if malformed else _ERROR_CLASS.get(check.id)
        # A check with no VC Data Model error class (revocation, accreditation...) gets the platform's own type.
        url = _VCDM + kind if kind is not None else PROBLEM_BASE + "check-" + check.id.value.replace("_", "-")
        detail = check.message
        rule = check.details.get("rule")
        out.append({"type": url, "title": f"{check.id.value}: {check.reason_code.value}"
                    + (f" ({rule})" if rule else "") + ("" if check.status is CheckStatus.INVALID
                                                        else " (could not be checked)"), "detail": detail})
    return out


def _proof_results(document: Mapping[str, Any], check: CheckResult | None) -> list[dict[str, Any]]:
    proofs = document.get("proof")
    items = [p for p in (proofs if isinstance(proofs, list) else [proofs]) if isinstance(p, Mapping)]
    each = check.details.get("each") if check is not None else None
    if isinstance(each, list) and len(each) == len(items):
        return [{"verified": e.get("verified") is True, "input": p} for e, p in zip(each, items, strict=True)]
    ok = check is not None and check.status is CheckStatus.VALID
    return [{"verified": ok, "input": p} for p in items]


def _credential_result(document: Any, report: VerificationReport, options: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"verified": report.verdict is Verdict.VALID,
                              "problemDetails": _problem_details(report.checks)}
    if isinstance(document, Mapping):
        window = report.check(CheckId.VALIDITY_WINDOW)
        window_ok = window is not None and window.status is CheckStatus.VALID
        results: dict[str, Any] = {
            name: {"verified": window_ok, "input": document[name]}
            for name in ("validFrom", "validUntil") if isinstance(document.get(name), str)}
        statuses = document.get("credentialStatus")
        entries = [s for s in (statuses if isinstance(statuses, list) else [statuses]) if isinstance(s, Mapping)]
        status_checks = [report.check(CheckId.REVOCATION), report.check(CheckId.SUSPENSION)]
        status_ok = all(c is not None and c.status is CheckStatus.VALID for c in status_checks)
        if entries:
            results["credentialStatus"] = [{"verified": status_ok, "input": e} for e in entries]
        results["proof"] = _proof_results(document, report.check(CheckId.SIGNATURE))
        result["results"] = results
        if options.get("returnCredential") is True:
            result["credential"] = document
    return result


def _options(body: Mapping[str, Any], allowed: set[str]) -> dict[str, Any] | JSONResponse:
    options = body.get("options", {})
    if not isinstance(options, dict):
        return problem(400, "options must be a JSON object", code="validation", field="options")
    for name in options:
        if name not in allowed:
            return problem(400, f"unsupported option {str(name)[:100]!r} (supported: {', '.join(sorted(allowed))})",
                           code="validation", field=f"options.{str(name)[:100]}")
    checks = options.get("checks")
    if checks is not None and not (isinstance(checks, list) and all(isinstance(c, str) for c in checks)):
        return problem(400, "options.checks must be a list of strings", code="validation", field="options.checks")
    for name in ("challenge", "domain"):
        value = options.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > _MAX_PARAM):
            return problem(400, f"options.{name} must be a string of at most {_MAX_PARAM} characters",
                           code="validation", field=f"options.{name}")
    return options


def _document(body: Any, key: str, allowed: set[str]) -> tuple[dict[str, Any], dict[str, Any]] | JSONResponse:
    if not isinstance(body, dict):
        return problem(400, "the body must be a JSON object", code="validation", field="body")
    bad = non_finite_field(body)
    if bad is not None:
        return non_finite_problem(bad)
    extra = [k for k in body if k not in (key, "options")]
    if extra:
        return problem(400, f"unexpected member {str(extra[0])[:100]!r}", code="validation", field=str(extra[0])[:100])
    document = body.get(key)
    if not isinstance(document, dict):
        return problem(400, f"{key} must be a JSON object (an embedded, secured document)", code="validation",
                       field=key)
    options = _options(body, allowed)
    if isinstance(options, JSONResponse):
        return options
    return document, options


@router.post("/credentials/verify", summary="Verify a credential (VC-API)", response_model=None,
             responses=_RESPONSES, openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _REQUEST_SCHEMA["credential"]}}}})
async def verify_credential_api(request: Request, body: Any = Body(...)) -> Response:
    """Every check of the credential pipeline; ``verified`` is true only for a valid verdict."""
    parsed = _document(body, "verifiableCredential", _CREDENTIAL_OPTIONS)
    if isinstance(parsed, JSONResponse):
        return parsed
    document, options = parsed
    report = await verify_credential(document, request.app.state.gateway.ports)
    return JSONResponse(_credential_result(document, report, options), status_code=_STATUS_CODE[report.verdict])


@router.post("/presentations/verify", summary="Verify a presentation and its credentials (VC-API)",
             response_model=None, responses=_RESPONSES, openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _REQUEST_SCHEMA["presentation"]}}}})
async def verify_presentation_api(request: Request, body: Any = Body(...)) -> Response:
    """The presentation's own checks (format, signature with ``authentication``, holder binding with the given
    ``challenge``/``domain``) and every embedded credential's; ``verified`` only when all are valid."""
    parsed = _document(body, "verifiablePresentation", _PRESENTATION_OPTIONS)
    if isinstance(parsed, JSONResponse):
        return parsed
    document, options = parsed
    report = await verify_presentation(document, options.get("challenge"), options.get("domain"),
                                       request.app.state.gateway.ports)
    embedded = document.get("verifiableCredential")
    credentials = [c for c in (embedded if isinstance(embedded, list) else [embedded]) if isinstance(c, Mapping)]
    binding = report.check(CheckId.HOLDER_BINDING)
    bound = binding is not None and binding.status is CheckStatus.VALID
    own: dict[str, Any] = {"proof": _proof_results(document, report.check(CheckId.SIGNATURE))}
    for name in ("challenge", "domain"):
        if isinstance(options.get(name), str):
            own[name] = {"verified": bound, "input": options[name]}
    holder = document.get("holder")
    holder = holder.get("id") if isinstance(holder, Mapping) else holder
    if isinstance(holder, str):
        own["holder"] = {"verified": bound, "input": holder}
    result: dict[str, Any] = {
        "verified": report.verdict is Verdict.VALID, "problemDetails": _problem_details(report.checks),
        "results": {"presentation": own, "credentials": [
            _credential_result(vc, sub, options) for vc, sub in zip(credentials, report.credentials, strict=False)]},
    }
    if options.get("returnCredential") is True:
        result["verifiablePresentation"] = document
    return JSONResponse(result, status_code=_STATUS_CODE[report.verdict])
