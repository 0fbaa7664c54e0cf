"""FORMAT: the document is a well-formed VC 2.0 / 1.1 credential or presentation, and valid JSON-LD.

Order of the checks (the first problem is the reason; ``details.problems`` lists every structural one):

1. a JSON object with ``@context`` whose first entry is the VC 2.0 or VC 1.1 context;
2. every context URL is one this verifier holds (pinned, hash-checked): otherwise ``unknown`` with
   ``UNKNOWN_CONTEXT``; remote contexts are never fetched;
2b. the JSON is the compacted form of those contexts, so what the checks read is what was signed
   (:mod:`microcred.jsonld.compacted`): otherwise ``invalid`` NOT_COMPACTED; and within the verifier's limits
   on size and shape: otherwise ``unknown`` TOO_COMPLEX;
3. the VC Data Model shape: ``type``, ``issuer``, ``credentialSubject``, dates (``validFrom``/``validUntil`` as
   dateTimeStamps for 2.0, ``issuanceDate``/``expirationDate`` for 1.1), ``credentialStatus`` objects;
4. with an Open Badges 3.0 context, the OB 3.0 profile (credential and subject types, ``validFrom`` for 2.0);
5. JSON-LD expansion in safe mode of the document without its proof (a term no context defines, or a relative
   IRI, would silently drop out of the signed data): ``UNDEFINED_TERM``;
6. the VC Data Model rules of :mod:`microcred.vcdm` on that expansion (the signer runs the same ones):
   ``DATA_MODEL_VIOLATION`` naming the rule, or ``DATA_MODEL_UNCHECKED`` when a rule could not be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microcred import vcdm
from microcred.credential.jsontext import lone_surrogate_path
from microcred.jsonld.compacted import TOO_COMPLEX, Refusal, ShapeKey, compaction_problem, read_compacted
from microcred.jsonld.loader import (
    CanonicalizationError,
    ContextIntegrityError,
    RemoteContextRefused,
    TooComplex,
    UnsafeJsonLdError,
    allowed_context_urls,
    expand,
)
from microcred.vcdm.related import pinned_resource
from microcred.vcdm.rules import credential_value_rules
from microcred.verification.cache import ResultCache
from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, unknown, valid
from microcred.verification.document import (
    OB_CONTEXT_PREFIX,
    VC_V1,
    VC_V2,
    as_list,
    issuer_id,
    parse_datetime,
    subjects,
    types,
    version_of,
)

__all__ = ["check_format", "jsonld_problem", "refusal"]

_F = CheckId.FORMAT
_OB_TYPES = {"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential"}


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and ":" in value and not value.startswith(":")


def _context_problem(document: Mapping[str, Any]) -> CheckResult | None:
    contexts = as_list(document.get("@context"))
    if not contexts:
        return invalid(_F, Reason.MISSING_FIELD, field="@context")
    if contexts[0] not in (VC_V2, VC_V1):
        return invalid(_F, Reason.INVALID_CONTEXT, field="@context",
                       problem=f"the first context must be {VC_V2} or {VC_V1}, not {str(contexts[0])[:200]}")
    if not all(isinstance(c, str | dict) for c in contexts):
        return invalid(_F, Reason.INVALID_CONTEXT, field="@context", problem="contexts must be URLs or objects")
    unknown_urls = [c for c in contexts if isinstance(c, str) and c not in allowed_context_urls()]
    if unknown_urls:
        return unknown(_F, Reason.UNKNOWN_CONTEXT, context=unknown_urls[0][:300])
    return None


def _date_problems(document: Mapping[str, Any], version: str) -> list[tuple[Reason, str, str]]:
    problems: list[tuple[Reason, str, str]] = []
    names = ("validFrom", "validUntil") if version == "2.0" else ("issuanceDate", "expirationDate")
    if version == "1.1" and "issuanceDate" not in document:
        problems.append((Reason.MISSING_FIELD, "issuanceDate", "required in VC 1.1"))
    parsed = {}
    for name in names:
        if name in document:
            parsed[name] = parse_datetime(document[name], require_zone=version == "2.0")
            if parsed[name] is None:
                problems.append((Reason.INVALID_FIELD, name, "not an XML Schema dateTimeStamp"))
    start, end = parsed.get(names[0]), parsed.get(names[1])
    if start is not None and end is not None and start > end:
        problems.append((Reason.INVALID_FIELD, names[1], f"earlier than {names[0]}"))
    return problems


def _credential_problems(document: Mapping[str, Any], version: str) -> list[tuple[Reason, str, str]]:
    problems: list[tuple[Reason, str, str]] = []
    if "VerifiableCredential" not in types(document):
        problems.append((Reason.NOT_A_CREDENTIAL, "type", "must include VerifiableCredential"))
    if "id" in document and not _is_url(document["id"]):
        problems.append((Reason.INVALID_FIELD, "id", "must be a URL"))
    if "issuer" not in document:
        problems.append((Reason.MISSING_FIELD, "issuer", "required"))
    elif not _is_url(issuer_id(document)):
        problems.append((Reason.INVALID_FIELD, "issuer", "must be a URL or an object with a URL id"))
    if "credentialSubject" not in document:
        problems.append((Reason.MISSING_FIELD, "credentialSubject", "required"))
    elif not subjects(document) or len(subjects(document)) != len(as_list(document["credentialSubject"])):
        problems.append((Reason.INVALID_FIELD, "credentialSubject", "must be an object or a list of objects"))
    problems += _date_problems(document, version)
    for i, status in enumerate(as_list(document.get("credentialStatus"))):
        if not isinstance(status, Mapping) or not isinstance(status.get("type"), str | list):
            problems.append((Reason.INVALID_FIELD, f"credentialStatus[{i}]", "must be an object with a type"))
    return problems


def _ob3_problems(document: Mapping[str, Any], version: str) -> list[tuple[Reason, str, str]]:
    contexts = [c for c in as_list(document.get("@context")) if isinstance(c, str)]
    if not any(c.startswith(OB_CONTEXT_PREFIX) for c in contexts):
        return []
    problems: list[tuple[Reason, str, str]] = []
    if not _OB_TYPES & set(types(document)):
        problems.append((Reason.OB3_PROFILE_VIOLATION, "type",
                         "an Open Badges 3.0 credential's type must include OpenBadgeCredential, "
                         "AchievementCredential or EndorsementCredential"))
    subject_type = "EndorsementSubject" if "EndorsementCredential" in types(document) else "AchievementSubject"
    for i, subject in enumerate(subjects(document)):
        if subject_type not in types(subject):
            problems.append((Reason.OB3_PROFILE_VIOLATION, f"credentialSubject[{i}].type",
                             f"must include {subject_type}"))
    if version == "2.0" and "validFrom" not in document:
        problems.append((Reason.OB3_PROFILE_VIOLATION, "validFrom", "required by Open Badges 3.0"))
    return problems


def _presentation_problems(document: Mapping[str, Any]) -> list[tuple[Reason, str, str]]:
    problems: list[tuple[Reason, str, str]] = []
    if "VerifiablePresentation" not in types(document):
        problems.append((Reason.NOT_A_PRESENTATION, "type", "must include VerifiablePresentation"))
    holder = document.get("holder")
    if holder is not None and not _is_url(holder if isinstance(holder, str) else
                                          holder.get("id") if isinstance(holder, Mapping) else None):
        problems.append((Reason.INVALID_FIELD, "holder", "must be a URL or an object with a URL id"))
    for i, vc in enumerate(as_list(document.get("verifiableCredential"))):
        if not isinstance(vc, Mapping):
            problems.append((Reason.INVALID_FIELD, f"verifiableCredential[{i}]",
                             "only embedded (JSON-LD) credentials are supported"))
    return problems


def _jsonld(document: Mapping[str, Any]) -> CheckResult | list[Any]:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        return expand(unsecured)
    except Exception as exc:
        return jsonld_problem(exc)


def jsonld_problem(exc: Exception) -> CheckResult:
    """The FORMAT result for an error of the JSON-LD processing of a document (re-raises anything else)."""
    try:
        raise exc
    except TooComplex:
        return unknown(_F, Reason.TOO_COMPLEX, field="$", problem=str(exc)[:500])
    except RemoteContextRefused as exc:
        return unknown(_F, Reason.UNKNOWN_CONTEXT, context=exc.url[:300])
    except UnsafeJsonLdError as exc:
        return invalid(_F, Reason.UNDEFINED_TERM, problem=str(exc)[:500])
    except ContextIntegrityError as exc:
        return unknown(_F, Reason.INTERNAL_ERROR, problem=str(exc)[:500])
    except CanonicalizationError as exc:
        return invalid(_F, Reason.JSONLD_ERROR, problem=str(exc)[:500])


def _data_model(document: Mapping[str, Any], expanded: list[Any], presentation: bool) -> CheckResult | None:
    """The first VC Data Model rule (microcred.vcdm, shared with the signer) the expanded document breaks."""
    violations = vcdm.validate(document, expanded, presentation=presentation)
    if not violations:
        return None
    first = next((v for v in violations if v.severity == vcdm.Severity.INVALID), violations[0])
    details = {"rule": first.rule, "field": first.field, "problem": first.message,
               "problems": [str(v) for v in violations]}
    if first.severity == vcdm.Severity.INVALID:
        return invalid(_F, Reason.DATA_MODEL_VIOLATION, **details)
    return unknown(_F, Reason.DATA_MODEL_UNCHECKED, **details)


def check_format(document: Any, *, presentation: bool = False, digest: str | None = None,
                 cache: ResultCache | None = None, expanded: list[Any] | Exception | None = None,
                 compacted: bool = False, shape: str | None = None) -> CheckResult:
    """The FORMAT check; cached by ``digest`` (the document's :func:`~.cache.document_digest`) when given.
    ``expanded``: the proof-less document's JSON-LD expansion (or the error computing it), when the caller
    has it (:mod:`~.canonical`); otherwise it is expanded here, in the caller. ``compacted``: the caller ran
    :func:`refusal` already (and it found nothing). ``shape``: the document's shape key
    (:func:`microcred.jsonld.compacted.shape_key`) when ``expanded`` was filled from that shape's template."""
    if not isinstance(document, Mapping):
        return invalid(_F, Reason.NOT_JSON_OBJECT)
    key = ("format", digest, presentation)
    if cache is not None and digest is not None:
        hit = cache.get(key)
        if isinstance(hit, CheckResult):
            return hit
    if shape is not None and compacted and not presentation and isinstance(expanded, list):
        result = _check_shaped(document, expanded, shape)
    else:
        result = _check(document, presentation, expanded, compacted)
    if cache is not None and digest is not None:
        cache.put(key, result)
    return result


# Shape keys of credentials that passed every FORMAT rule, with that result. What FORMAT reads is the shape
# (contexts, types, keys, nesting, non-string values; the expansion's structure, as it comes from the shape's
# template) and a few values: the id, the issuer's id, the dates, related resources. So a credential of a shape
# that passed is checked again on those values only (_credential_problems and vcdm.credential_value_rules, the
# same functions as the full check); on any problem the full check runs and says what it is.
_SHAPES_PASSED: dict[str, CheckResult] = {}
_SHAPES_KEPT = 512


def _check_shaped(document: Mapping[str, Any], expanded: list[Any], shape: str) -> CheckResult:
    passed = _SHAPES_PASSED.get(shape)
    if passed is not None:
        version = version_of(document) or "2.0"
        if not _credential_problems(document, version) and not credential_value_rules(document, expanded,
                                                                                        pinned_resource):
            return passed
    result = _check(document, False, expanded, True)
    if result.reason_code is Reason.FORMAT_OK:
        if len(_SHAPES_PASSED) >= _SHAPES_KEPT:
            _SHAPES_PASSED.clear()
        _SHAPES_PASSED[shape] = result
    return result


def refusal(document: Mapping[str, Any]) -> tuple[CheckResult | None, ShapeKey | None]:
    """FORMAT ``invalid`` NOT_COMPACTED or ``unknown`` TOO_COMPLEX when the document is not read at all (see
    :mod:`microcred.jsonld.compacted`), else None; and, from the same walk, the shape of the document without its
    proof (:func:`microcred.jsonld.compacted.read_compacted`: None for a presentation or a refused document).
    Cheap: one pass over the JSON, no JSON-LD processing.

    A string or member name holding a lone surrogate (``"\\ud800"`` is valid JSON escaping but not Unicode text,
    and the standard library's parser lets it through) is refused first, as INVALID_FIELD naming where: it can be
    neither canonicalised nor hashed, and the signature check reported it as an internal error."""
    where = lone_surrogate_path(document)
    if where is not None:
        return invalid(_F, Reason.INVALID_FIELD, field=where, problem="a string holds a lone surrogate "
                       "(not Unicode text)"), None
    refused, shape = read_compacted(document)
    return _refusal(refused), shape


def _refusal(refused: Refusal | None) -> CheckResult | None:
    if refused is None:
        return None
    if refused.reason == TOO_COMPLEX:
        return unknown(_F, Reason.TOO_COMPLEX, field=refused.path, problem=refused.problem)
    return invalid(_F, Reason.NOT_COMPACTED, field=refused.path, problem=refused.problem)


def _check(document: Mapping[str, Any], presentation: bool, given: list[Any] | Exception | None,
           compacted: bool = False) -> CheckResult:
    problem = _context_problem(document) or (None if compacted else _refusal(compaction_problem(document)))
    if problem is not None:
        return problem
    version = version_of(document) or "2.0"
    if presentation:
        problems = _presentation_problems(document)
    else:
        problems = _credential_problems(document, version) + _ob3_problems(document, version)
    if problems:
        reason, field, text = problems[0]
        listed = [f"{f}: {t}" for _, f, t in problems]
        return invalid(_F, reason, field=field, problem=text, problems=listed)
    if isinstance(given, Exception):
        return jsonld_problem(given)
    expanded = _jsonld(document) if given is None else given
    if isinstance(expanded, CheckResult):
        return expanded
    model = _data_model(document, expanded, presentation)
    if model is not None:
        return model
    return valid(_F, Reason.FORMAT_OK, kind="presentation" if presentation else "credential", vc_version=version)
