"""Status events as read-model writes: one mapping for the projector and for the command side, which writes a
change itself once its event is on Kafka (see :mod:`services.revocation.adapters.store`)."""

from __future__ import annotations

from datetime import UTC

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from services.revocation.domain import StatusWrite

__all__ = ["StatusEvent", "status_write"]

StatusEvent = events_pb2.CredentialRevoked | events_pb2.CredentialSuspended | events_pb2.CredentialReinstated


def status_write(envelope: EventEnvelope, payload: StatusEvent, partition: int, offset: int) -> StatusWrite:
    """The read-model write of a status event at ``partition``/``offset`` of the status topic (the projector's
    and, once the event is on Kafka, the command side's)."""
    return StatusWrite(payload.status_list_id, payload.status_list_index,
                       not isinstance(payload, events_pb2.CredentialReinstated), payload.credential_id,
                       envelope.occurred_at.ToDatetime(tzinfo=UTC), payload.actor, payload.reason,
                       partition, offset)
