"""Feeds the audit read model from the credential, status and registry topics."""

from __future__ import annotations

from redis.asyncio import Redis

from microcred.kafka.consumer import BATCHING_FETCH, ConsumerRunner
from microcred.kafka.topics import CREDENTIALS, REGISTRY, STATUS
from microcred.storage.positions import ProjectionEpoch
from services.issuer.audit.store import PROJECTION, RedisAuditLog


def audit_runner(bootstrap: str, redis: Redis, group_id: str = "microcred-audit",
                 namespace: str = PROJECTION) -> tuple[RedisAuditLog, ConsumerRunner]:
    """The audit log and the (not yet started) consumer that keeps it current (rebuilt by replay when wiped)."""
    log = RedisAuditLog(redis, namespace)
    topics = [CREDENTIALS.name, STATUS.name, REGISTRY.name]
    runner = ConsumerRunner(bootstrap, group_id, topics, log.apply, log.position, fetch=BATCHING_FETCH,
                            guard=ProjectionEpoch(redis, namespace), batch_handler=log.apply_batch)
    return log, runner
