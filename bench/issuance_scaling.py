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
from redis.asyncio import Redis

from bench.issuance import AGENCY, _run_client
from microcred import pki
from microcred.kafka.topics import CREDENTIALS
from services.issuer.adapters.store import cred_key
from tests.harness.issuer import start_issuer_harness

__all__ = ["measure"]

FILLER = b"x" * 1024


async def _grow_redis(redis_url: str, prefix: str, issuer: str, count: int) -> None:
    redis = Redis.from_url(redis_url)
    try:
        for start in range(0, count, 10_000):
            async with redis.pipeline(transaction=False) as pipe:
                for n in range(start, min(count, start + 10_000)):
                    pipe.set(cred_key(prefix, issuer, f"urn:uuid:{uuid.UUID(int=n)}"), FILLER)
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
    from microcred.kafka.topics import TopicSpec, ensure_topics

    target_size = 100_000 if quick else 1_000_000
    sample = 2_000 if quick else 5_000
    work = Path(infra.work_dir) / f"scaling-{uuid.uuid4().hex[:6]}"
    workers_env = os.environ.get("MICROCRED_SIGNING_WORKERS")
    harness = await start_issuer_harness(infra.kafka_bootstrap, infra.redis_url, work, status_block_size=5000,
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
        prefix = harness.app.settings.issuer_redis_prefix
        await asyncio.gather(_grow_redis(infra.redis_url, prefix, issuer, grow), _grow_topic(infra.kafka_bootstrap,
                                                                                            grow))
        large = await _run_client(harness.target, tls_dir, issuer, sample)
    finally:
        await harness.close()
    rate_small = small["issued"] / small["seconds"]
    rate_large = large["issued"] / large["seconds"]
    return {"issuance_rate_1m_over_10k": round(rate_large / rate_small, 3),
            "issuance_rate_at_10k_per_s": round(rate_small, 1),
            "issuance_rate_at_large_per_s": round(rate_large, 1),
            "issuance_scaling_store_size": float(target_size)}
