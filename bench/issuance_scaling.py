"""Does the cost per credential grow with the store? ``issuance_rate_1m_over_10k``.

The issuer service is measured twice through the real batch RPC (request -> signed -> on Kafka -> answered):
once with 10,000 credentials stored, once with 1,000,000. The ratio of the two rates is the figure (1.0 means
no growth; below 1 means issuing got slower as the store grew).

Filling a store with a million *signed* credentials would take a quarter of an hour of signing that this
figure does not measure, so the store is grown synthetically between the two runs, in the places whose size
could matter: the issuer's Redis record of issued credentials (same key layout, same issuer, 1 kB values) and
the credentials topic on Kafka (1 kB records on the same partitions). The first 10,000 are real credentials.
``--quick`` grows the store to 100,000 instead and says so in ``issuance_scaling_store_size``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.issuance import AGENCY, _run_client
from microcred import pki
from microcred.kafka.topics import CREDENTIALS
from microcred.lifecycle import connect_redis_client
from microcred.storage.slot_groups import SlotGroups
from services.issuer.adapters.store import cred_key
from tests.harness.issuer import start_issuer_harness

__all__ = ["measure"]

FILLER = b"x" * 1024


async def _grow_redis(redis_url: str, groups: SlotGroups, issuer: str, count: int) -> None:
    """``count`` filler records where the issuer keeps issued ones (each in its slot group on a cluster)."""
    redis = await connect_redis_client(redis_url)
    try:
        for start in range(0, count, 10_000):
            async with redis.pipeline(transaction=False) as pipe:  # on a cluster: one pipeline per master
                for n in range(start, min(count, start + 10_000)):
                    cid = f"urn:uuid:{uuid.UUID(int=n)}"
                    pipe.set(cred_key(groups.key_prefix(groups.group_of(cid)), issuer, cid), FILLER)
                await pipe.execute()
    finally:
        await redis.aclose()


async def _grow_topic(bootstrap: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20,
                                max_batch_size=1024 * 1024)
    await producer.start()
    try:
        for start in range(0, count, 20_000):
            futures = [await producer.send(CREDENTIALS.name + ".filler", FILLER, key=str(n).encode())
                       for n in range(start, min(count, start + 20_000))]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Rate with 10k stored, grow the store to 1M (100k quick), rate again; return the ratio."""
    small, large, target_size = await scaling_rates(infra, quick, infra.redis_url)
    return {"issuance_rate_1m_over_10k": round(large / small, 3),
            "issuance_rate_at_10k_per_s": round(small, 1),
            "issuance_rate_at_large_per_s": round(large, 1),
            "issuance_scaling_store_size": float(target_size)}


async def scaling_rates(infra: Any, quick: bool, redis_url: str) -> tuple[float, float, int]:
    """Issuance rates (per s) with 10k stored and with 1M (100k quick) stored, on the Redis at ``redis_url``
    (a single node, or a cluster with ``redis+cluster://``), and the large store's size."""
    from microcred.kafka.topics import TopicSpec, ensure_topics

    target_size = 100_000 if quick else 1_000_000
    sample = 2_000 if quick else 5_000
    work = Path(infra.work_dir) / f"scaling-{uuid.uuid4().hex[:6]}"
    workers_env = os.environ.get("MICROCRED_SIGNING_WORKERS")
    harness = await start_issuer_harness(infra.kafka_bootstrap, redis_url, work, status_block_size=5000,
                                         signing_workers=int(workers_env) if workers_env else None,
                                         log_level="WARNING", revocation_process=True)
    # A separate topic holds the filler so consumers of the real topic never see non-envelope records; it lives on
    # the same broker and disk, which is what the size of the log could affect.
    await ensure_topics(infra.kafka_bootstrap, topics=(TopicSpec(CREDENTIALS.name + ".filler", CREDENTIALS.partitions,
                                                                 "n", "benchmark filler"),))
    try:
        issuer = f"scale-{uuid.uuid4().hex[:6]}"
        await harness.onboard(AGENCY, {issuer: 8})
        tls_dir = work / "client"
        pki.create_client_cert(harness.ca, issuer, AGENCY, pki.ROLE_ISSUER).write(tls_dir, issuer)
        harness.ca.write(tls_dir, "ca")
        await _run_client(harness.target, tls_dir, issuer, 10_000 - sample)  # the first 10k are real
        small = await _run_client(harness.target, tls_dir, issuer, sample)
        grow = target_size - 10_000
        projection = harness.app.store_projection
        assert projection is not None
        await asyncio.gather(_grow_redis(redis_url, projection.groups, issuer, grow),
                             _grow_topic(infra.kafka_bootstrap, grow))
        large = await _run_client(harness.target, tls_dir, issuer, sample)
    finally:
        await harness.close()
    return small["issued"] / small["seconds"], large["issued"] / large["seconds"], target_size
