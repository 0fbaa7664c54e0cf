"""Small readers over credential/presentation JSON shared by the checks (pure, tolerant of bad input).

The data model version (:func:`version_of`) and the VC contexts are :mod:`microcred.vcdm`'s, re-exported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from microcred.vcdm.rules import VC_V1, VC_V2, version_of

__all__ = ["OB_CONTEXT_PREFIX", "VC_V1", "VC_V2", "as_list", "issued_at", "issuer_id", "parse_datetime",
           "proofs", "signed_at", "subjects", "types", "version_of"]

OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"

# xsd:dateTime; the time zone is optional for VC 1.1 dates, required (dateTimeStamp) for VC 2.0.
_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: [] for None, the list itself, or a one-item list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def types(document: Mapping[str, Any]) -> list[str]:
    """The string values of ``type``."""
    return [t for t in as_list(document.get("type")) if isinstance(t, str)]


def issuer_id(document: Mapping[str, Any]) -> str | None:
    """The issuer's identifier (``issuer`` as a string or ``issuer.id``)."""
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def subjects(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``credentialSubject`` objects."""
    return [s for s in as_list(document.get("credentialSubject")) if isinstance(s, Mapping)]


def proofs(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The proof objects (a single proof or a proof set)."""
    return [p for p in as_list(document.get("proof")) if isinstance(p, Mapping)]


def parse_datetime(value: Any, *, require_zone: bool = True) -> datetime | None:
    """An aware datetime from an xsd:dateTime string; None when malformed (naive values read as UTC when
    ``require_zone`` is false, as VC 1.1 allows). Short strings are memoised (every verification reads the
    same few dates; datetimes are immutable)."""
    if not isinstance(value, str):
        return None
    if len(value) <= 40:
        return _parse_datetime_memo(value, require_zone)
    return _parse_datetime(value, require_zone)


def _parse_datetime(value: str, require_zone: bool) -> datetime | None:
    if not _DATETIME.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if require_zone:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


_parse_datetime_memo = lru_cache(maxsize=4096)(_parse_datetime)


def issued_at(document: Mapping[str, Any]) -> datetime | None:
    """When the credential was issued: ``awardedDate``, ``validFrom`` or VC 1.1 ``issuanceDate``."""
    for name in ("awardedDate", "validFrom", "issuanceDate"):
        parsed = parse_datetime(document.get(name), require_zone=False)
        if parsed is not None:
            return parsed
    return None


def signed_at(proof: Mapping[str, Any], document: Mapping[str, Any], now: datetime) -> datetime:
    """The signing time claimed by a proof (``created``), else the issuance date, else ``now``."""
    return parse_datetime(proof.get("created"), require_zone=False) or issued_at(document) or now
