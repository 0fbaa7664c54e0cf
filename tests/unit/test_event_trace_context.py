"""Trace context on events: written into the envelope and the Kafka headers; read from the headers first."""

from __future__ import annotations

from microcred.events.envelope import new_envelope, record_trace_context, trace_headers
from microcred.gen.microcred.v1 import events_pb2

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
OTHER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _envelope(traceparent: str = "") -> events_pb2.EventEnvelope:
    envelope = new_envelope(events_pb2.CredentialRevoked(credential_id="urn:uuid:1"), subject="urn:uuid:1")
    envelope.trace_context.clear()
    if traceparent:
        envelope.trace_context["traceparent"] = traceparent
    return envelope


def test_headers_carry_the_envelope_trace_context() -> None:
    headers = dict(trace_headers(_envelope(PARENT)))
    assert headers["traceparent"] == PARENT.encode()
    assert headers["event_type"] == b"CredentialRevoked"


def test_the_kafka_headers_win_over_the_envelope_copy() -> None:
    headers = [("event_type", b"CredentialRevoked"), ("traceparent", OTHER.encode()), ("tracestate", b"a=b")]
    assert record_trace_context(headers, _envelope(PARENT)) == {"traceparent": OTHER, "tracestate": "a=b"}


def test_without_trace_headers_the_envelope_copy_is_used() -> None:
    assert record_trace_context([("event_type", b"x")], _envelope(PARENT)) == {"traceparent": PARENT}
    assert record_trace_context(None, _envelope(PARENT)) == {"traceparent": PARENT}
    assert record_trace_context([], _envelope()) == {}
