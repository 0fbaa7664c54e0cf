"""Prometheus metrics shared by every service: requests, errors, latencies, consumer lag, domain counters.

HTTP services count and time their requests with :class:`RequestMetrics` (pure ASGI) and serve ``GET /metrics``
on their own port (:func:`add_metrics_route`, or :func:`add_metrics_endpoint` plus the gateway's own entry
point); gRPC services start a small metrics HTTP server on ``MICROCRED_METRICS_PORT``
(:func:`start_metrics_server`). Labels never carry personal data; issuer ids are fine (organisations, bounded in
number); HTTP requests are labelled by route template, never by their concrete path (share tokens, result ids).

Several worker processes (the gateway's ``MICROCRED_HTTP_WORKERS``) use prometheus_client's multiprocess mode:
the parent makes a private directory (:func:`shared_across_workers`) and names it in ``PROMETHEUS_MULTIPROC_DIR``
before the workers are spawned; each worker's metrics are then memory-mapped files there, and ``/metrics``
answers the sum over all workers, whichever worker serves it (:func:`exposition`). prometheus_client picks the
file-backed values when it is imported, so the variable must be set before the workers import it: uvicorn spawns
them as fresh interpreters with the parent's environment.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import grpc
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

# Starlette's classes (FastAPI re-exports them): importing FastAPI itself costs a gRPC-only process, and the CLI,
# a quarter of a second at start.
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from microcred.settings import LOCAL_NETWORKS

if TYPE_CHECKING:
    from fastapi import FastAPI

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUESTS = Counter("microcred_requests_total", "Requests handled", ["service", "method", "code"])
LATENCY = Histogram("microcred_request_seconds", "Request latency", ["service", "method"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter("microcred_events_processed_total", "Kafka records applied", ["group", "topic", "event_type"])
DEAD_LETTERS = Counter("microcred_dead_letters_total", "Records sent to the dead-letter topic", ["group", "topic"])
# Every gateway worker consumes the same partitions (each its own status-list cache): the laggiest live worker's
# lag is the one that matters; a dead worker's value goes with it (mark_process_dead).
CONSUMER_LAG = Gauge("microcred_consumer_lag", "Records behind the partition end", ["group", "topic", "partition"],
                     multiprocess_mode="livemax")
CREDENTIALS_ISSUED = Counter("microcred_credentials_issued_total", "Credentials issued", ["issuer"])
#: The issuer's optional SHACL check of EDCs (outcome: conforms, violation, timeout, error).
EDC_SHACL_CHECKS = Counter("microcred_edc_shacl_checks_total", "EDC documents SHACL-checked at issuance", ["outcome"])
STATUS_CHANGES = Counter("microcred_status_changes_total", "Revocations, suspensions, reinstatements", ["action"])

#: Scope key an entry point that answers without FastAPI's router (the gateway's fast path) sets to the route
#: template it serves; ``scope["route"]``, set by the router, wins when both are there.
ROUTE_LABEL = "microcred.route"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# the label of a method is the client's word: anything unusual shares one series instead of making new ones
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# headers every reverse proxy and ingress controller adds: a request carrying one was relayed from elsewhere
_FORWARDED = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})


def start_metrics_server(port: int, host: str = "127.0.0.1") -> None:
    """Serve ``/metrics`` for a gRPC-only process (port 0 disables it)."""
    if port:
        start_http_server(port, addr=host)


class RequestMetrics:
    """ASGI middleware: counts (``microcred_requests_total``) and times (``microcred_request_seconds``) every HTTP
    request by service, ``"<METHOD> <route template>"`` and status code.

    Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``, which costs a task and a pair of memory streams per
    request. The status is the one ``http.response.start`` carried; an exception (or no response at all) counts
    as 500 and is re-raised. The route is ``scope["route"]``'s template after the application ran, else the
    :data:`ROUTE_LABEL` an entry point set, else ``"unmatched"``: never the concrete path. The labelled children
    are kept per (method, route, status), so a request costs two dictionary look-ups besides the increments.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request through the application, then record it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, watch)
        except Exception:
            status = 500
            raise
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) if route is not None else None
        if template is None:
            template = scope.get(ROUTE_LABEL, "unmatched")
        method = scope["method"]
        if method not in _METHODS:
            method = "OTHER"
        key = (method, template, status)
        series = self._series.get(key)
        if series is None:  # bounded: methods x routes x status codes
            label = f"{method} {template}"
            series = self._series[key] = (REQUESTS.labels(self.service, label, str(status)),
                                          LATENCY.labels(self.service, label))
        series[0].inc()
        series[1].observe(elapsed)


class MetricsClients:
    """Who ``GET /metrics`` answers: a direct peer in the allow list (``MICROCRED_METRICS_CLIENTS``), with no proxy
    in between.

    Why both, rather than only telling operators not to route ``/metrics`` through the ingress: the gateway is
    public, and a forgotten ingress rule would hand its traffic figures to anyone. Why the header check too: behind
    an ingress every request's peer is the ingress controller, itself a pod with a private address, so an address
    list alone would let the internet through; but every proxy adds ``X-Forwarded-For`` (or ``Forwarded``,
    ``X-Real-IP``) and a scraper sends none. Anyone refused gets the 404 of a missing route.
    """

    def __init__(self, cidrs: Sequence[str]) -> None:
        self.networks = tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs)

    def admits(self, scope: Scope) -> bool:
        """Whether the request in ``scope`` may read the metrics."""
        if any(name in _FORWARDED for name, _ in scope["headers"]):
            return False
        client = scope.get("client")
        if client is None:  # a Unix socket: a process on this host
            return True
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def exposition() -> bytes:
    """The metrics in Prometheus' text format: this process's, or every worker's summed in multiprocess mode."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()  # a fresh one per scrape, as prometheus_client's multiprocess docs do
    MultiProcessCollector(registry, path)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def add_metrics_endpoint(app: FastAPI, clients: Sequence[str] = LOCAL_NETWORKS) -> None:
    """``GET /metrics`` on ``app``, answered to :class:`MetricsClients` ``clients`` only."""
    allowed = MetricsClients(clients)

    # a plain def: FastAPI runs it in its thread pool, so reading the workers' files never blocks the event loop
    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not allowed.admits(request.scope):
            raise HTTPException(status_code=404)
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def add_metrics_route(app: FastAPI, service: str, clients: Sequence[str] = LOCAL_NETWORKS) -> None:
    """Count and time every request of ``app`` (:class:`RequestMetrics`, outermost of its own middleware: call
    this after the other ``add_middleware``) and expose ``GET /metrics``."""
    app.add_middleware(RequestMetrics, service=service)
    add_metrics_endpoint(app, clients)


@contextmanager
def shared_across_workers() -> Iterator[str]:
    """A fresh private directory named in ``PROMETHEUS_MULTIPROC_DIR`` while the block runs (start the worker
    processes in it), removed afterwards.

    Fresh: prometheus_client needs an empty directory at start (a previous run's files would be summed in);
    private (``mkdtemp``: mode 0700), since the workers trust what they read there. Counters of a worker that
    died stay (they count what it served); its live gauges go (:func:`~prometheus_client.multiprocess.
    mark_process_dead`, called by the supervisor).
    """
    path = tempfile.mkdtemp(prefix="microcred-metrics-")
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


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
