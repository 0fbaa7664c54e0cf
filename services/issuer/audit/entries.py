"""From events to audit entries: who did what to which credential or issuer, when and why (pure)."""

from __future__ import annotations

from google.protobuf.message import Message

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import audit_pb2, events_pb2

# Event types an agency audits; other events (list publications, reservations) are operational, not actions.
AUDITED = {
    "CredentialIssued", "CredentialRevoked", "CredentialSuspended", "CredentialReinstated",
    "AgencyRegistered", "IssuerRegistered", "IssuerAccredited", "AccreditationSuspended",
    "AccreditationWithdrawn", "IssuerKeyRotated", "PathwayPublished",
    "LearnerErased",  # subject: the learner's pseudonym (docs/privacy.md)
}


def _subject(envelope: EventEnvelope, payload: Message) -> str:
    for name in ("credential_id", "issuer_id", "agency_id", "pathway_id"):
        if name in payload.DESCRIPTOR.fields_by_name and getattr(payload, name):
            return str(getattr(payload, name))
    return envelope.subject


def _actor(envelope: EventEnvelope, payload: Message) -> str:
    if envelope.actor:
        return envelope.actor
    if "actor" in payload.DESCRIPTOR.fields_by_name and getattr(payload, "actor"):  # noqa: B009
        return str(getattr(payload, "actor"))  # noqa: B009
    if isinstance(payload, events_pb2.CredentialIssued):
        return payload.issuer_id
    return ""


def audit_entry(envelope: EventEnvelope, payload: Message) -> audit_pb2.AuditEntry | None:
    """The audit entry an event stands for, or None when the event is not an audited action."""
    if envelope.event_type not in AUDITED:
        return None
    reason = getattr(payload, "reason", "") if "reason" in payload.DESCRIPTOR.fields_by_name else ""
    entry = audit_pb2.AuditEntry(
        event_id=envelope.event_id, agency_id=envelope.tenant, actor=_actor(envelope, payload),
        action=envelope.event_type, subject=_subject(envelope, payload), reason=str(reason),
        issuer_id=envelope.issuer_id or str(getattr(payload, "issuer_id", "") or ""),
    )
    entry.occurred_at.CopyFrom(envelope.occurred_at)
    # A correction names both credentials: the replacement's issue names the old one, the old one's revocation
    # names the replacement (with the issuer's reason for correcting on the issue).
    if isinstance(payload, events_pb2.CredentialIssued) and payload.replaces:
        entry.replaces, entry.reason = payload.replaces, payload.correction_reason
    elif isinstance(payload, events_pb2.CredentialRevoked):
        entry.superseded_by = payload.superseded_by
    return entry
