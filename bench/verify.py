"""Verification throughput and latency through the gateway: distinct credentials, as employers verify them.

Setup: registry events (an accredited did:web issuer) and two signed status lists (``StatusListPublished``)
are published to Kafka; ``DISTINCT`` (20,000 with ``--quick``, 40,000 otherwise) distinct micro-credentials of
that issuer (each its own id, subject and status index; all ``valid``) are signed beforehand, in a process pool,
with the issuer's own fast signer (:class:`microcred.credential.signing.FastSigner`), once per bench run. The
gateway is started as in production (``python -m services.verifier.main``) with ``MICROCRED_HTTP_WORKERS`` =
``WORKERS`` uvicorn workers (2: one per core of the reference machine; uvloop + httptools). Its settings are the
defaults except load shedding: the per-client rate limit is lifted (all the load comes from one address; kept
per process, ``MICROCRED_RATE_LIMIT_SHARED=false``, so that these figures mean what they meant before the shared
limit: its Redis round trip is measured on its own by :mod:`bench.rate_limit`) and so is saturation shedding
(``MICROCRED_SHED_QUEUE_DELAY_MS=0``). The load comes from a separate process (``python -m bench.verify --load``)
on the same machine: an HTTP/1.1 keep-alive client over loopback on uvloop, ``CONNECTIONS`` (16;
``MICROCRED_BENCH_VERIFY_CONNECTIONS``) connections, closed loop; latency from just before a request is written
until its whole answer is read.

Figures (each named for what it is):

* ``verify_per_s``, ``verify_p50_ms``, ``verify_p99_ms``: **distinct credentials**, every request different
  bytes (no body is sent twice in the run), every answer must be ``valid``: non-valid answers are counted
  (``verify_non_valid``) and make the bench fail. ``verify_cpu_ms_gateway`` / ``verify_cpu_ms_client``: CPU
  milliseconds per verification of the gateway processes (their JSON-LD child processes included) and of the
  load generator. ``verify_busiest_worker_cpu_share``: the busiest worker's share of the workers' CPU in that
  run (0.5 with two workers evenly loaded, 1.0 when one worker served every connection);
  ``verify_loadavg_start`` / ``_end``: the machine's 1-minute load average around it (what else ran).
* ``verify_same_bytes_per_s`` / ``_p99_ms`` (secondary): one credential's bytes posted over and over, the old
  figure: parsing, format, canonical forms and signature come from the caches (status, keys, accreditation and
  validity are evaluated on every request).
* ``verify_foreign_per_s`` / ``_p99_ms``: distinct credentials of a non-platform did:key issuer in a DCC-like
  Open Badges 3.0 shape (its first one is processed by pyld in the bounded child; the rest by the template the
  first taught); expected ``valid`` (not a micro-credential, so accreditation is not required) or
  ``undetermined``, counted in ``verify_foreign_valid_or_undetermined`` (anything else in ``_other``).
* ``verify_hostile_*``: distinct credentials as above while poison requests (rings of 200 and 2,000 blank nodes
  under an inline ``@vocab`` context, 100-proof documents, a symmetric blank-node tree that reaches pyld) arrive
  at 10/s on their own connections: ``_ordinary_per_s`` / ``_ordinary_p99_ms``, ``_healthz_max_ms`` (polled every
  100 ms), ``_poison_max_ms`` / ``_poison_p50_ms`` (answer time of a poison request) and ``_poison_unnamed`` (poison
  answers without a named NOT_COMPACTED / TOO_COMPLEX reason: must be 0).

``python -m bench.verify`` starts its own Kafka and Redis and prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

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
CONNECTIONS = int(os.environ.get("MICROCRED_BENCH_VERIFY_CONNECTIONS", "16"))
HOSTILE_SECONDS = 5.0


def _load_figures(name: str, result: dict[str, Any], gateway_cpu: float) -> dict[str, float]:
    """A load run's rate, median and p99 latency, and gateway CPU milliseconds per request, named ``<name>_…``."""
    return {
        f"{name}_per_s": round(result["count"] / result["seconds"], 1),
        f"{name}_p50_ms": round(_percentile(result["latencies_ms"], 0.50), 2),
        f"{name}_p99_ms": round(_percentile(result["latencies_ms"], 0.99), 2),
        f"{name}_cpu_ms_gateway": round(gateway_cpu / max(1, result["count"]) * 1000, 3),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _publish_world(bootstrap: str, tag: str, lists: int = 1) -> tuple[dict[str, Any], bytes, str, str]:
    """Publish an accredited issuer and its status lists (``lists`` per purpose: ``…/revocation`` alone for
    one, ``…/revocation-<k>`` for several); return an unsigned credential, the issuer's private key bytes, its
    verification method and the list signer DID."""
    from tests.harness.factories import ISSUED_AT, organisation, valid_micro_credential

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
    for purpose, enum, k in ((purpose, enum, k) for purpose, enum in (
            ("revocation", status_pb2.STATUS_PURPOSE_REVOCATION), ("suspension", status_pb2.STATUS_PURPOSE_SUSPENSION))
            for k in range(lists)):
        url = base + purpose + (f"-{k}" if lists > 1 else "")
        unsigned = build_status_list_credential(url, list_did, purpose, Bitstring(), now - timedelta(minutes=1),
                                                ttl_ms=60_000, valid_until=now + timedelta(hours=6))
        signed = sign_eddsa_rdfc_2022(unsigned, list_key, verification_method_id(list_did))
        events.append((STATUS.name, url, events_pb2.StatusListPublished(
            status_list_id=f"{tag}-{purpose}-{k}", issuer_id=issuer_id, status_purpose=enum, status_list_credential=url,
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
        status_entries=[status_entry(base + "revocation" + ("-0" if lists > 1 else ""), 1234, "revocation"),
                        status_entry(base + "suspension" + ("-0" if lists > 1 else ""), 1234, "suspension")],
        valid_from=now - timedelta(hours=1))
    raw = issuer_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return credential, raw, method_id(did, 1), list_did


def _sign_slice(template: bytes, key: bytes, method: str, created: str, start: int, stop: int,
                lists: int = 1) -> list[bytes]:
    """Credentials ``start``..``stop`` of a run: ``template`` with its own id, subject and status indexes, signed
    by the issuer's fast signer (one per worker process; its templates are checked against pyld). With several
    lists, credential ``i`` takes list ``i mod lists`` (``…-<k>``) at an index spread over the whole list (a
    multiple of an odd stride modulo the list size: distinct for up to a list's size per list)."""
    from microcred.credential.signing import FastSigner

    signer, private = _SIGNERS.setdefault(key, (FastSigner(), Ed25519PrivateKey.from_private_bytes(key)))
    out = []
    for i in range(start, stop):
        doc = orjson.loads(template)
        doc["id"] = f"urn:uuid:{uuid.UUID(int=(1 << 64) + i)}"
        subject = doc["credentialSubject"]
        if "id" in subject:
            subject["id"] = f"did:example:learner-{i}"
        for entry in doc.get("credentialStatus", []):
            index = i if lists == 1 else (i // lists * 7919) % len(Bitstring())
            if lists > 1:
                entry["statusListCredential"] = entry["statusListCredential"].rsplit("-", 1)[0] + f"-{i % lists}"
            entry["id"] = f"{entry['statusListCredential']}#{index}"
            entry["statusListIndex"] = str(index)
        out.append(orjson.dumps(signer.sign(doc, private, method, created)))
    return out


_SIGNERS: dict[bytes, tuple[Any, Ed25519PrivateKey]] = {}


def _sign_many(template: dict[str, Any], key: bytes, method: str, created: str, count: int, path: Path,
               lists: int = 1) -> None:
    """Sign ``count`` distinct credentials in a process pool and write them to ``path``, one JSON per line."""
    raw = orjson.dumps(template)
    step = 1000
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool, path.open("wb") as out:
        futures = [pool.submit(_sign_slice, raw, key, method, created, i, min(count, i + step), lists)
                   for i in range(0, count, step)]
        for future in futures:
            for line in future.result():
                out.write(line + b"\n")


def _foreign_template() -> tuple[dict[str, Any], bytes, str]:
    """A DCC-like Open Badges 3.0 credential of a did:key issuer outside the trust registry (unsigned), its key
    bytes and verification method."""
    key = Ed25519PrivateKey.from_private_bytes(b"\x21" * 32)
    did = did_key_from_public_key(key.public_key())
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000", "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Teamwork Badge", "issuer": {"id": did, "type": ["Profile"], "name": "Example Corp"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"], "achievement": {
            "id": "https://example.com/achievements/teamwork", "type": ["Achievement"], "name": "Teamwork",
            "description": "Works well in a team.", "criteria": {"narrative": "Team project completed."}}},
    }
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return credential, raw, verification_method_id(did)


def _start_gateway(infra: Any, port: int, tag: str, list_did: str, log: Path,
                   extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MICROCRED_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "MICROCRED_REDIS_URL": infra.redis_url,
           "MICROCRED_HTTP_HOST": "127.0.0.1", "MICROCRED_HTTP_PORT": str(port),
           "MICROCRED_HTTP_WORKERS": str(WORKERS), "MICROCRED_STATUS_LIST_SIGNERS": json.dumps([list_did]),
           "MICROCRED_RATE_LIMIT_PER_SECOND": "1000000000", "MICROCRED_RATE_LIMIT_BURST": "1000000000",
           "MICROCRED_RATE_LIMIT_SHARED": "false",  # lifted limit, per process as before (bench.rate_limit: Redis)
           "MICROCRED_SHED_QUEUE_DELAY_MS": "0",
           "MICROCRED_REGISTRY_NAMESPACE": f"bench-verifier-{tag}", "MICROCRED_REGISTRY_GROUP": f"bench-verifier-{tag}",
           "MICROCRED_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    command = [sys.executable, "-m", "services.verifier.main"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop_gateway(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the gateway's process group, SIGKILL it if it has not stopped within 20 s."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


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


def _worker_cpu_seconds(pid: int) -> list[float]:
    """CPU seconds of each direct child of ``pid`` (the uvicorn workers) with their own descendants."""
    try:
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return [_cpu_seconds(child) for child in children]


def _busiest_share(before: list[float], after: list[float]) -> float:
    """The busiest worker's share of the workers' CPU between two readings (1 / workers when even; 1.0 when one
    worker did all the work, as happened when every connection landed on one worker)."""
    spent = [b - a for a, b in zip(before, after, strict=False)]
    return round(max(spent) / sum(spent), 3) if spent and sum(spent) > 0 else 0.0


def _load(port: int, bodies: Path, seconds: float, *extra: str) -> dict[str, Any]:
    # The figures come back in a file, not on stdout: a full run's latencies are hundreds of kilobytes, and the
    # load process's stdout came back cut at exactly 128 KiB (exit status 0, nothing on stderr), which broke
    # every full `make bench` run of this module.
    answer = bodies.with_suffix(".answer.json")
    subprocess.run([sys.executable, "-m", "bench.verify", "--load", str(port), str(bodies), str(seconds),
                    "--answer", str(answer), *extra], cwd=REPO, capture_output=True, check=True, timeout=seconds + 300)
    try:
        result: dict[str, Any] = json.loads(answer.read_bytes())
    finally:
        answer.unlink(missing_ok=True)
    return result


def _poison_file(path: Path, proof_template: dict[str, Any]) -> None:
    """The hostile requests of the hostile-mix run, one JSON per line (see the module docstring)."""
    vc2, examples = "https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-01T00:00:00Z",
             "verificationMethod": "did:example:poison#key-1", "proofPurpose": "assertionMethod",
             "proofValue": "z" + "1" * 86}

    def ring(n: int) -> dict[str, Any]:
        nodes = [{"id": f"_:b{i}", "next": {"id": f"_:b{(i + 1) % n}"}} for i in range(n)]
        return {"@context": [vc2, {"@vocab": "https://poison.example/#"}], "type": ["VerifiableCredential"],
                "issuer": "did:example:poison", "credentialSubject": {"id": "_:b0", "ring": nodes}, "proof": proof}

    def tree(d: int) -> dict[str, Any]:
        return {"v": "x"} if d == 0 else {"c": [tree(d - 1) for _ in range(3)]}

    proofs = {**proof_template, "proof": [dict(proof, created=f"2026-01-01T00:00:{i % 60:02d}Z") for i in range(100)]}
    documents = [ring(200), ring(2000), proofs,
                 {"@context": [vc2, examples], "type": ["VerifiableCredential"], "issuer": "did:example:poison",
                  "credentialSubject": tree(5), "proof": proof}]
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in documents))


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """``bench.run`` entry point: distinct credentials for 5 s with ``--quick`` (20 s otherwise), then the
    same-bytes, foreign and hostile-mix runs (see the module docstring)."""
    tag = uuid.uuid4().hex[:8]
    template, key, method, list_did = await _publish_world(infra.kafka_bootstrap, tag)
    work = Path(getattr(infra, "work_dir", "/tmp"))
    seconds = 5.0 if quick else 20.0
    distinct = 20_000 if quick else 40_000
    hostile_count = 10_000
    created = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    bodies, hostile, same, foreign, poison = (work / f"verify-{name}-{tag}.jsonl"
                                              for name in ("distinct", "hostile", "same", "foreign", "poison"))
    started = time.perf_counter()
    await asyncio.to_thread(_sign_many, template, key, method, created, distinct + hostile_count, bodies)
    signing_seconds = time.perf_counter() - started
    lines = bodies.read_bytes().splitlines()
    hostile.write_bytes(b"\n".join(lines[distinct:]) + b"\n")
    bodies.write_bytes(b"\n".join(lines[1:distinct]) + b"\n")  # the first one warms the gateway up
    same.write_bytes(lines[0] + b"\n")
    foreign_template, foreign_key, foreign_method = _foreign_template()
    await asyncio.to_thread(_sign_many, foreign_template, foreign_key, foreign_method, created, 5_000, foreign)
    _poison_file(poison, orjson.loads(lines[0]))
    first = orjson.loads(lines[0])
    del lines
    port = free_port()
    process = _start_gateway(infra, port, tag, list_did, work / f"verifier-{tag}.log")
    try:
        await _warm(f"http://127.0.0.1:{port}", first, process)
        cpu, workers_cpu, load_start = _cpu_seconds(process.pid), _worker_cpu_seconds(process.pid), os.getloadavg()[0]
        result = await asyncio.to_thread(_load, port, bodies, seconds, "--distinct")
        gateway_cpu = _cpu_seconds(process.pid) - cpu
        busiest, load_end = _busiest_share(workers_cpu, _worker_cpu_seconds(process.pid)), os.getloadavg()[0]
        repeated = await asyncio.to_thread(_load, port, same, 3.0 if quick else 10.0)
        foreigners = await asyncio.to_thread(_load, port, foreign, 3.0 if quick else 5.0, "--distinct", "--any")
        mixed = await asyncio.to_thread(_load, port, hostile, HOSTILE_SECONDS, "--distinct", "--poison", str(poison))
    finally:
        _stop_gateway(process)
    for file in (bodies, hostile, same, foreign, poison):
        file.unlink(missing_ok=True)
    count = max(1, result["count"])
    figures = {
        **_load_figures("verify", result, gateway_cpu),
        "verify_requests": float(result["count"]), "verify_non_valid": float(result["errors"]),
        "verify_distinct_signed": float(distinct), "verify_signing_s": round(signing_seconds, 1),
        "verify_workers": float(WORKERS), "verify_connections": float(CONNECTIONS),
        "verify_shed": float(result["shed"]),
        "verify_cpu_ms_client": round(result["cpu_seconds"] / count * 1000, 3),
        "verify_busiest_worker_cpu_share": busiest,
        "verify_loadavg_start": round(load_start, 2), "verify_loadavg_end": round(load_end, 2),
        "verify_same_bytes_per_s": round(repeated["count"] / repeated["seconds"], 1),
        "verify_same_bytes_p99_ms": round(_percentile(repeated["latencies_ms"] or [0.0], 0.99), 2),
        "verify_foreign_per_s": round(foreigners["count"] / foreigners["seconds"], 1),
        "verify_foreign_p99_ms": round(_percentile(foreigners["latencies_ms"] or [0.0], 0.99), 2),
        "verify_foreign_valid_or_undetermined": float(foreigners["count"]),
        "verify_foreign_other": float(foreigners["errors"]),
        "verify_hostile_ordinary_per_s": round(mixed["count"] / mixed["seconds"], 1),
        "verify_hostile_ordinary_p99_ms": round(_percentile(mixed["latencies_ms"] or [0.0], 0.99), 2),
        "verify_hostile_ordinary_non_valid": float(mixed["errors"]),
        "verify_hostile_healthz_max_ms": round(max(mixed["healthz_ms"] or [0.0]), 1),
        "verify_hostile_poison_sent": float(len(mixed["poison_ms"])),
        "verify_hostile_poison_p50_ms": round(_percentile(mixed["poison_ms"] or [0.0], 0.5), 1),
        "verify_hostile_poison_max_ms": round(max(mixed["poison_ms"] or [0.0]), 1),
        "verify_hostile_poison_unnamed": float(mixed["poison_unnamed"]),
    }
    if result["errors"] or mixed["errors"]:
        raise RuntimeError(f"{result['errors'] + mixed['errors']} verifications were not valid "
                           f"({result['first_error'] or mixed['first_error']}); figures: {figures}")
    return figures


# ------------------------------------------------------------------------------------------ load generator


def _request(port: int, body: bytes) -> bytes:
    return (f"POST /v1/verify HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[bytes, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    return head, await reader.readexactly(_content_length(head))


def _content_length(head: bytes) -> int:
    return next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:"))


class _Client(asyncio.Protocol):
    """One keep-alive connection of the ordinary load: each request written at once (head and body, nothing
    copied), the answer gathered in ``data_received`` and handed over whole. Cheaper than a StreamReader's
    ``readuntil`` + ``readexactly`` (their futures and copies): the client shares the two cores with the
    gateway, so what it spends is taken from the figure."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.head_end = self.end = -1
        self.waiter: asyncio.Future[tuple[bytes, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's TCP transport is no asyncio subclass

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if self.head_end < 0:
            found = buffer.find(b"\r\n\r\n")
            if found < 0:
                return
            self.head_end = found + 4
            self.end = self.head_end + _content_length(bytes(buffer[:found + 2]))
        if len(buffer) >= self.end:
            head, body = bytes(buffer[:self.head_end]), bytes(buffer[self.head_end:self.end])
            del buffer[:self.end]
            self.head_end = self.end = -1
            waiter, self.waiter = self.waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result((head, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("the gateway closed the connection"))

    async def exchange(self, head: bytes, body: bytes) -> tuple[bytes, bytes]:
        """Send one request, wait for its whole answer: ``(head, body)``."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.writelines((head, body))
        return await self.waiter


class _Load:
    """What one load run counts (shared by its connections)."""

    def __init__(self, port: int, bodies: list[bytes], distinct: bool, accept_any: bool) -> None:
        self.port, self.bodies, self.distinct, self.accept_any = port, bodies, distinct, accept_any
        self.next = 0
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.shed = 0

    def body(self) -> bytes | None:
        """The next body to send: each once when distinct (None when all were sent), else the first forever."""
        if not self.distinct:
            return self.bodies[0]
        if self.next >= len(self.bodies):
            return None
        self.next += 1
        return self.bodies[self.next - 1]

    def ok(self, head: bytes, body: bytes) -> bool:
        if not head.startswith(b"HTTP/1.1 200"):
            return False
        return b'"verdict":"valid"' in body or (self.accept_any and b'"verdict":"undetermined"' in body)


async def _connection(load: _Load, stop_at: float) -> None:
    _, client = await asyncio.get_running_loop().create_connection(_Client, "127.0.0.1", load.port)
    prefix = (f"POST /v1/verify HTTP/1.1\r\nhost: 127.0.0.1:{load.port}\r\ncontent-type: application/json\r\n"
              "content-length: ").encode()
    try:
        while time.perf_counter() < stop_at:
            body = load.body()
            if body is None:
                return
            request_head = prefix + b"%d\r\n\r\n" % len(body)
            started = time.perf_counter()
            head, answer = await client.exchange(request_head, body)
            elapsed = (time.perf_counter() - started) * 1000
            if head.startswith(b"HTTP/1.1 429"):
                load.shed += 1
            elif not load.ok(head, answer):
                load.errors.append(head.split(b"\r\n", 1)[0].decode() + " " + answer[:300].decode("utf-8", "replace"))
            else:
                load.latencies.append(elapsed)
    finally:
        if client.transport is not None:
            client.transport.close()


async def _poison(port: int, documents: list[bytes], stop_at: float, times: list[float], unnamed: list[int]) -> None:
    """Poison requests at 10/s, each on its own connection, not waiting for the previous answer."""
    async def one(body: bytes) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            started = time.perf_counter()
            _, answer = await _exchange(reader, writer, _request(port, body))
            times.append((time.perf_counter() - started) * 1000)
            if b'"reason_code":"NOT_COMPACTED"' not in answer and b'"reason_code":"TOO_COMPLEX"' not in answer:
                unnamed.append(1)
        finally:
            writer.close()

    pending = []
    i = 0
    while time.perf_counter() < stop_at:
        pending.append(asyncio.create_task(one(documents[i % len(documents)])))
        i += 1
        await asyncio.sleep(0.1)
    await asyncio.gather(*pending)


async def _healthz(port: int, stop_at: float, times: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await _exchange(reader, writer, request)
            times.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.1)
    finally:
        writer.close()


async def _generate(port: int, bodies: list[bytes], seconds: float, distinct: bool, accept_any: bool,
                    poison: list[bytes]) -> dict[str, Any]:
    load = _Load(port, bodies, distinct, accept_any)
    poison_ms: list[float] = []
    unnamed: list[int] = []
    healthz_ms: list[float] = []
    cpu = time.process_time()
    started = time.perf_counter()
    stop_at = started + seconds
    extra = [asyncio.create_task(_poison(port, poison, stop_at, poison_ms, unnamed)),
             asyncio.create_task(_healthz(port, stop_at, healthz_ms))] if poison else []
    await asyncio.gather(*(_connection(load, stop_at) for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*extra)
    return {"count": len(load.latencies), "seconds": elapsed, "latencies_ms": load.latencies,
            "errors": len(load.errors), "first_error": load.errors[0] if load.errors else None, "shed": load.shed,
            "cpu_seconds": time.process_time() - cpu, "poison_ms": poison_ms, "poison_unnamed": len(unnamed),
            "healthz_ms": healthz_ms}


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
    parser.add_argument("--load", nargs=3, metavar=("PORT", "BODIES", "SECONDS"))
    parser.add_argument("--distinct", action="store_true", help="send each body once")
    parser.add_argument("--any", action="store_true", help="count undetermined answers as expected too")
    parser.add_argument("--poison", help="a file of poison documents to send at 10/s meanwhile")
    parser.add_argument("--answer", help="write the figures to this file instead of stdout")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.load:
        port, seconds = int(args.load[0]), float(args.load[2])
        bodies = Path(args.load[1]).read_bytes().splitlines()
        poison = Path(args.poison).read_bytes().splitlines() if args.poison else []
        figures = json.dumps(_run_loop(_generate(port, bodies, seconds, args.distinct, args.any, poison)))
        if args.answer:
            Path(args.answer).write_text(figures)
        else:
            print(figures)
        return
    from bench.run import run

    print(json.dumps(asyncio.run(run(args.quick, ["verify"])), indent=2))


if __name__ == "__main__":
    main()
