"""SHACL validation of ELM / EDC documents against the EDC application profile (``EDC-generic-no-cv``).

The JSON-LD document is turned into RDF with pyld and the pinned, offline loader of :mod:`microcred.jsonld`
(a remote context is refused), then validated with pyshacl against the EC's shapes kept in ``data/``. The
shapes' ``owl:imports`` are not followed (no network). Validation costs tens of milliseconds per document
(see docs/elm-edc.md), so it is a test gate and an optional issuance check rather than a per-credential step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import rdflib
from pyld import jsonld
from pyshacl import validate

from microcred.jsonld.loader import RemoteContextRefused, document_loader

__all__ = ["ACCREDITED", "GENERIC", "ShaclReport", "shapes", "to_graph", "validate_edc"]

_SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True)
class ShaclReport:
    """Outcome of a SHACL validation: whether it conforms, and each violation as readable text.

    ``paths``: for each violation, in the same order, the shape path it violates (its ``sh:resultPath`` IRI, or
    the IRI of its source shape or constraint component when it names no path): shape vocabulary only, never a
    value of the document, so it may be logged or answered (the issuer's optional check,
    ``services/issuer/application/edc.py``)."""

    conforms: bool
    violations: tuple[str, ...]
    paths: tuple[str, ...] = ()


GENERIC = "EDC-generic-no-cv.ttl"
ACCREDITED = "EDC-accredited.ttl"


@cache
def shapes(*names: str) -> rdflib.Graph:
    """The union of the EC's shapes graphs ``names`` from the package data (parsed once per combination)."""
    graph = rdflib.Graph()
    for name in names or (GENERIC,):
        graph.parse(data=resources.files("microcred.elm.data").joinpath(name).read_text("utf-8"),
                    format="turtle")
    return graph


def to_graph(document: Mapping[str, Any]) -> rdflib.Graph:
    """The RDF graph of a JSON-LD document, expanded with the pinned local contexts only."""
    try:
        nquads = jsonld.to_rdf(dict(document), {"format": "application/n-quads",
                                                "documentLoader": document_loader})
    except jsonld.JsonLdError as exc:
        refusal = _refusal(exc)
        if refusal is not None:
            raise refusal from exc
        raise
    graph = rdflib.Graph()
    graph.parse(data=nquads, format="nt")
    return graph


def _refusal(exc: BaseException | None, depth: int = 0) -> RemoteContextRefused | None:
    """The :class:`RemoteContextRefused` pyld wrapped (in ``cause``) somewhere below ``exc``, if any."""
    if exc is None or depth > 16:
        return None
    if isinstance(exc, RemoteContextRefused):
        return exc
    for inner in (getattr(exc, "cause", None), exc.__cause__, exc.__context__):
        if isinstance(inner, BaseException):
            found = _refusal(inner, depth + 1)
            if found is not None:
                return found
    return None


def validate_edc(document: Mapping[str, Any], *, accredited: bool = False) -> ShaclReport:
    """Validate an EDC JSON-LD document against ``EDC-generic-no-cv`` (plus ``EDC-accredited`` when
    ``accredited``, for an issuer with an accreditation); only Violation-severity results count."""
    data = to_graph(document)
    shapes_graph = shapes(GENERIC, ACCREDITED) if accredited else shapes(GENERIC)
    conforms, report, _text = validate(data, shacl_graph=shapes_graph, inference="none",
                                       allow_warnings=True, advanced=True)
    violations: list[str] = []
    paths: list[str] = []
    for result in report.subjects(rdflib.RDF.type, _SH.ValidationResult):
        if report.value(result, _SH.resultSeverity) != _SH.Violation:
            continue
        violations.append(" | ".join(str(report.value(result, p)) for p in (
            _SH.focusNode, _SH.resultPath, _SH.resultMessage)))
        paths.append(_shape_path(report, result))
    return ShaclReport(conforms=bool(conforms) and not violations, violations=tuple(violations),
                       paths=tuple(paths))


def _shape_path(report: rdflib.Graph, result: rdflib.term.Node) -> str:
    """The first IRI naming what ``result`` violates: its path, source shape or constraint component (a complex
    path or an anonymous shape is a blank node, which names nothing)."""
    for p in (_SH.resultPath, _SH.sourceShape, _SH.sourceConstraintComponent):
        value = report.value(result, p)
        if isinstance(value, rdflib.URIRef):
            return str(value)
    return "(unnamed shape)"
