"""The trust registry's domain: pure state, how every registry event changes it, and the decisions it backs.

Nothing here does I/O. :class:`RegistryState` holds agencies and issuers as the protobuf messages of
``registry.proto``; :func:`apply` folds one event (``AgencyRegistered``, ``IssuerRegistered``,
``IssuerAccredited``, ``AccreditationSuspended``, ``AccreditationWithdrawn``, ``IssuerKeyRotated``) into it.
Both read models (:mod:`microcred.registry.memory`, :mod:`microcred.registry.redis_registry`) call :func:`apply`,
so they cannot disagree on semantics. Applying is idempotent and tolerant: a redelivered or out-of-place event
changes nothing and is reported as ignored (never raised), so a replay of the log always completes.

Decisions:

* :func:`authorize` -- may an issuer issue at time ``t`` and EQF level ``n``? Allowed when one accreditation is
  ACTIVE, in its validity window ``[valid_from, valid_until)`` and covers the level; otherwise the refusal that is
  closest to "allowed" is reported (level too high, not yet valid, suspended, expired, withdrawn).
* :func:`resolve_key` -- is verification method ``m`` good for a signature made at ``t``? Yes when
  ``created_at <= t`` and (``retired_at`` unset or ``t < retired_at``). ``created_at`` is compared at whole
  seconds, because Data Integrity ``created`` values are whole seconds and a key registered at 12:00:00.4 must
  verify a proof created "12:00:00Z" just after.

Command checks (``check_*``) are pure too: they return every field violation of a registry command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message

from microcred.crypto.multikey import MultikeyError, decode_ed25519_public_key
from microcred.gen.microcred.v1 import elements_pb2, events_pb2, registry_pb2
from microcred.model import vocab
from microcred.model.errors import (
    INCONSISTENT,
    INVALID_FORMAT,
    OUT_OF_RANGE,
    REQUIRED,
    UNKNOWN_VOCABULARY,
    FieldViolation,
)
from microcred.model.validation import check_timestamp
from microcred.registry.ports import IssuanceDecision, IssuanceRefusal, KeyProblem, KeyResolution, Logo

Status = registry_pb2.AccreditationStatus
ACTIVE, SUSPENDED, WITHDRAWN = (registry_pb2.ACCREDITATION_STATUS_ACTIVE, registry_pb2.ACCREDITATION_STATUS_SUSPENDED,
                                registry_pb2.ACCREDITATION_STATUS_WITHDRAWN)

#: Payload types this domain understands, in the order they usually happen.
REGISTRY_EVENTS: tuple[type[Message], ...] = (
    events_pb2.AgencyRegistered, events_pb2.IssuerRegistered, events_pb2.IssuerAccredited,
    events_pb2.AccreditationSuspended, events_pb2.AccreditationWithdrawn, events_pb2.IssuerKeyRotated,
)

#: Agency and issuer ids: a letter or digit, then letters, digits, ``.``, ``_`` or ``-`` (they become did:web
#: path segments, URL path segments, key-store ids and Redis keys, so nothing else is allowed).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class RegistryState:
    """Agencies and issuers by id (a whole registry, or just the aggregates one event touches)."""

    agencies: dict[str, registry_pb2.Agency] = field(default_factory=dict)
    issuers: dict[str, registry_pb2.Issuer] = field(default_factory=dict)
    #: Logos by issuer id, set by ``IssuerRegistered`` only (kept apart from the issuers: see RegistryReader).
    logos: dict[str, Logo] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What :func:`apply` did: which aggregate (``agency``/``issuer``) it concerns and whether it changed."""

    kind: str
    aggregate_id: str
    changed: bool
    note: str = ""


def aggregate_of(event: Message) -> tuple[str, str] | None:
    """``("agency", id)`` or ``("issuer", id)`` for a registry event; None for any other message."""
    if isinstance(event, events_pb2.AgencyRegistered):
        return "agency", event.agency_id
    if isinstance(event, REGISTRY_EVENTS):
        return "issuer", str(getattr(event, "issuer_id"))  # noqa: B009 - every issuer event has issuer_id
    return None


def to_datetime(ts: timestamp_pb2.Timestamp) -> datetime:
    """An aware UTC datetime from a Timestamp."""
    return ts.ToDatetime(tzinfo=UTC)


def timestamp(at: datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp from an aware datetime."""
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(at)
    return ts


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(UTC)


# ------------------------------------------------------------------------------------------------ applying events


def apply(state: RegistryState, event: Message, occurred_at: datetime) -> Applied:
    """Fold one registry event into ``state`` (``occurred_at`` is the envelope's time).

    Aggregates are replaced, never mutated in place, so messages handed out earlier stay unchanged.
    """
    occurred_at = _aware(occurred_at)
    if isinstance(event, events_pb2.AgencyRegistered):
        if event.agency_id in state.agencies:
            return Applied("agency", event.agency_id, False, "agency already registered")
        state.agencies[event.agency_id] = registry_pb2.Agency(agency_id=event.agency_id,
                                                              organisation=event.organisation)
        return Applied("agency", event.agency_id, True)
    target = aggregate_of(event)
    if target is None:
        return Applied("", "", False, f"not a registry event: {event.DESCRIPTOR.full_name}")
    issuer_id = target[1]
    if isinstance(event, events_pb2.IssuerRegistered):
        if issuer_id in state.issuers:
            return Applied("issuer", issuer_id, False, "issuer already registered")
        state.issuers[issuer_id] = issuer_from_registration(event, occurred_at)
        if event.logo:
            state.logos[issuer_id] = Logo(event.logo, event.logo_media_type)
        return Applied("issuer", issuer_id, True)
    current = state.issuers.get(issuer_id)
    if current is None:
        return Applied("issuer", issuer_id, False, f"{event.DESCRIPTOR.name} for unregistered issuer")
    issuer = registry_pb2.Issuer()
    issuer.CopyFrom(current)
    if isinstance(event, events_pb2.IssuerAccredited):
        note = _accredit(issuer, event)
    elif isinstance(event, events_pb2.AccreditationSuspended | events_pb2.AccreditationWithdrawn):
        note = _change_status(issuer, event.accreditation_id,
                              SUSPENDED if isinstance(event, events_pb2.AccreditationSuspended) else WITHDRAWN)
    else:
        assert isinstance(event, events_pb2.IssuerKeyRotated)
        note = _rotate(issuer, event, occurred_at)
    if issuer == current:
        return Applied("issuer", issuer_id, False, note or "no change")
    state.issuers[issuer_id] = issuer
    return Applied("issuer", issuer_id, True, note)


def certificate_pinned(issuer: registry_pb2.Issuer, certificate_sha256: str) -> bool:
    """Whether a client certificate (its SHA-256, hex) may act for ``issuer``: any certificate when the issuer
    pins none, otherwise only one of its pinned fingerprints (compared without regard to case)."""
    pinned = {fp.lower() for fp in issuer.client_certificate_sha256}
    return not pinned or certificate_sha256.lower() in pinned


def issuer_from_registration(event: events_pb2.IssuerRegistered, occurred_at: datetime) -> registry_pb2.Issuer:
    """The issuer an ``IssuerRegistered`` event creates; its first key is valid from ``occurred_at`` (its logo,
    if any, is kept apart: :attr:`RegistryState.logos`)."""
    issuer = registry_pb2.Issuer(issuer_id=event.issuer_id, agency_id=event.agency_id,
                                 organisation=event.organisation, did=event.did,
                                 client_certificate_sha256=event.client_certificate_sha256)
    if event.verification_method_id:
        issuer.verification_methods.add(id=event.verification_method_id,
                                        public_key_multibase=event.public_key_multibase,
                                        created_at=timestamp(_aware(occurred_at)))
    return issuer


def accreditation_from_event(event: events_pb2.IssuerAccredited) -> registry_pb2.Accreditation:
    """The ACTIVE accreditation an ``IssuerAccredited`` event records."""
    acc = registry_pb2.Accreditation(
        accreditation_id=event.accreditation_id, type=event.type, framework=event.framework,
        accrediting_body=event.accrediting_body, max_eqf_level=event.max_eqf_level,
        decision_reference=event.decision_reference, status=ACTIVE)
    if event.HasField("valid_from"):
        acc.valid_from.CopyFrom(event.valid_from)
    if event.HasField("valid_until"):
        acc.valid_until.CopyFrom(event.valid_until)
    return acc


def _accredit(issuer: registry_pb2.Issuer, event: events_pb2.IssuerAccredited) -> str:
    new = accreditation_from_event(event)
    for acc in issuer.accreditations:
        if acc.accreditation_id == event.accreditation_id:
            if acc.status == WITHDRAWN:
                return "a withdrawn accreditation cannot be restored"
            acc.CopyFrom(new)  # a new decision under the same id replaces the old one (e.g. after a suspension)
            return ""
    issuer.accreditations.append(new)
    return ""


def _change_status(issuer: registry_pb2.Issuer, accreditation_id: str, status: Status) -> str:
    for acc in issuer.accreditations:
        if acc.accreditation_id == accreditation_id:
            if acc.status == WITHDRAWN:
                return "accreditation already withdrawn"
            acc.status = status
            return ""
    return f"unknown accreditation {accreditation_id!r}"


def _rotate(issuer: registry_pb2.Issuer, event: events_pb2.IssuerKeyRotated, occurred_at: datetime) -> str:
    if event.new_verification_method_id and any(vm.id == event.new_verification_method_id
                                                for vm in issuer.verification_methods):
        return "verification method already registered"
    notes = []
    retire_at = event.retired_at if event.HasField("retired_at") else timestamp(occurred_at)
    retired = [vm for vm in issuer.verification_methods if vm.id == event.retired_verification_method_id]
    if not retired:
        notes.append(f"unknown retired verification method {event.retired_verification_method_id!r}")
    for vm in retired:
        if not vm.HasField("retired_at") or to_datetime(retire_at) < to_datetime(vm.retired_at):
            vm.retired_at.CopyFrom(retire_at)
    if event.new_verification_method_id:  # without one, the event only retires a key (RetireIssuerKey)
        issuer.verification_methods.add(id=event.new_verification_method_id,
                                        public_key_multibase=event.new_public_key_multibase,
                                        created_at=timestamp(occurred_at))
    return "; ".join(notes)


def method_index(issuers: Iterable[registry_pb2.Issuer]) -> dict[str, str]:
    """Verification method id -> issuer id, for every method (current and retired) of ``issuers``."""
    return {vm.id: issuer.issuer_id for issuer in issuers for vm in issuer.verification_methods}


def did_index(issuers: Iterable[registry_pb2.Issuer]) -> dict[str, str]:
    """DID -> issuer id."""
    return {issuer.did: issuer.issuer_id for issuer in issuers if issuer.did}


def snapshot(agencies: Iterable[registry_pb2.Agency], issuers: Iterable[registry_pb2.Issuer],
             methods: dict[str, str], dids: dict[str, str]) -> dict[str, Any]:
    """A canonical, comparable (JSON-able) picture of a read model: equal registries give equal snapshots."""
    def as_dict(message: Message) -> dict[str, Any]:
        return json_format.MessageToDict(message, preserving_proto_field_name=True)

    return {
        "agencies": {a.agency_id: as_dict(a) for a in sorted(agencies, key=lambda a: a.agency_id)},
        "issuers": {i.issuer_id: as_dict(i) for i in sorted(issuers, key=lambda i: i.issuer_id)},
        "method_index": dict(sorted(methods.items())),
        "did_index": dict(sorted(dids.items())),
    }


# ------------------------------------------------------------------------------------------------ decisions


def standing(acc: registry_pb2.Accreditation, at: datetime) -> IssuanceRefusal | None:
    """Why ``acc`` does not hold at ``at`` (any EQF level), or None when it is in force."""
    at = _aware(at)
    if acc.status == WITHDRAWN:
        return IssuanceRefusal.ACCREDITATION_WITHDRAWN
    if acc.status == SUSPENDED:
        return IssuanceRefusal.ACCREDITATION_SUSPENDED
    if acc.status != ACTIVE:
        return IssuanceRefusal.NOT_ACCREDITED
    if acc.HasField("valid_from") and at < to_datetime(acc.valid_from):
        return IssuanceRefusal.ACCREDITATION_NOT_YET_VALID
    if acc.HasField("valid_until") and at >= to_datetime(acc.valid_until):
        return IssuanceRefusal.ACCREDITATION_EXPIRED
    return None


# When nothing allows issuance, the refusal closest to "allowed" explains it best.
_REFUSAL_ORDER = (IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED, IssuanceRefusal.ACCREDITATION_NOT_YET_VALID,
                  IssuanceRefusal.ACCREDITATION_SUSPENDED, IssuanceRefusal.ACCREDITATION_EXPIRED,
                  IssuanceRefusal.ACCREDITATION_WITHDRAWN, IssuanceRefusal.NOT_ACCREDITED)


def authorize(issuer: registry_pb2.Issuer | None, issuer_id: str, eqf_level: int | None,
              at: datetime) -> IssuanceDecision:
    """May ``issuer`` issue at ``at`` a credential at ``eqf_level`` (None: no EQF level applies)?"""
    if eqf_level is not None and not 1 <= eqf_level <= 8:
        raise ValueError(f"EQF level must be 1..8 or None, got {eqf_level}")
    if issuer is None:
        return IssuanceDecision(False, IssuanceRefusal.ISSUER_NOT_REGISTERED,
                                f"issuer {issuer_id!r} is not in the trust registry")
    if not issuer.accreditations:
        return IssuanceDecision(False, IssuanceRefusal.NOT_ACCREDITED, f"issuer {issuer_id!r} holds no accreditation")
    found: dict[IssuanceRefusal, registry_pb2.Accreditation] = {}
    for acc in issuer.accreditations:
        refusal = standing(acc, at)
        if refusal is None and eqf_level is not None and acc.max_eqf_level < eqf_level:
            refusal = IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED
        if refusal is None:
            return IssuanceDecision(True, None, f"accredited under {acc.framework}", acc.accreditation_id)
        found.setdefault(refusal, acc)
    refusal = next(r for r in _REFUSAL_ORDER if r in found)
    acc = found[refusal]
    return IssuanceDecision(False, refusal, _refusal_message(issuer_id, refusal, acc, eqf_level), acc.accreditation_id)


def _refusal_message(issuer_id: str, refusal: IssuanceRefusal, acc: registry_pb2.Accreditation,
                     eqf_level: int | None) -> str:
    ref = f"accreditation {acc.accreditation_id} under {acc.framework}"
    messages = {
        IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED:
            f"issuer {issuer_id!r} is accredited up to EQF level {acc.max_eqf_level} ({ref}); "
            f"EQF level {eqf_level} is not allowed",
        IssuanceRefusal.ACCREDITATION_NOT_YET_VALID:
            f"{ref} of issuer {issuer_id!r} is valid only from {to_datetime(acc.valid_from).isoformat()}",
        IssuanceRefusal.ACCREDITATION_SUSPENDED: f"{ref} of issuer {issuer_id!r} is suspended",
        IssuanceRefusal.ACCREDITATION_EXPIRED:
            f"{ref} of issuer {issuer_id!r} expired at {to_datetime(acc.valid_until).isoformat()}",
        IssuanceRefusal.ACCREDITATION_WITHDRAWN: f"{ref} of issuer {issuer_id!r} was withdrawn",
    }
    return messages.get(refusal, f"issuer {issuer_id!r} holds no accreditation in force")


def verification_method(issuer: registry_pb2.Issuer, method_id: str) -> registry_pb2.VerificationMethod | None:
    """The issuer's verification method with this id, current or retired."""
    return next((vm for vm in issuer.verification_methods if vm.id == method_id), None)


def key_valid_at(vm: registry_pb2.VerificationMethod, at: datetime) -> KeyProblem | None:
    """Why ``vm`` cannot vouch for a signature made at ``at``, or None when it can."""
    at = _aware(at)
    if at < to_datetime(vm.created_at).replace(microsecond=0):
        return KeyProblem.KEY_NOT_YET_VALID
    if vm.HasField("retired_at") and at >= to_datetime(vm.retired_at):
        return KeyProblem.KEY_RETIRED
    return None


def resolve_key(issuer: registry_pb2.Issuer | None, method_id: str, signed_at: datetime) -> KeyResolution:
    """The public key of ``method_id`` for a signature made at ``signed_at``, or why there is none."""
    if issuer is None:
        return KeyResolution(None, KeyProblem.UNKNOWN_ISSUER, f"no registered issuer controls {method_id}")
    vm = verification_method(issuer, method_id)
    if vm is None:
        return KeyResolution(None, KeyProblem.UNKNOWN_VERIFICATION_METHOD,
                             f"issuer {issuer.issuer_id!r} has no verification method {method_id}")
    problem = key_valid_at(vm, signed_at)
    if problem is KeyProblem.KEY_RETIRED:
        return KeyResolution(None, problem, f"{method_id} was retired at {to_datetime(vm.retired_at).isoformat()}; "
                                            f"a signature made at {_aware(signed_at).isoformat()} is not accepted")
    if problem is KeyProblem.KEY_NOT_YET_VALID:
        return KeyResolution(None, problem, f"{method_id} was registered at {to_datetime(vm.created_at).isoformat()}, "
                                            f"after the signature time {_aware(signed_at).isoformat()}")
    try:
        return KeyResolution(decode_ed25519_public_key(vm.public_key_multibase))
    except MultikeyError as exc:
        return KeyResolution(None, KeyProblem.UNKNOWN_VERIFICATION_METHOD, f"{method_id}: unusable key ({exc})")


def current_verification_method(issuer: registry_pb2.Issuer, at: datetime) -> registry_pb2.VerificationMethod | None:
    """The newest verification method that may sign at ``at`` (what the issuer service signs with)."""
    usable = [vm for vm in issuer.verification_methods if key_valid_at(vm, at) is None]
    return max(usable, key=lambda vm: to_datetime(vm.created_at), default=None)


# ------------------------------------------------------------------------------------------------ command checks


def check_id(path: str, value: str, what: str) -> list[FieldViolation]:
    """An agency or issuer id: required, and matching :data:`ID_PATTERN`."""
    if not value:
        return [FieldViolation(path, f"{what} id is required", REQUIRED)]
    if not ID_PATTERN.fullmatch(value):
        return [FieldViolation(path, f"'{value}' is not a valid {what} id (1-64 letters, digits, '.', '_' or '-', "
                                     "starting with a letter or digit)", INVALID_FORMAT)]
    return []


def _http_url(url: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url))


def check_organisation(path: str, org: elements_pb2.Organisation, *, country_required: bool) -> list[FieldViolation]:
    """Legal name (with English), identifiers, country (ISO 3166-1 alpha-2) and homepage of an organisation."""
    out: list[FieldViolation] = []
    names = org.legal_name.values
    if not names or not any(v.strip() for v in names.values()):
        out.append(FieldViolation(f"{path}.legal_name", "legal name is required", REQUIRED))
    elif not names.get("en", "").strip():
        out.append(FieldViolation(f"{path}.legal_name", "must have an 'en' (English) entry", REQUIRED))
    for i, ident in enumerate(org.identifiers):
        for name in ("scheme", "value"):
            if not getattr(ident, name).strip():
                out.append(FieldViolation(f"{path}.identifiers[{i}].{name}", "is required", REQUIRED))
    code = org.country.code
    if not code:
        if country_required:
            out.append(FieldViolation(f"{path}.country.code", "ISO 3166-1 alpha-2 country code is required", REQUIRED))
    elif not vocab.is_country_code(code):
        out.append(FieldViolation(f"{path}.country.code", f"'{code}' is not an ISO 3166-1 alpha-2 country code",
                                  INVALID_FORMAT))
    if org.homepage and not _http_url(org.homepage):
        out.append(FieldViolation(f"{path}.homepage", f"'{org.homepage}' is not an http(s) URL", INVALID_FORMAT))
    return out


def check_accreditation(path: str, acc: registry_pb2.Accreditation) -> list[FieldViolation]:
    """Type, framework, accrediting body, maximum EQF level, validity window and decision reference."""
    out: list[FieldViolation] = []
    if acc.type == 0:
        out.append(FieldViolation(f"{path}.type", "accreditation / QA type is required", REQUIRED))
    elif acc.type not in vocab.ACCREDITATION_TYPES:
        out.append(FieldViolation(f"{path}.type", f"{acc.type} is not a known accreditation type", UNKNOWN_VOCABULARY))
    if not acc.framework.strip():
        out.append(FieldViolation(f"{path}.framework", "quality-assurance framework is required", REQUIRED))
    out.extend(check_organisation(f"{path}.accrediting_body", acc.accrediting_body, country_required=False))
    if not 1 <= acc.max_eqf_level <= 8:
        out.append(FieldViolation(f"{path}.max_eqf_level", "highest allowed EQF level (1..8) is required",
                                  REQUIRED if acc.max_eqf_level == 0 else OUT_OF_RANGE))
    # Stored as sent and read at every later issuance and verification: a Timestamp outside years 1-9999 would
    # make each of those raise, so it is refused here.
    unreadable = [v for name in ("valid_from", "valid_until") if acc.HasField(name)
                  for v in check_timestamp(f"{path}.{name}", getattr(acc, name))]
    out.extend(unreadable)
    if not acc.HasField("valid_from"):
        out.append(FieldViolation(f"{path}.valid_from", "start of validity is required", REQUIRED))
    elif not unreadable and acc.HasField("valid_until") and to_datetime(acc.valid_until) <= to_datetime(acc.valid_from):
        out.append(FieldViolation(f"{path}.valid_until", "must be after valid_from", INCONSISTENT))
    if not acc.decision_reference.strip():
        out.append(FieldViolation(f"{path}.decision_reference", "decision reference is required", REQUIRED))
    return out


def violations(*groups: Iterable[FieldViolation]) -> list[FieldViolation]:
    """All violations of several checks, in order."""
    return [v for group in groups for v in group]
