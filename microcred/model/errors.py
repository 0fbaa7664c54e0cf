"""Field-level validation errors and their google.rpc.BadRequest wire form.

:class:`FieldViolation` is what :func:`microcred.model.validation.validate_micro_credential` returns;
:func:`to_bad_request` turns a list of them into the ``google.rpc.BadRequest`` detail that gRPC services
attach to INVALID_ARGUMENT (and that batch results carry per item).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]

# Machine-readable reasons (BadRequest.FieldViolation.reason).
REQUIRED = "REQUIRED"
INVALID_FORMAT = "INVALID_FORMAT"
OUT_OF_RANGE = "OUT_OF_RANGE"
UNKNOWN_VOCABULARY = "UNKNOWN_VOCABULARY"
INCONSISTENT = "INCONSISTENT"

REASONS = frozenset({REQUIRED, INVALID_FORMAT, OUT_OF_RANGE, UNKNOWN_VOCABULARY, INCONSISTENT})


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One problem with one field.

    ``field`` is a path into the message in google.rpc.BadRequest style, e.g. ``learner.did``,
    ``learning_outcomes[2].text`` or ``title.values[fr]``; ``description`` is a human-readable sentence;
    ``reason`` is one of the constants in this module.
    """

    field: str
    description: str
    reason: str = INVALID_FORMAT


def to_bad_request(violations: Iterable[FieldViolation]) -> error_details_pb2.BadRequest:
    """Build a ``google.rpc.BadRequest`` listing every violation, in order."""
    field_violation = error_details_pb2.BadRequest.FieldViolation
    return error_details_pb2.BadRequest(
        field_violations=[
            field_violation(field=v.field, description=v.description, reason=v.reason) for v in violations
        ]
    )


def from_bad_request(bad_request: error_details_pb2.BadRequest) -> list[FieldViolation]:
    """Inverse of :func:`to_bad_request` (for clients and tests)."""
    return [
        FieldViolation(field=v.field, description=v.description, reason=v.reason or INVALID_FORMAT)
        for v in bad_request.field_violations
    ]
