"""``make bench``: start real Kafka and Redis, run every measurement, write one flat JSON object.

Each measurement module exposes ``async def measure(infra: BenchInfra, quick: bool) -> dict[str, float]``.
Results go to ``bench/results/latest.json`` (figures plus machine and settings metadata), so runs can be
compared; ``--quick`` runs a short version of every measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib
import json
import os
import platform
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from microcred.infra.kafka_local import LocalKafka
from microcred.infra.redis_local import LocalRedis
from microcred.kafka.topics import ensure_topics
from microcred.privacy.wrapping import PRIVACY_KEK_ENV

RESULTS = Path(__file__).resolve().parent / "results"

# Measurement modules, run in this order; each contributes keys to the results object.
MEASUREMENTS: tuple[str, ...] = (
    "bench.issuance",
    "bench.issuance_scaling",
    "bench.issuance_cluster",
    "bench.revocation_visible",
    "bench.verify",
    "bench.verify_cluster",
    "bench.verify_sd_jwt",
    "bench.wallet_replay",
    "bench.privacy",
    "bench.sd_jwt",
    "bench.elm",
    "bench.oid4vp",
    "bench.pdf",
    "bench.oid4vci",
    "bench.oid4vci_replicas",
    "bench.oid4vci_rebuild",
    "bench.rate_limit",
    "bench.storage",
)


@dataclass(frozen=True)
class BenchInfra:
    """What a measurement may use: the Kafka bootstrap, the Redis URL and a scratch directory."""

    kafka_bootstrap: str
    redis_url: str
    work_dir: Path


Measure = Callable[[BenchInfra, bool], Awaitable[dict[str, float]]]


async def run(quick: bool, only: list[str] | None) -> dict[str, object]:
    """Start infrastructure, run the measurements that exist, stop infrastructure; return the results."""
    results: dict[str, object] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "cpu_count": os.cpu_count() or 0,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    # One privacy KEK for every service the run starts, as in a deployment: the benchmarks share one Kafka, so a
    # service reads the learner data keys every earlier one wrapped (with a KEK each, a replaying issuer stalls
    # on an earlier benchmark's offers: "a learner data key does not unwrap under this KEK").
    os.environ.setdefault(PRIVACY_KEK_ENV, base64.b64encode(secrets.token_bytes(32)).decode())
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmp:
        work = Path(tmp)
        redis = LocalRedis(work / "redis")
        kafka = LocalKafka(work / "kafka")
        redis.start()
        try:
            await kafka.start()
            await ensure_topics(kafka.bootstrap)
            infra = BenchInfra(kafka.bootstrap, redis.url, work)
            for name in MEASUREMENTS:
                if only and not any(name.endswith(o) for o in only):
                    continue
                module = importlib.import_module(name)
                measure: Measure = module.measure
                started = time.perf_counter()
                figures = await measure(infra, quick)
                print(f"{name}: {json.dumps(figures)} ({time.perf_counter() - started:.1f}s)")
                results.update(figures)
        finally:
            kafka.stop()
            redis.stop()
    return results


def main() -> None:
    """Parse arguments, run, and write ``bench/results/latest.json``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short version of every measurement")
    parser.add_argument("--only", nargs="*", help="run only measurements whose module name ends with these")
    parser.add_argument("--out", type=Path, help="write the figures here instead of bench/results/latest.json "
                        "(and leave history.jsonl alone): for runs used only as load, e.g. beside the fault suite")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick, args.only))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS / "latest.json"
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    if args.out is None:
        with (RESULTS / "history.jsonl").open("a") as history:
            history.write(json.dumps(results, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
