"""How long after a revoke RPC returns does a verifier's push-fed cache see the bit set?

Starts the revocation service in-process (its own Redis prefix and consumer group) and a
:class:`~microcred.status.cache.StatusListCache` as the verifier gateway holds it, simulates the issuance of
``count`` credentials (reservation over gRPC + ``CredentialIssued`` on Kafka), then revokes them one after the
other over gRPC (mutual TLS). For each revocation the clock starts when the RPC returns and stops when the
cache accepts a verified list version with that credential's bit set. Service, cache and client share one
event loop and one CPU-bound interpreter, so the figures include their contention.

Figures: ``revocation_visible_p50_ms`` / ``_p99_ms`` / ``_max_ms``, ``revocation_rpc_p50_ms`` / ``_p99_ms``
(RPC latency, which includes waiting for the change to be projected), ``status_list_sign_p50_ms`` /
``_p99_ms`` (build + sign + serialise one list) and ``revocations_measured``.

``python -m bench.revocation_visible [--count N]`` starts its own Kafka and Redis and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from microcred import pki
from microcred.gen.microcred.v1 import revocation_pb2, status_pb2
from microcred.status.bitstring import decode_list
from microcred.status.cache import CachedStatusList, StatusListCache
from tests.harness.revocation import start_harness

__all__ = ["measure", "measure_visibility"]

REVOCATION = status_pb2.STATUS_PURPOSE_REVOCATION


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """``bench.run`` entry point: 1,000 revocations (200 with ``--quick``)."""
    return await measure_visibility(infra.kafka_bootstrap, infra.redis_url, 200 if quick else 1_000,
                                    work_dir=getattr(infra, "work_dir", None))


async def measure_visibility(kafka_bootstrap: str, redis_url: str, count: int = 1_000,
                             work_dir: Path | None = None) -> dict[str, float]:
    """Revoke ``count`` credentials and time until the push-fed cache sees each bit set."""
    with tempfile.TemporaryDirectory(prefix="bench-revocation-", dir=work_dir) as tmp:
        harness = await start_harness(kafka_bootstrap, redis_url, Path(tmp))
        assert harness.app.signer is not None and harness.app.publisher is not None
        cache = StatusListCache(kafka_bootstrap, trusted_signers={harness.app.signer.did})
        try:
            await cache.start()
            if not await cache.wait_ready(120):
                raise TimeoutError("the status-list cache did not catch up")
            issuer = f"bench-{uuid.uuid4().hex[:8]}"
            credentials = await harness.issue(issuer, "BENCH", count, purposes=(REVOCATION,))
            urls = {c.entry(REVOCATION).status_list_credential for c in credentials}
            deadline = time.monotonic() + 30
            while any(cache.get(url) is None for url in urls):
                if time.monotonic() > deadline:
                    raise TimeoutError("fresh lists never reached the cache")
                await asyncio.sleep(0.01)

            pending: dict[str, dict[int, float]] = {url: {} for url in urls}
            visible: list[float] = []

            def seen(cached: CachedStatusList) -> None:
                waiting = pending.get(cached.list_url)
                if not waiting:
                    return
                bits = decode_list(cached.credential["credentialSubject"]["encodedList"]).bits
                now = time.perf_counter()
                for index in [i for i in waiting if bits.get(i)]:
                    visible.append(now - waiting.pop(index))

            cache.add_listener(seen)
            harness.app.publisher.stats.sign_ms.clear()
            stub = harness.stub(issuer, "BENCH", pki.ROLE_ISSUER)
            rpc: list[float] = []
            for credential in credentials:
                entry = credential.entry(REVOCATION)
                started = time.perf_counter()
                await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                    credential_id=credential.credential_id, reason="benchmark"))
                returned = time.perf_counter()
                rpc.append(returned - started)
                hit = cache.get(entry.status_list_credential)
                if hit is not None and decode_list(hit[0]["credentialSubject"]["encodedList"]).bits.get(
                        entry.status_list_index):
                    visible.append(0.0)  # already visible before the call returned
                else:
                    pending[entry.status_list_credential][entry.status_list_index] = returned
            deadline = time.monotonic() + 30
            while any(pending.values()):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{sum(map(len, pending.values()))} revocations never became visible")
                await asyncio.sleep(0.01)
            sign_ms = list(harness.app.publisher.stats.sign_ms) or [0.0]
            return {
                "revocation_visible_p50_ms": round(percentile(visible, 0.50) * 1000, 2),
                "revocation_visible_p99_ms": round(percentile(visible, 0.99) * 1000, 2),
                "revocation_visible_max_ms": round(max(visible) * 1000, 2),
                "revocation_rpc_p50_ms": round(percentile(rpc, 0.50) * 1000, 2),
                "revocation_rpc_p99_ms": round(percentile(rpc, 0.99) * 1000, 2),
                "status_list_sign_p50_ms": round(percentile(sign_ms, 0.50), 2),
                "status_list_sign_p99_ms": round(percentile(sign_ms, 0.99), 2),
                "revocations_measured": float(len(visible)),
            }
        finally:
            await cache.stop()
            await harness.close()


async def _standalone(count: int) -> dict[str, float]:
    from microcred.infra.kafka_local import LocalKafka
    from microcred.infra.redis_local import LocalRedis
    from microcred.kafka.topics import ensure_topics

    with tempfile.TemporaryDirectory(prefix="bench-infra-") as tmp:
        redis, kafka = LocalRedis(Path(tmp) / "redis"), LocalKafka(Path(tmp) / "kafka")
        redis.start()
        try:
            await kafka.start()
            await ensure_topics(kafka.bootstrap)
            return await measure_visibility(kafka.bootstrap, redis.url, count, Path(tmp))
        finally:
            kafka.stop()
            redis.stop()


def main() -> None:
    """Run the measurement on a private Kafka and Redis and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    print(json.dumps(asyncio.run(_standalone(args.count)), indent=2))


if __name__ == "__main__":
    main()
