"""``mcred credential export-edc``: a cohort's sealed European Digital Credentials as files, for an agency or an
issuer to hand to Europass (IssuerService over mTLS with the issuer's client certificate, like ``credential list``).

::

    mcred credential export-edc --out cohort/ --since 2026-09-01 --until 2026-10-01 --tls-dir uni-a/
    mcred credential export-edc --out cohort.zip --ids ids.txt --tls-dir uni-a/

The cohort is the credentials issued in ``--since``..``--until`` (``ListCredentials``), or the ids listed one per
line in ``--ids``. Each one issued in the EDC format (``GetCredential`` answers its ``edc_jsonld``) becomes
``<id>.edc.jsonld``, byte for byte as sealed; ``manifest.json`` names the exported files and the credentials that
have no EDC (issued without that format). ``--out`` ending in ``.zip`` writes one zip instead of a directory.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import grpc
import typer

from microcred.cli.audit import parse_moment
from microcred.cli.grpc_client import CERT_NAME, JSON, TLS_DIR, connect, emit, fail, run_call
from microcred.cli.issued import SERVER
from microcred.gen.microcred.v1 import issuer_pb2, issuer_pb2_grpc

__all__ = ["MAX_COHORT", "edc_file_name", "export_edc"]

#: Most credentials one export reads (a cohort larger than this is exported in date ranges).
MAX_COHORT = 100_000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def edc_file_name(credential_id: str) -> str:
    """The file name of a credential's EDC (its id with anything but letters, digits, ``._-`` as ``-``)."""
    return (_UNSAFE.sub("-", credential_id).strip("-")[:150] or "credential") + ".edc.jsonld"


def _ids_from(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        fail(f"--ids {path}: {exc}")
    ids = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if len(ids) > MAX_COHORT:
        fail(f"--ids {path}: more than {MAX_COHORT} credentials; export in parts")
    return ids


def _write(out: Path, files: dict[str, str], manifest: dict[str, Any]) -> None:
    body = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    if out.suffix == ".zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(name, text)
            archive.writestr("manifest.json", body)
        out.write_bytes(buffer.getvalue())
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    (out / "manifest.json").write_text(body, encoding="utf-8")


def export_edc(
        out: Path = typer.Option(..., "--out", help="directory to write into, or a file ending in .zip"),
        since: str | None = typer.Option(None, "--since", help="issued at or after (ISO date or date-time)"),
        until: str | None = typer.Option(None, "--until", help="issued before (ISO date or date-time)"),
        ids: Path | None = typer.Option(None, "--ids", help="file of credential ids, one per line (instead of a "
                                                            "date range)"),
        server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
        as_json: bool = JSON) -> None:
    """Export a cohort's sealed EDC documents (.jsonld, as issued) with a manifest.

    \b
    Examples:
      mcred credential export-edc --out cohort/ --since 2026-09-01 --until 2026-10-01 --tls-dir uni-a/
      mcred credential export-edc --out cohort.zip --ids ids.txt --tls-dir uni-a/
    """
    if ids is not None and (since or until):
        fail("give the cohort as --ids or as a --since/--until range, not both")
    wanted = _ids_from(ids) if ids is not None else None
    request = issuer_pb2.ListCredentialsRequest(page_size=1000)
    start, end = parse_moment(since, "--since"), parse_moment(until, "--until")
    if start is not None:
        request.issued_since.FromDatetime(start)
    if end is not None:
        request.issued_before.FromDatetime(end)
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> list[issuer_pb2.IssuedCredential]:
        stub = issuer_pb2_grpc.IssuerServiceStub(channel)
        cohort = wanted
        if cohort is None:
            cohort = []
            while len(cohort) < MAX_COHORT:
                page = await stub.ListCredentials(request, timeout=60)
                cohort += [c.credential_id for c in page.credentials]
                request.page_token = page.next_page_token
                if not page.next_page_token:
                    break
        found = []
        for credential_id in cohort:  # one at a time: an export must not crowd out issuance
            got = await stub.GetCredential(issuer_pb2.GetCredentialRequest(credential_id=credential_id), timeout=60)
            found.append(got.credential)
        return found

    credentials = run_call(server, tls, call)
    files = {edc_file_name(c.credential_id): c.edc_jsonld for c in credentials if c.edc_jsonld}
    without = [c.credential_id for c in credentials if not c.edc_jsonld]
    manifest = {"exported": [{"credential_id": c.credential_id, "file": edc_file_name(c.credential_id)}
                             for c in credentials if c.edc_jsonld],
                "without_edc": without}
    try:
        _write(out, files, manifest)
    except OSError as exc:
        fail(f"--out {out}: {exc}")
    emit({"out": str(out), **manifest}, as_json,
         f"{len(files)} EDC documents written to {out}"
         + (f"; {len(without)} credentials have no EDC (see manifest.json)" if without else ""))
