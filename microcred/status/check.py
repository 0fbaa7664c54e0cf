"""Read ``credentialStatus`` entries and validate one against its Bitstring Status List credential.

:func:`check_status` implements the Validate Algorithm of the Recommendation (§3.2) on a status list
credential that has *already been fetched and its proofs verified* by the caller (dereferencing and proof
checking need I/O and keys, which this pure module does not have). Every failure is raised as a
:class:`~microcred.status.errors.StatusListError`; a set bit is a result with ``valid=False``, never an
error, and an error is never a "revoked" answer.

Deviations from a strict reading are explicit and flagged, never silent:

* ``statusListIndex`` given as a JSON integer (the 1EdTech fixture) → ``StatusWarning.INTEGER_INDEX``;
* ``encodedList`` without the multibase ``u`` prefix (W3C test-suite fixtures) →
  ``StatusWarning.LEGACY_ENCODING`` and ``legacy_encoding=True``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from microcred.status.bitstring import MIN_LIST_BITS, DecodedList, decode_list
from microcred.status.errors import (
    MalformedValueError,
    StatusListLengthError,
    StatusListValidityError,
    StatusVerificationError,
)

__all__ = [
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_TYPE",
    "MIN_ENTRIES",
    "StatusEntry",
    "StatusResult",
    "StatusWarning",
    "check_status",
    "parse_status_entries",
]

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
MIN_ENTRIES = MIN_LIST_BITS
"""The REC's ``minimumNumberOfEntries`` (131,072) unless an ecosystem sets another bound."""

MAX_STATUS_SIZE = 16
"""statusSize > 1 needs 2**statusSize messages; beyond this the entry is not processable."""

_BASE10 = re.compile(r"[0-9]+")
_HEX_STATUS = re.compile(r"0x[0-9a-fA-F]+")


class StatusWarning(StrEnum):
    """A tolerated non-conformance, reported alongside the result."""

    INTEGER_INDEX = "INTEGER_INDEX"
    LEGACY_ENCODING = "LEGACY_ENCODING"


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One ``BitstringStatusListEntry`` of a credential."""

    purpose: str
    index: int
    list_credential: str
    size: int = 1
    messages: Mapping[int, str] = field(default_factory=dict)
    id: str | None = None
    references: tuple[str, ...] = ()
    warnings: tuple[StatusWarning, ...] = ()

    @property
    def lenient_index(self) -> bool:
        """True when ``statusListIndex`` was a JSON integer rather than the required string."""
        return StatusWarning.INTEGER_INDEX in self.warnings


@dataclass(frozen=True, slots=True)
class StatusResult:
    """The REC's result map ``{status, purpose, valid, message?}`` plus the leniency flags."""

    status: int
    purpose: str
    valid: bool
    message: str | None = None
    legacy_encoding: bool = False
    warnings: tuple[StatusWarning, ...] = ()


def parse_status_entries(credential: Mapping[str, Any]) -> list[StatusEntry]:
    """Return the ``BitstringStatusListEntry`` items of ``credential["credentialStatus"]`` in order.

    ``credentialStatus`` may be absent (empty list), an object or an array. Entries of other status types
    are skipped (they belong to other mechanisms); a malformed Bitstring entry raises
    :class:`MalformedValueError`.
    """
    raw = credential.get("credentialStatus")
    if raw is None:
        return []
    items: Sequence[Any] = raw if isinstance(raw, list) else [raw]
    entries = []
    for item in items:
        if not isinstance(item, Mapping):
            raise MalformedValueError("each credentialStatus item must be an object")
        if ENTRY_TYPE in _as_list(item.get("type")):
            entries.append(_parse_entry(item))
    return entries


def _parse_entry(item: Mapping[str, Any]) -> StatusEntry:
    purpose = item.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise MalformedValueError("statusPurpose must be a non-empty string")
    list_credential = item.get("statusListCredential")
    if not isinstance(list_credential, str) or not list_credential:
        raise MalformedValueError("statusListCredential must be a URL string")
    entry_id = item.get("id")
    if entry_id is not None and not isinstance(entry_id, str):
        raise MalformedValueError("credentialStatus id must be a string")
    index, warnings = _parse_index(item.get("statusListIndex"))
    size = _parse_size(item.get("statusSize", 1))
    return StatusEntry(
        purpose=purpose,
        index=index,
        list_credential=list_credential,
        size=size,
        messages=_parse_messages(item.get("statusMessage"), size),
        id=entry_id,
        references=_parse_references(item.get("statusReference")),
        warnings=warnings,
    )


def _parse_index(value: Any) -> tuple[int, tuple[StatusWarning, ...]]:
    if isinstance(value, str):
        if not _BASE10.fullmatch(value):
            raise MalformedValueError(f"statusListIndex {value!r} is not a base-10 integer string")
        try:
            return int(value), ()
        except ValueError:  # more digits than int() accepts: no list is that long
            raise MalformedValueError("statusListIndex is too large") from None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, (StatusWarning.INTEGER_INDEX,)
    raise MalformedValueError(f"statusListIndex must be a base-10 integer string, got {value!r}")


def _parse_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MalformedValueError(f"statusSize must be an integer greater than zero, got {value!r}")
    if value > MAX_STATUS_SIZE:
        raise MalformedValueError(f"statusSize {value} is larger than the supported {MAX_STATUS_SIZE}")
    return value


def _parse_messages(value: Any, size: int) -> dict[int, str]:
    if value is None:
        if size > 1:
            raise MalformedValueError("statusMessage must be present when statusSize is greater than 1")
        return {}
    if not isinstance(value, list) or len(value) != 1 << size:
        raise MalformedValueError(f"statusMessage must be an array of {1 << size} elements")
    messages: dict[int, str] = {}
    for element in value:
        status = element.get("status") if isinstance(element, Mapping) else None
        message = element.get("message") if isinstance(element, Mapping) else None
        if not isinstance(status, str) or not _HEX_STATUS.fullmatch(status) or not isinstance(message, str):
            raise MalformedValueError("each statusMessage needs a hex 'status' (\"0x…\") and a 'message'")
        number = int(status, 16)
        if number >= 1 << size or number in messages:
            raise MalformedValueError(f"statusMessage status {status} is out of range or repeated")
        messages[number] = message
    return messages


def _parse_references(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    refs = _as_list(value)
    if not refs or not all(isinstance(ref, str) and ref for ref in refs):
        raise MalformedValueError("statusReference must be a URL or an array of URLs")
    return tuple(refs)


def check_status(entry: StatusEntry, status_list_credential: Mapping[str, Any], now: datetime, *,
                 proofs_verified: bool, lenient_legacy: bool = True,
                 minimum_entries: int = MIN_ENTRIES) -> StatusResult:
    """Validate ``entry`` against an already-dereferenced status list credential at time ``now``.

    ``proofs_verified`` is the caller's verdict on all proofs of the list credential (False raises
    STATUS_VERIFICATION_ERROR). Raises STATUS_VERIFICATION_ERROR for a wrong type or purpose
    (:class:`StatusListValidityError` when outside ``validFrom``/``validUntil``),
    STATUS_LIST_LENGTH_ERROR, RANGE_ERROR, or MALFORMED_VALUE_ERROR.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not proofs_verified:
        raise StatusVerificationError("the proofs of the status list credential did not verify")
    decoded = prepared_list(entry.purpose, status_list_credential, now, lenient_legacy)
    return status_in(entry, decoded, minimum_entries)


def prepared_list(purpose: str, status_list_credential: Mapping[str, Any], now: datetime,
                  lenient_legacy: bool = True) -> DecodedList:
    """The list-level half of :func:`check_status` (type, ``purpose`` among the list's purposes, validity
    window at ``now``, decoded bitstring): the same for every entry read from one list, so a verifier may keep
    it per list object and re-check only the validity window (which depends on ``now``)."""
    subject = _list_subject(status_list_credential)
    purposes = _list_purposes(subject)
    if purpose not in purposes:
        raise StatusVerificationError(
            f"status purpose {purpose!r} is not among the list's purposes {sorted(purposes)}"
        )
    _check_validity_window(status_list_credential, now)
    encoded = subject["encodedList"]
    return _decoded(encoded, lenient_legacy) if isinstance(encoded, str) else decode_list(encoded, lenient_legacy)


def status_in(entry: StatusEntry, decoded: DecodedList, minimum_entries: int = MIN_ENTRIES) -> StatusResult:
    """The entry-level half of :func:`check_status`: ``entry``'s status in a list :func:`prepared_list` accepted."""
    entries = len(decoded.bits) // entry.size
    if entries < minimum_entries:
        raise StatusListLengthError(
            f"the status list holds {entries} entries of {entry.size} bit(s);"
            f" at least {minimum_entries} are needed"
        )
    status = decoded.bits.get_status(entry.index, entry.size)
    warnings = entry.warnings + ((StatusWarning.LEGACY_ENCODING,) if decoded.legacy_encoding else ())
    return StatusResult(
        status=status,
        purpose=entry.purpose,
        valid=status == 0,
        message=entry.messages.get(status),
        legacy_encoding=decoded.legacy_encoding,
        warnings=warnings,
    )


@lru_cache(maxsize=64)
def _decoded(encoded: str, lenient_legacy: bool) -> DecodedList:
    """:func:`decode_list`, remembered for the few lists in use: a verifier checks many credentials (each at its
    own index) against the same list, and inflating it (16 KiB and more) per credential cost more than reading
    the bit. Only read from here (``get_status``), never modified."""
    return decode_list(encoded, lenient_legacy)


def _list_subject(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    if LIST_CREDENTIAL_TYPE not in _as_list(credential.get("type")):
        raise StatusVerificationError(f"the list credential's type does not include {LIST_CREDENTIAL_TYPE}")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise MalformedValueError("the status list credential must have one credentialSubject object")
    if LIST_TYPE not in _as_list(subject.get("type")):
        raise StatusVerificationError(f"the list credential's credentialSubject.type is not {LIST_TYPE}")
    if not isinstance(subject.get("encodedList"), str):
        raise MalformedValueError("credentialSubject.encodedList must be a string")
    return subject


def _list_purposes(subject: Mapping[str, Any]) -> frozenset[str]:
    purposes = _as_list(subject.get("statusPurpose"))
    if not purposes or not all(isinstance(p, str) and p for p in purposes):
        raise MalformedValueError("credentialSubject.statusPurpose must be one or more strings")
    return frozenset(purposes)


def _check_validity_window(credential: Mapping[str, Any], now: datetime) -> None:
    valid_from = _parse_datetime(credential, "validFrom")
    valid_until = _parse_datetime(credential, "validUntil")
    if valid_from is not None and now < valid_from:
        raise StatusListValidityError(
            f"the status list is not valid before {credential['validFrom']}", reason="not_yet_valid"
        )
    if valid_until is not None and now > valid_until:
        raise StatusListValidityError(
            f"the status list expired at {credential['validUntil']}", reason="expired"
        )


def _parse_datetime(credential: Mapping[str, Any], key: str) -> datetime | None:
    value = credential.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedValueError(f"{key} must be a dateTimeStamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedValueError(f"{key} {value!r} is not a dateTimeStamp") from None
    if parsed.tzinfo is None:
        raise MalformedValueError(f"{key} {value!r} lacks a time zone")
    return parsed


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
