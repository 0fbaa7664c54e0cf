"""Issuer service entry point: wires settings, Redis, the Kafka publisher and the mTLS gRPC server."""

from __future__ import annotations

import asyncio

import grpc

from microcred.gen.microcred.v1 import issuer_pb2, issuer_pb2_grpc, registry_pb2, registry_pb2_grpc
from microcred.grpc_server import GrpcServer, TlsFiles, create_server
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.lifecycle import connect_redis, wait_for_shutdown_signal
from microcred.logs import configure_logging
from services.issuer.config import Settings

SERVICE_NAMES = (
    issuer_pb2.DESCRIPTOR.services_by_name["IssuerService"].full_name,
    registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
)


def build_server(settings: Settings) -> GrpcServer:
    """The gRPC server with the issuer and registry APIs (not started)."""

    def register(server: grpc.aio.Server) -> None:
        issuer_pb2_grpc.add_IssuerServiceServicer_to_server(issuer_pb2_grpc.IssuerServiceServicer(), server)
        registry_pb2_grpc.add_RegistryServiceServicer_to_server(registry_pb2_grpc.RegistryServiceServicer(), server)

    return create_server(TlsFiles.from_dir(settings.tls_dir), f"{settings.grpc_host}:{settings.grpc_port}",
                         SERVICE_NAMES, register)


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then stop gracefully."""
    log = configure_logging("issuer", settings.log_level)
    redis = await connect_redis(settings.redis_url)
    publisher = KafkaEventPublisher(settings.kafka_bootstrap, client_id="issuer")
    await publisher.start()
    server = build_server(settings)
    await server.start()
    log.info("issuer serving", extra={"grpc_port": server.port})
    try:
        await wait_for_shutdown_signal()
    finally:
        await server.stop()
        await publisher.stop()
        await redis.aclose()
        log.info("issuer stopped")


def main() -> None:
    """Console entry point."""
    asyncio.run(serve(Settings()))


if __name__ == "__main__":
    main()
