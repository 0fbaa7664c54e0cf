"""OpenID4VP round trips through the verifier gateway (issue 21).

The gateway runs as in production (``python -m services.verifier.main``, ``MICROCRED_HTTP_WORKERS`` = 2,
x509_san_dns identity under a platform PKI certificate, real Redis); this process is employer and wallet at
once, ``CONNECTIONS`` concurrent closed loops. One round trip, timed from its first byte to its last:

1. employer ``POST /v1/presentation-requests`` (the micro-credential template, ``direct_post.jwt``);
2. wallet ``GET`` request_uri (the signed request object; the bench wallet reads its claims without checking
   the signature: the gateway is what is measured);
3. wallet builds an SD-JWT+KB of a **distinct** pre-issued SD-JWT VC (its own Disclosures and KB-JWT for this
   nonce and client_id), encrypts it (JWE ECDH-ES + A128GCM) and posts it to response_uri;
4. employer ``GET`` the result (verified, with the per-check report).

Figures: ``oid4vp_round_trips_per_s``, ``oid4vp_round_trip_p50_ms``, ``oid4vp_round_trip_p99_ms``; each step's
p99 as ``oid4vp_{create,fetch,respond,result}_p99_ms``; CPU milliseconds per round trip of the gateway processes
and of this (employer + wallet) process, ``oid4vp_{gateway,wallet}_cpu_ms_per_round_trip``; the 1-minute load
average at the end (``load_average_1m``: other work on the machine). The wallet's own work (KB-JWT signing,
JWE) runs in this process on the same two cores, and the machine may be shared: the figures are what such a
run gives, not the gateway alone. The SD-JWT issuer is not in the gateway's registry and its Token Status
List is not served, so each report has unknown checks; the verification work (x5c chain, signature,
Disclosures, KB-JWT) is all done.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.jwk import ECKey

from bench.issuance import _credential
from bench.verify import _cpu_seconds
from microcred import pki
from microcred.infra.ports import free_port
from microcred.sdjwt.issue import StatusReference
from microcred.sdjwt.jose import public_jwk
from tests.harness.sd_jwt import make_world

__all__ = ["measure"]

REPO = Path(__file__).resolve().parent.parent
CONNECTIONS = int(os.environ.get("MICROCRED_BENCH_OID4VP_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("MICROCRED_BENCH_OID4VP_WORKERS", "2"))
HOST = "verifier.bench"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return value


def _present(compact: str, holder: ec.EllipticCurvePrivateKey, nonce: str, aud: str) -> str:
    presented = compact if compact.endswith("~") else compact + "~"
    sd_hash = _b64url(hashlib.sha256(presented.encode("ascii")).digest())
    kb = jwt.encode({"iat": int(time.time()), "aud": aud, "nonce": nonce, "sd_hash": sd_hash}, holder,
                    algorithm="ES256", headers={"typ": "kb+jwt"})
    return presented + kb


async def _round_trip(http: httpx.AsyncClient, url: str, compact: str, holder: ec.EllipticCurvePrivateKey,
                      steps: dict[str, list[float]]) -> None:
    t0 = time.perf_counter()
    created = await http.post(f"{url}/v1/presentation-requests", json={"template": "micro-credential"})
    t1 = time.perf_counter()
    made = created.json()
    request_uri = parse_qs(urlsplit(made["link"]).query)["request_uri"][0]
    token = (await http.get(request_uri)).text
    t2 = time.perf_counter()
    claims = _claims(token)
    key = claims["client_metadata"]["jwks"]["keys"][0]
    payload = {"vp_token": {"micro_credential": [_present(compact, holder, claims["nonce"], claims["client_id"])]},
               "state": claims["state"]}
    response = jwe.encrypt_compact({"alg": "ECDH-ES", "enc": "A128GCM", "kid": key["kid"]},
                                   json.dumps(payload).encode(), ECKey.import_key(key))
    answered = await http.post(claims["response_uri"], data={"response": response})
    t3 = time.perf_counter()
    if answered.status_code != 200:
        raise RuntimeError(f"the gateway refused a bench response: {answered.text[:300]}")
    result = (await http.get(made["result_url"])).json()
    t4 = time.perf_counter()
    if result.get("status") != "verified":
        raise RuntimeError(f"no result: {result.get('status')}")
    for name, value in (("create", t1 - t0), ("fetch", t2 - t1), ("respond", t3 - t2), ("result", t4 - t3),
                        ("total", t4 - t0)):
        steps[name].append(value * 1000)


def _start_gateway(infra: Any, port: int, work: Path) -> subprocess.Popen[bytes]:
    tag = uuid.uuid4().hex[:8]
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("bench platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{HOST}", common_name="bench verifier",
                                   not_before=now - dt.timedelta(days=1))
    cert_file, key_file = cert.write(work, "oid4vp-verifier")
    env = {**os.environ, "MICROCRED_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "MICROCRED_REDIS_URL": infra.redis_url,
           "MICROCRED_HTTP_HOST": "127.0.0.1", "MICROCRED_HTTP_PORT": str(port),
           "MICROCRED_HTTP_WORKERS": str(WORKERS), "MICROCRED_RATE_LIMIT_PER_SECOND": "1000000000",
           "MICROCRED_RATE_LIMIT_BURST": "1000000000", "MICROCRED_SHED_QUEUE_DELAY_MS": "0",
           "MICROCRED_X509_TRUST_ANCHORS_FILE": str(work / "anchors.pem"),
           "MICROCRED_OID4VP_CLIENT_HOST": HOST, "MICROCRED_OID4VP_SIGNING_CERT_FILE": str(cert_file),
           "MICROCRED_OID4VP_SIGNING_KEY_FILE": str(key_file),
           "MICROCRED_REGISTRY_NAMESPACE": f"bench-oid4vp-{tag}", "MICROCRED_REGISTRY_GROUP": f"bench-oid4vp-{tag}",
           "MICROCRED_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    with (work / "gateway.log").open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.verifier.main"], env=env, cwd=REPO, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


async def _ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError("the gateway exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("the gateway did not become healthy")
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Run the round trips against a gateway process; return the figures."""
    count = 600 if quick else 3000
    work = Path(infra.work_dir) / f"oid4vp-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True)
    world = make_world()
    (work / "anchors.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in world.anchors))
    holder = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(holder)
    credentials = [world.issue(mc=_credential(n), holder_jwk=jwk, status=StatusReference(
        "https://status.uniz.example/token-status/rev-1", n)).compact for n in range(count + 100)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start_gateway(infra, port, work)
    try:
        await _ready(url, process)
        # One client of one keep-alive connection per closed loop: a single pooled client spends most of this
        # process's CPU scanning its pool (httpcore checks every connection's socket on each request), which
        # would starve the gateway of the shared cores; the requests sent are the same.
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(httpx.AsyncClient(timeout=60, limits=one))
                       for _ in range(CONNECTIONS)]
            warm: dict[str, list[float]] = {k: [] for k in ("create", "fetch", "respond", "result", "total")}
            for compact in credentials[:100]:
                await _round_trip(clients[0], url, compact, holder, warm)
            steps: dict[str, list[float]] = {k: [] for k in warm}
            queue = iter(credentials[100:])

            async def loop(http: httpx.AsyncClient) -> None:
                for compact in queue:
                    await _round_trip(http, url, compact, holder, steps)

            gateway_cpu, client_cpu = _cpu_seconds(process.pid), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(loop(http) for http in clients))
            seconds = time.perf_counter() - started
            gateway_cpu, client_cpu = _cpu_seconds(process.pid) - gateway_cpu, time.process_time() - client_cpu
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
    figures = {"oid4vp_round_trips_per_s": round(len(steps["total"]) / seconds, 1),
               "oid4vp_round_trip_p50_ms": round(_percentile(steps["total"], 0.5), 2),
               "oid4vp_round_trip_p99_ms": round(_percentile(steps["total"], 0.99), 2),
               "oid4vp_gateway_cpu_ms_per_round_trip": round(gateway_cpu / len(steps["total"]) * 1000, 2),
               "oid4vp_wallet_cpu_ms_per_round_trip": round(client_cpu / len(steps["total"]) * 1000, 2),
               "load_average_1m": round(os.getloadavg()[0], 2)}
    for step in ("create", "fetch", "respond", "result"):
        figures[f"oid4vp_{step}_p99_ms"] = round(_percentile(steps[step], 0.99), 2)
    return figures
