"""Wiring for a service that seals or opens learners' personal data: the KEK, the data-key store, the sealer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from microcred.lifecycle import RedisClient
from microcred.privacy.events import EventPrivacy
from microcred.privacy.kafka_datakeys import KafkaDataKeys
from microcred.privacy.wrapping import AesGcmKeyWrapper, privacy_kek, pseudonymizer_for

__all__ = ["start_privacy"]


async def start_privacy(bootstrap: str, redis: RedisClient, data_dir: Path, environment: str, *,
                        options: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
                        ) -> tuple[KafkaDataKeys, EventPrivacy]:
    """The started data-key store (stop it with the service) and the event sealer built on it."""
    kek = privacy_kek(data_dir, environment, env)
    keys = KafkaDataKeys(bootstrap, redis, AesGcmKeyWrapper(kek), options=options)
    await keys.start()
    return keys, EventPrivacy(keys, pseudonymizer_for(kek))
