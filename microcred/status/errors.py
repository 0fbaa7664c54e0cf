"""Errors of the Bitstring Status List domain, mirroring the processing errors of the W3C Recommendation.

::

    StatusError                         base of this package; ``retriable`` drives retry vs. give up
     ├── StatusListError                carries a spec ``code`` and an RFC 9457 problem-details ``type``
     │    ├── StatusRetrievalError      STATUS_RETRIEVAL_ERROR     (retriable: the list could not be fetched)
     │    ├── StatusVerificationError   STATUS_VERIFICATION_ERROR  (proof, type or purpose check failed)
     │    │    └── StatusListValidityError   the list is expired or not yet valid (``reason``)
     │    ├── StatusListLengthError     STATUS_LIST_LENGTH_ERROR   (fewer entries than herd privacy needs)
     │    ├── RangeError                RANGE_ERROR                (index outside the list; also IndexError)
     │    └── MalformedValueError       MALFORMED_VALUE_ERROR      (a property breaks a MUST; also ValueError)
     └── ListFull                       the allocator has no free index left: open a new list

Problem-details ``type`` URIs: the REC (§3.5) defines the three ``STATUS_*`` codes under
``https://www.w3.org/ns/credentials/status-list#``; ``RANGE_ERROR`` and ``MALFORMED_VALUE_ERROR`` are the
VC Data Model 2.0 codes the REC cites, whose types live under ``https://www.w3.org/TR/vc-data-model#``.
Mapping to HTTP or gRPC statuses belongs to the API layer, not here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

__all__ = [
    "PROBLEM_TYPES",
    "ListFull",
    "MalformedValueError",
    "RangeError",
    "StatusError",
    "StatusErrorCode",
    "StatusListError",
    "StatusListLengthError",
    "StatusListValidityError",
    "StatusRetrievalError",
    "StatusVerificationError",
    "problem_type",
]

STATUS_LIST_PROBLEM_BASE = "https://www.w3.org/ns/credentials/status-list#"
VC_DATA_MODEL_PROBLEM_BASE = "https://www.w3.org/TR/vc-data-model#"


class StatusErrorCode(StrEnum):
    """The error codes a status check can end with (REC §3.5 and the VC Data Model 2.0 codes it cites)."""

    STATUS_RETRIEVAL_ERROR = "STATUS_RETRIEVAL_ERROR"
    STATUS_VERIFICATION_ERROR = "STATUS_VERIFICATION_ERROR"
    STATUS_LIST_LENGTH_ERROR = "STATUS_LIST_LENGTH_ERROR"
    RANGE_ERROR = "RANGE_ERROR"
    MALFORMED_VALUE_ERROR = "MALFORMED_VALUE_ERROR"


PROBLEM_TYPES: dict[StatusErrorCode, str] = {
    StatusErrorCode.STATUS_RETRIEVAL_ERROR: STATUS_LIST_PROBLEM_BASE + "STATUS_RETRIEVAL_ERROR",
    StatusErrorCode.STATUS_VERIFICATION_ERROR: STATUS_LIST_PROBLEM_BASE + "STATUS_VERIFICATION_ERROR",
    StatusErrorCode.STATUS_LIST_LENGTH_ERROR: STATUS_LIST_PROBLEM_BASE + "STATUS_LIST_LENGTH_ERROR",
    StatusErrorCode.RANGE_ERROR: VC_DATA_MODEL_PROBLEM_BASE + "RANGE_ERROR",
    StatusErrorCode.MALFORMED_VALUE_ERROR: VC_DATA_MODEL_PROBLEM_BASE + "MALFORMED_VALUE_ERROR",
}

_TITLES: dict[StatusErrorCode, str] = {
    StatusErrorCode.STATUS_RETRIEVAL_ERROR: "Retrieval of the status list failed.",
    StatusErrorCode.STATUS_VERIFICATION_ERROR: "Validation of the status entry failed.",
    StatusErrorCode.STATUS_LIST_LENGTH_ERROR: (
        "The status list length does not satisfy the minimum length required for herd privacy."
    ),
    StatusErrorCode.RANGE_ERROR: "A provided value is outside of the expected range of an associated value.",
    StatusErrorCode.MALFORMED_VALUE_ERROR: "The value associated with a particular property is malformed.",
}


def problem_type(code: StatusErrorCode) -> str:
    """Return the RFC 9457 problem-details ``type`` URI for ``code``."""
    return PROBLEM_TYPES[code]


class StatusError(Exception):
    """Base of every error raised by :mod:`microcred.status`."""

    retriable: ClassVar[bool] = False


class StatusListError(StatusError):
    """An error with a code from the Recommendation; ``message`` is the human-readable detail."""

    code: ClassVar[StatusErrorCode]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def problem_type(self) -> str:
        """The RFC 9457 ``type`` URI of this error."""
        return problem_type(self.code)

    def problem_details(self) -> dict[str, str]:
        """Return ``{type, code, title, detail}``; the API layer adds the HTTP ``status``."""
        return {
            "type": self.problem_type,
            "code": self.code.value,
            "title": _TITLES[self.code],
            "detail": self.message,
        }


class StatusRetrievalError(StatusListError):
    """The status list credential could not be dereferenced (network, HTTP error, unparsable body)."""

    code = StatusErrorCode.STATUS_RETRIEVAL_ERROR
    retriable = True


class StatusVerificationError(StatusListError):
    """The status list credential failed a proof, type or purpose check."""

    code = StatusErrorCode.STATUS_VERIFICATION_ERROR


class StatusListValidityError(StatusVerificationError):
    """The status list credential is outside its ``validFrom``/``validUntil`` window.

    ``reason`` is ``"expired"`` or ``"not_yet_valid"``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class StatusListLengthError(StatusListError):
    """The expanded list has fewer entries than the minimum (131,072 by default)."""

    code = StatusErrorCode.STATUS_LIST_LENGTH_ERROR


class RangeError(StatusListError, IndexError):
    """An index (times ``statusSize``) falls outside the bitstring."""

    code = StatusErrorCode.RANGE_ERROR


class MalformedValueError(StatusListError, ValueError):
    """A property of an entry or a list credential does not satisfy a MUST of the Recommendation."""

    code = StatusErrorCode.MALFORMED_VALUE_ERROR


class ListFull(StatusError):
    """The allocator cannot hand out the requested indexes; ``available`` tells how many are left."""

    def __init__(self, message: str, *, available: int) -> None:
        super().__init__(message)
        self.available = available
