"""Pure rules of the revocation service: who may do what, which transitions exist, what input is valid.

Nothing here does I/O. The adapters (gRPC servicer, Redis store, Kafka projector, publisher) call these
functions and turn :class:`DomainError` into transport errors.

Transitions (one credential, two independent bits in two lists):

* **revoke** sets the bit in the credential's ``revocation`` list. It is permanent: no event ever clears a
  revocation bit. Revoking a revoked credential changes nothing and succeeds (idempotent retries).
* **suspend** sets the bit in the ``suspension`` list. Suspending a suspended credential is a no-op; a revoked
  credential cannot be suspended (its state is final).
* **reinstate** clears the suspension bit. It only undoes a suspension: it never touches the revocation bit,
  and a revoked credential cannot be reinstated. Reinstating a credential that is not suspended is a no-op.

Authorization (client certificate: CN = subject, O = agency, OU = role):

* status changes and reads: an ``issuer`` whose CN is the credential's issuer, or an ``agency`` whose O is
  the credential's tenant; reads are also open to ``service`` callers (platform services);
* revoking as superseded (a correction): only a ``service`` caller, for a credential of the issuer it names;
* index reservations: a ``service`` caller (the issuer service) for any issuer, or an ``issuer`` for itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from microcred import errors
from microcred.model.errors import INCONSISTENT, INVALID_FORMAT, OUT_OF_RANGE, REQUIRED, FieldViolation
from microcred.pki import ROLE_AGENCY, ROLE_ISSUER, ROLE_SERVICE, Identity
from microcred.status.bitstring import MIN_LIST_BITS

__all__ = [
    "LIST_SIZE",
    "MAX_BLOCK_SIZE",
    "MAX_BULK_ITEMS",
    "Action",
    "Change",
    "CredentialRecord",
    "DomainError",
    "EntryRef",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "ListMeta",
    "NoChange",
    "NotFound",
    "PermissionDenied",
    "Purpose",
    "actor_of",
    "authorize_change",
    "authorize_read",
    "authorize_reservation",
    "authorize_supersede",
    "decide",
    "first_usable",
    "issuer_slug",
    "list_id_for",
    "list_url_for",
    "needs_refresh",
    "parse_list_number",
    "validate_change",
    "validate_credential_id",
    "validate_reason",
    "validate_reservation",
    "validate_supersede",
]

MAX_BLOCK_SIZE = 10_000
"""Largest block of indexes one reservation may ask for per purpose."""

MAX_BULK_ITEMS = 50_000
"""Largest number of credentials one bulk request may name."""

MAX_ID_LENGTH = 512
MAX_REASON_LENGTH = 1_000
_LIST_ID_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Purpose(StrEnum):
    """The two status purposes the service manages (Bitstring Status List ``statusPurpose``)."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class Action(StrEnum):
    """A requested status change."""

    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# --------------------------------------------------------------------------------------------------
# errors


class DomainError(errors.MicrocredError):
    """A request the service refuses; nothing was changed (the kinds are those of :mod:`microcred.errors`)."""


class InvalidArgument(DomainError, errors.InvalidArgument):
    """The request is malformed; ``violations`` says which fields and why."""


class NotFound(DomainError, errors.NotFound):
    """The credential (or list) is not known to the service."""


class PermissionDenied(DomainError, errors.PermissionDenied):
    """The caller may not perform this operation on this credential or issuer."""


class FailedPrecondition(DomainError, errors.FailedPrecondition):
    """The operation is valid in general but not in the credential's current state."""


# --------------------------------------------------------------------------------------------------
# state


#: Entries of every Bitstring Status List the service creates (the minimum that gives herd privacy).
LIST_SIZE = MIN_LIST_BITS


@dataclass(frozen=True)
class ListMeta:
    """A status list: whose it is, its purpose, where it is served, its number and size in entries."""

    list_id: str
    issuer_id: str
    purpose: str
    url: str
    number: int
    size: int


@dataclass(frozen=True)
class EntryRef:
    """One status entry of a credential: an index in one list."""

    list_id: str
    index: int
    purpose: str
    list_url: str = ""


@dataclass(frozen=True)
class CredentialRecord:
    """What the service knows about one issued credential and its current status bits."""

    credential_id: str
    issuer_id: str
    tenant: str
    entries: tuple[EntryRef, ...] = ()
    revoked: bool = False
    suspended: bool = False
    updated_at: datetime | None = None

    def entry(self, purpose: Purpose) -> EntryRef | None:
        """The credential's entry for ``purpose``, if it has one."""
        return next((e for e in self.entries if e.purpose == purpose.value), None)


@dataclass(frozen=True)
class Change:
    """A bit to flip: the outcome of :func:`decide` when the state must change."""

    action: Action
    entry: EntryRef
    value: bool

    @property
    def purpose(self) -> Purpose:
        """The list purpose the change touches."""
        return Purpose(self.entry.purpose)


@dataclass(frozen=True)
class NoChange:
    """The credential is already in the requested state (idempotent success)."""

    action: Action
    reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class StatusWrite:
    """One status change as the read model takes it: set ``value`` at ``index`` of ``list_id`` for
    ``credential_id``, by the event at ``partition``/``offset`` of the status topic."""

    list_id: str
    index: int
    value: bool
    credential_id: str
    at: datetime
    actor: str
    reason: str
    partition: int
    offset: int


# --------------------------------------------------------------------------------------------------
# authorization


def actor_of(identity: Identity) -> str:
    """How an identity is recorded in events: ``role:subject@agency``."""
    return identity.actor


def _may_manage(identity: Identity, record: CredentialRecord) -> bool:
    if identity.role == ROLE_ISSUER:
        return bool(identity.subject_id) and identity.subject_id == record.issuer_id
    if identity.role == ROLE_AGENCY:
        return bool(identity.agency_id) and identity.agency_id == record.tenant
    return False


def authorize_change(identity: Identity, record: CredentialRecord, action: Action) -> None:
    """Raise :class:`PermissionDenied` unless ``identity`` may change ``record``'s status."""
    if _may_manage(identity, record):
        return
    if identity.role == ROLE_ISSUER:
        raise PermissionDenied(
            f"issuer {identity.subject_id!r} may not {action.value} credential {record.credential_id!r}: "
            "only its issuer or the issuer's agency may change its status")
    if identity.role == ROLE_AGENCY:
        raise PermissionDenied(
            f"agency {identity.agency_id!r} may not {action.value} credential {record.credential_id!r}: "
            "it belongs to another agency")
    raise PermissionDenied(f"role {identity.role or '(none)'!r} may not change credential status; "
                           "use an issuer or agency client certificate")


def authorize_supersede(identity: Identity, record: CredentialRecord, issuer_id: str) -> None:
    """Raise :class:`PermissionDenied` unless ``identity`` may revoke ``record`` as superseded for ``issuer_id``.

    Only a platform ``service`` (the issuer service's CorrectCredential, which authenticated the issuer and
    issued the replacement first) may, and only for a credential of the issuer it names: issuers and agency
    operators revoke with RevokeCredential, which this does not widen.
    """
    if identity.role != ROLE_SERVICE:
        raise PermissionDenied("only platform services may revoke a credential as superseded; issuers correct "
                               "credentials with IssuerService.CorrectCredential")
    if record.issuer_id != issuer_id:
        raise PermissionDenied(f"credential {record.credential_id!r} was not issued by {issuer_id!r}")


def validate_supersede(credential_id: str, superseded_by: str, issuer_id: str, actor: str) -> None:
    """Raise :class:`InvalidArgument` for a bad supersession request (every field required)."""
    violations = validate_credential_id(credential_id) + validate_credential_id(superseded_by, "superseded_by")
    if credential_id and credential_id == superseded_by:
        violations.append(FieldViolation("superseded_by", "must name another credential", INCONSISTENT))
    for name, value in (("issuer_id", issuer_id), ("actor", actor)):
        if not value:
            violations.append(FieldViolation(name, "is required", REQUIRED))
        elif len(value) > MAX_ID_LENGTH or _CONTROL.search(value):
            violations.append(FieldViolation(name, f"must be at most {MAX_ID_LENGTH} printable characters",
                                             INVALID_FORMAT))
    if violations:
        raise InvalidArgument(violations)


def authorize_read(identity: Identity, record: CredentialRecord) -> None:
    """Raise :class:`PermissionDenied` unless ``identity`` may read ``record``'s status."""
    if identity.role == ROLE_SERVICE or _may_manage(identity, record):
        return
    raise PermissionDenied(f"{identity.role or 'caller'} {identity.subject_id!r} may not read the status of "
                           f"credential {record.credential_id!r}")


def authorize_reservation(identity: Identity, issuer_id: str) -> None:
    """Raise :class:`PermissionDenied` unless ``identity`` may reserve indexes for ``issuer_id``."""
    if identity.role == ROLE_SERVICE:
        return
    if identity.role == ROLE_ISSUER:
        if identity.subject_id == issuer_id:
            return
        raise PermissionDenied(f"issuer {identity.subject_id!r} may reserve status indexes only for itself, "
                               f"not for {issuer_id!r}")
    raise PermissionDenied(f"role {identity.role or '(none)'!r} may not reserve status indexes; "
                           "the issuer service (service role) or the issuer itself may")


# --------------------------------------------------------------------------------------------------
# transitions


def decide(action: Action, record: CredentialRecord) -> Change | NoChange:
    """The change ``action`` makes to ``record``, :class:`NoChange`, or :class:`FailedPrecondition`."""
    if action is Action.REVOKE:
        if record.revoked:
            return NoChange(action, ("already revoked",))
        return Change(action, _require_entry(record, Purpose.REVOCATION, action), True)
    if record.revoked:
        raise FailedPrecondition(f"credential {record.credential_id!r} is revoked; revocation is permanent, "
                                 f"so it cannot be {'suspended' if action is Action.SUSPEND else 'reinstated'}")
    if action is Action.SUSPEND:
        if record.suspended:
            return NoChange(action, ("already suspended",))
        return Change(action, _require_entry(record, Purpose.SUSPENSION, action), True)
    if not record.suspended:
        return NoChange(action, ("not suspended",))
    return Change(action, _require_entry(record, Purpose.SUSPENSION, action), False)


def _require_entry(record: CredentialRecord, purpose: Purpose, action: Action) -> EntryRef:
    entry = record.entry(purpose)
    if entry is None:
        raise FailedPrecondition(f"credential {record.credential_id!r} has no {purpose.value} status entry, "
                                 f"so it cannot be {action.value}d")
    return entry


# --------------------------------------------------------------------------------------------------
# validation


def validate_credential_id(value: str, field_name: str = "credential_id") -> list[FieldViolation]:
    """Violations of a credential id (required, at most 512 characters, no control characters)."""
    if not value:
        return [FieldViolation(field_name, "is required", REQUIRED)]
    if len(value) > MAX_ID_LENGTH:
        return [FieldViolation(field_name, f"must be at most {MAX_ID_LENGTH} characters", OUT_OF_RANGE)]
    if _CONTROL.search(value):
        return [FieldViolation(field_name, "must not contain control characters", INVALID_FORMAT)]
    return []


def validate_reason(value: str, field_name: str = "reason") -> list[FieldViolation]:
    """Violations of a reason (required: every change records why; at most 1,000 characters)."""
    if not value.strip():
        return [FieldViolation(field_name, "is required: every status change records why it was made", REQUIRED)]
    if len(value) > MAX_REASON_LENGTH:
        return [FieldViolation(field_name, f"must be at most {MAX_REASON_LENGTH} characters", OUT_OF_RANGE)]
    return []


def validate_change(credential_id: str, reason: str) -> None:
    """Raise :class:`InvalidArgument` for a bad single-credential change request."""
    violations = validate_credential_id(credential_id) + validate_reason(reason)
    if violations:
        raise InvalidArgument(violations)


def validate_reservation(issuer_id: str, purposes: Sequence[Purpose | None], count: int,
                         max_block: int = MAX_BLOCK_SIZE) -> None:
    """Raise :class:`InvalidArgument` for a bad reservation (``None`` marks an unknown purpose)."""
    violations: list[FieldViolation] = []
    if not issuer_id:
        violations.append(FieldViolation("issuer_id", "is required", REQUIRED))
    elif len(issuer_id) > MAX_ID_LENGTH or _CONTROL.search(issuer_id):
        violations.append(FieldViolation("issuer_id", f"must be at most {MAX_ID_LENGTH} printable characters",
                                         INVALID_FORMAT))
    if not purposes:
        violations.append(FieldViolation("status_purposes", "name at least one purpose", REQUIRED))
    for i, purpose in enumerate(purposes):
        if purpose is None:
            violations.append(FieldViolation(f"status_purposes[{i}]", "must be REVOCATION or SUSPENSION",
                                             INVALID_FORMAT))
    known = [p for p in purposes if p is not None]
    if len(set(known)) != len(known):
        violations.append(FieldViolation("status_purposes", "must not repeat a purpose", INCONSISTENT))
    if not 1 <= count <= max_block:
        violations.append(FieldViolation("count", f"must be between 1 and {max_block}", OUT_OF_RANGE))
    if violations:
        raise InvalidArgument(violations)


# --------------------------------------------------------------------------------------------------
# lists


def issuer_slug(issuer_id: str) -> str:
    """The issuer's part of a list id: the id itself when URL-safe, else ``~`` + 20 hex of its SHA-256.

    The two forms cannot collide (``~`` never appears in the first), so two issuers never share list ids.
    """
    if _LIST_ID_SAFE.fullmatch(issuer_id):
        return issuer_id
    return "~" + hashlib.sha256(issuer_id.encode()).hexdigest()[:20]


def list_id_for(issuer_id: str, purpose: Purpose, number: int) -> str:
    """``{issuer}-{purpose}-{n}``: the id of the issuer's ``number``-th list for ``purpose``."""
    if number < 0:
        raise ValueError("list number must be non-negative")
    return f"{issuer_slug(issuer_id)}-{purpose.value}-{number}"


def parse_list_number(list_id: str) -> int:
    """The ``n`` of a list id made by :func:`list_id_for` (0 for a foreign id)."""
    tail = list_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def list_url_for(base_url: str, list_id: str) -> str:
    """Where the list credential is served: ``{base}/status/{list_id}``."""
    return f"{base_url.rstrip('/')}/status/{list_id}"


def needs_refresh(valid_until: datetime | None, now: datetime, ttl_seconds: int) -> bool:
    """Whether a published list must be re-signed although nothing changed.

    A copy served now may be cached for ``ttl`` seconds; it must still be valid at the end of that time,
    with a second ``ttl`` of margin for the time the re-sign and the publication take.
    """
    if valid_until is None:
        return True
    return (valid_until - now).total_seconds() < 2 * ttl_seconds


def first_usable(available_by_list: Iterable[tuple[str, int]], count: int) -> str | None:
    """The first list (in the given order) with at least ``count`` free indexes, or None."""
    return next((list_id for list_id, free in available_by_list if free >= count), None)
