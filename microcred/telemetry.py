"""OpenTelemetry for every service, configured in one place.

Traces follow a credential across the platform: the gRPC server interceptor opens a span per call, the Kafka
publisher opens a PRODUCER span and writes its W3C trace context into each event envelope, and consumers
continue that trace in a CONSUMER span per record (:func:`consumer_span`). The exporter is configured by the
standard ``OTEL_*`` environment variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``, ...); with
none set, spans are created but not exported. Span attributes carry identifiers (event type and id, topic,
credential id), never personal data.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Sampler, SamplingResult
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, TraceState
from opentelemetry.util.types import Attributes

_configured: TracerProvider | None = None


class RecordWhenSeen(Sampler):
    """The configured sampler's decision (``OTEL_TRACES_SAMPLER``, by default parent-based always-on) when a
    span will be seen: a span processor is installed (an exporter, or a test's), or the incoming trace is
    sampled upstream (dropping it here would unsample it for every service after this one). Otherwise the span
    is not recorded: its context (trace and span ids) still propagates, but no attributes, events or timings
    are collected for nobody. Why: a recorded SDK span costs ≈ 18 µs to build and end, a dropped one ≈ 5 µs,
    and the gateway opens one per verification (docs/performance.md, "Spans nobody exports")."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner
        self.exporting = False
        """Set once a span processor is installed."""

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str, kind: SpanKind | None = None,
                      attributes: Attributes = None, links: Sequence[Link] | None = None,
                      trace_state: TraceState | None = None) -> SamplingResult:
        """Decide for one new span (see the class docstring)."""
        upstream = trace.get_current_span(parent_context).get_span_context()
        if self.exporting or (upstream.is_valid and upstream.trace_flags.sampled):
            return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)
        return ALWAYS_OFF.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        """The sampler's name, for diagnostics."""
        return f"RecordWhenSeen{{{self.inner.get_description()}}}"


def configure_telemetry(service_name: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the process-wide tracer provider once; later calls return the same provider.

    ``exporter`` is for tests (an in-memory exporter, spans exported synchronously). Otherwise an OTLP/HTTP
    exporter is added when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set.
    """
    global _configured
    if _configured is not None:
        if exporter is not None:
            _add_processor(_configured, SimpleSpanProcessor(exporter))
        return _configured
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", f"microcred-{service_name}")})
    provider = TracerProvider(resource=resource)
    provider.sampler = RecordWhenSeen(provider.sampler)  # before any tracer is made (tracers copy the sampler)
    if exporter is not None:
        _add_processor(provider, SimpleSpanProcessor(exporter))
    elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        _add_processor(provider, BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider


def _add_processor(provider: TracerProvider, processor: SpanProcessor) -> None:
    provider.add_span_processor(processor)
    if isinstance(provider.sampler, RecordWhenSeen):
        provider.sampler.exporting = True


@functools.cache
def tracer(name: str = "microcred") -> trace.Tracer:
    """The tracer for platform spans (cached: a tracer fetched before the provider is set is a proxy that
    follows the provider once it is, so caching is safe, and it saves a lookup on every span)."""
    return trace.get_tracer(name)


def inject_context(carrier: MutableMapping[str, str]) -> None:
    """Write the current trace context (``traceparent``, ``tracestate``) into ``carrier``."""
    propagate.inject(carrier)


@contextmanager
def producer_span(topic: str, count: int) -> Iterator[Span]:
    """A PRODUCER span around publishing ``count`` records to ``topic``."""
    with tracer().start_as_current_span(f"{topic} publish", kind=SpanKind.PRODUCER, attributes={
        "messaging.system": "kafka", "messaging.destination.name": topic, "messaging.batch.message_count": count,
    }) as span:
        yield span


@contextmanager
def consumer_span(topic: str, trace_context: Mapping[str, str], event_type: str, event_id: str,
                  group: str) -> Iterator[Span]:
    """A CONSUMER span for processing one record, continuing the trace the envelope carries (current inside)."""
    with trace.use_span(start_consumer_span(topic, trace_context, event_type, event_id, group), end_on_exit=True,
                        record_exception=True, set_status_on_exception=True) as span:
        yield span


def span_exit(span: Span) -> Callable[[type[BaseException] | None, BaseException | None, Any], bool]:
    """An exit callback (``ExitStack.push``) that ends ``span`` as ``use_span`` would: an exception recorded,
    the status set to error; the exception is not swallowed."""
    def exit_(kind: type[BaseException] | None, exc: BaseException | None, traceback: Any) -> bool:
        if exc is not None:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        span.end()
        return False
    return exit_


#: What the ASGI instrumentation copies from the request line into a server span (either semantic conventions).
_REQUEST_LINE = ("http.target", "http.url", "url.path", "url.full", "url.query")
#: The client's address and port, under the old and the new semantic conventions: an IP address is personal data
#: (GDPR recital 30), and the per-client rate limit, the only thing that needs it, reads it from the request.
_CLIENT_ADDRESS = ("net.peer.ip", "net.peer.port", "net.sock.peer.addr", "net.sock.peer.port", "client.address",
                   "client.port", "network.peer.address", "network.peer.port", "http.client_ip")


def http_server_request_hook(span: Span, scope: Mapping[str, Any]) -> None:
    """``server_request_hook`` of every service's FastAPI instrumentation: the request line's path and query in
    the server span are replaced by the route template (``/share/{token}``; '' when no route matched), and the
    client's address and port by '' (attributes cannot be removed once set).

    Why: bearer secrets travel in URLs (a share link's token, a presentation result id, its ``response_code``,
    the authorization code and ``state`` an issuer sends the learner's browser back to the wallet with), and the
    instrumentation would export them to the trace store with every request. The route says which endpoint was
    called, which is all an operator needs; the span name is already built from it."""
    if not span.is_recording():
        return
    recorded: Mapping[str, Any] = getattr(span, "attributes", None) or {}
    route = str(recorded.get("http.route") or "")
    for key in _REQUEST_LINE:
        if key in recorded:
            span.set_attribute(key, "" if key == "url.query" else route)
    for key in _CLIENT_ADDRESS:
        if key in recorded:
            span.set_attribute(key, "")


def start_consumer_span(topic: str, trace_context: Mapping[str, str], event_type: str, event_id: str,
                        group: str) -> Span:
    """:func:`consumer_span`'s span, started but not made current; the caller ends it. For the records of a
    batch but one: making each of a thousand spans current in turn (nested) cost a context switch per record
    for nothing, as only the innermost is current while the batch is applied (docs/performance.md)."""
    return tracer().start_span(f"{topic} process", context=propagate.extract(dict(trace_context)),
                               kind=SpanKind.CONSUMER, attributes={
                                   "messaging.system": "kafka", "messaging.destination.name": topic,
                                   "messaging.consumer.group.name": group, "microcred.event_type": event_type,
                                   "microcred.event_id": event_id})
