"""Prometheus metrics shared by every service: requests, errors, latencies, consumer lag, domain counters.

HTTP services expose ``GET /metrics`` on their own port (:func:`add_metrics_route`); gRPC services start a small
metrics HTTP server on ``MICROCRED_METRICS_PORT`` (:func:`start_metrics_server`). Labels never carry personal
data; issuer ids are fine (organisations, bounded in number).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest, start_http_server

# Starlette's classes (FastAPI re-exports them): importing FastAPI itself costs a gRPC-only process, and the CLI,
# a quarter of a second at start.
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from fastapi import FastAPI

REQUESTS = Counter("microcred_requests_total", "Requests handled", ["service", "method", "code"])
LATENCY = Histogram("microcred_request_seconds", "Request latency", ["service", "method"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter("microcred_events_processed_total", "Kafka records applied", ["group", "topic", "event_type"])
DEAD_LETTERS = Counter("microcred_dead_letters_total", "Records sent to the dead-letter topic", ["group", "topic"])
CONSUMER_LAG = Gauge("microcred_consumer_lag", "Records behind the partition end", ["group", "topic", "partition"])
CREDENTIALS_ISSUED = Counter("microcred_credentials_issued_total", "Credentials issued", ["issuer"])
#: The issuer's optional SHACL check of EDCs (outcome: conforms, violation, timeout, error).
EDC_SHACL_CHECKS = Counter("microcred_edc_shacl_checks_total", "EDC documents SHACL-checked at issuance", ["outcome"])
STATUS_CHANGES = Counter("microcred_status_changes_total", "Revocations, suspensions, reinstatements", ["action"])


def start_metrics_server(port: int, host: str = "127.0.0.1") -> None:
    """Serve ``/metrics`` for a gRPC-only process (port 0 disables it)."""
    if port:
        start_http_server(port, addr=host)


def add_metrics_route(app: FastAPI, service: str) -> None:
    """Count and time every request of ``app`` and expose ``GET /metrics``."""

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        route = request.scope.get("route")
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route", route)
            path = getattr(route, "path", "unmatched")  # the template, never the concrete (possibly secret) path
            LATENCY.labels(service, f"{request.method} {path}").observe(time.perf_counter() - started)
            REQUESTS.labels(service, f"{request.method} {path}", str(status)).inc()

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class GrpcMetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Counts and times unary gRPC calls by method and status code."""

    def __init__(self, service: str) -> None:
        self._service = service

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]],
                                handler_call_details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        inner = handler.unary_unary
        service = self._service

        async def timed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            code = "OK"
            try:
                return await inner(request, context)
            except Exception:
                code = context.code().name if context.code() else "UNKNOWN"
                raise
            finally:
                LATENCY.labels(service, method).observe(time.perf_counter() - started)
                REQUESTS.labels(service, method, code).inc()

        return grpc.unary_unary_rpc_method_handler(
            timed, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)
