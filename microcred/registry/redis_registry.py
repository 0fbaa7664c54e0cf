"""``RedisRegistry``: the trust-registry read model in Redis, written by a projection, rebuildable by replay.

Keys (``ns`` is the namespace, ``registry`` by default; it also names the projection's stored Kafka positions
``offsets:{ns}:{topic}``):

=================================  ==============================================================
``{ns}:agency:{agency_id}``        serialized ``microcred.v1.Agency``
``{ns}:agencies``                  sorted set (all scores 0, so ordered by id) of agency ids
``{ns}:issuer:{issuer_id}``        serialized ``microcred.v1.Issuer`` (keys, accreditations)
``{ns}:issuers``                   sorted set of issuer ids
``{ns}:agency-issuers:{agency}``   sorted set of the issuer ids of one agency
``{ns}:methods``                   hash: verification method id -> issuer id
``{ns}:dids``                      hash: DID -> issuer id
``{ns}:issuer-logo:{issuer_id}``   hash: ``data`` (the image as registered), ``media_type``
=================================  ==============================================================

:meth:`RedisRegistry.handle` applies one record: it loads the aggregate the event is about, folds the event in
with :func:`microcred.registry.domain.apply`, and writes the result together with the record's position in one
``MULTI`` (:func:`microcred.storage.positions.apply_at_position`). Records at or before the stored position are
skipped, so redelivery and replays change nothing. All events of one issuer share a Kafka key, hence a
partition, hence one writer at a time; the position check also makes concurrent projections into the same
namespace safe (a record another member already applied is skipped).

The client must return bytes (``decode_responses=False``, as :func:`microcred.lifecycle.connect_redis` gives).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import registry_pb2
from microcred.kafka.consumer import Position
from microcred.kafka.topics import REGISTRY
from microcred.registry import domain
from microcred.registry.ports import IssuanceDecision, KeyResolution, Logo
from microcred.storage.positions import apply_at_position, stored_position

log = logging.getLogger(__name__)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: bytes | str) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError("RedisRegistry needs a Redis client with decode_responses=False")
    return value


class RedisRegistry:
    """Projection target and :class:`~microcred.registry.ports.RegistryReader` over Redis."""

    def __init__(self, redis: Redis, namespace: str = "registry") -> None:
        # a RedisCluster (docs/redis-keys.md) has its options itself, a Redis in its connection pool
        options = getattr(redis, "connection_kwargs", None) or redis.connection_pool.connection_kwargs
        if options.get("decode_responses"):
            raise ValueError("RedisRegistry needs a Redis client with decode_responses=False")
        self._redis, self.namespace = redis, namespace

    def _key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    # -- projection ------------------------------------------------------------------------------------------

    async def stored_position(self, topic: str, partition: int) -> int | None:
        """Next offset to read on ``topic/partition`` (a ``ConsumerRunner`` position lookup)."""
        return await stored_position(self._redis, self.namespace, topic, partition)

    async def positions(self, topic: str = REGISTRY.name) -> dict[int, int]:
        """Partition -> next offset to read, for every partition this projection has state from."""
        raw = await self._redis.hgetall(f"offsets:{self.namespace}:{topic}")
        return {int(k): int(v) for k, v in raw.items()}

    async def handle(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """``ConsumerRunner`` handler: apply one record and store its position in the same transaction."""
        target = domain.aggregate_of(payload)
        state = domain.RegistryState()
        if target is not None:
            kind, aggregate_id = target
            if kind == "agency":
                agency = await self.get_agency(aggregate_id)
                if agency is not None:
                    state.agencies[aggregate_id] = agency
            else:
                issuer = await self.get_issuer(aggregate_id)
                if issuer is not None:
                    state.issuers[aggregate_id] = issuer
            applied = domain.apply(state, payload, domain.to_datetime(envelope.occurred_at))
        else:
            applied = domain.Applied("", "", False, f"not a registry event: {envelope.payload_type}")

        def write(pipe: Pipeline) -> None:
            if applied.changed:
                self._write(pipe, state, applied)

        done = await apply_at_position(self._redis, self.namespace, position, write)
        if done and applied.note:
            log.info("registry event applied with a note", extra={
                "event_id": envelope.event_id, "event_type": envelope.event_type,
                "aggregate": applied.aggregate_id, "changed": applied.changed, "note": applied.note})

    def _write(self, pipe: Pipeline, state: domain.RegistryState, applied: domain.Applied) -> None:
        if applied.kind == "agency":
            agency = state.agencies[applied.aggregate_id]
            pipe.set(self._key("agency", agency.agency_id), agency.SerializeToString(deterministic=True))
            pipe.zadd(self._key("agencies"), {agency.agency_id: 0})
            return
        issuer = state.issuers[applied.aggregate_id]
        pipe.set(self._key("issuer", issuer.issuer_id), issuer.SerializeToString(deterministic=True))
        pipe.zadd(self._key("issuers"), {issuer.issuer_id: 0})
        pipe.zadd(self._key("agency-issuers", issuer.agency_id), {issuer.issuer_id: 0})
        methods = domain.method_index([issuer])
        if methods:
            pipe.hset(self._key("methods"), mapping=methods)  # type: ignore[arg-type]
        if issuer.did:
            pipe.hset(self._key("dids"), issuer.did, issuer.issuer_id)
        logo = state.logos.get(issuer.issuer_id)  # only IssuerRegistered sets one; later events leave it as is
        if logo is not None:
            pipe.hset(self._key("issuer-logo", issuer.issuer_id),
                      mapping={"data": logo.data, "media_type": logo.media_type})

    # -- RegistryReader --------------------------------------------------------------------------------------

    async def get_issuer(self, issuer_id: str) -> registry_pb2.Issuer | None:
        """The issuer, or None."""
        raw = await self._redis.get(self._key("issuer", issuer_id))
        return None if raw is None else registry_pb2.Issuer.FromString(_bytes(raw))

    async def list_issuers(self, agency_id: str | None = None) -> list[registry_pb2.Issuer]:
        """All issuers, or those of one agency, ordered by id."""
        index = self._key("issuers") if agency_id is None else self._key("agency-issuers", agency_id)
        ids = [_text(i) for i in await self._redis.zrange(index, 0, -1)]
        if not ids:
            return []
        raws = await self._redis.mget([self._key("issuer", i) for i in ids])
        return [registry_pb2.Issuer.FromString(_bytes(raw)) for raw in raws if raw is not None]

    async def get_agency(self, agency_id: str) -> registry_pb2.Agency | None:
        """The agency, or None."""
        raw = await self._redis.get(self._key("agency", agency_id))
        return None if raw is None else registry_pb2.Agency.FromString(_bytes(raw))

    async def list_agencies(self) -> list[registry_pb2.Agency]:
        """All agencies, ordered by id."""
        ids = [_text(i) for i in await self._redis.zrange(self._key("agencies"), 0, -1)]
        if not ids:
            return []
        raws = await self._redis.mget([self._key("agency", i) for i in ids])
        return [registry_pb2.Agency.FromString(_bytes(raw)) for raw in raws if raw is not None]

    async def get_issuer_logo(self, issuer_id: str) -> Logo | None:
        """The issuer's registered logo, or None."""
        data, media_type = await self._redis.hmget(self._key("issuer-logo", issuer_id), ["data", "media_type"])
        if not data or not media_type:
            return None
        return Logo(_bytes(data), _text(media_type))

    async def authorize_issuance(self, issuer_id: str, eqf_level: int | None, at: datetime) -> IssuanceDecision:
        """See :func:`microcred.registry.domain.authorize`."""
        return domain.authorize(await self.get_issuer(issuer_id), issuer_id, eqf_level, at)

    async def resolve_verification_method(self, verification_method_id: str, signed_at: datetime) -> KeyResolution:
        """See :func:`microcred.registry.domain.resolve_key`."""
        issuer_id = await self._redis.hget(self._key("methods"), verification_method_id)
        if issuer_id is None:
            did = verification_method_id.split("#", 1)[0]
            issuer_id = await self._redis.hget(self._key("dids"), did)
        issuer = None if issuer_id is None else await self.get_issuer(_text(issuer_id))
        return domain.resolve_key(issuer, verification_method_id, signed_at)

    async def dump(self) -> dict[str, Any]:
        """Canonical snapshot of everything this namespace holds (positions excluded), for comparisons."""
        methods = await self._redis.hgetall(self._key("methods"))
        dids = await self._redis.hgetall(self._key("dids"))
        return domain.snapshot(await self.list_agencies(), await self.list_issuers(),
                               {_text(k): _text(v) for k, v in methods.items()},
                               {_text(k): _text(v) for k, v in dids.items()})
