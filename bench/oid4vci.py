"""OpenID4VCI figures (issue 20): offers created for a cohort, and redemptions end to end.

Both against the issuer service in this process (REST app over HTTPS on port 0, its signing workers, the
revocation service in process, real Kafka and Redis), with the client in this process too (it shares the cores).

* ``oid4vci_offers_per_s``: a cohort of distinct awards (learner ``n``) posted to ``POST /oid4vci/offers`` in
  requests of 5,000 by the issuer (client certificate), 2 requests in flight: validation, Redis and one
  ``CredentialOfferCreated`` per offer acknowledged by Kafka. ``oid4vci_offers_cohort``: the cohort size.
* ``oid4vci_redemptions_per_s``, ``oid4vci_redemption_p50_ms``, ``oid4vci_redemption_p99_ms``: distinct offers
  redeemed by the spec-written test wallet, 16 at a time: token (code spent), nonce, credential (one ES256 key
  proof checked; SD-JWT VC and its Data Integrity sibling signed; CredentialIssued sealed and
  CredentialOfferRedeemed on Kafka); latency of the three requests together.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from google.protobuf import json_format

from bench.issuance import _credential
from microcred import pki
from tests.harness.issuer import start_issuer_harness
from tests.harness.oid4vci_wallet import Wallet

__all__ = ["measure"]

AGENCY = "bench-vci-agency"
CHUNK = 5000


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Run both measurements (``quick``: a 5,000 cohort and 100 redemptions; else 50,000 and 500)."""
    work: Path = infra.work_dir / f"oid4vci-{uuid.uuid4().hex[:6]}"
    document_ca = pki.create_ca("bench document-signing CA", agency=AGENCY)
    cert_file, key_file = document_ca.write(work / "document-ca", "ca")
    harness = await start_issuer_harness(infra.kafka_bootstrap, infra.redis_url, work, rest_port=0,
                                         document_signing_ca_cert_file=cert_file,
                                         document_signing_ca_key_file=key_file)
    issuer_id = "bench-vci-uni"
    try:
        await harness.onboard(AGENCY, {issuer_id: 7})
        assert harness.app.rest is not None
        base = f"https://localhost:{harness.app.rest.port}"
        issuer_ctx = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
        cert_path, key_path = pki.create_client_cert(harness.ca, issuer_id, AGENCY, pki.ROLE_ISSUER).write(
            work / "client", "client")
        issuer_ctx.load_cert_chain(str(cert_path), str(key_path))
        wallet_ctx = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
        cohort = 5000 if quick else 50000
        redemptions = 100 if quick else 500
        bodies = [{"credentials": [json_format.MessageToDict(_credential(n))
                                   for n in range(start, min(cohort, start + CHUNK))]}
                  for start in range(0, cohort, CHUNK)]
        async with httpx.AsyncClient(base_url=base, verify=issuer_ctx, timeout=600) as http:
            await http.post("/oid4vci/offers", json={"credentials": bodies[0]["credentials"][:10]})  # warm-up
            gate = asyncio.Semaphore(2)
            links: list[str] = []

            async def send(body: dict[str, Any]) -> None:
                async with gate:
                    response = await http.post("/oid4vci/offers", json=body)
                    response.raise_for_status()
                    links.extend(o["link"] for o in response.json()["offers"])

            started = time.perf_counter()
            await asyncio.gather(*(send(b) for b in bodies))
            offers_per_s = cohort / (time.perf_counter() - started)
        assert len(links) == cohort
        latencies: list[float] = []
        async with httpx.AsyncClient(verify=wallet_ctx, timeout=120,
                                     limits=httpx.Limits(max_connections=32)) as http:
            async def redeem(link: str) -> None:
                wallet = Wallet(http)
                await wallet.take_offer(link)  # not timed: the wallet reads the offer and metadata first
                began = time.perf_counter()
                assert (await wallet.token()).status_code == 200
                answer = await wallet.receive(1)
                assert answer.status_code == 200, answer.text
                latencies.append(time.perf_counter() - began)

            await redeem(links[-1])  # warm-up
            latencies.clear()
            gate = asyncio.Semaphore(16)

            async def limited(link: str) -> None:
                async with gate:
                    await redeem(link)

            started = time.perf_counter()
            await asyncio.gather(*(limited(link) for link in links[:redemptions]))
            redeemed_per_s = redemptions / (time.perf_counter() - started)
        return {"oid4vci_offers_cohort": float(cohort), "oid4vci_offers_per_s": round(offers_per_s, 1),
                "oid4vci_redemptions_per_s": round(redeemed_per_s, 1),
                "oid4vci_redemption_p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
                "oid4vci_redemption_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1)}
    finally:
        await harness.close()
