"""Issuance throughput end to end: batch RPC request -> validated, signed -> on Kafka (acks=all) -> answered.

``measure`` starts the issuer service in this process (with its signing worker processes), the real
revocation service as its own process (status indexes are reserved from it in blocks of 5,000; it also
projects every ``CredentialIssued``, as in production), onboards one accredited issuer through the
RegistryService, and drives ``IssuerService.IssueCredentials`` from a separate client process streaming
pre-serialised requests. Each answer the client counts is a credential signed and acknowledged by Kafka.

Figures: ``issuance_e2e_per_s`` (credentials per second over the timed run, after a warm-up batch);
``issuance_sign_per_s`` (render + canonicalise + sign alone, one core, no I/O); and where the CPU went, in
milliseconds per credential, per process: ``issuance_cpu_ms_issuer`` (gRPC, validation, registry, Redis,
Kafka producer, projections), ``issuance_cpu_ms_signing`` (worker processes), ``issuance_cpu_ms_revocation``,
``issuance_cpu_ms_client``, ``issuance_cpu_ms_kafka``, ``issuance_cpu_ms_redis``. Their sum against the
machine's cores bounds the throughput.

``python -m bench.issuance --client TARGET TLS_DIR ISSUER AGENCY COUNT PREFIX`` is the client process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import grpc

from microcred import pki
from microcred.credential.ob3 import issuer_profile
from microcred.credential.signing import IssueJob, render_and_sign
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.grpc_server import TlsFiles
from tests.harness.issuer import start_issuer_harness

__all__ = ["measure"]

AGENCY = "bench-agency"


def _credential(n: int) -> pb.MicroCredential:
    """The factory-like credential of learner ``n`` (all Annex I elements, optional ones included)."""
    from tests.harness.factories import valid_micro_credential

    mc = valid_micro_credential()
    mc.learner.full_name = f"Learner {n}"
    mc.learner.email = f"learner{n}@example.org"
    mc.learner.ClearField("hashed_id")
    mc.learner.ClearField("did")
    return mc


async def _client(target: str, tls: TlsFiles, issuer: str, count: int, prefix: str,
                  formats: tuple[int, ...] = ()) -> dict[str, float]:
    """Stream ``count`` pre-serialised requests (the load generator should cost little) and count answers;
    ``formats``: the formats each request asks for besides Data Integrity (bench.sd_jwt)."""
    template = _credential(0)
    wanted = cast(list[issuer_pb2.CredentialFormat], list(formats))  # the enum's values, as plain ints
    payloads = []
    for n in range(count):
        mc = pb.MicroCredential()
        mc.CopyFrom(template)
        mc.learner.full_name = f"Learner {n}"
        mc.learner.email = f"learner{n}@example.org"
        payloads.append(issuer_pb2.IssueCredentialsRequest(idempotency_key=f"{prefix}-{n}", credential=mc,
                                                           formats=wanted).SerializeToString())

    async def requests() -> AsyncIterator[bytes]:
        for payload in payloads:
            yield payload

    issued = failed = 0
    cpu = time.process_time()
    # A client application of its own: mTLS, but none of the platform's tracing interceptors (on a streaming
    # call they cost more client CPU, on the machine under test, than everything else the client does).
    credentials = grpc.ssl_channel_credentials(root_certificates=tls.ca, private_key=tls.key,
                                               certificate_chain=tls.cert)
    async with grpc.aio.secure_channel(target, credentials) as channel:
        call = channel.stream_stream("/microcred.v1.IssuerService/IssueCredentials")  # bytes in, bytes out
        started = time.perf_counter()
        async for raw in call(requests()):
            if _is_issued(raw):
                issued += 1
            else:
                failed += 1
    return {"issued": issued, "failed": failed, "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu}


def _is_issued(raw: bytes) -> bool:
    """Whether an IssueCredentialsResponse holds ``issued`` (field 3), without parsing its 8 kB."""
    pos = 0
    while pos < len(raw) and raw[pos] in (0x0A, 0x12) and raw[pos + 1] < 0x80:  # short key / reference
        pos += 2 + raw[pos + 1]
    if pos < len(raw) and raw[pos] in (0x1A, 0x22):
        return raw[pos] == 0x1A
    return bool(issuer_pb2.IssueCredentialsResponse.FromString(raw).WhichOneof("result") == "issued")


def _client_main(argv: list[str]) -> None:
    target, tls_dir, issuer, _agency, count, prefix, *formats = argv
    tls = TlsFiles.from_dir(Path(tls_dir), issuer)
    result = asyncio.run(_client(target, tls, issuer, int(count), prefix, tuple(int(f) for f in formats)))
    print(json.dumps(result))


REPO = Path(__file__).resolve().parents[1]


async def _run_client(target: str, tls_dir: Path, issuer: str, count: int,
                      formats: tuple[int, ...] = ()) -> dict[str, float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.issuance", "--client", target, str(tls_dir), issuer, AGENCY, str(count),
        uuid.uuid4().hex[:8], *(str(f) for f in formats), stdout=asyncio.subprocess.PIPE, cwd=REPO)
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench client failed ({process.returncode})")
    result: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def sign_only_per_s(count: int = 2000) -> float:
    """render + canonicalise + sign, in this process, no I/O."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from microcred.status.build import status_entry
    from tests.harness.factories import organisation

    entries = (status_entry("https://s.example/r", 1, "revocation"), status_entry("https://s.example/s", 2,
                                                                                  "suspension"))
    jobs = [IssueJob(_credential(n).SerializeToString(), f"urn:uuid:{uuid.uuid4()}", entries,
                     datetime(2025, 3, 14, tzinfo=UTC), f"salt{n}") for n in range(count)]
    profile = issuer_profile("did:web:bench.example:issuers:b", organisation())
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    render_and_sign(jobs[:10], profile, seed, "did:web:bench.example:issuers:b#key-1", "2025-06-01T00:00:00Z")
    started = time.perf_counter()
    render_and_sign(jobs, profile, seed, "did:web:bench.example:issuers:b#key-1", "2025-06-01T00:00:00Z")
    return count / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_cpu() -> dict[str, float]:
    """CPU seconds of this process and its children, by role (Kafka, Redis, revocation, signing workers)."""
    out = {"issuer": time.process_time(), "kafka": 0.0, "redis": 0.0, "revocation": 0.0, "signing": 0.0}
    children: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            children |= {int(p) for p in Path(f"/proc/self/task/{task}/children").read_text().split()}
    for pid in children:
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            role = ("kafka" if "java" in cmdline else "redis" if "redis-server" in cmdline else
                    "revocation" if "services.revocation" in cmdline else
                    "signing" if "multiprocessing" in cmdline else "")
            if role:
                out[role] += _cpu_seconds(pid)
    return out


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Start the services, onboard an issuer, stream credentials from a client process; return the figures."""
    count = 3_000 if quick else 20_000
    work = Path(infra.work_dir) / f"issuance-{uuid.uuid4().hex[:6]}"
    workers_env = os.environ.get("MICROCRED_SIGNING_WORKERS")  # default: the service's own (cores - 1)
    workers = int(workers_env) if workers_env else None
    harness = await start_issuer_harness(infra.kafka_bootstrap, infra.redis_url, work, status_block_size=5000,
                                         signing_workers=workers, log_level="WARNING", revocation_process=True)
    try:
        issuer = f"bench-{uuid.uuid4().hex[:6]}"
        await harness.onboard(AGENCY, {issuer: 8})
        tls_dir = work / "client"
        pki.create_client_cert(harness.ca, issuer, AGENCY, pki.ROLE_ISSUER).write(tls_dir, issuer)
        harness.ca.write(tls_dir, "ca")
        await _run_client(harness.target, tls_dir, issuer, 500)  # warm-up: templates, pools, connections
        before = _process_cpu()
        result = await _run_client(harness.target, tls_dir, issuer, count)
        after = _process_cpu()
        if result["failed"]:
            raise RuntimeError(f"{result['failed']} credentials failed during the benchmark")
    finally:
        await harness.close()
    n = result["issued"]
    figures = {"issuance_e2e_per_s": round(n / result["seconds"], 1),
               "issuance_sign_per_s": round(sign_only_per_s(1000 if quick else 3000), 1),
               "issuance_cpu_ms_client": round(result["cpu_seconds"] / n * 1000, 3)}
    figures.update({f"issuance_cpu_ms_{role}": round((after[role] - before[role]) / n * 1000, 3) for role in before})
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        _client_main(sys.argv[2:])
