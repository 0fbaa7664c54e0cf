"""Settings every service shares, read from the environment (prefix ``MICROCRED_``).

Each service extends :class:`CommonSettings` with its own prefix-free fields; addresses of Kafka and Redis
have no defaults, so a service started without them fails at once with a clear message instead of
connecting somewhere unexpected.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Connection and identity settings shared by all four services."""

    model_config = SettingsConfigDict(env_prefix="MICROCRED_", extra="ignore")

    kafka_bootstrap: str = Field(description="Kafka bootstrap servers, host:port[,host:port]")
    redis_url: str = Field(description="Redis URL, e.g. redis://127.0.0.1:6379/0")
    log_level: str = "INFO"
    environment: str = Field(default="dev", description="dev, test or prod")
    # Kafka over TLS with a client certificate (Strimzi `tls` listener with KafkaUser per service).
    kafka_security_protocol: str = Field(default="PLAINTEXT", description="PLAINTEXT or SSL")
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    metrics_port: int = Field(default=0, description="Prometheus /metrics port for gRPC services (0: off)")
    metrics_host: str = "127.0.0.1"

    def kafka_options(self) -> dict[str, Any]:
        """Extra aiokafka client arguments (security); empty for a plaintext development broker."""
        if self.kafka_security_protocol.upper() == "PLAINTEXT":
            return {}
        from aiokafka.helpers import create_ssl_context

        context = create_ssl_context(
            cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None,
            certfile=str(self.kafka_ssl_certfile) if self.kafka_ssl_certfile else None,
            keyfile=str(self.kafka_ssl_keyfile) if self.kafka_ssl_keyfile else None,
        )
        return {"security_protocol": self.kafka_security_protocol.upper(), "ssl_context": context}


class GrpcServiceSettings(CommonSettings):
    """Settings of a service that serves gRPC over mutual TLS."""

    grpc_host: str = "127.0.0.1"
    grpc_port: int = 0
    tls_dir: Path = Field(description="directory holding ca.crt, server.crt and server.key")
    grpc_health_port: int | None = Field(
        default=None, ge=0, le=65535,
        description="plaintext port serving only grpc.health.v1 (Kubernetes gRPC probes); unset = none")

    @property
    def grpc_health_address(self) -> str | None:
        """``host:port`` of the plaintext health-only port, or None when it is not enabled."""
        return None if self.grpc_health_port is None else f"{self.grpc_host}:{self.grpc_health_port}"


#: Who may read an HTTP service's ``GET /metrics`` by default: loopback and the private ranges (a cluster's pods).
LOCAL_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


class HttpServiceSettings(CommonSettings):
    """Settings of a service that serves HTTP."""

    http_host: str = "127.0.0.1"
    http_port: int = 0
    metrics_clients: list[str] = Field(
        default_factory=lambda: list(LOCAL_NETWORKS),
        description="CIDRs whose direct requests GET /metrics answers (JSON list; [] : nobody); see microcred.metrics")

    @field_validator("metrics_clients")
    @classmethod
    def _metrics_cidrs(cls, value: list[str]) -> list[str]:
        try:
            for cidr in value:
                ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError as exc:
            raise ValueError(f"metrics_clients must be IP networks in CIDR form: {exc}") from exc
        return value
