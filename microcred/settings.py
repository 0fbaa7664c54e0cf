"""Settings every service shares, read from the environment (prefix ``MICROCRED_``).

Each service extends :class:`CommonSettings` with its own prefix-free fields; addresses of Kafka and Redis
have no defaults, so a service started without them fails at once with a clear message instead of
connecting somewhere unexpected.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Connection and identity settings shared by all four services."""

    model_config = SettingsConfigDict(env_prefix="MICROCRED_", extra="ignore")

    kafka_bootstrap: str = Field(description="Kafka bootstrap servers, host:port[,host:port]")
    redis_url: str = Field(description="Redis URL, e.g. redis://127.0.0.1:6379/0")
    log_level: str = "INFO"
    environment: str = Field(default="dev", description="dev, test or prod")


class GrpcServiceSettings(CommonSettings):
    """Settings of a service that serves gRPC over mutual TLS."""

    grpc_host: str = "127.0.0.1"
    grpc_port: int = 0
    tls_dir: Path = Field(description="directory holding ca.crt, server.crt and server.key")


class HttpServiceSettings(CommonSettings):
    """Settings of a service that serves HTTP."""

    http_host: str = "127.0.0.1"
    http_port: int = 0
