"""OpenID4VCI offers on two issuer processes, as a deployment runs the issuer: ``oid4vci_offers_2_replicas_per_s``.

``bench.oid4vci`` runs one issuer in the bench's own process; its figure is bounded by one core (its
``oid4vci_offer_issuer_cpu_ms`` is the cost to lower). An agency runs several issuer replicas behind a load
balancer (docs/operations.md), and on the 2-core machine two issuer processes are what uses both cores, as the
verification gateway's two workers do in ``bench.verify``. Here the platform runs as processes
(:class:`~microcred.infra.platform.Platform`: its own Kafka node and Redis), the issuer with a second process
(:meth:`Platform.start_replica`: same data directory, keys, consumer groups, Redis and Kafka). An accredited
issuer is onboarded through the registry RPCs; then the wallet and the verifier, which take no part in making
offers, are stopped (as in ``bench.oid4vci``, the issuer shares the cores with the revocation service, Kafka,
Redis and the clients only). The cohort (distinct awards, learner ``n``) goes in requests of 1,000 from two
client processes, each posting to one replica, one request in flight each, as a load balancer spreading
connections would.

* ``oid4vci_offers_2_replicas_per_s``: offers created per second over the cohort (validated, sealed, in Redis,
  one ``CredentialOfferCreated`` per offer acknowledged by Kafka, answered);
* ``oid4vci_offers_2_replicas_issuer_cpu_ms``: CPU milliseconds per offer of both issuer processes together
  (with their children);
* ``oid4vci_offers_2_replicas_cohort``: the cohort size.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from bench.oid4vci import CHUNK, _offer_client, _run_clients
from bench.verify import _cpu_seconds
from microcred import pki
from tests.fault.support import fault_platform

__all__ = ["measure"]

AGENCY = "bench-vci-replicas"
ISSUER = "bench-vci-replicas-uni"


async def _post_cohort(targets: list[tuple[str, list[tuple[int, int]]]], ca_pem: str, cert: str,
                       key: str) -> tuple[list[str], float]:
    """One client process per (base URL, chunks), started together (:func:`bench.oid4vci._run_clients`); the
    links and the wall seconds."""
    results, _, seconds, _ = await _run_clients([(_offer_client, (base, ca_pem, cert, key, chunks))
                                                 for base, chunks in targets])
    return [link for links in results for link in links], seconds


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """A 10,000 cohort (quick) or 50,000 over two issuer processes."""
    work: Path = infra.work_dir / f"vci-replicas-{uuid.uuid4().hex[:6]}"
    async with fault_platform(work, kafka_nodes=1) as fault:
        await fault.onboard(AGENCY, ISSUER)
        # The wallet and the verifier take no part in making offers (they would run on other machines): stopped,
        # so that the two cores hold what bench.oid4vci holds, the issuer, the revocation service, Kafka, Redis
        # and the clients. (Both read the credentials topic, offer events included.)
        for svc in [s for s in fault.platform.services if s.spec.name in ("wallet", "verifier")]:
            fault.platform.stop_process(svc)
        replica = await fault.platform.start_replica("issuer", timeout=180)
        first = next(s for s in fault.platform.services if s.spec.name == "issuer" and not s.own_ports)
        bases = [f"https://localhost:{fault.port('issuer-rest')}",
                 f"https://localhost:{replica.own_ports['issuer-rest']}"]
        cert, key = pki.create_client_cert(fault.ca, ISSUER, AGENCY, pki.ROLE_ISSUER).write(work / "client", "client")
        ca_pem = fault.ca.cert_pem.decode()
        cohort = 10000 if quick else 50000
        # warm-up: each replica's connection, TLS, caches (own learners, so the cohort stays distinct)
        await _post_cohort([(base, [(cohort + 10 * n, cohort + 10 * n + 10)]) for n, base in enumerate(bases)],
                           ca_pem, str(cert), str(key))
        chunks = [(start, min(cohort, start + CHUNK)) for start in range(0, cohort, CHUNK)]
        pids = [first.process.pid, replica.process.pid]
        cpu = sum(_cpu_seconds(pid) for pid in pids)
        links, seconds = await _post_cohort([(base, chunks[n::2]) for n, base in enumerate(bases)],
                                            ca_pem, str(cert), str(key))
        cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu
        assert len(links) == cohort == len(set(links))
        return {"oid4vci_offers_2_replicas_cohort": float(cohort),
                "oid4vci_offers_2_replicas_per_s": round(cohort / seconds, 1),
                "oid4vci_offers_2_replicas_issuer_cpu_ms": round(cpu * 1000 / cohort, 3),
                "load_average_1m": round(os.getloadavg()[0], 2)}
