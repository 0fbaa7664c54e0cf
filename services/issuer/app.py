"""The running issuer service: every part wired together, started and stopped in order.

:class:`IssuerApp` is what ``main.py`` runs and what integration tests and the benchmark start in-process
(gRPC port 0). Start order: Redis and the Kafka producer; the registry projection and the credential-store
projection (rebuild by replay when Redis is empty); the revocation client and the status-index pool; the
signing workers; the offer projection (open OpenID4VCI offers rebuilt by replay when Redis was lost); the audit
projection; then the mTLS gRPC server with IssuerService, RegistryService and
AuditService, once the credential store and the trust-registry read model have caught up (or after
``MICROCRED_STORE_CATCH_UP_SECONDS`` each; issuing answers UNAVAILABLE until they have).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import grpc
from redis.asyncio import Redis

from microcred.crypto.keystore import KeyStore
from microcred.gen.microcred.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    issuer_pb2,
    issuer_pb2_grpc,
    privacy_pb2,
    privacy_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
    revocation_pb2_grpc,
)
from microcred.grpc_server import GrpcServer, TlsFiles, client_channel, create_server
from microcred.jsonld.loader import verify_all_contexts
from microcred.kafka.consumer import ConsumerRunner
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.lifecycle import connect_redis_client, one_slot
from microcred.privacy.events import EventPrivacy
from microcred.privacy.kafka_datakeys import KafkaDataKeys, roll_nudger
from microcred.privacy.publishing import SealingPublisher
from microcred.privacy.setup import start_privacy
from microcred.registry.projector import RegistryProjection, start_registry_projection
from microcred.sdjwt.x5c import load_certificates
from microcred.storage.slot_groups import SlotGroups
from microcred.verification.canonical import Canonicalizer, ProcessRunner
from services.issuer.adapters.document_signing import CertifiedDocumentSigning
from services.issuer.adapters.learner_login import OidcLearnerLogin, learner_index_key, learner_login
from services.issuer.adapters.learner_records import KafkaLearnerRecords
from services.issuer.adapters.offer_replay import RedisOfferReplay
from services.issuer.adapters.offers import RedisOfferStore
from services.issuer.adapters.request_encryption import request_encryption_keys
from services.issuer.adapters.sealed_store import SealedCredentialStore
from services.issuer.adapters.shared_seed import shared_key
from services.issuer.adapters.signing import SigningPool
from services.issuer.adapters.status_pool import GrpcStatusIndexSource
from services.issuer.adapters.store import RedisCredentialStore
from services.issuer.adapters.supersession import GrpcSupersession
from services.issuer.api.client_auth import ClientAuthentication
from services.issuer.api.grpc import IssuerApi
from services.issuer.api.issuer_metadata import issuer_metadata_router
from services.issuer.api.oauth import TOKEN_KEY_ID, TOKEN_MAC, TokenIssuer, load_clients
from services.issuer.api.privacy import PrivacyApi
from services.issuer.api.registry import RegistryApi
from services.issuer.api.rest import create_rest_app
from services.issuer.api.rest_tls import RestServer
from services.issuer.application.correction import Correction
from services.issuer.application.edc import EdcCheck
from services.issuer.application.issuance import Issuance
from services.issuer.application.issue_batching import IssueBatcher
from services.issuer.application.learner_data import LearnerData
from services.issuer.application.listing import CredentialListing
from services.issuer.application.offer_erasure import ErasedLearnerOffers
from services.issuer.application.offer_ports import OfferSettings
from services.issuer.application.offer_replay import OfferReplay
from services.issuer.application.offers import Offers
from services.issuer.application.ports import StatusIndexSource, Supersession
from services.issuer.application.status_indexes import StatusIndexPool
from services.issuer.application.vc_issuance import VcIssuance
from services.issuer.audit.api import AuditApi
from services.issuer.audit.projector import audit_runner
from services.issuer.config import Settings, open_keystore
from services.issuer.events.offer_projection import OfferProjection
from services.issuer.events.projection import CredentialStoreProjection

__all__ = ["SERVICE_NAMES", "IssuerApp"]

log = logging.getLogger(__name__)
#: How often the learner key topic gets a no-op record, so Kafka rolls its segment on time (docs/privacy.md).
NUDGE_SECONDS = 300.0

SERVICE_NAMES = (
    issuer_pb2.DESCRIPTOR.services_by_name["IssuerService"].full_name,
    registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
    privacy_pb2.DESCRIPTOR.services_by_name["PrivacyService"].full_name,
)


@dataclass
class IssuerApp:
    """All moving parts of one issuer service instance (``keystore`` / ``status_source`` may be injected)."""

    settings: Settings
    keystore: KeyStore | None = None
    status_source: StatusIndexSource | None = None
    supersession: Supersession | None = None
    redis: Redis | None = field(default=None, init=False)
    publisher: KafkaEventPublisher | None = field(default=None, init=False)
    registry_projection: RegistryProjection | None = field(default=None, init=False)
    store_projection: CredentialStoreProjection | None = field(default=None, init=False)
    pool: StatusIndexPool | None = field(default=None, init=False)
    signing: SigningPool | None = field(default=None, init=False)
    server: GrpcServer | None = field(default=None, init=False)
    audit: ConsumerRunner | None = field(default=None, init=False)
    _audit_task: asyncio.Task[None] | None = field(default=None, init=False)
    offer_projection: OfferProjection | None = field(default=None, init=False)
    _revocation: grpc.aio.Channel | None = field(default=None, init=False)
    rest: RestServer | None = field(default=None, init=False)
    data_keys: KafkaDataKeys | None = field(default=None, init=False)
    privacy: EventPrivacy | None = field(default=None, init=False)
    _nudger: asyncio.Task[None] | None = field(default=None, init=False)
    _offer_expiry: asyncio.Task[None] | None = field(default=None, init=False)
    _login: OidcLearnerLogin | None = field(default=None, init=False)
    _canon: Canonicalizer | None = field(default=None, init=False)

    @property
    def port(self) -> int:
        """The bound gRPC port."""
        assert self.server is not None
        return self.server.port

    async def start(self) -> None:
        """Start everything; on failure, stop what was started and re-raise."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        verify_all_contexts()
        keystore = self.keystore if self.keystore is not None else open_keystore(s)
        # A single node or a Redis Cluster (docs/redis-keys.md): the issued credentials spread over slot groups,
        # the small read models (registry copy, audit log) each in one slot, the offers and data keys tagged.
        client = await connect_redis_client(s.redis_url)
        self.redis = cast("Redis", client)
        credentials = SlotGroups.for_client(client, s.issuer_redis_prefix, s.issuer_store_slot_groups)
        self.publisher = KafkaEventPublisher(s.kafka_bootstrap, client_id="issuer")
        await self.publisher.start()
        self.registry_projection = await start_registry_projection(
            s.kafka_bootstrap, self.redis, group_id=f"{s.issuer_consumer_group}-registry",
            namespace=one_slot(client, s.registry_namespace))
        self.store_projection = CredentialStoreProjection(s.kafka_bootstrap, client, prefix=credentials)
        await self.store_projection.start()
        source, supersession = self.status_source, self.supersession
        if source is None or supersession is None:  # the revocation service (a channel connects when first used)
            self._revocation = client_channel(s.revocation_target, TlsFiles.from_dir(s.tls_dir, s.service_cert_name),
                                              server_name=s.revocation_server_name)
            revocation = revocation_pb2_grpc.RevocationServiceStub(self._revocation)
            source = source or GrpcStatusIndexSource(revocation)
            supersession = supersession or GrpcSupersession(revocation)
        self.pool = StatusIndexPool(source, block_size=s.status_block_size)
        self.signing = SigningPool(s.resolved_signing_workers, timeout=s.signing_timeout_seconds)
        await self.signing.start()
        registry = self.registry_projection.registry
        # Learners' personal data is sealed under their data keys on Kafka and in the store (docs/privacy.md).
        self.data_keys, privacy = await start_privacy(s.kafka_bootstrap, client, s.data_dir, s.environment)
        self.privacy = privacy
        self._nudger = asyncio.create_task(roll_nudger(self.data_keys, NUDGE_SECONDS), name="learner-keys-nudge")
        sealing = SealingPublisher(self.publisher, privacy)
        store = SealedCredentialStore(RedisCredentialStore(client, credentials, self.store_projection),
                                      privacy)  # gRPC's and REST's
        documents = CertifiedDocumentSigning(keystore, s.document_signing_ca())
        issuance = Issuance(registry=registry, keystore=keystore, status=self.pool, store=store,
                            publisher=sealing, signing=self.signing,
                            registry_available=self.registry_projection.available, documents=documents,
                            require_holder_key=s.sd_jwt_require_holder_key,
                            edc_check=EdcCheck(s.edc_shacl_check, s.edc_shacl_sample, s.edc_shacl_timeout_seconds))
        self._login = login = learner_login(s, client, self._oid4vci_issuer_url)  # the learner sign-in, if any
        offer_store = RedisOfferStore(client, s.issuer_redis_prefix)
        index_key = learner_index_key(s) if login is not None else None
        # The open offers are rebuilt from their events when Redis is lost (docs/oid4vci.md)
        replay_store = RedisOfferReplay(client, s.issuer_redis_prefix)
        self.offer_projection = OfferProjection(
            s.kafka_bootstrap, client, replay_store, OfferReplay(replay_store, privacy, lambda: datetime.now(UTC),
                                                                 index_key), f"{s.issuer_consumer_group}-offers",
            horizon_seconds=s.resolved_offer_replay_seconds)
        await self.offer_projection.start()
        # Redemptions arriving together are issued together (application/issue_batching.py).
        batched = IssueBatcher(issuance, in_flight=s.oid4vci_issue_batches_in_flight)
        # di_vp key proofs: presentations canonicalised by pyld in a child process with a deadline (started on
        # first use: an issuer whose wallets send jwt proofs never starts it)
        self._canon = Canonicalizer(ProcessRunner())
        offers = Offers(offer_store, batched, self.publisher, privacy,
                        OfferSettings(offer_seconds=s.oid4vci_offer_seconds,
                                      max_tx_attempts=s.oid4vci_max_tx_attempts,
                                      offer_scheme=s.oid4vci_offer_scheme, require_dpop=s.oid4vci_require_dpop,
                                      key_attestations=s.key_attestation_policy()),  # OpenID4VCI (REST and gRPC)
                        login=login, learner_index_key=index_key, replay=self.offer_projection, canon=self._canon)
        self._offer_expiry = asyncio.create_task(offers.expire_forever(), name="oid4vci-offer-expiry")
        issuer_api = IssuerApi(issuance, chunk_size=s.batch_chunk_size, in_flight=s.batch_in_flight,
                               chunk_timeout=s.batch_chunk_timeout_seconds,
                               correction=Correction(issuance, store, supersession),
                               listing=CredentialListing(store), offers=offers,
                               oid4vci_issuer_url=self._oid4vci_issuer_url)
        registry_api = RegistryApi(self.publisher, registry, keystore, s.did_web_host)
        audit_log, self.audit = audit_runner(s.kafka_bootstrap, self.redis, f"{s.issuer_consumer_group}-audit",
                                             one_slot(client, s.audit_namespace))
        await self.audit.start()
        self._audit_task = asyncio.create_task(self.audit.run(), name="audit-projection")
        audit_api = AuditApi(audit_log)
        privacy_api = PrivacyApi(LearnerData(privacy, KafkaLearnerRecords(s.kafka_bootstrap), self.publisher,
                                             offers=ErasedLearnerOffers(offer_store, self.publisher)))

        def register(server: grpc.aio.Server) -> None:
            issuer_pb2_grpc.add_IssuerServiceServicer_to_server(issuer_api, server)
            registry_pb2_grpc.add_RegistryServiceServicer_to_server(registry_api, server)
            audit_pb2_grpc.add_AuditServiceServicer_to_server(audit_api, server)
            privacy_pb2_grpc.add_PrivacyServiceServicer_to_server(privacy_api, server)

        self.server = create_server(TlsFiles.from_dir(s.tls_dir), f"{s.grpc_host}:{s.grpc_port}", SERVICE_NAMES,
                                    register, health_address=s.grpc_health_address)
        # Issuing waits for a complete credential store anyway (UNAVAILABLE until then); waiting here a while
        # means a normal start (Redis intact, little to catch up) never shows that to anyone.
        if not await self.store_projection.wait_caught_up(s.store_catch_up_seconds):
            log.warning("credential store still catching up; issuing answers UNAVAILABLE until it has")
        if not await self.offer_projection.wait_caught_up(s.store_catch_up_seconds):
            log.warning("offers still being restored; the token endpoint answers temporarily_unavailable until then")
        if not await self.registry_projection.wait_available(s.store_catch_up_seconds):
            log.warning("trust registry still catching up; issuing answers UNAVAILABLE until it has")
        await self.server.start()
        if s.rest_port is not None:  # the REST API (VC-API) over the same issuance, when configured
            vc_issuance = VcIssuance(registry=registry, keystore=keystore, status=self.pool, publisher=sealing,
                                     store=store, registry_available=self.registry_projection.available)
            wallets = s.oid4vci_wallet_attestation_anchors_file
            client_auth = ClientAuthentication(load_certificates(wallets.read_bytes()) if wallets else (),
                                               s.oid4vci_require_wallet_attestation, offers.first_attestation_pop)
            days = s.oid4vci_encryption_key_days
            encryption = request_encryption_keys(keystore, timedelta(days=days) if days else None) \
                if s.oid4vci_encryption else None
            # the REST API's bearer tokens: checked by any replica under one shared MAC key (api/oauth.py)
            tokens = TokenIssuer(load_clients(s.oauth_clients_file), shared_key(keystore, TOKEN_KEY_ID, TOKEN_MAC))
            rest_app = create_rest_app(issuance, vc_issuance, tokens,
                                       offers, s.oid4vci_issuer_url, client_auth, documents, encryption,
                                       s.oid4vci_require_encryption, max_body_bytes=s.rest_max_body_bytes)
            rest_app.include_router(issuer_metadata_router(registry, documents))  # SD-JWT VC keys
            self.rest = RestServer(rest_app, s.rest_host, s.rest_port, s.tls_dir)
            await self.rest.start()
        log.info("issuer serving", extra={"grpc_port": self.server.port, "signing_workers": s.resolved_signing_workers})

    def _oid4vci_issuer_url(self) -> str | None:
        """The Credential Issuer identifier: configured, else (development) the REST app's own address."""
        if self.rest is None:
            return None
        return self.settings.oid4vci_issuer_url or f"https://{self.settings.rest_host}:{self.rest.port}"

    async def stop(self) -> None:
        """Stop in reverse order; safe to call on a partly started app."""
        if self.rest is not None:
            await self.rest.stop()
            self.rest = None
        if self.server is not None:
            await self.server.stop()
        if self.pool is not None:
            await self.pool.close()
        if self._revocation is not None:
            await self._revocation.close()
        if self.signing is not None:
            await self.signing.close()
        if self.audit is not None:
            await self.audit.stop()
        if self._audit_task is not None:
            await asyncio.gather(self._audit_task, return_exceptions=True)
        if self._nudger is not None:
            self._nudger.cancel()
            await asyncio.gather(self._nudger, return_exceptions=True)
        if self._offer_expiry is not None:
            self._offer_expiry.cancel()
            await asyncio.gather(self._offer_expiry, return_exceptions=True)
        self._offer_expiry = None
        if self._login is not None:
            await self._login.aclose()
        if self._canon is not None:
            await asyncio.to_thread(self._canon.close)
            self._canon = None
        if self.offer_projection is not None:
            await self.offer_projection.stop()
            self.offer_projection = None
        if self.data_keys is not None:
            await self.data_keys.stop()
        if self.store_projection is not None:
            await self.store_projection.stop()
        if self.registry_projection is not None:
            await self.registry_projection.stop()
        if self.publisher is not None:
            await self.publisher.stop()
        if self.redis is not None:
            await self.redis.aclose()
        self.server = self.pool = self.signing = self.store_projection = self.registry_projection = None
        self.audit, self._audit_task = None, None
        self.publisher, self.redis, self._revocation = None, None, None
