"""Settings of the verifier service (environment variables prefixed ``MICROCRED_``)."""

from __future__ import annotations

from microcred.settings import HttpServiceSettings


class Settings(HttpServiceSettings):
    """Everything the verifier service reads from its environment."""
