"""Verification throughput and latency through the gateway, with warm caches.

Setup: registry events (an accredited did:web issuer) and two signed status lists (``StatusListPublished``)
are published to Kafka; the gateway is started as in production (``python -m services.verifier.main``) with
``MICROCRED_HTTP_WORKERS`` = ``WORKERS`` uvicorn workers (2 by default: one per core of the reference machine;
uvloop + httptools), and waits until it reports the credential ``valid`` (caches warm). Its settings are the
defaults except load shedding: the per-client rate limit is lifted (all the load comes from one address) and
so is saturation shedding (``MICROCRED_SHED_QUEUE_DELAY_MS=0``): this measures how fast the gateway verifies,
and a closed-loop client that re-sends at once would turn shed requests into more work, not less (shedding is
measured by ``tests/fault/test_gateway_load.py`` and docs/verification.md). The load comes
from a separate process (``python -m bench.verify --load``): an HTTP/1.1 keep-alive client over loopback on
uvloop, ``CONNECTIONS`` (16) connections each posting the same signed OB 3.0 micro-credential back to back
(closed loop: a connection sends its next request when the answer is in) for a fixed time. Latency is measured
per request from just before the request is written to when the whole answer has been read. Every answer
must be a 200 with verdict ``valid``; a 429 (not expected with these settings) is counted apart
(``verify_shed``) and is neither a verification nor in the latencies.

With warm caches the signature and format verdicts come from the result cache (same bytes, same verdict; see
``microcred/verification/cache.py``); key validity, accreditation (Redis), validity window and both status
checks are evaluated on every request.

Figures: ``verify_per_s``, ``verify_p50_ms``, ``verify_p99_ms``, plus ``verify_requests``, ``verify_workers``,
``verify_connections``, ``verify_shed`` and the CPU milliseconds per verification of the gateway processes
(``verify_cpu_ms_gateway``) and of the load generator (``verify_cpu_ms_client``).
``python -m bench.verify`` starts its own Kafka and Redis and prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.credential.ob3 import issuer_profile, render_achievement_credential
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.crypto.multikey import encode_ed25519_public_key
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2, events_pb2, status_pb2
from microcred.infra.ports import free_port
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import REGISTRY, STATUS
from microcred.registry.did_web import did_web_id, method_id
from microcred.registry.domain import timestamp
from microcred.status.bitstring import Bitstring
from microcred.status.build import build_status_list_credential, status_entry

__all__ = ["measure"]

REPO = Path(__file__).resolve().parents[1]
WORKERS = int(os.environ.get("MICROCRED_BENCH_VERIFY_WORKERS", "2"))
CONNECTIONS = 16


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _publish_world(bootstrap: str, tag: str) -> tuple[dict[str, Any], str]:
    """Publish an accredited issuer and its status lists; return a signed credential and the list signer DID."""
    from tests.unit.factories import ISSUED_AT, organisation, valid_micro_credential

    now = datetime.now(UTC).replace(microsecond=0)
    issuer_key, list_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    issuer_id, agency_id = f"bench-{tag}", f"bench-agency-{tag}"
    did, list_did = did_web_id("bench.example", issuer_id), did_key_from_public_key(list_key.public_key())
    base = f"https://status.bench.example/{tag}/"
    registered = ISSUED_AT - timedelta(days=30)  # before the factory credential's issue date
    events: list[tuple[str, str, Any]] = [
        (REGISTRY.name, agency_id, events_pb2.AgencyRegistered(agency_id=agency_id, organisation=organisation())),
        (REGISTRY.name, issuer_id, events_pb2.IssuerRegistered(
            issuer_id=issuer_id, agency_id=agency_id, organisation=organisation(), did=did,
            verification_method_id=method_id(did, 1),
            public_key_multibase=encode_ed25519_public_key(issuer_key.public_key()))),
        (REGISTRY.name, issuer_id, events_pb2.IssuerAccredited(
            issuer_id=issuer_id, accreditation_id="acc", framework="Bench NQF", max_eqf_level=elements_pb2.EQF_LEVEL_8,
            type=elements_pb2.ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE, accrediting_body=organisation(),
            valid_from=timestamp(registered))),
    ]
    for purpose, enum in (("revocation", status_pb2.STATUS_PURPOSE_REVOCATION),
                          ("suspension", status_pb2.STATUS_PURPOSE_SUSPENSION)):
        url = base + purpose
        unsigned = build_status_list_credential(url, list_did, purpose, Bitstring(), now - timedelta(minutes=1),
                                                ttl_ms=60_000, valid_until=now + timedelta(hours=6))
        signed = sign_eddsa_rdfc_2022(unsigned, list_key, verification_method_id(list_did))
        events.append((STATUS.name, url, events_pb2.StatusListPublished(
            status_list_id=f"{tag}-{purpose}", issuer_id=issuer_id, status_purpose=enum, status_list_credential=url,
            version=1, credential_json=json.dumps(signed), size=len(Bitstring()))))
    publisher = KafkaEventPublisher(bootstrap, client_id="bench-verify")
    await publisher.start()
    try:
        for topic, key, payload in events:
            await publisher.publish(topic, key, new_envelope(payload, subject=key, occurred_at=registered))
    finally:
        await publisher.stop()
    credential = render_achievement_credential(
        valid_micro_credential(), credential_id=f"urn:uuid:{uuid.uuid4()}", issuer=issuer_profile(did, organisation()),
        status_entries=[status_entry(base + "revocation", 1234, "revocation"),
                        status_entry(base + "suspension", 1234, "suspension")],
        valid_from=now - timedelta(hours=1))
    return sign_eddsa_rdfc_2022(credential, issuer_key, method_id(did, 1), created=now - timedelta(hours=1)), list_did


def _start_gateway(infra: Any, port: int, tag: str, list_did: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MICROCRED_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "MICROCRED_REDIS_URL": infra.redis_url,
           "MICROCRED_HTTP_HOST": "127.0.0.1", "MICROCRED_HTTP_PORT": str(port),
           "MICROCRED_HTTP_WORKERS": str(WORKERS), "MICROCRED_STATUS_LIST_SIGNERS": json.dumps([list_did]),
           "MICROCRED_RATE_LIMIT_PER_SECOND": "1000000000", "MICROCRED_RATE_LIMIT_BURST": "1000000000",
           "MICROCRED_SHED_QUEUE_DELAY_MS": "0",
           "MICROCRED_REGISTRY_NAMESPACE": f"bench-verifier-{tag}", "MICROCRED_REGISTRY_GROUP": f"bench-verifier-{tag}",
           "MICROCRED_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "services.verifier.main"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


async def _warm(url: str, credential: dict[str, Any], process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    """Wait until every worker answers ``valid`` (registry and status caches filled, result cache warm)."""
    deadline = time.monotonic() + timeout
    streak = 0
    last: Any = None
    async with httpx.AsyncClient(timeout=10) as http:
        while streak < 20 * WORKERS:
            if process.poll() is not None:
                raise RuntimeError("the gateway exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gateway never reported the bench credential valid: {last}")
            try:
                # a new connection each time, so every worker process is reached
                response = await http.post(f"{url}/v1/verify", json=credential, headers={"connection": "close"})
                last = response.json()
                ok = response.status_code == 200 and last.get("verdict") == "valid"
            except (httpx.HTTPError, ValueError) as exc:
                ok, last = False, repr(exc)
            streak = streak + 1 if ok else 0
            if not ok:
                await asyncio.sleep(0.2)


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and all its descendants; 0 for a process that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(child) for child in children)


def _load(port: int, body_file: Path, seconds: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.verify", "--load", str(port), str(body_file), str(seconds)],
                         cwd=REPO, capture_output=True, check=True, timeout=seconds + 120)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """``bench.run`` entry point: 5 s of load with ``--quick``, 20 s otherwise (after a 2 s warm-up)."""
    tag = uuid.uuid4().hex[:8]
    credential, list_did = await _publish_world(infra.kafka_bootstrap, tag)
    work = Path(getattr(infra, "work_dir", "/tmp"))
    body_file = work / f"verify-body-{tag}.json"
    body_file.write_text(json.dumps(credential))
    port = free_port()
    process = _start_gateway(infra, port, tag, list_did, work / f"verifier-{tag}.log")
    try:
        await _warm(f"http://127.0.0.1:{port}", credential, process)
        _load(port, body_file, 2.0)  # warm every connection's worker
        cpu = _cpu_seconds(process.pid)
        result = await asyncio.to_thread(_load, port, body_file, 5.0 if quick else 20.0)
        gateway_cpu = _cpu_seconds(process.pid) - cpu
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} verification requests failed: {result['first_error']}")
    count = max(1, result["count"])
    return {"verify_per_s": round(result["count"] / result["seconds"], 1),
            "verify_p50_ms": round(_percentile(result["latencies_ms"], 0.50), 2),
            "verify_p99_ms": round(_percentile(result["latencies_ms"], 0.99), 2),
            "verify_requests": float(result["count"]), "verify_workers": float(WORKERS),
            "verify_connections": float(CONNECTIONS), "verify_shed": float(result["shed"]),
            "verify_cpu_ms_gateway": round(gateway_cpu / count * 1000, 3),
            "verify_cpu_ms_client": round(result["cpu_seconds"] / count * 1000, 3)}


# ------------------------------------------------------------------------------------------ load generator


async def _connection(port: int, request: bytes, stop_at: float, latencies: list[float],
                      errors: list[str], shed: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            elapsed = (time.perf_counter() - started) * 1000
            if head.startswith(b"HTTP/1.1 429"):
                shed.append(1)
            elif not head.startswith(b"HTTP/1.1 200") or b'"verdict":"valid"' not in body:
                errors.append(head.split(b"\r\n", 1)[0].decode() + " " + body[:300].decode("utf-8", "replace"))
            else:
                latencies.append(elapsed)
    finally:
        writer.close()


async def _generate(port: int, body: bytes, seconds: float) -> dict[str, Any]:
    request = (f"POST /v1/verify HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
               f"content-length: {len(body)}\r\n\r\n").encode() + body
    latencies: list[float] = []
    errors: list[str] = []
    shed: list[int] = []
    cpu = time.process_time()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(_connection(port, request, stop_at, latencies, errors, shed) for _ in range(CONNECTIONS)))
    return {"count": len(latencies), "seconds": time.perf_counter() - started, "latencies_ms": latencies,
            "errors": len(errors), "first_error": errors[0] if errors else None, "shed": len(shed),
            "cpu_seconds": time.process_time() - cpu}


def _run_loop(work: Any) -> Any:
    """Run ``work`` on uvloop when installed (a cheaper client leaves more of the shared CPU to the gateway)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        return asyncio.run(work)
    return uvloop.run(work)


def main() -> None:
    """``--load PORT BODY SECONDS`` (the load process) or a standalone run with its own Kafka and Redis."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--load", nargs=3, metavar=("PORT", "BODY", "SECONDS"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.load:
        port, body, seconds = int(args.load[0]), Path(args.load[1]).read_bytes(), float(args.load[2])
        print(json.dumps(_run_loop(_generate(port, body, seconds))))
        return
    from bench.run import run

    print(json.dumps(asyncio.run(run(args.quick, ["verify"])), indent=2))


if __name__ == "__main__":
    main()
