"""``mcred trust export``: a trust bundle for verifying the platform's credentials with no network at all.

::

    mcred trust export --out trust.json --tls-dir ie-qqi/ --server issuer.example:50051 \\
        --status-url https://status.example
    mcred verify --trust-bundle trust.json --trust-ca ca.crt credential.json  # offline: exit 0, 1 or 3
    mcred verify --trust-bundle trust.json --at 2026-12-05T09:00:00Z credential.json

The registry snapshot comes over the mTLS gRPC ``RegistryService`` as the caller sees it (an agency operator: its
agency's issuers; an issuer: itself; agencies only for the platform operator, who sees no issuers, so export as
an agency operator). The status lists come from the revocation service's public HTTP endpoint
(``GET /status/{issuer}-{purpose}-{n}`` for every issuer of the snapshot, ``GET /token-status/...`` when served,
``GET /signer``). The bundle is sealed with the caller's client certificate
(:mod:`microcred.verification.bundle_seal`). The file format, its digest and the freshness rules are in
:mod:`microcred.verification.trust_bundle`; the ports over it in :mod:`microcred.verification.bundle_sources`.

Exit codes of ``export``: 0 written; 1 the registry refused the caller; 2 the platform could not be read or
the file not written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import typer
from cryptography import x509

from microcred.cli.grpc_client import CERT_NAME, JSON, TLS_DIR, connect, emit, fail, run_call
from microcred.gen.microcred.v1 import registry_pb2, registry_pb2_grpc
from microcred.pki import identity_from_pem
from microcred.verification import verify
from microcred.verification.bundle_sources import bundle_ports, freshness
from microcred.verification.trust_bundle import (
    MAX_BUNDLE_BYTES,
    FetchedList,
    FetchedToken,
    TrustBundleError,
    build_bundle,
    human_duration,
    list_max_age,
    parse_bundle,
)

__all__ = ["app", "export_command", "parse_duration", "verify_with_bundle"]

app = typer.Typer(help="Trust bundles: everything `mcred verify --trust-bundle` needs to verify the platform's "
                  "credentials offline.", no_args_is_help=True)

SERVER = typer.Option("127.0.0.1:50051", "--server", envvar="MICROCRED_ISSUER_TARGET",
                      help="issuer service host:port (it hosts the registry)")
STATUS_URL = typer.Option("http://127.0.0.1:8082", "--status-url", envvar="MICROCRED_STATUS_URL",
                          help="the revocation service's public base URL (its status lists are under /status/)")
_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}
_LIST_ID_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PURPOSES = ("revocation", "suspension")
_MISSES = 3
"""Consecutive absent list numbers after which an issuer's lists are taken to end (numbers are used in order)."""
_MAX_LISTS = 10_000
_MAX_DURATION = 100 * 366 * 86_400


def parse_duration(value: str, option: str) -> timedelta:
    """``90``, ``90s``, ``15m``, ``24h``, ``7d`` (a small regex: no library offers just this without more)."""
    match = _DURATION.fullmatch(value.strip().lower())
    if match is None:
        raise typer.BadParameter(f"{value!r} is not a duration like 90s, 15m, 24h or 7d", param_hint=option)
    seconds = int(match.group(1)) * _UNITS[match.group(2)] if len(match.group(1)) <= 12 else None
    if seconds is None or seconds > _MAX_DURATION:
        raise typer.BadParameter(f"{value!r} is longer than a century", param_hint=option)
    return timedelta(seconds=seconds)


def issuer_slug(issuer_id: str) -> str:
    """The issuer's part of its status list ids: the revocation service's rule
    (``services.revocation.domain.issuer_slug``; the product's CLI may not import a service)."""
    if _LIST_ID_SAFE.fullmatch(issuer_id):
        return issuer_id
    return "~" + hashlib.sha256(issuer_id.encode()).hexdigest()[:20]


# ------------------------------------------------------------------------------------------------------ export


async def _pages(call: Any, request: Any, field: str) -> list[Any]:
    items: list[Any] = []
    while True:
        reply = await call(request)
        items += list(getattr(reply, field))
        if not reply.next_page_token:
            return items
        request.page_token = reply.next_page_token


async def _read_registry(channel: grpc.aio.Channel) -> tuple[list[registry_pb2.Agency], list[registry_pb2.Issuer]]:
    stub = registry_pb2_grpc.RegistryServiceStub(channel)
    issuers = await _pages(stub.ListIssuers, registry_pb2.ListIssuersRequest(page_size=1000), "issuers")
    try:
        agencies = await _pages(stub.ListAgencies, registry_pb2.ListAgenciesRequest(page_size=1000), "agencies")
    except grpc.aio.AioRpcError as exc:
        if exc.code() is not grpc.StatusCode.PERMISSION_DENIED:
            raise
        agencies = []  # only the platform operator lists agencies; accreditation reports then name the agency id
    return agencies, issuers


def _get(http: httpx.Client, url: str) -> httpx.Response | None:
    """GET ``url``: the 200 answer, None for 404; anything else stops the export (exit 2)."""
    for attempt in range(5):
        try:
            response = http.get(url, headers={"accept": "application/vc+ld+json, application/json"})
        except httpx.HTTPError as exc:
            fail(f"{url}: {type(exc).__name__}: {exc}")
        if response.status_code == 503 and attempt < 4:  # the lists are being rebuilt: the service says retry
            try:
                delay = float(response.headers.get("retry-after", "1"))
            except ValueError:
                delay = 1.0
            time.sleep(min(5.0, max(0.1, delay)))
            continue
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            fail(f"{url}: HTTP {response.status_code}")
        return response
    return None


def _read_lists(http: httpx.Client, base: str, issuers: list[registry_pb2.Issuer], status_max_age: timedelta | None
                ) -> tuple[list[FetchedList], list[FetchedToken]]:
    lists: list[FetchedList] = []
    tokens: list[FetchedToken] = []
    for issuer in issuers:
        for purpose in _PURPOSES:
            misses, number = 0, 0
            while misses < _MISSES and number < _MAX_LISTS:
                list_id = f"{issuer_slug(issuer.issuer_id)}-{purpose}-{number}"
                number += 1
                url = f"{base}/status/{list_id}"
                fetched_at = datetime.now(UTC)  # before the request: the age is never understated
                response = _get(http, url)
                if response is None:
                    misses += 1
                    continue
                misses = 0
                try:
                    credential = response.json()
                except ValueError:
                    fail(f"{url}: not JSON")
                if not isinstance(credential, dict):
                    fail(f"{url}: not a list credential")
                lists.append(FetchedList(url, fetched_at, list_max_age(credential, fetched_at, status_max_age),
                                         credential))
                if purpose == "revocation":  # Token Status Lists share the revocation lists' ids
                    token_at = datetime.now(UTC)
                    token = _get(http, f"{base}/token-status/{list_id}")
                    if token is not None:
                        tokens.append(FetchedToken(f"{base}/token-status/{list_id}", token_at, token.text.strip()))
    return lists, tokens


def _write(out: Path, content: dict[str, Any]) -> None:
    """Write atomically (a reader never sees half a bundle); an existing bundle is replaced."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(content, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, out)
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")


@app.command("export")
def export_command(
    out: Path = typer.Option(..., "--out", "-o", help="the bundle file to write (replaced when it exists)"),
    server: str = SERVER,
    status_url: str = STATUS_URL,
    tls_dir: Path = TLS_DIR,
    cert_name: str | None = CERT_NAME,
    registry_max_age: str = typer.Option("24h", "--registry-max-age",
                                         help="how long the registry snapshot may be used (90s, 15m, 24h, 7d)"),
    status_max_age: str | None = typer.Option(None, "--status-max-age",
                                              help="how long each status list may be used; default: until the "
                                                   "list's own validUntil (never longer in any case)"),
    as_json: bool = JSON,
) -> None:
    """Write a trust bundle: the registry snapshot (issuers, DIDs, keys, accreditations) and the status lists,
    each with the time it was fetched, with a SHA-256 digest, sealed with your client certificate.

    \b
    Examples:
      mcred trust export --out trust.json --tls-dir ie-qqi/ --status-url https://status.example
      mcred trust export --out trust.json --tls-dir ie-qqi/ --registry-max-age 7d --status-max-age 1h
      mcred verify --trust-bundle trust.json --trust-ca ie-qqi/ca.crt credential.json
    """
    registry_limit = parse_duration(registry_max_age, "--registry-max-age")
    status_limit = parse_duration(status_max_age, "--status-max-age") if status_max_age else None
    tls = connect(tls_dir, cert_name)
    registry_fetched_at = datetime.now(UTC)  # before the reads: the snapshot's age is never understated
    agencies, issuers = run_call(server, tls, _read_registry)
    base = status_url.rstrip("/")
    with httpx.Client(timeout=30) as http:
        signer = _get(http, f"{base}/signer")
        signer_did = signer.json().get("did") if signer is not None else None
        lists, tokens = _read_lists(http, base, issuers, status_limit)
    content = build_bundle(created_at=datetime.now(UTC), registry_fetched_at=registry_fetched_at, agencies=agencies,
                           issuers=issuers, status_lists=lists, token_status_lists=tokens,
                           status_signers=[signer_did] if isinstance(signer_did, str) and signer_did else [],
                           registry_max_age=registry_limit, status_max_age=status_limit,
                           source={"registry": server, "status": base}, seal_with=(tls.cert, tls.key))
    _write(out, content)
    summary = {"file": str(out), "digest": content["digest"], "created_at": content["created_at"],
               "sealed_by": identity_from_pem(tls.cert).actor,
               "issuers": [i.issuer_id for i in issuers], "agencies": [a.agency_id for a in agencies],
               "status_lists": len(lists), "token_status_lists": len(tokens),
               "status_signers": content["status_signers"],
               "registry_max_age_seconds": int(registry_limit.total_seconds()),
               "status_max_age_seconds": min((int(f.max_age.total_seconds()) for f in lists if f.max_age),
                                             default=None)}
    emit(summary, as_json, f"wrote {out}: {len(issuers)} issuer(s), {len(lists)} status list(s), "
                           f"registry usable for {human_duration(registry_limit)}, status lists for "
                           f"{human_duration(timedelta(seconds=summary['status_max_age_seconds'] or 0))} "
                           f"(digest {content['digest']})")


# ------------------------------------------------------------------------------------------------------ verify


def verify_with_bundle(document: Any, bundle_file: Path, at: datetime | None, challenge: str | None,
                       domain: str | None, trust_ca: Path | None = None,
                       x509_anchors: tuple[x509.Certificate, ...] = ()) -> dict[str, Any]:
    """``mcred verify --trust-bundle``: the report (plus ``trust_bundle``: its seal and how fresh each part used
    was), computed from the bundle alone; a refused bundle exits 2 naming the reason. With ``trust_ca`` (the
    platform CA certificate) the bundle must be sealed by a client certificate it issued."""
    try:
        ca = trust_ca.read_bytes() if trust_ca is not None else None
    except OSError as exc:
        fail(f"cannot read the CA certificate {trust_ca}: {exc}")
    try:
        if bundle_file.stat().st_size > MAX_BUNDLE_BYTES:
            fail(f"trust bundle refused: TOO_LARGE: {bundle_file} is larger than {MAX_BUNDLE_BYTES} bytes")
        bundle = parse_bundle(bundle_file.read_bytes(), ca)
    except OSError as exc:
        fail(f"cannot read the trust bundle {bundle_file}: {exc}")
    except TrustBundleError as exc:
        fail(f"trust bundle refused: {exc}")
    moment = at or datetime.now(UTC)
    used = bundle_ports(bundle, moment)
    used.ports.x509_anchors = x509_anchors  # SD-JWT VC issuers' CAs (the bundle holds their Status List Tokens)
    report = asyncio.run(verify(document, used.ports, moment, challenge=challenge, domain=domain)).to_dict()
    report["trust_bundle"] = freshness(used)
    return report

