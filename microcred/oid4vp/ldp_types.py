"""The types of an ``ldp_vc`` credential as DCQL's ``meta.type_values`` names them: fully expanded IRIs.

OpenID4VP 1.0 B.1.1: ``type_values`` are "fully expanded types (IRIs) after the @context was applied". A
credential's ``type`` holds terms of its contexts (``AchievementCredential``), which the contexts map to IRIs
(the Open Badges 3.0 context maps that term to ``…/vocab.html#OpenBadgeCredential``), so the IRIs are read by
expanding the credential's ``@context`` and ``type`` alone with the pinned contexts (:func:`expand`; a remote
context is refused there). The answer depends on those two only and is remembered: a verifier sees few.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from microcred.jsonld.loader import expand
from microcred.verification.document import as_list

__all__ = ["credential_types"]


def credential_types(credential: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``type`` terms of ``credential`` as written, followed by their expanded IRIs (when its contexts expand:
    pinned, well-formed; otherwise the terms alone, which no query of IRIs meets)."""
    terms = tuple(t for t in as_list(credential.get("type")) if isinstance(t, str))
    try:
        context = json.dumps(credential.get("@context"), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return terms
    return terms + tuple(t for t in _expanded(context, terms) if t not in terms)


@lru_cache(maxsize=256)
def _expanded(context: str, terms: tuple[str, ...]) -> tuple[str, ...]:
    try:
        nodes = expand({"@context": json.loads(context), "type": list(terms)})
    except Exception:  # an unusable context: its credential did not verify either; the terms stand alone
        return ()
    types = nodes[0].get("@type", []) if nodes and isinstance(nodes[0], Mapping) else []
    return tuple(t for t in types if isinstance(t, str))
