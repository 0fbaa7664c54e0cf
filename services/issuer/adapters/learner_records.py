"""What the event log holds under a learner's pseudonyms, read from Kafka (the source of truth).

Erasure and export are rare operator requests, so they read the topics from the beginning rather than keep an
index per learner in Redis (one more read model that would have to be erased too): ``CredentialIssued`` and
``CredentialOfferCreated`` events on the credentials topic whose ``learner_pseudonym`` matches (one read for
both), and the status changes of those credentials on the
status topic. The cost grows with the topics (a few seconds per hundred thousand credentials on one machine).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from google.protobuf.message import DecodeError, Message

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.topics import CREDENTIALS, STATUS
from microcred.status.cache import topic_end_offsets
from services.issuer.application.learner_data import Issued, Offered, StatusEvent

__all__ = ["KafkaLearnerRecords"]

_ISSUED = events_pb2.CredentialIssued.DESCRIPTOR.full_name
_OFFERED = events_pb2.CredentialOfferCreated.DESCRIPTOR.full_name
_CHANGES = {t.DESCRIPTOR.full_name: t for t in (events_pb2.CredentialRevoked, events_pb2.CredentialSuspended,
                                                events_pb2.CredentialReinstated)}


M = TypeVar("M", bound=Message)


def _decoded(kind: type[M], envelope: EventEnvelope) -> M | None:
    """The envelope's payload as ``kind``; None for one that does not decode (poison is the dead-letter topic's
    business, not an erasure's)."""
    try:
        return kind.FromString(envelope.payload)
    except DecodeError:
        return None


class KafkaLearnerRecords:
    """:class:`~services.issuer.application.learner_data.LearnerRecords` over whole-topic reads."""

    def __init__(self, bootstrap: str, *, credentials_topic: str = CREDENTIALS.name, status_topic: str = STATUS.name,
                 options: Mapping[str, Any] | None = None, timeout: float = 300.0) -> None:
        self._bootstrap, self._credentials, self._status = bootstrap, credentials_topic, status_topic
        self._options, self._timeout = dict(options or {}), timeout

    async def _envelopes(self, topic: str) -> list[EventEnvelope]:
        ends = {tp: end for tp, end in (await topic_end_offsets(self._bootstrap, [topic])).items() if end}
        if not ends:
            return []
        out: list[EventEnvelope] = []
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                    isolation_level="read_committed", max_partition_fetch_bytes=8 << 20,
                                    **self._options)
        await consumer.start()
        try:
            consumer.assign(list(ends))
            await consumer.seek_to_beginning(*ends)
            async with asyncio.timeout(self._timeout):
                todo = set(ends)
                while todo:
                    for tp, records in (await consumer.getmany(timeout_ms=500, max_records=5000)).items():
                        for record in records:
                            if record.value is None or record.offset >= ends[tp]:
                                continue
                            with contextlib.suppress(DecodeError):  # poison is the dead-letter topic's business
                                out.append(EventEnvelope.FromString(record.value))
                    todo = {tp for tp in todo if await consumer.position(tp) < ends[tp]}
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await consumer.stop()
        return out

    async def named(self, pseudonyms: Sequence[str]) -> tuple[Issued, Offered]:
        """In one read of the credentials topic: the sealed ``CredentialIssued`` events whose pseudonym or tags
        name one of ``pseudonyms`` (once per credential), and the ``CredentialOfferCreated`` events whose
        pseudonym does (once per offer)."""
        wanted, credentials, offers = set(pseudonyms), set(), set()
        issued: Issued = []
        offered: Offered = []
        for envelope in await self._envelopes(self._credentials):
            if envelope.payload_type == _ISSUED:
                event = _decoded(events_pb2.CredentialIssued, envelope)
                if event is not None and event.credential_id not in credentials and (
                        event.learner_pseudonym in wanted or not wanted.isdisjoint(event.learner_tags)):
                    credentials.add(event.credential_id)
                    issued.append((envelope, event))
            elif envelope.payload_type == _OFFERED:
                offer = _decoded(events_pb2.CredentialOfferCreated, envelope)
                if offer is not None and offer.offer_ref not in offers and offer.learner_pseudonym in wanted:
                    offers.add(offer.offer_ref)
                    offered.append((envelope, offer))
        return issued, offered

    async def status_of(self, credential_ids: Sequence[str]) -> list[StatusEvent]:
        """Revocations, suspensions and reinstatements of ``credential_ids``, oldest first."""
        wanted = set(credential_ids)
        if not wanted:
            return []
        out = []
        for envelope in await self._envelopes(self._status):
            kind = _CHANGES.get(envelope.payload_type)
            if kind is None:
                continue
            try:
                change = kind.FromString(envelope.payload)
            except DecodeError:
                continue
            if change.credential_id in wanted:
                out.append(StatusEvent(change.credential_id, envelope.event_type, change.reason, change.actor,
                                       envelope.occurred_at.ToDatetime(tzinfo=UTC).isoformat()))
        return sorted(out, key=lambda s: s.occurred_at)
