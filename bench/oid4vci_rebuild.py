"""How fast the issuer's open OpenID4VCI offers come back after its Redis is lost (the offer projection's replay).

The issuer service runs in this process on a Redis server of its own (the bench's shared one is not wiped), with
real Kafka. A cohort of distinct awards becomes offers (``POST /oid4vci/offers`` from client processes, as in
:mod:`bench.oid4vci`); once the start's replay is over, Redis is wiped (``FLUSHALL``), and the clock runs from the
wipe until the projection has replayed the credentials topic to its end offsets (every record before the wipe,
the cohort's ``CredentialOfferCreated`` among them: the earlier benchmarks' ``CredentialIssued`` records are
passed over) and every offer is back in Redis. The rest of the issuer's state (the credential store, the trust
registry, the learners' keys) rebuilds at the same time, as it would.

Figures: ``oid4vci_rebuild_offers`` (the cohort), ``oid4vci_rebuild_topic_records`` (records on the topic at
the wipe), ``oid4vci_rebuild_seconds`` and ``oid4vci_offers_rebuilt_per_s`` (offers back per second of the whole
replay). A sample of the offers' links is then served again, checked.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from redis.asyncio import Redis

from bench.oid4vci import AGENCY, CHUNK, CLIENTS, _offer_client, _run_clients
from microcred import pki
from microcred.infra.redis_local import LocalRedis
from microcred.kafka.topics import CREDENTIALS
from microcred.status.cache import topic_end_offsets
from tests.harness.issuer import start_issuer_harness

__all__ = ["measure"]


async def _offers_in(redis: Redis, prefix: str) -> int:
    return sum([1 async for _ in redis.scan_iter(match=f"{prefix}:o4i:offer:*", count=5000)])


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Offers for a cohort (``quick``: 5,000; else 20,000), Redis wiped, the time until they are all back."""
    work: Path = infra.work_dir / f"oid4vci-rebuild-{uuid.uuid4().hex[:6]}"
    own = LocalRedis(work / "redis")
    own.start()
    document_ca = pki.create_ca("bench document-signing CA", agency=AGENCY)
    cert_file, key_file = document_ca.write(work / "document-ca", "ca")
    harness = await start_issuer_harness(infra.kafka_bootstrap, own.url, work, rest_port=0,
                                         document_signing_ca_cert_file=cert_file,
                                         document_signing_ca_key_file=key_file)
    redis = Redis.from_url(own.url)
    issuer_id = "bench-vcr-uni"
    try:
        await harness.onboard(AGENCY, {issuer_id: 7})
        assert harness.app.rest is not None and harness.app.offer_projection is not None
        projection, prefix = harness.app.offer_projection, harness.app.settings.issuer_redis_prefix
        base = f"https://localhost:{harness.app.rest.port}"
        ca_pem = harness.ca.cert_pem.decode()
        cert_path, key_path = pki.create_client_cert(harness.ca, issuer_id, AGENCY, pki.ROLE_ISSUER).write(
            work / "client", "client")
        cohort = 5000 if quick else 20000
        first = 10_000_000  # learners of their own (distinct awards from the other benchmarks')
        chunks = [(start, min(first + cohort, start + CHUNK)) for start in range(first, first + cohort, CHUNK)]
        results, _, _, _ = await _run_clients(
            [(_offer_client, (base, ca_pem, str(cert_path), str(key_path), chunks[n::CLIENTS]))
             for n in range(CLIENTS)])
        links = [link for result in results for link in result]
        assert len(links) == cohort and await _offers_in(redis, prefix) >= cohort
        deadline = time.monotonic() + 600
        while projection.runner is not None or projection.replaying:  # the start's replay, if still running
            assert time.monotonic() < deadline, "the start's replay never ended"
            await asyncio.sleep(0.2)
        records = sum((await topic_end_offsets(infra.kafka_bootstrap, [CREDENTIALS.name])).values())
        replays = projection.replays

        started = time.monotonic()
        await redis.flushall()
        while projection.replays == replays or projection.replaying:
            assert time.monotonic() - started < 1800, "the offers were never rebuilt"
            await asyncio.sleep(0.05)
        seconds = time.monotonic() - started
        back = await _offers_in(redis, prefix)
        assert back >= cohort, f"{back} of {cohort} offers back"
        async with httpx.AsyncClient(verify=ssl.create_default_context(cadata=ca_pem), timeout=30) as http:
            for link in links[:: max(1, cohort // 20)]:
                [uri] = parse_qs(urlsplit(link).query)["credential_offer_uri"]
                assert (await http.get(uri)).status_code == 200, "an offer link is not served after the rebuild"
        return {"oid4vci_rebuild_offers": float(cohort), "oid4vci_rebuild_topic_records": float(records),
                "oid4vci_rebuild_seconds": round(seconds, 2),
                "oid4vci_offers_rebuilt_per_s": round(cohort / seconds, 1)}
    finally:
        await redis.aclose()
        await harness.close()
        own.stop()
