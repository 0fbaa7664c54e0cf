"""Load generator for the verifier gateway, run as a separate process by ``test_gateway_load``.

``python -m tests.fault.load_driver --url http://127.0.0.1:PORT --body docs.json --seconds 15
--concurrency 16 --max-requests 40000 [--rate 1000]`` posts the credentials in ``docs.json`` (a JSON list) to
``/v1/verify`` round-robin from ``concurrency`` keep-alive connections (each sends its next request when the
answer arrives, paced to ``rate`` requests a second in all when given) until either bound is reached, then
prints one JSON object: answers by status code, latency percentiles of the answers that were not 429 (all, and
``steady``: those sent after the first second, once the limiter's initial burst is spent), whether
every 429 carried ``Retry-After``, and transport errors. Only loopback URLs are accepted.

The HTTP/1.1 client is a few lines over asyncio streams on uvloop: a full HTTP library (or the default event
loop) costs more CPU per request than the gateway's 429 path, so on a two-core machine its own queueing would
be measured instead of the gateway. The driver's CPU seconds are reported (``client_cpu_seconds``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


class _Connection:
    """One keep-alive HTTP/1.1 connection (a minimal client: an HTTP library would be the bottleneck)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, dict[str, str]]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def drive(url: str, bodies: list[bytes], seconds: float, concurrency: int, max_requests: int,
                rate: float = 0.0) -> dict[str, Any]:
    """Run the load; ``rate`` > 0 paces the offered load (requests a second over all connections)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [(f"POST /v1/verify HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n").encode() + body for body in bodies]
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    steady: list[float] = []  # answers to requests sent after the first second (the initial burst is spent)
    missing_retry_after = 0
    sent = 0
    begin = time.perf_counter()
    deadline = begin + seconds

    async def worker(n: int) -> None:
        nonlocal sent, missing_retry_after
        connection = _Connection(host, port)
        interval = concurrency / rate if rate > 0 else 0.0
        next_at = time.perf_counter() + n * interval / concurrency
        try:
            while time.perf_counter() < deadline and sent < max_requests:
                if interval:
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at += interval
                sent += 1
                started = time.perf_counter()
                try:
                    status, headers = await asyncio.wait_for(
                        connection.request(requests[(sent + n) % len(requests)]), 10)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                        ValueError) as exc:
                    errors[type(exc).__name__] += 1
                    await connection.close()
                    await asyncio.sleep(0.01)
                    continue
                elapsed = time.perf_counter() - started
                statuses[status] += 1
                if status == 429:
                    missing_retry_after += 0 if headers.get("retry-after") else 1
                else:
                    latencies.append(elapsed)
                    if started - begin >= 1.0:
                        steady.append(elapsed)
        finally:
            await connection.close()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    duration = time.perf_counter() - started
    total = sum(statuses.values())
    return {
        "requests": total, "seconds": round(duration, 2), "rate_per_s": round(total / duration, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "transport_errors": dict(errors),
        "missing_retry_after": missing_retry_after, "concurrency": concurrency, "offered_rate": rate or None,
        "client_cpu_seconds": round(time.process_time() - cpu, 2),
        "answered_ms": {"count": len(latencies), "p50": round(percentile(latencies, 0.50) * 1000, 2),
                        "p99": round(percentile(latencies, 0.99) * 1000, 2),
                        "max": round(max(latencies, default=0.0) * 1000, 2)},
        "steady_ms": {"count": len(steady), "p50": round(percentile(steady, 0.50) * 1000, 2),
                      "p99": round(percentile(steady, 0.99) * 1000, 2),
                      "max": round(max(steady, default=0.0) * 1000, 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", required=True, type=Path)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=40_000)
    parser.add_argument("--rate", type=float, default=0.0, help="offered requests a second (0: as fast as answered)")
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback URLs are allowed")
    if not 0 < args.seconds <= 120 or not 0 < args.max_requests <= 1_000_000:
        parser.error("the run must be bounded: 0 < seconds <= 120, 0 < max-requests <= 1,000,000")
    documents = json.loads(args.body.read_text())
    bodies = [json.dumps(d).encode() for d in documents]
    work = drive(args.url.rstrip("/"), bodies, args.seconds, args.concurrency, args.max_requests, args.rate)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        result = asyncio.run(work)
    else:
        result = uvloop.run(work)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
