"""Wallet service entry point: wires settings, Redis and Kafka into the learners' HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from microcred.http_service import add_health_route, run_http
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.lifecycle import connect_redis
from microcred.logs import configure_logging
from services.wallet.config import Settings


def create_app(settings: Settings) -> FastAPI:
    """The wallet's FastAPI application; dependencies connect in the lifespan."""
    log = configure_logging("wallet", settings.log_level)
    deps: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        deps["redis"] = await connect_redis(settings.redis_url)
        publisher = KafkaEventPublisher(settings.kafka_bootstrap, client_id="wallet")
        await publisher.start()
        deps["kafka_ready"] = True
        log.info("wallet serving", extra={"http_port": settings.http_port})
        try:
            yield
        finally:
            deps["kafka_ready"] = False
            await publisher.stop()
            await deps["redis"].aclose()
            log.info("wallet stopped")

    app = FastAPI(title="microcred wallet", version="1", lifespan=lifespan)
    add_health_route(app, deps)
    return app


def main() -> None:
    """Console entry point."""
    settings = Settings()
    run_http(create_app(settings), settings)


if __name__ == "__main__":
    main()
