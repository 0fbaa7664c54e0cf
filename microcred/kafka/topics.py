"""The platform's Kafka topics, declared as data, and their creation.

Kafka is the source of truth: every state change is an event on one of these topics. Keys keep all events
about one thing on one partition, so consumers see them in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True)
class TopicSpec:
    """A topic, what its records are keyed by and what it carries."""

    name: str
    partitions: int
    key: str
    carries: str
    config: dict[str, str] = field(default_factory=dict)


# Event logs are the source of truth and are replayed in full to rebuild read models: they are kept forever
# (retention.ms=-1) and not compacted (a compacted log would lose the audit trail and older status changes).
FOREVER = {"retention.ms": "-1"}

CREDENTIALS = TopicSpec("microcred.credentials.v1", 6, "credential id", "CredentialIssued", FOREVER)
STATUS = TopicSpec("microcred.status.v1", 3, "credential id (list id for list events)",
                   "CredentialRevoked/Suspended/Reinstated, StatusIndexesReserved, StatusListPublished", FOREVER)
REGISTRY = TopicSpec("microcred.registry.v1", 3, "issuer id (agency id for agency events)",
                     "AgencyRegistered, IssuerRegistered, IssuerAccredited, Accreditation*, IssuerKeyRotated", FOREVER)
PATHWAYS = TopicSpec("microcred.pathways.v1", 3, "pathway id", "PathwayPublished, PathwayCompleted", FOREVER)
# The wallet's own state (accounts, holder keys, bindings, imports, share links) is keyed state: every record
# is the full state of the thing its key names, so compaction (keep the latest record per key) loses nothing a
# rebuild needs, and replay time follows the number of accounts and links rather than their history.
WALLET = TopicSpec("microcred.wallet.v1", 6, "account:/holder-key:/binding:/import:/share: + id",
                   "WalletAccountLinked, HolderKeyCreated, CredentialBound, CredentialImported, ShareLink*",
                   {**FOREVER, "cleanup.policy": "compact"})
# Learners' data keys (crypto-shredding, docs/privacy.md): the wrapped key per pseudonym, a tombstone destroys it.
# Compaction is tuned so that a destroyed key is gone from every segment file within a stated bound: the active
# segment rolls within an hour (segment.ms, max.compaction.lag.ms; a roll happens on an append, so the key
# store appends a no-op tombstone every few minutes), the cleaner then compacts it (min.compaction.lag.ms=0,
# a low dirty ratio) and deletes the old files a minute later (file.delete.delay.ms). The tombstone itself
# (the pseudonym only) stays a day, so a cache replaying the topic learns of the deletion.
LEARNER_KEYS = TopicSpec("microcred.learnerkeys.v1", 6, "learner pseudonym (lp_...)",
                         "wrapped AES-256-GCM data keys; tombstone = key destroyed",
                         {**FOREVER, "cleanup.policy": "compact", "min.compaction.lag.ms": "0",
                          "max.compaction.lag.ms": str(3600 * 1000), "segment.ms": str(3600 * 1000),
                          "delete.retention.ms": str(24 * 3600 * 1000), "min.cleanable.dirty.ratio": "0.01",
                          "file.delete.delay.ms": str(60 * 1000)})
DEAD_LETTER = TopicSpec("microcred.deadletter.v1", 1, "original topic/partition/offset",
                        "records no consumer could decode or apply, with the reason in headers",
                        {"retention.ms": str(90 * 24 * 3600 * 1000)})

ALL_TOPICS: tuple[TopicSpec, ...] = (CREDENTIALS, STATUS, REGISTRY, PATHWAYS, WALLET, LEARNER_KEYS, DEAD_LETTER)


async def ensure_topics(bootstrap: str, replication_factor: int = 1, min_insync: int = 1,
                        topics: tuple[TopicSpec, ...] = ALL_TOPICS, prefix: str = "",
                        options: Mapping[str, Any] | None = None) -> None:
    """Create the topics that do not exist yet; raise on any error other than 'already exists'."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000, **(options or {}))
    await admin.start()
    try:
        new = [
            NewTopic(prefix + t.name, t.partitions, replication_factor,
                     topic_configs={"min.insync.replicas": str(min_insync), **t.config})
            for t in topics
        ]
        response = await admin.create_topics(new)
        for name, code, message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {name}: error {code} {message}")
    finally:
        await admin.close()
