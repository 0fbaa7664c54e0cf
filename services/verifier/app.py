"""The verifier gateway's composition root: settings, Redis, Kafka consumers and the wallet, wired into the gateway.

Start-up (the lifespan): Redis; the trust-registry projection (``microcred.registry.v1`` -> Redis read model);
the status-list cache (``StatusListPublished`` on ``microcred.status.v1`` -> memory); one httpx client (wallet
share links, and status lists under the platform's own URL prefixes); then the verification ports; finally the
objects built so far are frozen out of the garbage collector (``gc.freeze``). Shutdown stops them in reverse
order. ``MICROCRED_HTTP_WORKERS`` > 1 runs that many uvicorn worker processes, each with all of the above.

Tracing: ``POST /v1/verify`` gets its SERVER span from the fast path (:mod:`~.api.fastpath`); every other route
from the OpenTelemetry FastAPI instrumentation. Requests shed by admission control (:mod:`~.api.admission`) are
not traced.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from cryptography import x509
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from microcred.elm.trusted_list import load_trusted_lists
from microcred.http_service import add_health_route
from microcred.lifecycle import connect_redis_client, one_slot, redis_client_from_url
from microcred.logs import configure_logging
from microcred.metrics import add_metrics_endpoint
from microcred.oid4vp.webhook import WebhookPolicy
from microcred.registry.projector import start_registry_projection
from microcred.registry.redis_registry import RedisRegistry
from microcred.sdjwt.x5c import load_certificates
from microcred.status.cache import StatusListCache
from microcred.telemetry import configure_telemetry, http_server_request_hook
from microcred.verification import ResultCache, VerificationPorts
from microcred.verification.accreditation import TrustDirectory
from microcred.verification.canonical import Canonicalizer, ProcessRunner
from microcred.verification.keys import (
    ChainKeyResolver,
    ControllerDocumentResolver,
    DidJwkResolver,
    DidKeyResolver,
    RegistryKeyResolver,
)
from services.verifier.adapters.presentation_store import PresentationStore
from services.verifier.adapters.rate_limit import RedisBucketStore
from services.verifier.adapters.sources import GatewayStatusSource, PlatformUrls, WalletClient
from services.verifier.adapters.token_status import TokenStatusHttpSource
from services.verifier.adapters.webhook import HttpWebhookSender, WebhookDispatcher, WebhookOutbox
from services.verifier.api.presentation import presentation_router
from services.verifier.api.presentation_pages import presentation_pages_router
from services.verifier.api.presentation_service import PresentationService, client_identity
from services.verifier.api.rate_limit import SharedClientBuckets
from services.verifier.api.routes import create_gateway_app
from services.verifier.api.trust import trust_router
from services.verifier.api.vcapi import router as vcapi_router
from services.verifier.application import Gateway
from services.verifier.config import Settings


def _controller_documents(settings: Settings) -> list[dict[str, Any]]:
    if settings.controller_documents is None:
        return []
    documents = json.loads(settings.controller_documents.read_text(encoding="utf-8"))
    if not isinstance(documents, list):
        raise ValueError(f"{settings.controller_documents} must hold a JSON list of controller documents")
    return documents


def _x509_anchors(settings: Settings) -> tuple[x509.Certificate, ...]:
    listed = tuple(load_trusted_lists(settings.eu_trusted_list_files))  # EDC seals' CAs (microcred.elm)
    if settings.x509_trust_anchors_file is None:
        return listed
    return tuple(load_certificates(settings.x509_trust_anchors_file.read_bytes())) + listed


def create_app(settings: Settings) -> FastAPI:
    """The verifier's FastAPI application; dependencies connect in the lifespan."""
    log = configure_logging("verifier", settings.log_level)
    configure_telemetry("verifier")
    # A single node or a Redis Cluster (the URL's scheme). On a cluster the registry's read model is kept in one
    # slot (one_slot: its namespace a hash tag); the OpenID4VP stores and the rate-limit buckets tag their own
    # keys (docs/redis-keys.md). RedisRegistry is typed for the single node's client, whose commands a cluster
    # client shares (tests/integration/test_oid4vp_gateway.py runs the gateway on both).
    client = redis_client_from_url(settings.redis_url, decode_responses=False)
    redis = cast("Redis", client)
    # its own client: a rate-limit answer is waited for milliseconds, never the read models' long timeout
    limit_timeout = settings.rate_limit_timeout_ms / 1000
    limits_redis = redis_client_from_url(settings.redis_url, decode_responses=False, socket_timeout=limit_timeout,
                                         socket_connect_timeout=limit_timeout)
    namespace = one_slot(client, settings.registry_namespace)
    registry = RedisRegistry(redis, namespace)
    controllers = ControllerDocumentResolver(_controller_documents(settings))
    deps: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for cluster in (c for c in (client, limits_redis) if isinstance(c, RedisCluster)):
            await cluster.initialize()  # before requests use it concurrently
        deps["redis"] = await connect_redis_client(settings.redis_url)
        projection = await start_registry_projection(settings.kafka_bootstrap, redis, settings.registry_group,
                                                     namespace=namespace)
        signers = settings.status_list_signers
        cache = StatusListCache(settings.kafka_bootstrap, trusted_signers=signers)
        await cache.start()
        http = httpx.AsyncClient(timeout=settings.http_fetch_timeout_seconds, follow_redirects=False)
        # JSON-LD processing of unknown shapes in a child process with a deadline (never on this event loop)
        runner = ProcessRunner()
        await asyncio.to_thread(runner.start)
        canon = Canonicalizer(runner)
        ports = VerificationPorts(
            keys=ChainKeyResolver(DidKeyResolver(), DidJwkResolver(),
                                  RegistryKeyResolver(registry, ttl=settings.registry_cache_seconds), controllers),
            status=GatewayStatusSource(cache, http, settings.status_url_prefixes),
            trust=registry,
            cache=ResultCache(settings.result_cache_entries) if settings.result_cache_entries else None,
            status_list_signers=frozenset(signers) if signers is not None else None,
            directory=TrustDirectory(registry, fresh_ttl=settings.registry_cache_seconds),
            canon=canon,
            x509_anchors=_x509_anchors(settings),
            token_status=TokenStatusHttpSource(http, PlatformUrls(settings.token_status_url_prefixes)),
        )
        wallet = WalletClient(settings.wallet_url, http) if settings.wallet_url else None
        app.state.gateway = Gateway(ports, wallet)
        identity, store = client_identity(settings), PresentationStore(
            deps["redis"], retention=settings.oid4vp_result_retention_seconds)
        webhooks = None
        if settings.oid4vp_webhook_hosts:  # signed result webhooks (docs/oid4vp.md)
            if identity is None or identity.key is None:
                raise ValueError("MICROCRED_OID4VP_WEBHOOK_HOSTS needs the gateway's signing key and host "
                                 "(MICROCRED_OID4VP_CLIENT_HOST, _SIGNING_CERT_FILE, _SIGNING_KEY_FILE): webhooks are "
                                 "signed with it")
            webhooks = WebhookDispatcher(
                WebhookOutbox(deps["redis"]), HttpWebhookSender(settings.oid4vp_webhook_timeout_seconds),
                key=identity.key, x5c=identity.x5c, document=lambda rid: app.state.presentations.document(rid),
                answered=store.answered, attempts=settings.oid4vp_webhook_attempts,
                backoff=settings.oid4vp_webhook_backoff_seconds,
                timeout=settings.oid4vp_webhook_timeout_seconds)  # with the retries, sets the lease
        app.state.presentations = PresentationService(  # OpenID4VP (docs/oid4vp.md)
            store, lambda: app.state.gateway.ports, identity=identity, lifetime=settings.oid4vp_request_seconds,
            webhooks=webhooks, webhook_policy=WebhookPolicy.of(settings.oid4vp_webhook_hosts, settings.environment),
            link_scheme=settings.oid4vp_link_scheme)
        if webhooks is not None:
            webhooks.start()  # this worker's sweep for unanswered requests (their results read "expired")
        app.state.status_cache = cache
        deps["kafka_ready"] = await cache.wait_ready(30)
        ready_later = None
        if not deps["kafka_ready"]:  # still replaying: serve (statuses read "unknown"), turn healthy once caught up
            async def mark_ready() -> None:
                deps["kafka_ready"] = await cache.wait_ready(3600)
            ready_later = asyncio.create_task(mark_ready())
        # what start-up built (contexts, code, registry, lists) lives as long as the process: move it out of the
        # collector's reach, so a full collection walks only what requests left behind (~80 ms -> ~1 ms pauses)
        gc.collect()
        gc.freeze()
        log.info("verifier serving", extra={"http_port": settings.http_port, "status_lists": len(cache)})
        try:
            yield
        finally:
            if ready_later is not None:
                ready_later.cancel()
            deps["kafka_ready"] = False
            if webhooks is not None:
                await webhooks.close()
            await http.aclose()
            canon.close()
            await cache.stop()
            await projection.stop()
            await deps["redis"].aclose()
            await redis.aclose()
            await limits_redis.aclose()
            log.info("verifier stopped")

    app = create_gateway_app(settings, lifespan=lifespan, extra_routers=[trust_router(registry)])
    # the limit in total across the replicas of one deployment (those that share its registry namespace)
    if settings.rate_limit_shared and app.admission is not None:
        store = RedisBucketStore(limits_redis, f"{namespace}:ratelimit")
        app.admission.use_shared(SharedClientBuckets(store, settings.rate_limit_per_second, settings.rate_limit_burst,
                                                     timeout=limit_timeout))
    app.include_router(vcapi_router)  # VC-API POST /credentials/verify, /presentations/verify
    app.include_router(presentation_router(settings.oid4vp_public_url))  # OpenID4VP verifier (issue 21)
    app.include_router(presentation_pages_router(settings.oid4vp_public_url))  # the employer's OpenID4VP pages
    add_health_route(app, deps)
    # Prometheus: counted at the gateway's entry point (the fast path and refusals never reach FastAPI's stack);
    # /metrics sums every worker's (microcred.metrics, multiprocess mode) for the allowed clients only
    add_metrics_endpoint(app, settings.metrics_clients)
    app.measure("verifier")
    # one server span per request; the per-message receive/send spans cost more than they tell
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,metrics", exclude_spans=["receive", "send"],
                                       server_request_hook=http_server_request_hook)  # routes, not secrets
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn services.verifier.app:app_from_environment --factory [--workers N]``."""
    return create_app(Settings())
