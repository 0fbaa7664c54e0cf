"""The VC Data Model MUST rules, read on the JSON-LD interpretation (the expanded form) of a document.

Every rule about a property reads what JSON-LD makes of it, i.e. what a Data Integrity proof signs: a
``termsOfUse`` spelt through an alias is still ``termsOfUse``, and an empty object is an empty node whatever
key it hides behind. Two things only exist in the JSON text and are read there: ``@context`` (its first entry
fixes the data model version) and JSON ``null`` values, which JSON-LD drops silently (``"issuer": null`` must
be refused, not read as "no issuer given").

Rule names are stable (``credential_subject.claims``, ``terms_of_use.type``, ...): reports and signing errors
carry them, and docs/conformance.md lists them against the specification statements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from microcred.vcdm.related import DigestProblem, Retriever, check_multibase, check_sri
from microcred.vcdm.violations import Severity, Violation

__all__ = ["VC_V1", "VC_V2", "credential_rules", "credential_value_rules", "presentation_rules", "version_of"]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
CRED = "https://www.w3.org/2018/credentials#"
SEC = "https://w3id.org/security#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"

# VC DM 2.0 §4.9: validFrom/validUntil are dateTimeStamp (the time zone is required).
_DATETIME_STAMP = re.compile(
    r"-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))"
    r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))")
# VC 1.1: xsd:dateTime (the time zone is optional).
_DATETIME = re.compile(_DATETIME_STAMP.pattern[:-1] + ")?")
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
#: Properties whose every value MUST have a type (VC DM 2.0 §4.10, §4.11, §5.4-5.6; VC 1.1 §5).
_TYPED = {"credentialStatus": "credential_status", "termsOfUse": "terms_of_use", "evidence": "evidence",
          "refreshService": "refresh_service", "credentialSchema": "credential_schema"}


def version_of(document: Mapping[str, Any]) -> str | None:
    """``"2.0"`` or ``"1.1"`` from the first ``@context`` (None when it is neither)."""
    contexts = document.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    return {VC_V2: "2.0", VC_V1: "1.1"}.get(first) if isinstance(first, str) else None


def _values(node: Mapping[str, Any], term: str, base: str = CRED) -> list[Any]:
    value = node.get(base + term, [])
    return value if isinstance(value, list) else [value]


def _types(node: Any) -> list[str]:
    found = node.get("@type", []) if isinstance(node, Mapping) else []
    return [t for t in (found if isinstance(found, list) else [found]) if isinstance(t, str)]


def _literal(value: Any) -> str | None:
    return value.get("@value") if isinstance(value, Mapping) and isinstance(value.get("@value"), str) else None


def _context_rules(document: Mapping[str, Any], kind: str) -> list[Violation]:
    contexts = document.get("@context")
    if contexts is None:
        return [Violation("context.required", "@context", f"a verifiable {kind} MUST have an @context")]
    if version_of(document) is None:
        return [Violation("context.first", "@context",
                          f"the first @context MUST be {VC_V2} (or {VC_V1} for a VC 1.1 {kind})")]
    return []


def _null_rules(document: Mapping[str, Any], names: tuple[str, ...]) -> list[Violation]:
    # JSON-LD drops null values silently; a property sent as null is malformed, not absent.
    return [Violation(f"{name}.not_null", name, "MUST NOT be null") for name in names
            if name in document and document[name] is None]


def _node(expanded: list[Any], kind: str) -> tuple[Mapping[str, Any] | None, list[Violation]]:
    nodes = [n for n in expanded if isinstance(n, Mapping)]
    if len(nodes) != 1:
        return None, [Violation("document.single_node", "@context",
                                f"a verifiable {kind} MUST be one JSON-LD node, not {len(nodes)}")]
    return nodes[0], []


def _id_rule(document: Mapping[str, Any], node: Mapping[str, Any], field: str = "id") -> list[Violation]:
    if field in document and not (isinstance(document[field], str) and _ABSOLUTE_IRI.match(document[field])
                                  and isinstance(node.get("@id"), str)):
        return [Violation("id.url", field, "if present, id MUST be a single URL")]
    return []


def _type_rules(node: Mapping[str, Any], required: str, kind: str) -> list[Violation]:
    types = _types(node)
    if not types:
        return [Violation("type.required", "type", f"a verifiable {kind} MUST have a type")]
    if CRED + required not in types:
        return [Violation(f"type.{kind}", "type", f"type MUST include {required}")]
    return []


def _issuer_rules(node: Mapping[str, Any]) -> list[Violation]:
    issuers = _values(node, "issuer")
    if not issuers:
        return [Violation("issuer.required", "issuer", "a verifiable credential MUST have an issuer")]
    if len(issuers) != 1:
        return [Violation("issuer.single", "issuer", "issuer MUST be a single URL or object")]
    issuer_id = issuers[0].get("@id") if isinstance(issuers[0], Mapping) else None
    if not (isinstance(issuer_id, str) and _ABSOLUTE_IRI.match(issuer_id)):
        return [Violation("issuer.url", "issuer", "issuer MUST be a URL or an object whose id is a URL")]
    return []


def _subject_rules(node: Mapping[str, Any]) -> list[Violation]:
    subjects = _values(node, "credentialSubject")
    if not subjects:
        return [Violation("credential_subject.required", "credentialSubject",
                          "a verifiable credential MUST have a credentialSubject")]
    return [Violation("credential_subject.claims", f"credentialSubject[{i}]",
                      "each credentialSubject MUST be an object with an id or at least one claim")
            for i, subject in enumerate(subjects) if not isinstance(subject, Mapping) or not subject]


def _typed_rules(node: Mapping[str, Any]) -> list[Violation]:
    out: list[Violation] = []
    for term, rule in _TYPED.items():
        for i, value in enumerate(_values(node, term)):
            if not isinstance(value, Mapping) or not _types(value):
                out.append(Violation(f"{rule}.type", f"{term}[{i}]", f"each {term} value MUST specify its type"))
            elif term == "credentialSchema" and not isinstance(value.get("@id"), str):
                out.append(Violation("credential_schema.id", f"{term}[{i}]", "each credentialSchema MUST have an id"))
    return out


def _instant(stamp: str) -> datetime | None:
    # A dateTimeStamp that matched _DATETIME_STAMP; "24:00:00" is the next day's midnight. None outside
    # Python's years 1-9999 (valid, but not comparable here: the order rule is then not applied).
    text = stamp.replace("Z", "+00:00")
    day_end = "T24:00:00" in text
    try:
        parsed = datetime.fromisoformat(re.sub(r"T24:00:00(\.0+)?", "T00:00:00", text))
    except ValueError:
        return None
    return parsed + timedelta(days=1) if day_end else parsed


def _date_rules(node: Mapping[str, Any], version: str) -> list[Violation]:
    out: list[Violation] = []
    names = ("validFrom", "validUntil") if version == "2.0" else ("issuanceDate", "expirationDate")
    pattern = _DATETIME_STAMP if version == "2.0" else _DATETIME
    if version == "1.1" and not _values(node, "issuanceDate"):
        out.append(Violation("issuance_date.required", "issuanceDate", "a VC 1.1 credential MUST have issuanceDate"))
    stamps: dict[str, str] = {}
    for name in names:
        values = _values(node, name)
        if not values:
            continue
        text = _literal(values[0])
        if len(values) != 1 or text is None or not pattern.fullmatch(text):
            kind = "an XML Schema dateTimeStamp" if version == "2.0" else "an XML Schema dateTime"
            rule = re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower() + ".format"
            out.append(Violation(rule, name, f"MUST be {kind}"))
        else:
            stamps[name] = text
    if len(stamps) == 2 and version == "2.0":
        start, end = (_instant(stamps[n]) for n in names)
        if start is not None and end is not None and end < start:
            out.append(Violation("validity.order", "validUntil", "validUntil MUST NOT be earlier than validFrom"))
    return out


def _related_rules(document: Mapping[str, Any], node: Mapping[str, Any], retrieve: Retriever) -> list[Violation]:
    raw = document.get("relatedResource")
    raw_items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    out = [Violation("related_resource.object", f"relatedResource[{i}]", "each related resource MUST be an object")
           for i, item in enumerate(raw_items) if not isinstance(item, Mapping)]
    if out:
        return out
    seen: set[str] = set()
    for i, resource in enumerate(_values(node, "relatedResource")):
        field = f"relatedResource[{i}]"
        rid = resource.get("@id") if isinstance(resource, Mapping) else None
        if not isinstance(rid, str):
            out.append(Violation("related_resource.id", field, "the identifier of the resource is REQUIRED"))
            continue
        if rid in seen:
            out.append(Violation("related_resource.unique", field, "id MUST be unique among related resources"))
        seen.add(rid)
        assert isinstance(resource, Mapping)
        sri = [_literal(v) for v in _values(resource, "digestSRI")]
        multibase = [_literal(v) for v in _values(resource, "digestMultibase", SEC)]
        if not sri and not multibase:
            out.append(Violation("related_resource.digest", field, "MUST contain a digestSRI or a digestMultibase"))
            continue
        out += _digest_rules(rid, field, sri, multibase, retrieve)
    return out


def _digest_rules(rid: str, field: str, sri: list[str | None], multibase: list[str | None],
                  retrieve: Retriever) -> list[Violation]:
    out: list[Violation] = []
    data = retrieve(rid)
    for name, values, check in (("digestSRI", sri, check_sri), ("digestMultibase", multibase, check_multibase)):
        for value in values:
            if value is None:
                out.append(Violation("related_resource.digest_format", f"{field}.{name}", "MUST be a string"))
                continue
            try:
                matches = check(value, data)
            except DigestProblem as exc:
                out.append(Violation("related_resource.digest_format", f"{field}.{name}", str(exc)))
                continue
            if matches is False:
                out.append(Violation("related_resource.digest_mismatch", f"{field}.{name}",
                                     f"the digest does not match the resource {rid[:200]}"))
            elif matches is None:
                out.append(Violation("related_resource.unavailable", f"{field}.{name}",
                                     f"the resource {rid[:200]} cannot be retrieved offline to check its digest",
                                     Severity.UNKNOWN))
    return out


def credential_rules(document: Mapping[str, Any], expanded: list[Any], retrieve: Retriever) -> list[Violation]:
    """Every violated credential rule (context and nulls on the JSON text, the rest on ``expanded``)."""
    out = _context_rules(document, "credential")
    if out:
        return out
    out = _null_rules(document, ("id", "issuer", "credentialSubject", "validFrom", "validUntil"))
    node, problems = _node(expanded, "credential")
    if node is None:
        return out + problems
    version = version_of(document) or "2.0"
    return [*out, *_type_rules(node, "VerifiableCredential", "credential"), *_id_rule(document, node),
            *_issuer_rules(node), *_subject_rules(node), *_date_rules(node, version), *_typed_rules(node),
            *_related_rules(document, node, retrieve)]


def credential_value_rules(document: Mapping[str, Any], expanded: list[Any], retrieve: Retriever) -> list[Violation]:
    """The credential rules that read values rather than the document's shape: the id, the issuer's id, the
    dates, the related resources (what :func:`credential_rules` checks besides the shape, for a document whose
    shape already passed every rule; the verifier's FORMAT check, :mod:`microcred.verification.format_check`).
    ``expanded`` must hold exactly one node (a shape that passed)."""
    node = next(n for n in expanded if isinstance(n, Mapping))
    version = version_of(document) or "2.0"
    return [*_id_rule(document, node), *_issuer_rules(node), *_date_rules(node, version),
            *_related_rules(document, node, retrieve)]


def presentation_rules(document: Mapping[str, Any], expanded: list[Any], retrieve: Retriever) -> list[Violation]:
    """Every violated presentation rule (its embedded credentials are validated on their own)."""
    out = _context_rules(document, "presentation")
    if out:
        return out
    out = _null_rules(document, ("id", "holder"))
    node, problems = _node(expanded, "presentation")
    if node is None:
        return out + problems
    out += [*_type_rules(node, "VerifiablePresentation", "presentation"), *_id_rule(document, node)]
    holders = _values(node, "holder")
    if holders and not (len(holders) == 1 and isinstance(holders[0], Mapping)
                        and isinstance(holders[0].get("@id"), str) and _ABSOLUTE_IRI.match(holders[0]["@id"])):
        out.append(Violation("holder.url", "holder", "holder MUST be a URL or an object whose id is a URL"))
    raw = document.get("verifiableCredential")
    for i, vc in enumerate(raw if isinstance(raw, list) else [] if raw is None else [raw]):
        if not isinstance(vc, Mapping):
            out.append(Violation("verifiable_credential.object", f"verifiableCredential[{i}]",
                                 "each verifiableCredential MUST be a verifiable credential object"))
    return out + _typed_rules(node) + _related_rules(document, node, retrieve)
