"""The running revocation service: Redis, Kafka producer and projector, publisher, gRPC and HTTP servers.

:class:`RevocationApp` is what ``main.py`` runs and what tests and benchmarks start in-process (ports 0).
Start-up order matters for correctness:

1. connect Redis and the Kafka producer, load the signing key, bind the HTTP socket (the list base URL needs
   its port);
2. start the projector and wait until it has applied everything already in the topics (after a Redis wipe
   this is the rebuild by replay);
3. re-sign lists whose publication is missing, stale or expiring, then start the publisher loop;
4. only then serve gRPC (health SERVING) and HTTP, so nobody sees a half-rebuilt state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any, cast

import grpc
import uvicorn
from redis.asyncio import Redis

from microcred.crypto.keystore import KeyStore
from microcred.gen.microcred.v1 import revocation_pb2, revocation_pb2_grpc
from microcred.grpc_server import GrpcServer, TlsFiles, create_server
from microcred.http_service import EmbeddedUvicorn
from microcred.kafka.consumer import BATCHING_FETCH, ConsumerRunner
from microcred.kafka.publisher import EventPublisher, KafkaEventPublisher
from microcred.kafka.topic_ends import TopicEnds
from microcred.kafka.topics import CREDENTIALS, STATUS
from microcred.lifecycle import connect_redis_client, one_slot
from microcred.registry.projector import RegistryProjection, start_registry_projection
from microcred.registry.redis_registry import RedisRegistry
from microcred.status.cache import topic_end_offsets
from microcred.storage.positions import ProjectionEpoch
from services.revocation.adapters.keys import StatusListSigner, load_signer, open_keystore
from services.revocation.adapters.store import RevocationStore
from services.revocation.api.grpc import RevocationServicer
from services.revocation.api.http import create_http_app
from services.revocation.api.token_status import (
    TokenStatusPublisher,
    TokenStatusStore,
    add_token_status_routes,
    load_token_signer,
)
from services.revocation.application import RevocationCommands
from services.revocation.config import Settings
from services.revocation.events.projector import ProjectionTracker, RevocationProjector
from services.revocation.events.publisher import StatusListPublisher

__all__ = ["SERVICE_NAMES", "RevocationApp"]

log = logging.getLogger(__name__)

SERVICE_NAMES = (revocation_pb2.DESCRIPTOR.services_by_name["RevocationService"].full_name,)
TOPICS = (CREDENTIALS.name, STATUS.name)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class RevocationApp:
    """All moving parts of one revocation service instance."""

    def __init__(self, settings: Settings, keystore: KeyStore | None = None,
                 catch_up_timeout: float = 120.0) -> None:
        self.settings = settings
        self._keystore = keystore
        self._catch_up_timeout = catch_up_timeout
        self._tasks: list[asyncio.Task[None]] = []
        self._health: dict[str, Any] = {"kafka_ready": False}
        self.redis: Redis | None = None
        self.prefix = settings.revocation_redis_prefix
        """The read model's key prefix (a hash tag on a Redis Cluster)."""
        self.events: KafkaEventPublisher | None = None
        self.runner: ConsumerRunner | None = None
        self.guard: ProjectionEpoch | None = None
        self.grpc: GrpcServer | None = None
        self.http: EmbeddedUvicorn | None = None
        self.signer: StatusListSigner | None = None
        self.store: RevocationStore | None = None
        self.publisher: StatusListPublisher | None = None
        self.projector: RevocationProjector | None = None
        self.commands: RevocationCommands | None = None
        self.registry_projection: RegistryProjection | None = None
        self.registry: RedisRegistry | None = None
        self.credential_ends: TopicEnds | None = None
        """Where the credentials topic ends: a credential not found is looked up again once it is read."""
        self.http_port = 0
        self.base_url = ""

    @property
    def grpc_port(self) -> int:
        """The bound gRPC port."""
        assert self.grpc is not None, "not started"
        return self.grpc.port

    async def start(self) -> None:
        """Start everything; return once the service answers gRPC and HTTP."""
        s = self.settings
        started = time.monotonic()
        self.signer = load_signer(self._keystore or open_keystore(s), s.signer_key_id)  # fails fast without a KEK
        # A single node or a Redis Cluster (MICROCRED_REDIS_URL's scheme). On a cluster each read model keeps its
        # keys in one slot (one_slot: its prefix as a hash tag), so every script and MULTI (state with its Kafka
        # positions) is atomic as on one node; the adapters are typed for the single node's client, whose commands
        # a RedisCluster shares (tests/integration/test_revocation_cluster.py runs the service on one).
        client = await connect_redis_client(s.redis_url)
        self.redis = cast("Redis", client)
        self._health["redis"] = self.redis
        self.prefix = one_slot(client, s.revocation_redis_prefix)
        self.store = RevocationStore(self.redis, self.prefix)
        # the issuers' pinned client-certificate fingerprints (checked on every issuer call, as issuance does)
        self.registry_projection = await start_registry_projection(
            s.kafka_bootstrap, self.redis, group_id=f"{s.revocation_consumer_group}-registry",
            namespace=one_slot(client, s.resolved_registry_namespace))
        self.registry = self.registry_projection.registry
        self.events = KafkaEventPublisher(s.kafka_bootstrap, client_id="revocation")
        await self.events.start()
        events: EventPublisher = self.events

        sock = _bind(s.http_host, s.http_port)
        self.http_port = sock.getsockname()[1]
        host = "127.0.0.1" if s.http_host in ("0.0.0.0", "::", "") else s.http_host
        self.base_url = (s.status_base_url or f"http://{host}:{self.http_port}").rstrip("/")

        self.publisher = StatusListPublisher(
            self.store, events, self.signer, ttl_seconds=s.status_list_ttl_seconds,
            validity_seconds=s.status_list_validity_seconds, batch_window=s.publish_batch_ms / 1000,
            refresh_check=s.refresh_check_seconds, ready=self._read_model_ready)
        tracker = ProjectionTracker(self.store.position)
        self.projector = RevocationProjector(self.store, tracker, on_lists_changed=self.publisher.notify)
        self.guard = ProjectionEpoch(self.redis, self.store.projection)
        self.runner = ConsumerRunner(s.kafka_bootstrap, s.revocation_consumer_group, TOPICS,
                                     self.projector.handle, self.projector.lookup, guard=self.guard,
                                     batch_handler=self.projector.handle_batch, fetch=BATCHING_FETCH)
        await self.runner.start()
        self._tasks.append(asyncio.create_task(self.runner.run(), name="revocation-projector"))
        self.credential_ends = TopicEnds(s.kafka_bootstrap, CREDENTIALS.name)
        await self.credential_ends.start()
        await self._catch_up()
        if not await self.registry_projection.wait_available(self._catch_up_timeout):
            log.warning("trust registry still replaying after start-up timeout; issuer calls answer UNAVAILABLE")
        self._health["kafka_ready"] = True

        reconciled = await self.publisher.publish(await self.publisher.due_for_refresh()
                                                  | await self.store.pop_dirty())
        self._tasks.append(asyncio.create_task(self.publisher.run(), name="revocation-publisher"))

        self.commands = RevocationCommands(
            self.store, events, tracker, base_url=self.base_url, ensure_published=self.publisher.publish,
            max_block_size=s.max_block_size, max_bulk_items=s.max_bulk_items,
            projection_wait_seconds=s.projection_wait_seconds, guard=self.guard,
            registry=self.registry, registry_available=self.registry_projection.available,
            list_size=s.status_list_size, on_lists_changed=self.publisher.notify,
            credential_ends=self.credential_ends.last_records)
        servicer = RevocationServicer(self.commands)

        def register(server: grpc.aio.Server) -> None:
            revocation_pb2_grpc.add_RevocationServiceServicer_to_server(servicer, server)

        self.grpc = create_server(TlsFiles.from_dir(s.tls_dir), f"{s.grpc_host}:{s.grpc_port}", SERVICE_NAMES,
                                  register, health_address=s.grpc_health_address)
        await self.grpc.start()

        app = create_http_app(self.store, s.status_list_ttl_seconds, self._health, signer={
            "did": self.signer.did, "verificationMethod": self.signer.verification_method},
            ready=self._read_model_ready)
        if s.token_status_cert_file is not None and s.token_status_key_file is not None:
            token_signer = load_token_signer(s.token_status_cert_file, s.token_status_key_file, iss=self.base_url)
            add_token_status_routes(app, TokenStatusPublisher(
                TokenStatusStore(self.redis, self.prefix), token_signer, base_url=self.base_url,
                ttl_seconds=s.status_list_ttl_seconds, lifetime_seconds=s.status_list_validity_seconds),
                ready=self._read_model_ready)
        self.http = EmbeddedUvicorn(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
        self._tasks.append(asyncio.create_task(self.http.serve(sockets=[sock]), name="revocation-http"))
        while not self.http.started:
            if self._tasks[-1].done():
                await self._tasks[-1]
                raise RuntimeError("the HTTP server stopped during start-up")
            await asyncio.sleep(0.01)
        log.info("revocation serving", extra={
            "grpc_port": self.grpc.port, "http_port": self.http_port, "status_base_url": self.base_url,
            "signer": self.signer.did, "lists_republished": len(reconciled),
            "start_seconds": round(time.monotonic() - started, 2)})

    async def _read_model_ready(self) -> bool:
        """False while Redis lost the read model or it is being rebuilt from Kafka."""
        return self.guard is None or await self.guard.ready() is not None

    async def _catch_up(self) -> None:
        assert self.store is not None and self.runner is not None
        ends = await topic_end_offsets(self.settings.kafka_bootstrap, TOPICS)
        deadline = time.monotonic() + self._catch_up_timeout
        while True:
            behind = 0
            for tp, end in ends.items():
                if end > 0 and (await self.store.position(tp.topic, tp.partition) or 0) < end:
                    behind += 1
            if not behind:
                return
            if self._tasks[0].done():
                await self._tasks[0]  # the projector died: surface its error
                raise RuntimeError("the projector stopped during start-up")
            if time.monotonic() > deadline:
                log.warning("projector still behind after start-up timeout; serving anyway",
                            extra={"partitions_behind": behind})
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop serving, then stop the background tasks and close connections."""
        self._health["kafka_ready"] = False
        if self.grpc is not None:
            await self.grpc.stop(grace=2.0)
        if self.http is not None:
            self.http.should_exit = True
        if self.publisher is not None:
            await self.publisher.stop()
        if self.runner is not None:
            await self.runner.stop()
        if self.registry_projection is not None:
            await self.registry_projection.stop()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)
        self._tasks.clear()
        if self.events is not None:
            await self.events.stop()
        if self.credential_ends is not None:
            await self.credential_ends.stop()
        if self.redis is not None:
            await self.redis.aclose()
        log.info("revocation stopped")
