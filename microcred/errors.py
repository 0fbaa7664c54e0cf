"""One error vocabulary for every service: what a use case may answer instead of a result.

::

    MicrocredError
    ├── InvalidArgument(violations)   the request is malformed; every failing field named
    ├── Unauthenticated               no verified identity
    ├── PermissionDenied              this caller may not do this
    ├── NotFound                      unknown (or not the caller's: the answer is the same on purpose)
    ├── Gone                          existed, but expired or was withdrawn
    ├── AlreadyExists                 a create that conflicts with what exists
    ├── FailedPrecondition            valid in general, not in the current state
    └── Unavailable(retry_after)      cannot answer reliably right now (a read model rebuilding, a dependency
                                      down): nothing was changed, retry (after ``retry_after`` seconds)

Services keep their own, more specific classes (``StoreNotReady``, the wallet's ``NotAuthenticated``...) as
subclasses of these, so an edge maps any of them with one table: :func:`grpc_code` at gRPC edges (the
``google.rpc.Code``), :func:`http_status` at HTTP edges (RFC 9457 problem+json). Pure: no I/O, no transport.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.model.errors import FieldViolation

__all__ = ["AlreadyExists", "FailedPrecondition", "Gone", "InvalidArgument", "MicrocredError", "NotFound",
           "PermissionDenied", "Unauthenticated", "Unavailable", "grpc_code", "http_status"]


class MicrocredError(Exception):
    """Root of the errors a use case reports; ``retriable`` says whether the same request may succeed later."""

    retriable: ClassVar[bool] = False


class InvalidArgument(MicrocredError):
    """The request is malformed; ``violations`` names every failing field."""

    violations: tuple[FieldViolation, ...] = ()

    def __init__(self, violations: Sequence[FieldViolation], message: str = "") -> None:
        self.violations = tuple(violations)
        super().__init__(message or "; ".join(f"{v.field}: {v.description}" for v in self.violations)
                         or "invalid request")


class Unauthenticated(MicrocredError):
    """The caller presented no verified identity."""


class PermissionDenied(MicrocredError):
    """The caller is known but may not do this."""


class NotFound(MicrocredError):
    """No such thing (or not the caller's)."""


class Gone(MicrocredError):
    """It existed but expired or was withdrawn."""


class AlreadyExists(MicrocredError):
    """What the request would create exists already (with other content)."""


class FailedPrecondition(MicrocredError):
    """The request is valid in general but not in the current state."""


class Unavailable(MicrocredError):
    """Not answerable reliably right now; nothing changed. ``retry_after``: seconds to wait (None: unknown)."""

    retriable = True
    retry_after: float | None = None


# Unavailable first: an error that is also of another kind (an identity provider that cannot be reached is an
# authentication failure too) is retriable, and that is what the caller must learn.
_GRPC: tuple[tuple[type[MicrocredError], int], ...] = (
    (Unavailable, code_pb2.UNAVAILABLE), (InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (Unauthenticated, code_pb2.UNAUTHENTICATED),
    (PermissionDenied, code_pb2.PERMISSION_DENIED), (NotFound, code_pb2.NOT_FOUND),
    (Gone, code_pb2.NOT_FOUND),  # gRPC has no "gone": a withdrawn thing is not found any more
    (AlreadyExists, code_pb2.ALREADY_EXISTS), (FailedPrecondition, code_pb2.FAILED_PRECONDITION))
_HTTP: tuple[tuple[type[MicrocredError], int], ...] = (
    (Unavailable, 503), (InvalidArgument, 422), (Unauthenticated, 401), (PermissionDenied, 403), (NotFound, 404),
    (Gone, 410), (AlreadyExists, 409), (FailedPrecondition, 409))


def grpc_code(error: BaseException) -> int:
    """The ``google.rpc.Code`` for ``error`` (UNKNOWN for anything outside the vocabulary)."""
    return next((code for kind, code in _GRPC if isinstance(error, kind)), int(code_pb2.UNKNOWN))


def http_status(error: BaseException) -> int:
    """The HTTP status for ``error`` (500 for anything outside the vocabulary)."""
    return next((status for kind, status in _HTTP if isinstance(error, kind)), 500)
