"""OpenID4VCI figures (issue 20): offers created for a cohort, and redemptions end to end.

The issuer service runs in this process (REST app over HTTPS on port 0, its signing workers, real Kafka and
Redis); the revocation service runs as its own process, as in production. The clients (the issuer posting the
cohort, the wallets) run in ``CLIENTS`` processes of their own, spawned (the load generator shares the
machine's cores, not the issuer's event loop): what this process spends is the issuer's work.

* ``oid4vci_offers_per_s``: a cohort of distinct awards (learner ``n``) posted to ``POST /oid4vci/offers`` in
  requests of 5,000 by the issuer (client certificate), one request in flight per client process: validation,
  sealing, Redis and one ``CredentialOfferCreated`` per offer acknowledged by Kafka. ``oid4vci_offers_cohort``:
  the cohort size. ``oid4vci_offer_issuer_cpu_ms``: CPU milliseconds of the issuer process per offer.
* ``oid4vci_offers_grpc_per_s``, ``oid4vci_offer_grpc_issuer_cpu_ms``: the same, for a second cohort of as many
  distinct learners, through the gRPC API issuers integrate with (``IssuerService/CreateOffers``, mTLS, requests
  of ``CHUNK`` awards as protobuf): no JSON to parse, otherwise the same work.
* ``oid4vci_offer_write_issuer_us``, ``oid4vci_offer_write_redis_us``: writing a cohort's offers alone
  (``RedisOfferStore.add_offers``, ``WRITE_OFFERS`` distinct offers with learner sets, in this process against the
  bench's Redis before anything else runs): CPU microseconds per offer of this process and of the Redis server
  (``INFO cpu``), the store's share of each figure above.
* ``oid4vci_offer_resolutions_per_s``: the offers to be redeemed, resolved first by the wallet processes
  (``GET credential_offer_uri``: the offer document of a distinct offer, read from Redis), ``CONCURRENCY``
  closed loops; each wallet process reads the issuer's two metadata documents once beforehand, as a wallet
  caches them. ``oid4vci_offer_resolution_issuer_cpu_ms``: CPU milliseconds of the issuer process per offer
  resolved. A learner opens an offer and accepts it later, so resolving is its own figure.
* ``oid4vci_redemptions_per_s``, ``oid4vci_redemption_p50_ms``, ``oid4vci_redemption_p99_ms``: the resolved
  offers, distinct, redeemed by the spec-written test wallet (a fresh P-256 key per redemption), ``CONCURRENCY``
  closed loops over the client processes, each loop with its own HTTP connection: token (code spent), nonce,
  credential (one ES256 key proof checked; SD-JWT VC and its Data Integrity sibling signed; CredentialIssued
  sealed and CredentialOfferRedeemed on Kafka), the three requests the issue names; latency of the three
  together. ``oid4vci_redemption_issuer_cpu_ms`` and ``oid4vci_redemption_signer_cpu_ms``: CPU milliseconds
  per redemption of the issuer process and of its signing workers; ``oid4vci_redemption_revocation_cpu_ms``:
  of the revocation service (it indexes each CredentialIssued); ``oid4vci_redemption_wallet_cpu_ms``: of
  the wallet processes (the load generator, on the same cores). ``load_average_1m`` at the end: other work on
  the machine.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import ssl
import time
import uuid
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import grpc
import httpx
from google.protobuf import json_format
from redis.asyncio import Redis

from bench.issuance import _credential, _process_cpu
from bench.verify import _cpu_seconds
from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from services.issuer.adapters.offers import RedisOfferStore
from services.issuer.application.offer_records import Offer
from tests.harness.issuer import start_issuer_harness
from tests.harness.oid4vci_wallet import Wallet

__all__ = ["measure"]

WRITE_OFFERS = 5000

AGENCY = "bench-vci-agency"
CHUNK = 1000
CLIENTS = int(os.environ.get("MICROCRED_BENCH_OID4VCI_CLIENTS", "2"))
CONCURRENCY = int(os.environ.get("MICROCRED_BENCH_OID4VCI_CONCURRENCY", "16"))
#: Redemptions measured (0: 1,000 in a quick run, else 5,000); a profile wants a longer phase.
REDEMPTIONS = int(os.environ.get("MICROCRED_BENCH_OID4VCI_REDEMPTIONS", "0"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _offer_client(base: str, ca_pem: str, cert: str, key: str, ranges: list[tuple[int, int]],
                  ready: Queue[Any], go: Any, out: Queue[Any]) -> None:
    """A client process posting the cohort chunks ``ranges`` (learners [start, end)), one request at a time."""
    bodies = [json.dumps({"credentials": [json_format.MessageToDict(_credential(n)) for n in range(start, end)]})
              .encode() for start, end in ranges]

    async def run() -> list[str]:
        context = ssl.create_default_context(cadata=ca_pem)
        context.load_cert_chain(cert, key)
        links: list[str] = []
        async with httpx.AsyncClient(base_url=base, verify=context, timeout=600) as http:
            ready.put("ready")
            go.wait()
            for body in bodies:
                response = await http.post("/oid4vci/offers", content=body,
                                           headers={"content-type": "application/json"})
                if not response.is_success:
                    raise RuntimeError(f"offers refused: {response.status_code} {response.text[:500]}")
                links.extend(o["link"] for o in response.json()["offers"])
        return links

    out.put(asyncio.run(run()))


def _offer_grpc_client(target: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes, ranges: list[tuple[int, int]],
                       ready: Queue[Any], go: Any, out: Queue[Any]) -> None:
    """A client process sending the cohort chunks ``ranges`` to ``IssuerService/CreateOffers``, one call at a
    time, the requests serialised beforehand (the load generator should cost little)."""
    bodies = [issuer_pb2.CreateOffersRequest(credentials=[_credential(n) for n in range(start, end)])
              .SerializeToString() for start, end in ranges]

    async def run() -> list[str]:
        links: list[str] = []
        credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem, private_key=key_pem,
                                                   certificate_chain=cert_pem)
        async with grpc.aio.secure_channel(target, credentials) as channel:
            create = channel.unary_unary("/microcred.v1.IssuerService/CreateOffers")  # bytes in, bytes out
            ready.put("ready")
            go.wait()
            for body in bodies:
                answer = issuer_pb2.CreateOffersResponse.FromString(await create(body, timeout=600))
                links.extend(o.link for o in answer.offers)
        return links

    out.put(asyncio.run(run()))


def _resolve_client(ca_pem: str, links: list[str], loops: int, ready: Queue[Any], go: Any,
                    out: Queue[Any]) -> None:
    """A client process resolving ``links`` (``GET credential_offer_uri``) with ``loops`` closed loops, each its
    own connection, after reading the issuer's two metadata documents once (as a wallet caches them); puts the
    offers in the order of ``links``, the two metadata documents, its start and end (``time.monotonic``) and its
    CPU seconds in between."""
    context = ssl.create_default_context(cadata=ca_pem)

    async def run() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], float, float, float]:
        clients = [httpx.AsyncClient(verify=context, timeout=120, limits=httpx.Limits(max_connections=1))
                   for _ in range(loops)]
        try:
            first = Wallet(clients[0])
            await first.take_offer(links[0])  # warm-up: the metadata, and the first offer
            for http in clients[1:]:
                assert (await http.get(_metadata_url(first.issuer))).is_success  # every connection opened
            offers: list[dict[str, Any]] = [{} for _ in links]
            offers[0] = first.offer

            async def loop(http: httpx.AsyncClient, indexes: range) -> None:
                for n in indexes:
                    offers[n] = await Wallet(http).resolve(links[n])

            ready.put("ready")
            go.wait()
            started, cpu = time.monotonic(), time.process_time()
            await asyncio.gather(*(loop(http, range(1 + n, len(links), loops)) for n, http in enumerate(clients)))
            return offers, first.metadata, first.as_metadata, started, time.monotonic(), time.process_time() - cpu
        finally:
            for http in clients:
                await http.aclose()

    out.put(asyncio.run(run()))


def _wallet_client(ca_pem: str, offers: list[dict[str, Any]], metadata: dict[str, Any],
                   as_metadata: dict[str, Any], loops: int, ready: Queue[Any], go: Any, out: Queue[Any]) -> None:
    """A client process redeeming ``offers`` (resolved, with the issuer's ``metadata`` and ``as_metadata``
    already read) with ``loops`` closed loops, each its own connection: token, nonce, credential; the first
    offer warms every connection up. Puts the latencies, its start and end (``time.monotonic``, shared by the
    processes of the machine) and its CPU seconds in between."""
    context = ssl.create_default_context(cadata=ca_pem)

    async def redeem(http: httpx.AsyncClient, offer: dict[str, Any]) -> float:
        wallet = Wallet(http, offer=offer, metadata=metadata, as_metadata=as_metadata)
        began = time.perf_counter()
        assert (await wallet.token()).status_code == 200
        answer = await wallet.receive(1)
        assert answer.status_code == 200, answer.text
        return time.perf_counter() - began

    async def loop(http: httpx.AsyncClient, mine: list[dict[str, Any]], latencies: list[float]) -> None:
        for offer in mine:
            latencies.append(await redeem(http, offer))

    async def run() -> tuple[list[float], float, float, float]:
        clients = [httpx.AsyncClient(verify=context, timeout=120, limits=httpx.Limits(max_connections=1))
                   for _ in range(loops)]
        warm, rest = offers[0], offers[1:]
        try:
            await redeem(clients[0], warm)  # warm-up (its own offer), then every connection opened
            for http in clients[1:]:
                assert (await http.get(_metadata_url(metadata["credential_issuer"]))).is_success
            ready.put("ready")
            go.wait()
            latencies: list[float] = []
            started, cpu = time.monotonic(), time.process_time()
            await asyncio.gather(*(loop(http, rest[n::loops], latencies) for n, http in enumerate(clients)))
            return latencies, started, time.monotonic(), time.process_time() - cpu
        finally:
            for http in clients:
                await http.aclose()

    out.put(asyncio.run(run()))


def _metadata_url(issuer: str) -> str:
    return f"{issuer}/.well-known/openid-credential-issuer"


async def _run_clients(targets: list[tuple[Any, tuple[Any, ...]]]) -> tuple[list[Any], float, float, float]:
    """Start one spawned process per (function, args), wait until each is ready, let them go together, and
    collect their results; also this process's CPU seconds and wall seconds from go to the last result, and the
    CPU seconds of the other children of this process (the signing workers) over that time."""
    context = multiprocessing.get_context("spawn")
    ready: Queue[Any] = context.Queue()
    out: Queue[Any] = context.Queue()
    go = context.Event()
    processes = [context.Process(target=target, args=(*args, ready, go, out), daemon=True)
                 for target, args in targets]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            await asyncio.to_thread(ready.get, True, 600)
        clients = {p.pid for p in processes}
        signer_before = _children_cpu(exclude=clients)
        cpu, wall = time.process_time(), time.monotonic()
        go.set()
        results = [await asyncio.to_thread(out.get, True, 1800) for _ in processes]
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        signer = _children_cpu(exclude=clients) - signer_before
        return results, cpu, wall, signer
    finally:
        for process in processes:
            await asyncio.to_thread(process.join, 30)
            if process.is_alive():
                process.kill()


def _children_cpu(exclude: set[int | None]) -> float:
    """CPU seconds of this process's spawned Python children (the signing workers), but ``exclude``."""
    total = 0.0
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            pid = int(child)
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if pid not in exclude and b"multiprocessing" in command:
                total += _cpu_seconds(pid)
    return total


async def _offer_writes(redis_url: str) -> dict[str, float]:
    """CPU per offer of ``add_offers`` here and in Redis: ``WRITE_OFFERS`` distinct offers, in cohorts of 1,000."""
    redis = Redis.from_url(redis_url)
    try:
        store = RedisOfferStore(redis, f"bench-write-{uuid.uuid4().hex[:8]}")
        award = os.urandom(1500)  # about a sealed award's size
        cohorts = [[(Offer(f"o-{c}-{n}", "offered", "bench-uni", AGENCY, '{"credential_issuer": "https://i.example"}',
                           award, 0.0, "", "https://i.example"), uuid.uuid4().hex, "", uuid.uuid4().hex)
                    for n in range(1000)] for c in range(WRITE_OFFERS // 1000 + 1)]
        await store.add_offers(cohorts[0], 600, time.time() + 600)  # warm-up: the script loaded
        before, cpu = await _redis_cpu(redis), time.process_time()
        for cohort in cohorts[1:]:
            await store.add_offers(cohort, 600, time.time() + 600, [f"lh-{o.offer_id}" for o, *_ in cohort])
        cpu, server = time.process_time() - cpu, await _redis_cpu(redis) - before
        return {"oid4vci_offer_write_issuer_us": round(cpu * 1e6 / WRITE_OFFERS, 1),
                "oid4vci_offer_write_redis_us": round(server * 1e6 / WRITE_OFFERS, 1)}
    finally:
        await redis.aclose()


async def _redis_cpu(redis: Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Run both measurements (``quick``: a 10,000 cohort and 1,000 redemptions; else 50,000 and 5,000)."""
    work: Path = infra.work_dir / f"oid4vci-{uuid.uuid4().hex[:6]}"
    writes = await _offer_writes(infra.redis_url)
    document_ca = pki.create_ca("bench document-signing CA", agency=AGENCY)
    cert_file, key_file = document_ca.write(work / "document-ca", "ca")
    harness = await start_issuer_harness(infra.kafka_bootstrap, infra.redis_url, work, rest_port=0,
                                         document_signing_ca_cert_file=cert_file,
                                         document_signing_ca_key_file=key_file, revocation_process=True)
    issuer_id = "bench-vci-uni"
    try:
        await harness.onboard(AGENCY, {issuer_id: 7})
        assert harness.app.rest is not None
        base = f"https://localhost:{harness.app.rest.port}"
        ca_pem = harness.ca.cert_pem.decode()
        cert_path, key_path = pki.create_client_cert(harness.ca, issuer_id, AGENCY, pki.ROLE_ISSUER).write(
            work / "client", "client")
        cohort = 10000 if quick else 50000
        redemptions = REDEMPTIONS or (1000 if quick else 5000)
        warm = [(2 * cohort + n, 2 * cohort + n + 10) for n in range(0, CLIENTS * 10, 10)]  # own learners: distinct
        await _run_clients([(_offer_client, (base, ca_pem, str(cert_path), str(key_path), [w])) for w in warm])
        chunks = [(start, min(cohort, start + CHUNK)) for start in range(0, cohort, CHUNK)]
        results, cpu, seconds, _ = await _run_clients(
            [(_offer_client, (base, ca_pem, str(cert_path), str(key_path), chunks[n::CLIENTS]))
             for n in range(CLIENTS)])
        links = [link for result in results for link in result]
        assert len(links) == cohort == len(set(links))
        figures: dict[str, float] = {
            "oid4vci_offers_cohort": float(cohort), "oid4vci_offers_per_s": round(cohort / seconds, 1),
            "oid4vci_offer_issuer_cpu_ms": round(cpu * 1000 / cohort, 3), **writes}
        grpc_client = pki.create_client_cert(harness.ca, issuer_id, AGENCY, pki.ROLE_ISSUER)
        grpc_chunks = [(start, min(2 * cohort, start + CHUNK)) for start in range(cohort, 2 * cohort, CHUNK)]
        grpc_args = (harness.target, harness.ca.cert_pem, grpc_client.cert_pem, grpc_client.key_pem)
        await _run_clients([(_offer_grpc_client, (*grpc_args, [(start + 100, end + 100)])) for start, end in warm])
        results, cpu, seconds, _ = await _run_clients(
            [(_offer_grpc_client, (*grpc_args, grpc_chunks[n::CLIENTS])) for n in range(CLIENTS)])
        assert sum(len(r) for r in results) == cohort == len({link for r in results for link in r})
        figures.update({"oid4vci_offers_grpc_per_s": round(cohort / seconds, 1),
                        "oid4vci_offer_grpc_issuer_cpu_ms": round(cpu * 1000 / cohort, 3)})
        loops = max(1, CONCURRENCY // CLIENTS)
        # Each client process: a warm-up offer of its own, then its share of the distinct offers redeemed.
        mine = [[links[redemptions + n], *links[n:redemptions:CLIENTS]] for n in range(CLIENTS)]
        results, cpu, _, _ = await _run_clients([(_resolve_client, (ca_pem, mine[n], loops)) for n in range(CLIENTS)])
        window = max(r[4] for r in results) - min(r[3] for r in results)
        resolved = sum(len(r[0]) - 1 for r in results)
        figures.update({
            "oid4vci_offer_resolutions_per_s": round(resolved / window, 1),
            "oid4vci_offer_resolution_issuer_cpu_ms": round(cpu * 1000 / resolved, 3)})
        revocation = _process_cpu()["revocation"]
        results, cpu, _, signer = await _run_clients(
            [(_wallet_client, (ca_pem, r[0], r[1], r[2], loops)) for r in results])
        revocation = _process_cpu()["revocation"] - revocation
        latencies = [latency for result in results for latency in result[0]]
        assert len(latencies) == redemptions
        window = max(r[2] for r in results) - min(r[1] for r in results)
        figures.update({
            "oid4vci_redemptions_per_s": round(redemptions / window, 1),
            "oid4vci_redemption_p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
            "oid4vci_redemption_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
            "oid4vci_redemption_issuer_cpu_ms": round(cpu * 1000 / redemptions, 2),
            "oid4vci_redemption_signer_cpu_ms": round(signer * 1000 / redemptions, 2),
            "oid4vci_redemption_revocation_cpu_ms": round(revocation * 1000 / redemptions, 2),
            "oid4vci_redemption_wallet_cpu_ms": round(sum(r[3] for r in results) * 1000 / redemptions, 2),
            "oid4vci_redemption_concurrency": float(loops * CLIENTS),
            "load_average_1m": round(os.getloadavg()[0], 2)})
        return figures
    finally:
        await harness.close()
