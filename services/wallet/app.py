"""The wallet's composition root: builds the adapters, the use cases and the HTTP application, and starts and
stops them in order (the lifespan). Started by :mod:`services.wallet.main`; tests call :func:`create_app`.

Checked at once (fail fast): the OIDC settings, the key store and the KEK, the e-mail index key. In the
lifespan: Redis, the Kafka publisher, the trust-registry projection (issuers' logos), the wallet log (commands
publish, then wait for the projection), the Redis read model adapters, the use cases
(:class:`~services.wallet.application.use_cases.WalletContext` on ``app.state.wallet``) and the Kafka intake
(``app.state.intake``) under a ``ConsumerRunner``. Shutdown goes the other way round.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, cast

from cryptography import x509
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from redis.asyncio import Redis

from microcred.crypto.keystore import KeyStore
from microcred.http_limits import BodyLimitMiddleware
from microcred.http_service import add_health_route
from microcred.kafka.consumer import ConsumerRunner
from microcred.kafka.publisher import EventPublisher, KafkaEventPublisher
from microcred.kafka.topics import PATHWAYS, WALLET
from microcred.lifecycle import RedisClient, connect_redis_client, one_slot
from microcred.logs import configure_logging
from microcred.metrics import add_metrics_route
from microcred.privacy.events import EventPrivacy
from microcred.privacy.publishing import SealingPublisher
from microcred.privacy.setup import start_privacy
from microcred.registry.ports import RegistryReader
from microcred.registry.projector import start_registry_projection
from microcred.sdjwt.x5c import load_certificates
from microcred.storage.positions import ProjectionEpoch
from microcred.telemetry import configure_telemetry, http_server_request_hook
from services.wallet.adapters.account_deletion import AccountDeletion, AccountKeyShredder
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.auth import DevTokenMinter, TokenVerifier, build_auth
from services.wallet.adapters.deferred_issuances import DeferredIssuances
from services.wallet.adapters.holder_keys import HolderKeys
from services.wallet.adapters.holdings import Holdings, PathwayCompletions
from services.wallet.adapters.importer import PipelineVerifier
from services.wallet.adapters.pending_authorizations import PendingAuthorizations
from services.wallet.adapters.pending_offers import PendingOffers
from services.wallet.adapters.sealing import Sealer
from services.wallet.adapters.secret_keys import load_email_index_key, open_keystore, open_sealer
from services.wallet.adapters.share_links import ShareLinks
from services.wallet.adapters.store import CredentialStore
from services.wallet.adapters.wallet_log import KafkaTombstones, Tombstones, WalletLog
from services.wallet.api import edc as api_edc
from services.wallet.api import learner as api_learner
from services.wallet.api import offers as api_offers
from services.wallet.api import pathways as api_pathways
from services.wallet.api import pdf as api_pdf
from services.wallet.api import presentations as api_presentations
from services.wallet.api import sd_jwt as api_sd_jwt
from services.wallet.api import sharing as api_sharing
from services.wallet.api import verification_links as api_verification_links
from services.wallet.api.problems import body_too_large, install_problem_handlers
from services.wallet.api.web import install_web
from services.wallet.application.ports import Clock, CredentialVerifier, utc_now
from services.wallet.application.use_cases import WalletContext
from services.wallet.config import Settings
from services.wallet.domain.offers import MetadataTrust
from services.wallet.events.intake import WALLET_TOPICS, WalletIntake, build_intake, wallet_guard

DESCRIPTION = """Learners' wallet for EU micro-credentials (W3C VC 2.0 / Open Badges 3.0).

Every `/v1` endpoint except `GET /v1/shares/{token}` needs an OpenID Connect bearer token; a learner only
ever sees and acts on their own credentials. Errors are `application/problem+json` (RFC 9457)."""


@dataclass(frozen=True)
class Startup:
    """What is checked before the wallet serves (fail fast): tokens, the key store, the KEK's sealer, the index key."""

    tokens: TokenVerifier
    minter: DevTokenMinter | None
    keystore: KeyStore
    sealer: Sealer
    index_key: bytes
    verifier: CredentialVerifier | None  # None: the shared pipeline, built when the wallet starts serving
    clock: Clock


def topics(settings: Settings) -> list[str]:
    """The topics the wallet consumes, under this instance's topic prefix."""
    return [settings.topic(t.name) for t in WALLET_TOPICS]


def x509_anchors(settings: Settings) -> tuple[x509.Certificate, ...]:
    """The CA certificates imported SD-JWT VCs must chain to (``MICROCRED_X509_TRUST_ANCHORS_FILE``)."""
    path = settings.x509_trust_anchors_file
    return () if path is None else tuple(load_certificates(path.read_bytes()))


def build_wallet(settings: Settings, startup: Startup, client: RedisClient, publisher: EventPublisher,
                 privacy: EventPrivacy | None = None, tombstones: Tombstones | None = None,
                 registry: RegistryReader | None = None) -> tuple[WalletContext, WalletIntake, ConsumerRunner]:
    """The read-model adapters, the use cases and the Kafka intake over one Redis client and one publisher.

    On a Redis Cluster the read model takes one slot (``one_slot``: the prefix a hash tag), so the projection's
    transactions (accounts, indexes, statuses and positions together, under ``WATCH``) stay atomic as on one
    node, except the credential records (the documents: most of the memory), which spread over slot groups
    with their own positions (docs/redis-keys.md)."""
    store = CredentialStore.laid_out(client, settings.wallet_redis_prefix, startup.index_key,
                                     settings.wallet_document_slot_groups)
    redis, prefix = store.redis, store.prefix
    # The wallet's own state goes to Kafka first and comes back through the projection (adapters/wallet_log.py).
    # Imported credentials and a completion's holder DID are sealed under the account learner's data key.
    sealing = publisher if privacy is None else SealingPublisher(publisher, privacy)
    wallet_log = WalletLog(sealing, settings.topic(WALLET.name), redis, prefix, tombstones=tombstones)
    accounts = Accounts(redis, prefix, store, wallet_log, startup.sealer)
    holdings = Holdings(store, accounts)
    completions = PathwayCompletions(redis, prefix, holdings, sealing, settings.topic(PATHWAYS.name),
                                     startup.clock)
    shares = ShareLinks(redis, prefix, settings.share_gone_retention_seconds, wallet_log)
    epoch = wallet_guard(redis, prefix, store)

    async def ready() -> bool:
        if isinstance(epoch, ProjectionEpoch):
            return await epoch.ready() is not None
        return await epoch.ready()

    # The registry resolves the keys of this platform's own did:web issuers (an ldp_vc they issue, imported or
    # received through OpenID4VCI, verifies); other did:web keys are never fetched.
    verifier = startup.verifier or PipelineVerifier(registry=registry, x509_anchors=x509_anchors(settings))
    shredder = None if privacy is None else AccountKeyShredder(privacy.keys, privacy.pseudonyms)
    deletion = None if tombstones is None else AccountDeletion(accounts, shares, wallet_log, startup.keystore,
                                                               shredder)
    context = WalletContext(
        settings, store, accounts, holdings, HolderKeys(accounts, wallet_log, startup.keystore), shares,
        completions, verifier, startup.tokens, startup.minter, publisher, startup.clock, ready, deletion, registry,
        offers=PendingOffers(redis, prefix, startup.index_key),
        authorizations=PendingAuthorizations(redis, prefix),
        deferred=DeferredIssuances(redis, accounts.keys, wallet_log, startup.sealer),
        issuer_metadata_trust=MetadataTrust(x509_anchors(settings), settings.wallet_require_signed_issuer_metadata))
    intake, runner = build_intake(
        redis, prefix, startup.index_key, settings.kafka_bootstrap, settings.wallet_consumer_group, topics(settings),
        sealer=startup.sealer, completions=completions, shares=shares, store=store, accounts=accounts, epoch=epoch,
        privacy=privacy)
    return context, intake, runner


def create_app(settings: Settings, *, keystore: KeyStore | None = None, verifier: CredentialVerifier | None = None,
               clock: Clock = utc_now) -> FastAPI:
    """The wallet's FastAPI application. Key store and OIDC settings are checked now (fail fast); Redis and
    Kafka connect in the lifespan."""
    log = configure_logging("wallet", settings.log_level)
    configure_telemetry("wallet")
    tokens, minter = build_auth(settings)
    startup = Startup(tokens, minter, keystore if keystore is not None else open_keystore(settings),
                      open_sealer(settings), load_email_index_key(settings), verifier, clock)
    deps: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = deps["redis"] = await connect_redis_client(settings.redis_url)  # a single node or a cluster
        publisher = KafkaEventPublisher(settings.kafka_bootstrap, client_id="wallet")
        await publisher.start()
        tombstones = KafkaTombstones(settings.kafka_bootstrap)  # a learner deleting their account
        await tombstones.start()
        # Opens the learners' personal data the issuer sealed under their data keys (docs/privacy.md).
        data_keys, privacy = await start_privacy(settings.kafka_bootstrap, redis, settings.data_dir,
                                                 settings.environment)
        # The trust registry's read model, for issuers' logos (only of issuers it vouches for: docs/pdf.md).
        registry = await start_registry_projection(
            settings.kafka_bootstrap, cast("Redis", redis), f"{settings.wallet_consumer_group}-registry",
            namespace=one_slot(redis, f"{settings.wallet_redis_prefix}-registry"))
        app.state.wallet, app.state.intake, runner = build_wallet(settings, startup, redis, publisher, privacy,
                                                                  tombstones, registry.registry)
        await runner.start()
        task = asyncio.create_task(runner.run(), name="wallet-intake")
        task.add_done_callback(lambda _: deps.update(kafka_ready=False))
        deps["kafka_ready"] = True
        log.info("wallet serving", extra={"http_port": settings.http_port, "topics": topics(settings)})
        try:
            yield
        finally:
            deps["kafka_ready"] = False
            await runner.stop()
            with suppress(Exception):
                await task
            await registry.stop()
            await publisher.stop()
            await tombstones.stop()
            await data_keys.stop()
            close = getattr(tokens.source, "aclose", None)
            if close is not None:
                await close()
            await redis.aclose()
            log.info("wallet stopped")

    app = FastAPI(title="microcred wallet", version="1", description=DESCRIPTION, lifespan=lifespan)
    install_problem_handlers(app)
    add_health_route(app, deps)
    app.include_router(api_edc.router)  # before the learner router: its {credential_id:path} would take /edc
    app.include_router(api_sd_jwt.router)  # likewise for /sd-jwt
    app.include_router(api_pdf.router)  # likewise .../pdf
    app.include_router(api_verification_links.router)  # likewise .../verification-link
    app.include_router(api_presentations.router)  # OpenID4VP responder; its /holder-keys/jwks too
    app.include_router(api_offers.router)  # OpenID4VCI client: credential offers
    app.include_router(api_learner.router)
    app.include_router(api_sharing.router)
    app.include_router(api_sharing.public)
    app.include_router(api_pathways.router)
    app.include_router(api_pathways.admin)
    install_web(app, minter)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,metrics",
                                       server_request_hook=http_server_request_hook)
    # before FastAPI reads and parses a body (500 MB to /v1/credential-offers/inspect reached 1.6 GB)
    import_bytes = max(settings.max_import_bytes, settings.wallet_max_body_bytes)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.wallet_max_body_bytes, refuse=body_too_large,
                       per_path={app.url_path_for("import_credential"): import_bytes})
    # last, so outermost of the middleware added here: body-limit refusals are counted too
    add_metrics_route(app, "wallet", settings.metrics_clients)
    return app
