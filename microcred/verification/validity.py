"""VALIDITY_WINDOW: the credential is in force now.

VC 2.0 uses ``validFrom`` / ``validUntil`` (both optional); VC 1.1 uses ``issuanceDate`` (the start) and
``expirationDate``. Before the start -> invalid NOT_YET_VALID; after the end -> invalid EXPIRED; a date that
cannot be read -> invalid INVALID_FIELD (the FORMAT check reports it too). No dates at all is valid: the
credential does not limit its validity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, valid
from microcred.verification.document import parse_datetime, vc_version

__all__ = ["check_validity_window"]

_V = CheckId.VALIDITY_WINDOW


def check_validity_window(document: Mapping[str, Any], now: datetime) -> CheckResult:
    """The VALIDITY_WINDOW result at ``now``."""
    v1 = vc_version(document) == "1.1"
    start_name, end_name = ("issuanceDate", "expirationDate") if v1 else ("validFrom", "validUntil")
    bounds: dict[str, datetime | None] = {}
    for name in (start_name, end_name):
        raw = document.get(name)
        if raw is None:
            bounds[name] = None
            continue
        bounds[name] = parse_datetime(raw, require_zone=not v1)
        if bounds[name] is None:
            return invalid(_V, Reason.INVALID_FIELD, field=name, problem="not an XML Schema dateTime")
    start, end = bounds[start_name], bounds[end_name]
    details = {"valid_from": document.get(start_name), "valid_until": document.get(end_name), "checked_at":
               now.isoformat()}
    if start is not None and now < start:
        return invalid(_V, Reason.NOT_YET_VALID, **details)
    if end is not None and now > end:
        return invalid(_V, Reason.EXPIRED, **details)
    return valid(_V, Reason.WITHIN_VALIDITY, **details)
