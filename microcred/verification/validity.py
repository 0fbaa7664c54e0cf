"""VALIDITY_WINDOW: the credential is in force now.

VC 2.0 uses ``validFrom`` / ``validUntil`` (both optional); VC 1.1 uses ``issuanceDate`` (the start) and
``expirationDate``. The VC 1.1 context also defines ``validFrom`` / ``validUntil`` (as
``cred:validFrom`` / ``cred:validUntil``), so a signed VC 1.1 credential can carry both pairs: every start and
every end present is read, and the window is the narrowest they allow (latest start, earliest end), because
each of them is a signed statement. Before the start -> invalid NOT_YET_VALID; after the end -> invalid
EXPIRED; a date that cannot be read -> invalid INVALID_FIELD (the FORMAT check reports it too). No dates at all
is valid: the credential does not limit its validity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, valid
from microcred.verification.document import parse_datetime, version_of

__all__ = ["check_validity_window"]

_V = CheckId.VALIDITY_WINDOW
_STARTS = ("validFrom", "issuanceDate")
_ENDS = ("validUntil", "expirationDate")


def check_validity_window(document: Mapping[str, Any], now: datetime) -> CheckResult:
    """The VALIDITY_WINDOW result at ``now``."""
    v1 = version_of(document) == "1.1"
    starts: list[tuple[datetime, Any]] = []
    ends: list[tuple[datetime, Any]] = []
    for names, into in ((_STARTS, starts), (_ENDS, ends)):
        for name in names:
            raw = document.get(name)
            if raw is None:
                continue
            parsed = parse_datetime(raw, require_zone=not v1)
            if parsed is None:
                return invalid(_V, Reason.INVALID_FIELD, field=name, problem="not an XML Schema dateTime")
            into.append((parsed, raw))
    start = max(starts, key=lambda s: s[0]) if starts else None
    end = min(ends, key=lambda e: e[0]) if ends else None
    details = {"valid_from": start[1] if start else None, "valid_until": end[1] if end else None,
               "checked_at": now.isoformat()}
    if start is not None and now < start[0]:
        return invalid(_V, Reason.NOT_YET_VALID, **details)
    if end is not None and now > end[0]:
        return invalid(_V, Reason.EXPIRED, **details)
    return valid(_V, Reason.WITHIN_VALIDITY, **details)
