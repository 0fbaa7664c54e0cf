"""Versioned event envelopes: wrap a protobuf payload, and unwrap it again on the consuming side.

Every record on Kafka is an ``EventEnvelope`` (``proto/microcred/v1/events.proto``): event id, type, schema
version, time, tenant (agency), issuer, W3C trace context, and the payload bytes with their full protobuf
type name. Consumers decode through :func:`open_envelope`, which refuses unknown types and undecodable bytes
with :class:`PoisonEvent`, so the runner can dead-letter them instead of stopping.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from google.protobuf import symbol_database
from google.protobuf.message import DecodeError, Message
from opentelemetry import propagate

from microcred.gen.microcred.v1 import events_pb2
from microcred.gen.microcred.v1.events_pb2 import EventEnvelope

__all__ = ["SCHEMA_VERSION", "EventEnvelope", "PoisonEvent", "new_envelope", "open_envelope", "trace_headers"]

SCHEMA_VERSION = 1

# Upcasters turn an older payload version into the current one: (payload type, version) -> function.
Upcaster = Callable[[bytes], bytes]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class PoisonEvent(Exception):
    """A record that can never be applied (undecodable, unknown type, unsupported version)."""

    retriable = False


def new_envelope(payload: Message, *, subject: str = "", tenant: str = "", issuer_id: str = "", actor: str = "",
                 event_id: str | None = None, occurred_at: datetime | None = None) -> EventEnvelope:
    """Wrap ``payload`` in an envelope carrying a fresh event id and the current trace context.

    ``subject`` is the aggregate the event is about (credential, issuer, list or pathway id); it is also the
    Kafka record key. ``actor`` is who caused the change (from the caller's certificate), for the audit log.
    """
    envelope = EventEnvelope(
        event_id=event_id or str(uuid.uuid4()),
        event_type=payload.DESCRIPTOR.name,
        schema_version=SCHEMA_VERSION,
        tenant=tenant,
        issuer_id=issuer_id,
        subject=subject,
        actor=actor,
        payload=payload.SerializeToString(deterministic=True),
        payload_type=payload.DESCRIPTOR.full_name,
    )
    envelope.occurred_at.FromDatetime(occurred_at or datetime.now(UTC))
    propagate.inject(envelope.trace_context)  # the Kafka publisher re-stamps it inside its PRODUCER span
    return envelope


def open_envelope(raw: bytes) -> tuple[EventEnvelope, Message]:
    """Decode a Kafka record value into its envelope and typed payload, or raise :class:`PoisonEvent`."""
    envelope = EventEnvelope()
    try:
        envelope.ParseFromString(raw)
    except DecodeError as exc:
        raise PoisonEvent(f"undecodable envelope: {exc}") from None
    if not envelope.event_id or not envelope.payload_type:
        raise PoisonEvent("envelope lacks event_id or payload_type")
    payload_bytes = envelope.payload
    version = envelope.schema_version
    while version < SCHEMA_VERSION:
        upcast = UPCASTERS.get((envelope.payload_type, version))
        if upcast is None:
            raise PoisonEvent(f"no upcaster for {envelope.payload_type} v{version}")
        payload_bytes, version = upcast(payload_bytes), version + 1
    if version > SCHEMA_VERSION:
        raise PoisonEvent(f"{envelope.payload_type} v{version} is newer than this consumer (v{SCHEMA_VERSION})")
    try:
        cls = symbol_database.Default().GetSymbol(envelope.payload_type)
    except KeyError:
        raise PoisonEvent(f"unknown payload type {envelope.payload_type!r}") from None
    payload: Message = cls()
    try:
        payload.ParseFromString(payload_bytes)
    except DecodeError as exc:
        raise PoisonEvent(f"undecodable {envelope.payload_type}: {exc}") from None
    return envelope, payload


def trace_headers(envelope: EventEnvelope) -> list[tuple[str, bytes]]:
    """Kafka headers: event type and id (for tooling) and the W3C trace context."""
    headers = [("event_type", envelope.event_type.encode()), ("event_id", envelope.event_id.encode())]
    headers.extend((k, v.encode()) for k, v in envelope.trace_context.items())
    return headers


TRACE_HEADERS = ("traceparent", "tracestate")


def record_trace_context(headers: Sequence[tuple[str, bytes]] | None, envelope: EventEnvelope) -> dict[str, str]:
    """The W3C trace context of a consumed record: its Kafka headers, else the copy inside the envelope.

    The headers are what standard Kafka tooling (and other OpenTelemetry instrumentations) read and write; the
    envelope keeps a copy so that the context survives tools that drop headers (mirroring, some connectors).
    """
    found = {k: v.decode("ascii", "replace") for k, v in headers or () if k in TRACE_HEADERS}
    return found if "traceparent" in found else dict(envelope.trace_context)


# Importing the module registers every payload type in the default symbol database.
_REGISTERED = events_pb2.DESCRIPTOR
