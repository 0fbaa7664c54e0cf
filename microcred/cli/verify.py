"""``mcred verify FILE [--offline] [--gateway URL]``: print a verification report as JSON.

Exit codes: 0 valid, 1 invalid, 3 undetermined (2 is a usage error: unreadable file, bad JSON).

* ``--gateway URL``: ask a running verifier gateway (``POST {URL}/v1/verify``) and print its report.
* default: run the pipeline here. Keys: did:key only (and ``--controllers FILE`` with DID/controller documents
  you trust). Status lists are fetched over HTTP(S) from the URLs the credential names and kept in the cache
  directory (``MICROCRED_CACHE``, default ``~/.cache/microcred``) under ``status-lists/``.
* ``--offline``: nothing is fetched; status lists come only from that cache or from the file itself. FILE may
  be a bundle ``{"credential" | "presentation": {...}, "status_lists": [<list credential>, ...]}``. A status
  that cannot be established is ``unknown``, so the verdict is undetermined (exit 3), never valid.
* ``--trust-bundle BUNDLE``: keys, registry and status lists come only from a bundle written by
  ``mcred trust export`` (:mod:`microcred.cli.trust`); nothing is fetched. The report gains ``trust_bundle``:
  the age of the registry snapshot and of each status list used. A part older than the bundle allows makes its
  checks ``unknown`` ("trust bundle too old (age X > limit Y)"), so the verdict is undetermined, never valid.
  ``--trust-ca CA`` (the platform CA certificate) refuses a bundle not sealed by a client certificate of that CA.
* ``--at MOMENT``: verify as at that moment (ISO 8601) instead of now: validity windows, key validity, the status
  lists' windows and the trust bundle's age are all judged then (not with ``--gateway``).

Without a trust bundle there is no trust registry here: accreditation is ``unknown`` (advisory for credentials
that do not claim to be EU micro-credentials; required, hence exit 3, for those that do).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from cryptography import x509

from microcred.cli.audit import parse_moment
from microcred.cli.trust import verify_with_bundle
from microcred.elm.trusted_list import load_trusted_lists
from microcred.sdjwt.verify import looks_like_sd_jwt
from microcred.sdjwt.x5c import load_certificates
from microcred.verification import Verdict, VerificationPorts, VerificationReport, verify
from microcred.verification.keys import (
    ChainKeyResolver,
    ControllerDocumentResolver,
    DidJwkResolver,
    DidKeyResolver,
)
from microcred.verification.ports import KeyResolver

__all__ = ["EXIT_CODES", "FileStatusSource", "verify_command"]

EXIT_CODES = {Verdict.VALID: 0, Verdict.INVALID: 1, Verdict.UNDETERMINED: 3}


def _cache_dir() -> Path:
    return Path(os.environ.get("MICROCRED_CACHE", Path.home() / ".cache" / "microcred")) / "status-lists"


class FileStatusSource:
    """Status lists from the file's bundle, the local cache and (online) HTTP, in that order."""

    def __init__(self, bundled: list[Mapping[str, Any]], cache_dir: Path, online: bool, timeout: float = 5.0) -> None:
        self._bundled = {str(c.get("id")): c for c in bundled if isinstance(c, Mapping) and c.get("id")}
        self._dir, self._online, self._timeout = cache_dir, online, timeout

    def _path(self, url: str) -> Path:
        return self._dir / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    async def get(self, url: str) -> tuple[Mapping[str, Any], datetime] | None:
        """The list credential and when it was obtained, or None."""
        if url in self._bundled:
            return self._bundled[url], datetime.now(UTC)
        if self._online and url.startswith(("https://", "http://")):
            fetched = await self._fetch(url)
            if fetched is not None:
                return fetched
        path = self._path(url)
        try:
            credential = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return credential, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    async def _fetch(self, url: str) -> tuple[Mapping[str, Any], datetime] | None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(url, headers={"accept": "application/vc+ld+json, application/json"})
            credential = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        if not isinstance(credential, dict):
            return None
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            self._path(url).write_text(json.dumps(credential), encoding="utf-8")
        except OSError:
            pass  # the cache is a convenience
        return credential, datetime.now(UTC)


class OnlineTokenSource:
    """Status List Tokens (SD-JWT VCs) fetched as the credential names them (online ``mcred verify`` only)."""

    async def get(self, uri: str) -> tuple[str, datetime] | None:
        """The token at ``uri``, or None when it cannot be fetched (the status is then unknown)."""
        if not uri.startswith(("https://", "http://")):
            return None
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                response = await client.get(uri, headers={"accept": "application/statuslist+jwt"})
        except httpx.HTTPError:
            return None
        return (response.text.strip(), datetime.now(UTC)) if response.status_code == 200 else None


def _anchors(path: Path | None, trusted_lists: list[Path] | None = None) -> tuple[x509.Certificate, ...]:
    """The PEM anchors of ``path`` and the service identities of EU trusted lists (EDC seals' CAs)."""
    found: tuple[x509.Certificate, ...] = ()
    try:
        if path is not None:
            found = tuple(load_certificates(path.read_bytes()))
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot read the X.509 trust anchors {path}: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        return found + tuple(load_trusted_lists(tuple(trusted_lists or ())))
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot read the EU trusted list: {exc}", err=True)
        raise typer.Exit(2) from None


def _load(file: Path) -> Any:
    """The JSON document in ``file``, or the compact SD-JWT VC it holds (as text)."""
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        if looks_like_sd_jwt(text):
            return text.strip()
        return json.loads(text)
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None


def _split_bundle(data: Any) -> tuple[Any, list[Mapping[str, Any]]]:
    if isinstance(data, Mapping) and "@context" not in data:
        for key in ("credential", "presentation", "document"):
            if key in data:
                lists = data.get("status_lists", [])
                return data[key], [c for c in lists if isinstance(c, Mapping)] if isinstance(lists, list) else []
    return data, []


async def _local(document: Any, bundled: list[Mapping[str, Any]], offline: bool,
                 controllers: list[Mapping[str, Any]], challenge: str | None, domain: str | None,
                 now: datetime | None = None, anchors: tuple[x509.Certificate, ...] = ()) -> dict[str, Any]:
    resolvers: list[KeyResolver] = [DidKeyResolver(), DidJwkResolver()]
    if controllers:
        resolvers.append(ControllerDocumentResolver(controllers))
    ports = VerificationPorts(keys=ChainKeyResolver(*resolvers),
                              status=FileStatusSource(bundled, _cache_dir(), online=not offline),
                              x509_anchors=anchors, token_status=None if offline else OnlineTokenSource())
    report: VerificationReport = await verify(document, ports, now, challenge=challenge, domain=domain)
    return report.to_dict()


def _remote(document: Any, gateway: str, challenge: str | None, domain: str | None) -> dict[str, Any]:
    params = {k: v for k, v in (("challenge", challenge), ("domain", domain)) if v is not None}
    try:
        body_out = {"credential": document} if isinstance(document, str) else document  # an SD-JWT VC
        response = httpx.post(gateway.rstrip("/") + "/v1/verify", json=body_out, params=params, timeout=30)
        body: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        typer.echo(f"gateway {gateway}: {exc}", err=True)
        raise typer.Exit(3) from None
    if response.status_code != 200:
        typer.echo(json.dumps(body, indent=2), err=True)
        raise typer.Exit(2)
    return body


def verify_command(
    file: Path = typer.Argument(..., help="credential, presentation or bundle (JSON); - reads standard input"),
    offline: bool = typer.Option(False, "--offline", help="fetch nothing: use only the file and the local cache"),
    gateway: str | None = typer.Option(None, "--gateway", help="verify through this gateway instead"),
    controllers: Path | None = typer.Option(None, "--controllers", help="JSON list of trusted controller documents"),
    challenge: str | None = typer.Option(None, help="expected challenge (presentations)"),
    domain: str | None = typer.Option(None, help="expected domain (presentations)"),
    trust_bundle: Path | None = typer.Option(None, "--trust-bundle", help="verify offline with this bundle from "
                                             "`mcred trust export` (keys, registry, status lists)"),
    at: str | None = typer.Option(None, "--at", help="verify as at this moment (ISO 8601; default now)"),
    trust_ca: Path | None = typer.Option(None, "--trust-ca", envvar="MICROCRED_TRUST_CA",
                                         help="the platform CA certificate: the trust bundle must be sealed by a "
                                              "client certificate it issued"),
    x509_anchors: Path | None = typer.Option(None, "--x509-anchors", envvar="MICROCRED_X509_TRUST_ANCHORS_FILE",
                                             help="PEM file of the CA certificates SD-JWT VC issuers' x5c chains "
                                                  "must reach (the agencies' CAs)"),
    eu_trusted_list: list[Path] | None = typer.Option(None, "--eu-trusted-list",
                                                      help="EU trusted list (ETSI TS 119 612 XML) whose service "
                                                           "certificates EDC seals' chains may reach; repeatable"),
) -> None:
    """Verify a credential or presentation and print the report as JSON (exit 0 valid, 1 invalid, 3 undetermined).

    \b
    Examples:
      mcred verify credential.json --gateway https://verify.example
      mcred verify --trust-bundle trust.json --trust-ca ca.crt credential.json
      mcred verify --trust-bundle trust.json --at 2026-12-05T09:00:00Z credential.json
      mcred verify --x509-anchors agency-ca.pem credential.sd-jwt   (an SD-JWT VC, compact form)
      mcred verify --eu-trusted-list ES-TL.xml credential.jsonld    (a JAdES-sealed EDC)
    """
    moment = parse_moment(at, "--at")
    document, bundled = _split_bundle(_load(file))
    if trust_bundle is not None:
        if gateway is not None:
            typer.echo("--trust-bundle and --gateway exclude each other", err=True)
            raise typer.Exit(2)
        report = verify_with_bundle(document, trust_bundle, moment, challenge, domain, trust_ca,
                                    _anchors(x509_anchors, eu_trusted_list))
    elif gateway is not None and not offline:
        if moment is not None:
            typer.echo("--at cannot be used with --gateway (the gateway verifies now)", err=True)
            raise typer.Exit(2)
        report = _remote(document, gateway, challenge, domain)
    else:
        documents = _load(controllers) if controllers is not None else []
        if not isinstance(documents, list):
            typer.echo(f"{controllers} must hold a JSON list of controller documents", err=True)
            raise typer.Exit(2)
        report = asyncio.run(_local(document, bundled, offline, documents, challenge, domain, moment,
                                    _anchors(x509_anchors, eu_trusted_list)))
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    raise typer.Exit(EXIT_CODES.get(Verdict(report.get("verdict", "undetermined")), 3))
