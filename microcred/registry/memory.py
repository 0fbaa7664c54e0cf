"""``InMemoryRegistry``: the trust-registry read model held in process memory (unit tests, tools).

It applies the same :func:`microcred.registry.domain.apply` as :class:`~microcred.registry.redis_registry.RedisRegistry`
and passes the same contract tests. It can be fed envelope by envelope (:meth:`InMemoryRegistry.apply`), as a
``ConsumerRunner`` handler (:meth:`InMemoryRegistry.handle`), or from an
:class:`~microcred.kafka.publisher.InMemoryEventPublisher` (:meth:`InMemoryRegistry.catch_up`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.message import Message

from microcred.events.envelope import EventEnvelope, open_envelope
from microcred.gen.microcred.v1 import registry_pb2
from microcred.kafka.consumer import Position
from microcred.kafka.publisher import InMemoryEventPublisher
from microcred.kafka.topics import REGISTRY
from microcred.registry import domain
from microcred.registry.ports import IssuanceDecision, KeyResolution, Logo

M = TypeVar("M", bound=Message)


def _copy(message: M) -> M:
    out = type(message)()
    out.CopyFrom(message)
    return out


class InMemoryRegistry:
    """A :class:`~microcred.registry.ports.RegistryReader` over a :class:`~microcred.registry.domain.RegistryState`."""

    def __init__(self) -> None:
        self.state = domain.RegistryState()
        self._positions: dict[tuple[str, int], int] = {}
        self._consumed: dict[str, int] = {}

    # -- feeding ---------------------------------------------------------------------------------------------

    def apply(self, envelope: EventEnvelope, payload: Message | None = None) -> domain.Applied:
        """Apply one envelope (its payload is decoded from the envelope when not given)."""
        if payload is None:
            envelope, payload = open_envelope(envelope.SerializeToString())
        return domain.apply(self.state, payload, domain.to_datetime(envelope.occurred_at))

    async def handle(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """``ConsumerRunner`` handler: apply once per position (redelivery is harmless)."""
        key = (position.topic, position.partition)
        if self._positions.get(key, 0) > position.offset:
            return
        self.apply(envelope, payload)
        self._positions[key] = position.offset + 1

    def catch_up(self, publisher: InMemoryEventPublisher, topic: str = REGISTRY.name) -> int:
        """Apply the records published on ``topic`` since the last call; return how many were applied."""
        records = publisher.topics.get(topic, [])
        start = self._consumed.get(topic, 0)
        for _, envelope in records[start:]:
            self.apply(envelope)
        self._consumed[topic] = len(records)
        return len(records) - start

    # -- RegistryReader --------------------------------------------------------------------------------------

    async def get_issuer(self, issuer_id: str) -> registry_pb2.Issuer | None:
        """The issuer, or None."""
        issuer = self.state.issuers.get(issuer_id)
        return None if issuer is None else _copy(issuer)

    async def list_issuers(self, agency_id: str | None = None) -> list[registry_pb2.Issuer]:
        """All issuers, or those of one agency, ordered by id."""
        return [_copy(i) for _, i in sorted(self.state.issuers.items())
                if agency_id is None or i.agency_id == agency_id]

    async def get_agency(self, agency_id: str) -> registry_pb2.Agency | None:
        """The agency, or None."""
        agency = self.state.agencies.get(agency_id)
        return None if agency is None else _copy(agency)

    async def list_agencies(self) -> list[registry_pb2.Agency]:
        """All agencies, ordered by id."""
        return [_copy(a) for _, a in sorted(self.state.agencies.items())]

    async def get_issuer_logo(self, issuer_id: str) -> Logo | None:
        """The issuer's registered logo, or None."""
        return self.state.logos.get(issuer_id)

    async def authorize_issuance(self, issuer_id: str, eqf_level: int | None, at: datetime) -> IssuanceDecision:
        """See :func:`microcred.registry.domain.authorize`."""
        return domain.authorize(self.state.issuers.get(issuer_id), issuer_id, eqf_level, at)

    async def resolve_verification_method(self, verification_method_id: str, signed_at: datetime) -> KeyResolution:
        """See :func:`microcred.registry.domain.resolve_key`."""
        issuers = self.state.issuers.values()
        issuer_id = domain.method_index(issuers).get(verification_method_id) \
            or domain.did_index(issuers).get(verification_method_id.split("#", 1)[0])
        return domain.resolve_key(self.state.issuers.get(issuer_id or ""), verification_method_id, signed_at)

    async def dump(self) -> dict[str, Any]:
        """Canonical snapshot (same shape as :meth:`RedisRegistry.dump`)."""
        issuers = list(self.state.issuers.values())
        return domain.snapshot(self.state.agencies.values(), issuers, domain.method_index(issuers),
                               domain.did_index(issuers))
