"""Settings of the wallet service (environment variables prefixed ``MICROCRED_``)."""

from __future__ import annotations

from microcred.settings import HttpServiceSettings


class Settings(HttpServiceSettings):
    """Everything the wallet service reads from its environment."""
