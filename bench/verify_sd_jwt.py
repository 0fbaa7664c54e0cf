"""SD-JWT VC verification throughput and latency through the gateway (issue 19): distinct credentials.

The same setup as :mod:`bench.verify` (the gateway started as in production, ``WORKERS`` uvicorn workers, the
per-client rate limit and saturation shedding lifted, the load from a separate process over keep-alive
connections, closed loop), with SD-JWT VCs instead of Data Integrity credentials:

* an agency CA and, under it, the issuer's document-signing certificate naming its ``iss`` (the did:web that
  :func:`bench.verify._publish_world` registers and accredits, read as ``https``); the CA is the gateway's
  ``MICROCRED_X509_TRUST_ANCHORS_FILE``;
* one Token Status List (2 bits: revocation and suspension), signed by that key, served by a small HTTP server in
  this process at a URL under the gateway's ``MICROCRED_TOKEN_STATUS_URL_PREFIXES`` (the gateway fetches it as it
  fetches the revocation service's, with its ETag, at most every 0.25 s per worker);
* ``DISTINCT`` micro-credentials of the factory shape (learner ``n``: its own name, e-mail and status index),
  issued beforehand as SD-JWT VCs (every claim the platform conceals concealed, no holder key: credentials on
  their own, as an employer pastes them), in a process pool. Each request posts ``{"credential": <compact>}``.

Figures: ``sd_jwt_gateway_verify_per_s``, ``sd_jwt_gateway_verify_p50_ms``, ``sd_jwt_gateway_verify_p99_ms``
(every request distinct bytes, every answer must be ``valid``: the bench fails otherwise),
``sd_jwt_gateway_verify_cpu_ms_gateway`` / ``_client`` (CPU milliseconds per verification of the gateway
processes and of the load generator), ``sd_jwt_gateway_verify_requests``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.verify import _cpu_seconds, _load, _load_figures, _publish_world, _start_gateway, _stop_gateway, _warm
from microcred import pki
from microcred.infra.ports import free_port
from microcred.registry.did_web import https_of_did_web
from microcred.sdjwt.issue import IssuerKey, StatusReference
from microcred.sdjwt.x5c import x5c_header
from microcred.status.token_status_list import TokenStatusList, status_list_token

__all__ = ["measure"]

_STEP = 500


def _issue_slice(key_pem: bytes, iss: str, x5c: tuple[str, ...], list_uri: str, now: datetime, start: int,
                 stop: int) -> list[bytes]:
    """Request bodies ``start``..``stop``: learner ``n``'s credential as an SD-JWT VC, status index ``n``."""
    from bench.issuance import _credential
    from microcred.sdjwt.issue import issue_micro_credential

    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    issuer = IssuerKey(iss, key, x5c)
    return [orjson.dumps({"credential": issue_micro_credential(
        _credential(n), issuer=issuer, now=now, status=StatusReference(list_uri, n)).compact})
        for n in range(start, stop)]


def _issue_many(key_pem: bytes, iss: str, x5c: tuple[str, ...], list_uri: str, now: datetime, count: int,
                path: Path) -> None:
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool, path.open("wb") as out:
        futures = [pool.submit(_issue_slice, key_pem, iss, x5c, list_uri, now, i, min(count, i + _STEP))
                   for i in range(0, count, _STEP)]
        for future in futures:
            for line in future.result():
                out.write(line + b"\n")


def _serve_token(served: dict[str, bytes]) -> ThreadingHTTPServer:
    """An HTTP server on a free loopback port answering every GET with ``served["token"]`` (304 to its ETag)."""
    etag = f'"{uuid.uuid4().hex}"'

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            token = served["token"]
            if self.headers.get("if-none-match") == etag:
                self.send_response(304)
                self.send_header("etag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("content-type", "application/statuslist+jwt")
            self.send_header("etag", etag)
            self.send_header("content-length", str(len(token)))
            self.end_headers()
            self.wfile.write(token)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """``bench.run`` entry point: distinct SD-JWT VCs through the gateway for 5 s (``--quick``) or 20 s."""
    tag = uuid.uuid4().hex[:8]
    _, _, method, list_did = await _publish_world(infra.kafka_bootstrap, tag)  # the registry: an accredited issuer
    iss = https_of_did_web(method.split("#", 1)[0])
    assert iss is not None
    work = Path(getattr(infra, "work_dir", "/tmp"))
    seconds, distinct = (5.0, 12_000) if quick else (20.0, 40_000)
    now = datetime.now(UTC).replace(microsecond=0)
    ca = pki.create_ca("bench agency CA", agency=f"bench-agency-{tag}", not_before=now - timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=iss, common_name="Bench University",
                                   not_before=now - timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    x5c = tuple(x5c_header([cert.cert_pem]))
    anchors = work / f"sd-jwt-anchors-{tag}.pem"
    anchors.write_bytes(ca.cert_pem)
    served: dict[str, bytes] = {}
    server = _serve_token(served)  # its port first: the token names its own URI
    status_port = server.server_address[1]
    list_uri = f"http://127.0.0.1:{status_port}/token-status/bench-{tag}"
    served["token"] = status_list_token(TokenStatusList(1 << 17, bits=2), uri=list_uri,
                                        signer=IssuerKey(iss, key, x5c), now=now - timedelta(minutes=1), ttl=60,
                                        lifetime=6 * 3600).encode()
    bodies = work / f"verify-sd-jwt-{tag}.jsonl"
    started = time.perf_counter()
    await asyncio.to_thread(_issue_many, cert.key_pem, iss, x5c, list_uri, now - timedelta(minutes=5), distinct,
                            bodies)
    issuing_seconds = time.perf_counter() - started
    lines = bodies.read_bytes().splitlines()
    first = orjson.loads(lines[0])
    bodies.write_bytes(b"\n".join(lines[1:]) + b"\n")  # the first one warms the gateway up
    del lines
    port = free_port()
    process = _start_gateway(infra, port, tag, list_did, work / f"verifier-sd-jwt-{tag}.log", {
        "MICROCRED_X509_TRUST_ANCHORS_FILE": str(anchors),
        "MICROCRED_TOKEN_STATUS_URL_PREFIXES": json.dumps([f"http://127.0.0.1:{status_port}/token-status/"])})
    try:
        await _warm(f"http://127.0.0.1:{port}", first, process)
        cpu = _cpu_seconds(process.pid)
        result = await asyncio.to_thread(_load, port, bodies, seconds, "--distinct")
        gateway_cpu = _cpu_seconds(process.pid) - cpu
    finally:
        _stop_gateway(process)
        server.shutdown()
        server.server_close()
        bodies.unlink(missing_ok=True)
    count = max(1, result["count"])
    figures = {
        **_load_figures("sd_jwt_gateway_verify", result, gateway_cpu),
        "sd_jwt_gateway_verify_requests": float(result["count"]),
        "sd_jwt_gateway_verify_cpu_ms_client": round(result["cpu_seconds"] / count * 1000, 3),
        "sd_jwt_gateway_verify_issuing_s": round(issuing_seconds, 1),
    }
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} SD-JWT verifications were not valid ({result['first_error']}); "
                           f"figures: {figures}")
    return figures
