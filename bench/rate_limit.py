"""What the shared per-client rate limit adds to each gateway request: one Redis round trip.

The gateway's admission step (:class:`services.verifier.api.admission.Admission`) is timed in process, as the
gateway's entry point runs it, once with the per-process buckets (``admit``, the gateway without
``MICROCRED_RATE_LIMIT_SHARED``) and once with the buckets shared in Redis (``admit_shared``: one ``EVALSHA`` of
the token-bucket script on the bench's local Redis over loopback). Every request is a distinct client address
(``DISTINCT`` of them, each asked once per pass), so each shared take creates or updates a bucket key, as a
stream of different employers does.

Figures:

* ``rate_limit_local_p50_us`` / ``_p99_us``: per-process admission, microseconds per request;
* ``rate_limit_shared_p50_us`` / ``_p99_us``: shared admission, one request at a time (latency);
* ``rate_limit_added_p50_us``: the difference of the medians: the latency the shared limit adds per request;
* ``rate_limit_shared_concurrent_per_s``: shared admissions a second with 16 requests in flight (one process),
  ``rate_limit_shared_concurrent_p99_us`` their latency;
* ``rate_limit_cluster_*``: the same shared figures on a local 3-master Redis Cluster
  (``tests.harness.redis_cluster``, started for this measurement; ``redis.asyncio.cluster.RedisCluster``).

``python -m bench.rate_limit`` starts its own Redis (and cluster) and prints the figures.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from services.verifier.adapters.rate_limit import RedisBucketStore
from services.verifier.api.admission import Admission
from services.verifier.api.rate_limit import SharedClientBuckets

__all__ = ["measure"]

RATE, BURST = 20.0, 60  # the gateway's defaults


def _scope(i: int) -> dict[str, Any]:
    return {"type": "http", "client": (f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 40000), "headers": []}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure_with(redis: Redis | RedisCluster, quick: bool) -> dict[str, float]:
    """The figures against ``redis`` (its own key namespace, removed afterwards; the client is closed)."""
    distinct = 5_000 if quick else 20_000
    scopes = [_scope(i) for i in range(distinct)]
    namespace = f"bench-rl-{uuid.uuid4().hex[:8]}"
    try:
        local = Admission(RATE, BURST)
        shared = Admission(RATE, BURST)
        shared.use_shared(SharedClientBuckets(RedisBucketStore(redis, namespace), RATE, BURST, timeout=1.0))
        await shared.admit_shared(_scope(distinct + 1))  # the script loaded, one connection open
        local_us, shared_us = [], []
        for scope in scopes:
            started = time.perf_counter()
            assert local.admit(scope) is None
            local_us.append((time.perf_counter() - started) * 1e6)
            local.release()
        for scope in scopes:
            started = time.perf_counter()
            assert await shared.admit_shared(scope) is None
            shared_us.append((time.perf_counter() - started) * 1e6)
            shared.release()
        assert shared.shared is not None and shared.shared.fallbacks == 0, "Redis did not answer in time"

        concurrent_us: list[float] = []
        queue = iter(_scope(distinct + 2 + i) for i in range(distinct))

        async def worker() -> None:
            for scope in queue:
                started = time.perf_counter()
                await shared.admit_shared(scope)
                concurrent_us.append((time.perf_counter() - started) * 1e6)
                shared.release()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        elapsed = time.perf_counter() - started
        async for key in redis.scan_iter(match=f"{namespace}:*", count=1000):
            await redis.unlink(key)
    finally:
        await redis.aclose()
    return {
        "rate_limit_local_p50_us": round(_pct(local_us, 0.5), 2),
        "rate_limit_local_p99_us": round(_pct(local_us, 0.99), 2),
        "rate_limit_shared_p50_us": round(_pct(shared_us, 0.5), 1),
        "rate_limit_shared_p99_us": round(_pct(shared_us, 0.99), 1),
        "rate_limit_added_p50_us": round(_pct(shared_us, 0.5) - _pct(local_us, 0.5), 1),
        "rate_limit_shared_concurrent_per_s": round(len(concurrent_us) / elapsed),
        "rate_limit_shared_concurrent_p99_us": round(_pct(concurrent_us, 0.99), 1),
    }


async def measure_cluster(work_dir: Path, quick: bool) -> dict[str, float]:
    """The shared figures on a 3-master Redis Cluster started under ``work_dir`` (stopped afterwards)."""
    from microcred.infra.redis_cluster_local import LocalRedisCluster

    cluster = LocalRedisCluster(work_dir)
    await asyncio.to_thread(cluster.start)
    try:
        client = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in cluster.startup_nodes],
                              socket_timeout=1.0)
        await client.initialize()  # before concurrent commands (docs/redis-keys.md)
        figures = await measure_with(client, quick)
    finally:
        await asyncio.to_thread(cluster.stop)
    renamed = {"rate_limit_shared": "rate_limit_cluster", "rate_limit_added": "rate_limit_cluster_added"}
    out = {}
    for key, value in figures.items():
        prefix = next((p for p in renamed if key.startswith(p)), None)
        if prefix is not None:
            out[renamed[prefix] + key[len(prefix):]] = value
    return out


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """``make bench`` entry point (see bench/run.py)."""
    figures = await measure_with(Redis.from_url(infra.redis_url, socket_timeout=1.0), quick)
    return figures | await measure_cluster(infra.work_dir / "rate-limit-cluster", quick)


def main() -> None:
    """Start a Redis of its own, measure, print."""
    from microcred.infra.redis_local import LocalRedis

    async def both(url: str, work: Path) -> dict[str, float]:
        figures = await measure_with(Redis.from_url(url, socket_timeout=1.0), False)
        return figures | await measure_cluster(work / "cluster", False)

    with tempfile.TemporaryDirectory(prefix="bench-rate-limit-") as tmp:
        redis = LocalRedis(Path(tmp) / "redis")
        redis.start()
        try:
            print(json.dumps(asyncio.run(both(redis.url, Path(tmp))), indent=2))
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
