"""Verification on a Redis Cluster with the status of a million credentials: ``verify_cluster_per_s`` (issue 24).

:mod:`bench.verify`'s distinct-credential run (same gateway process, workers, load generator and connections;
every answer must be ``valid``), with the gateway on a local 3-master Redis Cluster started for this run
(``redis+cluster://``) and its **shared** per-client rate limit on (the production setting: one token-bucket
script on the cluster per request; the limit itself lifted so that it never refuses), and an issuer whose
status lists cover 1,048,576 credentials: 8 revocation and 8 suspension lists of 131,072 entries, every signed
credential on one of them at an index spread over the list. A gateway holds no credential: what grows with the
credentials stored is the status lists it fetches and caches, so that is what this run scales.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.verify import (
    _busiest_share,
    _cpu_seconds,
    _load,
    _load_figures,
    _publish_world,
    _sign_many,
    _start_gateway,
    _stop_gateway,
    _warm,
    _worker_cpu_seconds,
)
from microcred.infra.ports import free_port
from microcred.infra.redis_cluster_local import LocalRedisCluster
from microcred.status.bitstring import Bitstring

__all__ = ["measure"]

#: Status lists per purpose: 8 x 131,072 entries = the status of 1,048,576 credentials.
LISTS = 8


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Distinct credentials for 5 s with ``--quick`` (20 s otherwise) through a gateway on the cluster."""
    tag = uuid.uuid4().hex[:8]
    template, key, method, list_did = await _publish_world(infra.kafka_bootstrap, tag, lists=LISTS)
    work = Path(infra.work_dir)
    seconds = 5.0 if quick else 20.0
    distinct = 20_000 if quick else 40_000
    created = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    bodies = work / f"verify-cluster-{tag}.jsonl"
    await asyncio.to_thread(_sign_many, template, key, method, created, distinct, bodies, LISTS)
    lines = bodies.read_bytes().splitlines()
    first = orjson.loads(lines[0])
    bodies.write_bytes(b"\n".join(lines[1:]) + b"\n")  # the first one warms the gateway up
    del lines
    cluster = LocalRedisCluster(work / f"verify-cluster-{tag}")
    cluster.start()
    url = cluster.service_url
    port = free_port()
    process = _start_gateway(infra, port, tag, list_did, work / f"verifier-cluster-{tag}.log",
                             {"MICROCRED_REDIS_URL": url, "MICROCRED_RATE_LIMIT_SHARED": "true"})
    try:
        await _warm(f"http://127.0.0.1:{port}", first, process)
        cpu, workers_cpu = _cpu_seconds(process.pid), _worker_cpu_seconds(process.pid)
        result = await asyncio.to_thread(_load, port, bodies, seconds, "--distinct")
        gateway_cpu = _cpu_seconds(process.pid) - cpu
        busiest = _busiest_share(workers_cpu, _worker_cpu_seconds(process.pid))
    finally:
        _stop_gateway(process)
        cluster.stop()
        bodies.unlink(missing_ok=True)
    figures = {
        **_load_figures("verify_cluster", result, gateway_cpu),
        "verify_cluster_busiest_worker_cpu_share": busiest,
        "verify_cluster_non_valid": float(result["errors"]),
        "verify_cluster_status_entries": float(LISTS * len(Bitstring())),
        "verify_cluster_loadavg": round(os.getloadavg()[0], 2),
    }
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} verifications were not valid ({result['first_error']}); "
                           f"figures: {figures}")
    return figures
