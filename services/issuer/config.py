"""Settings of the issuer service (environment variables prefixed ``MICROCRED_``)."""

from __future__ import annotations

from microcred.settings import GrpcServiceSettings


class Settings(GrpcServiceSettings):
    """Everything the issuer service reads from its environment."""
