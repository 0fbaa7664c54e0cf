"""Spans are recorded only when something will see them (microcred.telemetry.RecordWhenSeen)."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from microcred.telemetry import RecordWhenSeen


def _provider() -> tuple[TracerProvider, RecordWhenSeen]:
    sampler = RecordWhenSeen(ParentBased(ALWAYS_ON))
    return TracerProvider(sampler=sampler), sampler


def _remote_parent(sampled: bool) -> trace.Span:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    return NonRecordingSpan(SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=flags))


def test_without_a_processor_a_span_is_not_recorded_but_has_a_context() -> None:
    provider, _ = _provider()
    span = provider.get_tracer("t").start_span("POST /v1/verify")
    assert not span.is_recording()
    assert span.get_span_context().is_valid and not span.get_span_context().trace_flags.sampled


def test_a_trace_sampled_upstream_stays_sampled_for_the_services_after_this_one() -> None:
    provider, _ = _provider()
    parent = trace.set_span_in_context(_remote_parent(sampled=True))
    span = provider.get_tracer("t").start_span("POST /v1/verify", context=parent)
    assert span.is_recording() and span.get_span_context().trace_flags.sampled
    assert span.get_span_context().trace_id == 0x1234
    unsampled = trace.set_span_in_context(_remote_parent(sampled=False))
    assert not provider.get_tracer("t").start_span("POST /v1/verify", context=unsampled).is_recording()


def test_once_an_exporter_is_installed_spans_are_recorded_and_exported() -> None:
    provider, sampler = _provider()
    tracer = provider.get_tracer("t")  # made before the exporter: tracers share the sampler
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sampler.exporting = True
    with tracer.start_as_current_span("POST /v1/verify") as span:
        assert span.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["POST /v1/verify"]
    assert sampler.get_description().startswith("RecordWhenSeen{ParentBased{")


def test_span_exit_ends_a_span_as_use_span_does_recording_the_exception() -> None:
    from contextlib import ExitStack

    from opentelemetry.trace import StatusCode

    from microcred.telemetry import span_exit

    provider, sampler = _provider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sampler.exporting = True
    tracer = provider.get_tracer("t")
    try:
        with ExitStack() as spans:
            spans.push(span_exit(tracer.start_span("first record")))
            spans.push(span_exit(tracer.start_span("second record")))
            raise KeyError("batch failed")
    except KeyError:
        pass
    with ExitStack() as spans:
        spans.push(span_exit(tracer.start_span("fine")))
    ended = {span.name: span for span in exporter.get_finished_spans()}
    assert set(ended) == {"first record", "second record", "fine"}
    for name in ("first record", "second record"):
        assert ended[name].status.status_code is StatusCode.ERROR
        assert [event.name for event in ended[name].events] == ["exception"]
    assert ended["fine"].status.status_code is StatusCode.UNSET and not ended["fine"].events
