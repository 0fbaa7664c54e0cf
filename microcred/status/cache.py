"""Push-fed cache of signed status-list credentials, for verifiers that must see a revocation at once.

The revocation service publishes every newly signed ``BitstringStatusListCredential`` as a
``StatusListPublished`` event on ``microcred.status.v1``. :class:`StatusListCache` consumes that topic
(its own consumer group, so every instance sees every list), verifies each list's Data Integrity proof
(``did:key`` resolution, nothing fetched) and keeps the newest version per list URL in memory. A verifier
that embeds it answers status checks from :meth:`StatusListCache.get` without waiting for an HTTP cache to
expire, and may still fall back to HTTP for lists published elsewhere.

A list is accepted only when all of its proofs verify, its type is ``BitstringStatusListCredential``, its
``id`` is the URL it is published for, its proof was made by its ``issuer`` and, when ``trusted_signers`` is
given, that issuer is one of them. Older versions never replace newer ones.

Usage::

    cache = StatusListCache(bootstrap, trusted_signers={revocation_service_did})
    await cache.start()
    await cache.wait_ready(30)          # initial replay of the topic done
    hit = cache.get(entry.list_credential)   # (credential dict, received_at) or None
    ...
    await cache.stop()
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from google.protobuf.message import Message

from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.did_key import resolve_key
from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import ConsumerRunner, Position
from microcred.kafka.topics import STATUS
from microcred.status.check import LIST_CREDENTIAL_TYPE

__all__ = ["CachedStatusList", "StatusListCache", "topic_end_offsets"]

log = logging.getLogger(__name__)

Listener = Callable[["CachedStatusList"], None]


@dataclass(frozen=True)
class CachedStatusList:
    """One verified status-list credential as received from Kafka."""

    list_url: str
    list_id: str
    version: int
    credential: dict[str, Any]
    received_at: datetime
    valid_until: datetime | None
    issuer: str


#: Attempts at describing topics while a broker cannot be reached (each one after a longer pause).
DESCRIBE_ATTEMPTS = 5


async def topic_partitions(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of ``topics``, in order (RuntimeError when one of them does not exist)."""
    names = list(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        for attempt in range(1, DESCRIBE_ATTEMPTS + 1):
            try:
                described = await admin.describe_topics(names)
                break
            except KafkaError as exc:
                # The admin client sends the request to one node at random and does not try another: a broker
                # that is down, or restarting (listed in the cluster metadata before it takes connections), fails
                # the call (NodeNotReadyError) though the others answer. Retriable errors are tried again.
                if not exc.retriable or attempt == DESCRIBE_ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * attempt)
    finally:
        await admin.close()
    partitions = sorted((TopicPartition(t["topic"], p["partition"]) for t in described if not t["error_code"]
                         for p in t["partitions"]), key=lambda tp: (tp.topic, tp.partition))
    missing = set(names) - {tp.topic for tp in partitions}
    if missing:
        raise RuntimeError(f"topics {sorted(missing)} do not exist")
    return partitions


async def topic_end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The current end offset of every partition of ``topics`` (a snapshot, for "caught up" checks)."""
    partitions = await topic_partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


def _issuer_id(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def _valid_until(credential: dict[str, Any]) -> datetime | None:
    value = credential.get("validUntil")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


class StatusListCache:
    """Newest verified status-list credential per URL, fed by ``StatusListPublished`` events."""

    def __init__(self, kafka_bootstrap: str, *, group_id: str | None = None, topic: str = STATUS.name,
                 trusted_signers: Collection[str] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._bootstrap = kafka_bootstrap
        self._group = group_id or f"status-list-cache-{uuid.uuid4().hex}"
        self._topic = topic
        self._trusted = frozenset(trusted_signers) if trusted_signers is not None else None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lists: dict[str, CachedStatusList] = {}
        self._listeners: list[Listener] = []
        self._behind: dict[int, int] = {}
        self._ready = asyncio.Event()
        self._runner: ConsumerRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self.accepted = 0
        self.rejected = 0
        self.last_received_at: datetime | None = None

    # ----------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Snapshot the topic's end offsets, join a fresh consumer group and replay from the beginning."""
        ends = await topic_end_offsets(self._bootstrap, [self._topic])
        self._behind = {tp.partition: end for tp, end in ends.items() if end > 0}
        if not self._behind:
            self._ready.set()
        # The group is new in every process; dead letters go under one stable name so a restart does not
        # dead-letter the same poison record again.
        self._runner = ConsumerRunner(self._bootstrap, self._group, [self._topic], self.handle, self._no_position,
                                      dead_letter_name="status-list-cache")
        await self._runner.start()
        self._task = asyncio.create_task(self._runner.run(), name="status-list-cache")

    async def stop(self) -> None:
        """Leave the consumer group."""
        if self._runner is not None:
            await self._runner.stop()
        if self._task is not None:
            await self._task
        self._runner = self._task = None

    @property
    def running(self) -> bool:
        """Whether the consumer task is alive (for health checks)."""
        return self._task is not None and not self._task.done()

    @property
    def ready(self) -> bool:
        """Whether everything published before :meth:`start` has been read."""
        return self._ready.is_set()

    async def wait_ready(self, timeout: float) -> bool:
        """Wait until :attr:`ready`; False when ``timeout`` seconds pass first."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    @staticmethod
    async def _no_position(topic: str, partition: int) -> int | None:
        return None  # in-memory: always replay from the beginning

    # --------------------------------------------------------------------------------------- reads

    def get(self, list_url: str) -> tuple[dict[str, Any], datetime] | None:
        """The newest verified list credential published for ``list_url`` and when it arrived, or None."""
        cached = self._lists.get(list_url)
        return None if cached is None else (cached.credential, cached.received_at)

    def entry(self, list_url: str) -> CachedStatusList | None:
        """Everything known about the cached list (version, validity, issuer)."""
        return self._lists.get(list_url)

    def freshness(self, list_url: str, now: datetime | None = None) -> float | None:
        """Seconds since the newest version of the list arrived (None when the list is not cached)."""
        cached = self._lists.get(list_url)
        if cached is None:
            return None
        return ((now or self._clock()) - cached.received_at).total_seconds()

    def is_current(self, list_url: str, now: datetime | None = None) -> bool:
        """Whether the cached list exists and its ``validUntil`` has not passed."""
        cached = self._lists.get(list_url)
        if cached is None:
            return False
        return cached.valid_until is None or (now or self._clock()) <= cached.valid_until

    def __len__(self) -> int:
        return len(self._lists)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with every newly accepted list (it must be quick and must not raise)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------------------------ consuming

    async def handle(self, envelope: EventEnvelope, payload: Message, position: Position) -> None:
        """ConsumerRunner handler: accept ``StatusListPublished`` events, ignore everything else."""
        if isinstance(payload, events_pb2.StatusListPublished):
            self.accept(payload)
        end = self._behind.get(position.partition)
        if end is not None and position.offset + 1 >= end:
            del self._behind[position.partition]
            if not self._behind:
                self._ready.set()

    def accept(self, published: events_pb2.StatusListPublished) -> bool:
        """Verify and keep one published list; False (and counted in ``rejected``) when refused."""
        url = published.status_list_credential
        current = self._lists.get(url)
        if current is not None and current.version >= published.version:
            return False  # an older or repeated version: keep the newer one, nothing to verify
        reason, credential = self._check(published)
        if reason is not None or credential is None:
            self.rejected += 1
            log.warning("status list refused", extra={"list_url": url, "version": published.version,
                                                      "reason": reason})
            return False
        now = self._clock()
        cached = CachedStatusList(url, published.status_list_id, published.version, credential, now,
                                  _valid_until(credential), _issuer_id(credential))
        self._lists[url] = cached
        self.accepted += 1
        self.last_received_at = now
        for listener in self._listeners:
            try:
                listener(cached)
            except Exception:  # a listener must not stop the cache
                log.exception("status list listener failed")
        return True

    def _check(self, published: events_pb2.StatusListPublished) -> tuple[str | None, dict[str, Any] | None]:
        try:
            credential = json.loads(published.credential_json)
        except ValueError as exc:
            return f"not JSON: {exc}", None
        if not isinstance(credential, dict):
            return "not a JSON object", None
        types = credential.get("type")
        if LIST_CREDENTIAL_TYPE not in (types if isinstance(types, list) else [types]):
            return f"type does not include {LIST_CREDENTIAL_TYPE}", None
        if credential.get("id", published.status_list_credential) != published.status_list_credential:
            return "credential id differs from the URL it is published for", None
        issuer = _issuer_id(credential)
        if self._trusted is not None and issuer not in self._trusted:
            return f"issuer {issuer!r} is not a trusted status-list signer", None
        proofs = credential.get("proof")
        for proof in proofs if isinstance(proofs, list) else [proofs]:
            method = proof.get("verificationMethod") if isinstance(proof, dict) else None
            if not isinstance(method, str) or method.split("#", 1)[0] != issuer:
                return "the proof was not made by the list's issuer", None
        outcome = verify_data_integrity(credential, resolve_key)
        if outcome.verified is not True:
            return f"proof not verified: {outcome.code} {outcome.message}", None
        return None, credential
