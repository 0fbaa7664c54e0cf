"""CPU per verification of *distinct* platform credentials, in process (no sockets), split by stage.

Why CPU time: the machine is shared, so wall-clock throughput is noisy; ``time.process_time`` counts only this
process's CPU. What is measured is what the gateway's fast path (:mod:`services.verifier.api.fastpath`) does per
request after uvicorn hands it the body: parse the JSON with orjson, digest it, run
:func:`microcred.verification.verify`, build ``report.to_dict`` and write it with orjson.

Setup as in ``bench/verify.py``: one accredited did:web issuer and its two signed status lists (in memory:
:class:`tests.verifier_support.World`), ``--count`` distinct credentials (each its own id, subject and status
indexes) signed beforehand with the issuer's :class:`~microcred.credential.signing.FastSigner`, each verified
once. Ports are wired as the gateway wires them (registry answers kept ``MICROCRED_REGISTRY_CACHE_SECONDS`` = 1 s,
the result cache, a canonicaliser whose unknown shapes run in process: only the first credential is one).

Output, per verification in µs: the total (median of ``--rounds`` rounds), the fast path's parts, and the
pipeline's stages (inclusive CPU of the functions named in ``STAGES``, measured in a separate round with timers
wrapped around them: their own overhead is ≈ 1 µs per call). ``--profile`` adds cProfile's top functions;
``--asgi`` also runs the requests through :class:`~services.verifier.api.fastpath.FastVerify` in process.

    .venv/bin/python -m bench.profile_verify --count 2000 [--profile] [--asgi]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import importlib
import inspect
import io
import os
import pstats
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import orjson

__all__ = ["main"]

# (module, attribute[, class]) of the pipeline stages timed; nested ones are indented in the output. Names that
# no longer exist are skipped (the split follows the code as it changes).
STAGES: tuple[tuple[int, str, str], ...] = (
    (0, "microcred.verification.pipeline", "document_digest"),
    (0, "microcred.verification.pipeline", "is_micro_credential"),
    (0, "microcred.verification.table", "refusal"),
    (0, "microcred.verification.table", "refusal_and_shape"),
    (0, "microcred.verification.table", "process"),
    (1, "microcred.verification.canonical", "shape_of"),
    (1, "microcred.verification.canonical", "shape_key"),
    (1, "microcred.credential.canon", "TemplateCanonicalizer.known"),
    (2, "microcred.credential.canon", "_fill_and_canonize"),
    (2, "microcred.credential.canon", "ExpandedTemplate.fill"),
    (0, "microcred.verification.table", "check_format"),
    (1, "microcred.verification.format_check", "_data_model"),
    (0, "microcred.verification.table", "check_eu_elements"),
    (0, "microcred.verification.table", "read_eu_elements"),
    (0, "microcred.verification.table", "check_proofs"),
    (1, "microcred.verification.signature", "resolve_proof_keys"),
    (1, "microcred.verification.signature", "verify_cached"),
    (2, "microcred.verification.signature", "verify_data_integrity"),
    (1, "microcred.verification.signature", "_identity_result"),
    (1, "microcred.verification.signature", "_signature_result"),
    (0, "microcred.verification.table", "check_accreditation"),
    (0, "microcred.verification.table", "check_validity_window"),
    (0, "microcred.verification.table", "check_statuses"),
    (1, "microcred.verification.status_checks", "parse_status_entries"),
    (1, "microcred.verification.status_checks", "_list_trusted"),
    (2, "microcred.verification.status_checks", "_prepared"),
    (2, "microcred.verification.status_checks", "resolve_proof_keys"),
    (2, "microcred.verification.status_checks", "_signed_by_issuer"),
    (1, "microcred.verification.status_checks", "_checked"),
    (0, "microcred.verification.pipeline", "summarize"),
    (0, "microcred.verification.pipeline", "decide"),
)


def _world_and_bodies(count: int, now: datetime) -> tuple[Any, list[bytes]]:
    """The in-memory platform (lists valid around ``now``) and ``count`` + 1 distinct signed credentials."""
    from microcred.credential.ob3 import issuer_profile, render_achievement_credential
    from microcred.credential.signing import FastSigner
    from microcred.status.build import status_entry
    from tests.harness.factories import ISSUED_AT, organisation, valid_micro_credential
    from tests.verifier_support import World

    world = World()
    world.publish(now)
    template = render_achievement_credential(
        valid_micro_credential(), credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer=issuer_profile(world.did, organisation()),
        status_entries=[status_entry(world.revocation_url, 1, "revocation"),
                        status_entry(world.suspension_url, 1, "suspension")],
        valid_from=ISSUED_AT)
    raw = orjson.dumps(template)
    signer = FastSigner()
    created = (ISSUED_AT + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    bodies = []
    for i in range(count + 1):
        doc = orjson.loads(raw)
        doc["id"] = f"urn:uuid:{uuid.UUID(int=(1 << 64) + i)}"
        subject = doc["credentialSubject"]
        if "id" in subject:
            subject["id"] = f"did:example:learner-{i}"
        for entry in doc.get("credentialStatus", []):
            entry["id"] = f"{entry['statusListCredential']}#{i + 10}"
            entry["statusListIndex"] = str(i + 10)
        bodies.append(orjson.dumps(signer.sign(doc, world.issuer_key, world.vm, created)))
    return world, bodies


def _ports(world: Any) -> Any:
    """Ports as ``services.verifier.app`` wires them, over the in-memory registry and status lists."""
    from microcred.verification import ResultCache, VerificationPorts
    from microcred.verification.accreditation import TrustDirectory
    from microcred.verification.canonical import Canonicalizer, InProcessRunner
    from microcred.verification.keys import (
        ChainKeyResolver,
        ControllerDocumentResolver,
        DidKeyResolver,
        RegistryKeyResolver,
    )
    from tests.verifier_support import LIST_SIGNER_DID

    return VerificationPorts(
        keys=ChainKeyResolver(DidKeyResolver(), RegistryKeyResolver(world.registry, ttl=1.0),
                              ControllerDocumentResolver([])),
        status=world.status, trust=world.registry, cache=ResultCache(20_000),
        status_list_signers=frozenset({LIST_SIGNER_DID}),
        directory=TrustDirectory(world.registry, fresh_ttl=1.0), canon=Canonicalizer(InProcessRunner()))


class _Timers:
    """Inclusive CPU time of the functions in ``STAGES``, while installed."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._undo: list[Callable[[], None]] = []
        self.names: list[tuple[int, str]] = []

    def install(self) -> None:
        for depth, module_name, attribute in STAGES:
            owner: Any = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            original = getattr(owner, name, None) if owner is not None else None
            if original is None:
                continue
            label = attribute
            self.names.append((depth, label))
            wrapped = self._async(label, original) if inspect.iscoroutinefunction(original) else \
                self._sync(label, original)
            setattr(owner, name, wrapped)
            self._undo.append(functools.partial(setattr, owner, name, original))

    def remove(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def _sync(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        spent, calls, clock = self.spent, self.calls, time.process_time

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += clock() - started
                calls[label] += 1
        return timed

    def _async(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        spent, calls, clock = self.spent, self.calls, time.process_time

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return await original(*args, **kwargs)
            finally:  # nothing else runs on this loop meanwhile: the span is this call's CPU
                spent[label] += clock() - started
                calls[label] += 1
        return timed


def _digest(body: bytes, document: Any) -> str:
    """The digest the fast path computes (of the body's bytes; before, of the parsed document)."""
    from microcred.verification import cache

    if hasattr(cache, "body_digest"):
        return str(cache.body_digest(body))
    return str(cache.document_digest(document))


async def _one(body: bytes, ports: Any, parts: dict[str, float] | None) -> bytes:
    """One request as the fast path serves it (parse, digest, verify, report, JSON)."""
    from microcred.verification import verify
    from services.verifier.api.fastpath import dumps

    clock = time.process_time
    t0 = clock()
    document = orjson.loads(body)
    t1 = clock()
    digest = _digest(body, document)
    t2 = clock()
    report = await verify(document, ports, digest=digest)
    t3 = clock()
    out = report.to_dict("en")
    t4 = clock()
    answer = dumps(out)
    t5 = clock()
    if b'"verdict":"valid"' not in answer:
        raise RuntimeError(f"not valid: {answer[:2000]!r}")
    if parts is not None:
        for name, spent in (("parse", t1 - t0), ("digest", t2 - t1), ("verify", t3 - t2), ("to_dict", t4 - t3),
                            ("dumps", t5 - t4)):
            parts[name] += spent
    return answer


async def _round(bodies: list[bytes], ports: Any, parts: dict[str, float] | None = None) -> float:
    started = time.process_time()
    for body in bodies:
        await _one(body, ports, parts)
    return (time.process_time() - started) / len(bodies) * 1e6


def _receiver(body: bytes) -> Callable[[], Awaitable[Any]]:
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> Any:
        return message
    return receive


async def _asgi_round(bodies: list[bytes], ports: Any) -> float:
    """The same requests through FastVerify (the ASGI fast path, span included; uvicorn's own work is not)."""
    from services.verifier.api.fastpath import FastVerify
    from services.verifier.api.routes import unwrap
    from services.verifier.application import Gateway

    async def full(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("the fast path passed a request on")

    app = FastVerify(full, SimpleNamespace(gateway=Gateway(ports)), 256 * 1024, unwrap)
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    started = time.process_time()
    for body in bodies:
        receive = _receiver(body)

        scope = {"type": "http", "method": "POST", "path": "/v1/verify", "query_string": b"", "scheme": "http",
                 "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                             (b"content-length", str(len(body)).encode())]}
        await app(scope, receive, send)
        if b'"verdict":"valid"' not in sent[-1]["body"]:
            raise RuntimeError(f"not valid: {sent[-1]['body'][:2000]!r}")
        sent.clear()
    return (time.process_time() - started) / len(bodies) * 1e6


async def _main(count: int, rounds: int, profile: bool, asgi: bool) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    # every round gets bodies of its own: a body verified before would hit the result cache
    world, bodies = _world_and_bodies(count * (2 * rounds + 4), now)
    print(f"signed {len(bodies)} distinct credentials in {time.perf_counter() - started:.1f} s "
          f"({len(bodies[1])} bytes each)")
    ports = _ports(world)
    await _one(bodies[0], ports, None)  # the shape is learnt (pyld, in process) from the first one
    gc.collect()
    gc.freeze()  # as the gateway does after start-up (services/verifier/app.py)
    chunks = iter([bodies[1 + i * count:1 + (i + 1) * count] for i in range(2 * rounds + 4)])
    await _round(next(chunks), ports)  # warm-up
    totals = [await _round(next(chunks), ports) for _ in range(rounds)]
    print(f"\nper verification, fast path's work in process: {statistics.median(totals):7.1f} µs CPU median, "
          f"{min(totals):7.1f} min ({rounds} rounds of {count}: {', '.join(f'{t:.0f}' for t in totals)})")

    parts: dict[str, float] = defaultdict(float)
    await _round(next(chunks), ports, parts)
    print("\nthe fast path's parts (µs per verification):")
    for name in ("parse", "digest", "verify", "to_dict", "dumps"):
        print(f"  {name:<12}{parts[name] / count * 1e6:8.1f}")

    timers = _Timers()
    timers.install()
    try:
        spare = next(chunks)
        await _round(spare, ports)
    finally:
        timers.remove()
    print("\nverify's stages (inclusive µs per verification, calls per verification; timers on):")
    top = 0.0
    for depth, name in timers.names:
        spent = timers.spent.get(name, 0.0) / len(spare) * 1e6
        calls = timers.calls.get(name, 0) / len(spare)
        top += spent if depth == 0 else 0.0
        print(f"  {'  ' * depth}{name:<{44 - 2 * depth}}{spent:8.1f}  ({calls:.1f})")
    print(f"  {'verify minus the top-level stages':<44}{parts['verify'] / count * 1e6 - top:8.1f}  "
          "(pipeline bookkeeping; digest counted in the fast path instead)")

    if asgi:
        asgi_totals = [await _asgi_round(next(chunks), ports) for _ in range(rounds)]
        print(f"\nthrough FastVerify (ASGI, span included, uvicorn not): {statistics.median(asgi_totals):7.1f} µs "
              f"({', '.join(f'{t:.0f}' for t in asgi_totals)})")

    if profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        await _round(next(chunks), ports)
        profiler.disable()
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream).sort_stats(os.environ.get("PROFILE_SORT", "tottime"))
        stats.print_stats(int(os.environ.get("PROFILE_TOP", "40")))
        if os.environ.get("PROFILE_CALLERS"):  # e.g. PROFILE_CALLERS=__instancecheck__: who calls it, how often
            stats.print_callers(os.environ["PROFILE_CALLERS"])
        if os.environ.get("PROFILE_DUMP"):  # for snakeviz or pstats later
            profiler.dump_stats(os.environ["PROFILE_DUMP"])
        print(stream.getvalue())


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="distinct credentials per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions (own time)")
    parser.add_argument("--asgi", action="store_true", help="also measure through FastVerify")
    args = parser.parse_args()
    asyncio.run(_main(args.count, args.rounds, args.profile, args.asgi))


if __name__ == "__main__":
    main()
