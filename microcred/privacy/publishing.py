"""The sealing point of every publisher: an :class:`~microcred.kafka.publisher.EventPublisher` that seals the
personal part of the events it is given (:class:`~microcred.privacy.events.EventPrivacy`) before they reach the
real publisher, so no code path can put a learner's personal data on Kafka in clear."""

from __future__ import annotations

from microcred.events.envelope import EventEnvelope
from microcred.kafka.publisher import EventPublisher, Published
from microcred.privacy.events import EventPrivacy

__all__ = ["SealingPublisher"]


class SealingPublisher:
    """Seals, then publishes through ``inner`` (same answers, same errors)."""

    def __init__(self, inner: EventPublisher, privacy: EventPrivacy) -> None:
        self.inner, self.privacy = inner, privacy

    async def publish(self, topic: str, key: str, envelope: EventEnvelope) -> Published:
        """Seal and publish one envelope."""
        return (await self.publish_many(topic, [(key, envelope)]))[0]

    async def publish_many(self, topic: str, items: list[tuple[str, EventEnvelope]]) -> list[Published]:
        """Seal every envelope (one data-key round trip), then publish them all."""
        sealed = await self.privacy.seal([envelope for _, envelope in items])
        return await self.inner.publish_many(topic, [(key, env) for (key, _), env in zip(items, sealed, strict=True)])
