"""The VC Data Model validator shared by the signer and the verifier.

:func:`validate` returns every rule of VC Data Model 2.0 (and 1.1, for credentials whose first context is the
1.1 one) that a credential or presentation breaks, each as a named :class:`Violation`. The signer refuses a
document with any violation (:func:`require_valid` raises :class:`DataModelError`); the verifier's FORMAT
check reports the first one, rule named, as ``invalid`` (or ``unknown`` when the rule could not be checked).

The rules read the JSON-LD interpretation of the document (see :mod:`.rules`); pass the expanded form when the
caller already has it, or let :func:`validate` expand it with the pinned contexts (safe mode, no network).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microcred.jsonld.loader import CanonicalizationError, RemoteContextRefused, UnsafeJsonLdError, expand
from microcred.vcdm.related import Retriever, pinned_resource
from microcred.vcdm.rules import VC_V1, VC_V2, credential_rules, presentation_rules, version_of
from microcred.vcdm.violations import DataModelError, Severity, Violation

__all__ = ["VC_V1", "VC_V2", "DataModelError", "Severity", "Violation", "is_presentation", "require_valid",
           "validate", "version_of"]


def is_presentation(document: Any) -> bool:
    """True when ``document`` is a JSON object whose ``type`` names VerifiablePresentation (which rule set
    applies; the verifier's pipeline uses it too)."""
    if not isinstance(document, Mapping):
        return False
    kinds = document.get("type")
    return "VerifiablePresentation" in (kinds if isinstance(kinds, list) else [kinds])


def validate(document: Any, expanded: list[Any] | None = None, *, presentation: bool | None = None,
             retrieve: Retriever = pinned_resource) -> list[Violation]:
    """Every data-model rule ``document`` breaks ([] when none). ``expanded``: its JSON-LD expansion, without
    its proof, when the caller already has it. ``retrieve`` gives a related resource's bytes (default: the
    pinned contexts only; nothing is fetched)."""
    if not isinstance(document, Mapping):
        return [Violation("document.object", "", "a verifiable credential or presentation MUST be a JSON object")]
    presentation = is_presentation(document) if presentation is None else presentation
    if expanded is None:
        if document.get("@context") is None or version_of(document) is None:
            expanded = []  # the context rules report it; expansion would only add noise
        else:
            try:
                expanded = expand({k: v for k, v in document.items() if k != "proof"})
            except RemoteContextRefused as exc:
                return [Violation("context.unknown", "@context", f"context {exc.url[:200]} is not one this "
                                  "platform holds", Severity.UNKNOWN)]
            except UnsafeJsonLdError as exc:
                return [Violation("jsonld.undefined_term", "", str(exc)[:500])]
            except CanonicalizationError as exc:
                return [Violation("jsonld.error", "", str(exc)[:500])]
    rules = presentation_rules if presentation else credential_rules
    return rules(document, expanded, retrieve)


def require_valid(document: Any, *, presentation: bool | None = None,
                  retrieve: Retriever = pinned_resource) -> None:
    """Raise :class:`DataModelError` when ``document`` breaks a rule, or a rule could not be checked."""
    violations = validate(document, presentation=presentation, retrieve=retrieve)
    if violations:
        raise DataModelError(violations)
