"""SD-JWT VC figures (issue 19): issuance end to end in both formats, signing alone, verification CPU.

* ``sd_jwt_issuance_e2e_per_s``: as ``bench.issuance`` (the issuer service in this process with its signing
  workers, the revocation service as its own process, a client process streaming ``IssueCredentials``), every
  request asking for ``CREDENTIAL_FORMAT_SD_JWT_VC``: each answer counted is a distinct credential signed in both
  formats (Data Integrity and SD-JWT VC, the SD-JWT VC with a fresh holder-free status reference), sealed and
  acknowledged by Kafka. ``sd_jwt_issuance_cpu_ms_{issuer,signing,revocation,kafka,redis,client}``: CPU
  milliseconds per credential by process during that run, as ``bench.issuance`` reports them (the SD-JWT VCs are
  signed in the signing workers, beside their Data Integrity credentials).
* ``sd_jwt_sign_per_s``: rendering the EU model as SD-JWT VC claims, concealing and ES256 signing alone, one core,
  distinct credentials.
* ``sd_jwt_verify_cpu_ms`` / ``sd_jwt_verify_in_process_per_s``: CPU per distinct credential through the
  verification pipeline in process (every check: x5c chain, signature, disclosures, type metadata, EU elements,
  accreditation against an in-memory registry, Token Status List), without HTTP; ``..._per_s`` is its inverse
  on one core. The gateway's HTTP layer comes on top (see ``bench.verify`` for it with Data Integrity).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from bench.issuance import AGENCY, _credential, _process_cpu, _run_client
from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.sdjwt.issue import StatusReference, issue_micro_credential
from microcred.verification.sd_jwt import verify_sd_jwt_credential
from tests.harness.issuer import start_issuer_harness
from tests.harness.sd_jwt import NOW, make_world

__all__ = ["measure"]


def _distinct(n: int) -> Any:
    return _credential(n)


def sign_per_s(count: int) -> float:
    """SD-JWT VCs of distinct credentials signed per second on one core."""
    world = make_world()
    credentials = [_distinct(n) for n in range(count)]
    started = time.perf_counter()
    for n, mc in enumerate(credentials):
        issue_micro_credential(mc, issuer=world.issuer, now=NOW, status=StatusReference(
            "https://status.example/token-status/l-1", n))
    return count / (time.perf_counter() - started)


async def verify_cpu_ms(count: int) -> float:
    """CPU milliseconds per distinct SD-JWT VC through the verification pipeline, in process."""
    world = make_world()
    ports = world.ports()
    texts = [world.issue(mc=_distinct(n), status=StatusReference(
        "https://status.uniz.example/token-status/rev-1", n)).compact for n in range(count + 20)]
    for text in texts[:20]:  # warm-up: templates, the chain and the token remembered
        await verify_sd_jwt_credential(text, ports, NOW)
    started = time.process_time()
    for text in texts[20:]:
        report = await verify_sd_jwt_credential(text, ports, NOW)
        if report.verdict.value != "valid":
            raise RuntimeError(f"an SD-JWT VC did not verify: {report.to_dict()['checks']}")
    return (time.process_time() - started) / count * 1000


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Issue in both formats end to end, then sign and verify in process; return the figures."""
    count = 2_000 if quick else 10_000
    work = Path(infra.work_dir) / f"sd-jwt-{uuid.uuid4().hex[:6]}"
    ca = pki.create_ca("bench document-signing CA", agency=AGENCY)
    ca_cert, ca_key = ca.write(work / "document-ca", "ca")
    harness = await start_issuer_harness(infra.kafka_bootstrap, infra.redis_url, work, status_block_size=5000,
                                         log_level="WARNING", revocation_process=True,
                                         document_signing_ca_cert_file=ca_cert, document_signing_ca_key_file=ca_key)
    formats = (issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC,)
    try:
        issuer = f"bench-sd-{uuid.uuid4().hex[:6]}"
        await harness.onboard(AGENCY, {issuer: 8})
        tls_dir = work / "client"
        pki.create_client_cert(harness.ca, issuer, AGENCY, pki.ROLE_ISSUER).write(tls_dir, issuer)
        harness.ca.write(tls_dir, "ca")
        await _run_client(harness.target, tls_dir, issuer, 300, formats)  # warm-up
        before = _process_cpu()
        result = await _run_client(harness.target, tls_dir, issuer, count, formats)
        after = _process_cpu()
        if result["failed"]:
            raise RuntimeError(f"{result['failed']} credentials failed during the benchmark")
    finally:
        await harness.close()
    n = result["issued"]
    cpu = {f"sd_jwt_issuance_cpu_ms_{role}": round((after[role] - before[role]) / n * 1000, 3) for role in before}
    cpu["sd_jwt_issuance_cpu_ms_client"] = round(result["cpu_seconds"] / n * 1000, 3)
    cpu_ms = await verify_cpu_ms(300 if quick else 1000)
    return {"sd_jwt_issuance_e2e_per_s": round(n / result["seconds"], 1), **cpu,
            "sd_jwt_sign_per_s": round(sign_per_s(300 if quick else 1000), 1),
            "sd_jwt_verify_cpu_ms": round(cpu_ms, 3),
            "sd_jwt_verify_in_process_per_s": round(1000 / cpu_ms, 1)}
