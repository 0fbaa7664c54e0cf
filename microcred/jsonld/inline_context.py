"""Which inline (object) JSON-LD contexts a verifier may accept without reading something other than what was signed.

VC 2.0 allows objects in ``@context`` after the base context ("any combination of URLs and/or objects"), and
issuers use them to name their own types (``{"ExampleCredential": "https://example.org/#ExampleCredential"}``).
Inline contexts are also how a rewrite hides a signed value from a reader of the JSON: an alias of a term the
checks read (``{"cs": "https://www.w3.org/2018/credentials#credentialStatus"}``), an alias of a keyword, a
redefinition, a type-scoped context, a ``@vocab`` that turns an undefined key into a pinned term's IRI.

So an inline context is accepted only when it can only *add* vocabulary that no check reads
(:func:`inline_context_problem`): each entry defines a new term (not a keyword, no ``:``, not a term of any
pinned context) as an absolute IRI (a string, or an object with only ``@id`` and an optional ``@type`` of
``@id``/``@vocab`` or an absolute IRI) that is no keyword and no pinned term's IRI; ``@vocab`` may name a
namespace under which no pinned term lies. Everything a check reads is then still the pinned term it means.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from microcred.jsonld import loader

__all__ = ["PinnedVocabulary", "inline_context_problem", "pinned_vocabulary"]

_TYPE_KEYWORDS = frozenset({"@id", "@vocab"})


@dataclass(frozen=True)
class PinnedVocabulary:
    """Every term name, and every IRI a term maps to, in any pinned context (scoped contexts included), and the
    terms defined with ``@container: @language`` (their values may be language maps)."""

    terms: frozenset[str]
    iris: frozenset[str]
    language_maps: frozenset[str]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _absolute(iri: str, prefixes: Mapping[str, str]) -> str:
    """``iri`` with a defined prefix expanded (``cred:validUntil``), else as written."""
    prefix, sep, rest = iri.partition(":")
    if sep and not rest.startswith("//") and prefix in prefixes:
        return prefixes[prefix] + rest
    return iri


def _collect(context: Any, vocabulary: tuple[set[str], set[str], set[str]], prefixes: dict[str, str]) -> None:
    terms, iris, language_maps = vocabulary
    for ctx in context if isinstance(context, list) else [context]:
        if not isinstance(ctx, dict):
            continue
        local = dict(prefixes)
        for key, value in ctx.items():  # prefixes first: a term may use one defined after it
            if not key.startswith("@") and isinstance(value, str) and value.endswith(("#", "/", ":")):
                local[key] = value
        for key, value in ctx.items():
            if key.startswith("@"):
                continue
            terms.add(key)
            target = value if isinstance(value, str) else value.get("@id") if isinstance(value, dict) else None
            if isinstance(target, str) and not target.startswith("@"):
                iris.add(_absolute(target, local))
            if isinstance(value, dict) and "@language" in _as_list(value.get("@container")):
                language_maps.add(key)
            if isinstance(value, dict) and "@context" in value:
                _collect(value["@context"], vocabulary, local)


@cache
def pinned_vocabulary() -> PinnedVocabulary:
    """The vocabulary of every context the loader serves (read once from the packaged files; the one walk of
    the pinned contexts: the compaction rule and the template canonicaliser read their terms from here)."""
    vocabulary: tuple[set[str], set[str], set[str]] = (set(), set(), set())
    for entry in set(loader.manifest().values()):
        document = json.loads(resources.files("microcred.jsonld.contexts").joinpath(entry.file).read_bytes())
        if isinstance(document, dict):
            _collect(document.get("@context"), vocabulary, {})
    terms, iris, language_maps = vocabulary
    return PinnedVocabulary(frozenset(terms), frozenset(iris), frozenset(language_maps))


def _absolute_iri_problem(value: Any, what: str, prefixes: frozenset[str] | set[str] = frozenset()) -> str | None:
    """Why ``value`` is not an absolute IRI that JSON-LD leaves as it is (``prefixes``: terms that would turn
    ``prefix:rest`` into another IRI, a compact IRI)."""
    if not isinstance(value, str) or value.startswith(("@", "_:")) or ":" not in value:
        return f"{what} must be an absolute IRI"
    scheme = value.split(":", 1)[0]
    if not scheme.isascii() or not scheme[:1].isalpha() or any(c in value for c in " <>\"{}|\\^`"):
        return f"{what} must be an absolute IRI"
    if scheme in prefixes or scheme in pinned_vocabulary().terms:
        return f"{what} must be an absolute IRI, not a compact IRI of the defined prefix {scheme!r}"
    return None


def inline_context_problem(context: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(key, problem)`` for the first entry of an inline context that could change what a check reads, or
    None when the context only adds vocabulary no check reads (see the module docstring)."""
    if set(context) == {"@context"} and isinstance(context["@context"], Mapping):
        # A context object wrapping its definitions in "@context" (as a context document does) is read as
        # those definitions by JSON-LD processors (pyld, jsonld.js): judge what they read.
        return inline_context_problem(context["@context"])
    pinned = pinned_vocabulary()
    local = set(context)
    for key, value in context.items():
        if key == "@vocab":
            problem = _absolute_iri_problem(value, "@vocab", local)
            if problem is None and any(iri.startswith(value) for iri in pinned.iris):
                problem = "@vocab may not be a namespace of the pinned contexts"
            if problem is not None:
                return key, problem
            continue
        if key.startswith("@") or ":" in key or not key:
            return key, "an inline context may only define new terms (and @vocab)"
        if key in pinned.terms:
            return key, "an inline context may not redefine a term of the pinned contexts"
        target = value
        if isinstance(value, dict):
            extra = set(value) - {"@id", "@type"}
            coercion = value.get("@type")
            if extra or (coercion is not None and coercion not in _TYPE_KEYWORDS
                         and _absolute_iri_problem(coercion, "@type", local) is not None):
                return key, "an inline term definition may only hold @id and a @type coercion"
            target = value.get("@id")
        problem = _absolute_iri_problem(target, "an inline term's IRI", local)
        if problem is not None:
            return key, problem
        if target in pinned.iris:
            return key, "an inline term may not alias a term of the pinned contexts"
    return None
