"""Issuance on a Redis Cluster with a large store: ``issuance_cluster_rate_at_large_per_s`` (issue 24).

The same measurement as :mod:`bench.issuance_scaling` (the issuer's batch RPC end to end: request -> signed ->
on Kafka -> answered, distinct credentials), with the issuer and its revocation service on a local 3-master
Redis Cluster started for this run (``redis+cluster://``): the issued credentials spread over slot groups
(:mod:`microcred.storage.slot_groups`). Rates with 10,000 stored and with 1,000,000 stored (100,000 with
``--quick``, said in ``issuance_cluster_store_size``); the filler sits in the credentials' own slot groups and
on Kafka beside the credentials topic, as in the single-node figure. Also: how the records spread over the
masters (``issuance_cluster_master_share_max``: the largest master's share of the stored records; 1/3 is even).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis.asyncio.cluster import RedisCluster

from bench.issuance_scaling import scaling_rates
from microcred.infra.redis_cluster_local import LocalRedisCluster
from microcred.lifecycle import connect_redis_client

__all__ = ["measure"]


async def _master_share(url: str) -> float:
    """The largest master's share of every key in the cluster."""
    client = await connect_redis_client(url)
    assert isinstance(client, RedisCluster)
    try:
        sizes = [int(await client.dbsize(target_nodes=node)) for node in client.get_primaries()]
    finally:
        await client.aclose()
    return max(sizes) / max(1, sum(sizes))


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Start a 3-master cluster, measure issuance at 10k and at 1M (100k quick) stored, stop the cluster."""
    cluster = LocalRedisCluster(Path(infra.work_dir) / "issuance-cluster")
    cluster.start()
    try:
        url = cluster.service_url
        small, large, size = await scaling_rates(infra, quick, url)
        share = await _master_share(url)
    finally:
        cluster.stop()
    return {"issuance_cluster_rate_at_10k_per_s": round(small, 1),
            "issuance_cluster_rate_at_large_per_s": round(large, 1),
            "issuance_cluster_store_size": float(size),
            "issuance_cluster_master_share_max": round(share, 3)}
