"""``mcred audit list``: an agency's audit trail for a period, read from the AuditService over mutual TLS.

::

    mcred audit list --agency ie-qqi --since 2026-11-01 --until 2026-12-01 \\
        --server issuer.example:50051 --tls-dir ie-qqi/ [--json]

The caller's client certificate decides what it may read: an agency operator its own agency only, the
platform operator any agency. Every page is fetched, oldest entry first; ``--json`` prints one JSON object per
line (for scripts), otherwise a table.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import typer
from rich.console import Console
from rich.table import Table

from microcred.cli.issue import tls_from_dir
from microcred.gen.microcred.v1 import audit_pb2, audit_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel

app = typer.Typer(help="The agencies' audit trail: who issued, revoked, suspended, reinstated or accredited what.",
                  no_args_is_help=True)
console = Console()


def parse_moment(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date-time (UTC when no offset is given), or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date or date-time", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def entry_record(entry: audit_pb2.AuditEntry) -> dict[str, Any]:
    """An entry as a flat JSON-ready dict."""
    return {
        "occurred_at": entry.occurred_at.ToDatetime(tzinfo=UTC).isoformat(timespec="milliseconds"),
        "action": entry.action, "subject": entry.subject, "actor": entry.actor, "issuer_id": entry.issuer_id,
        "reason": entry.reason, "agency_id": entry.agency_id, "event_id": entry.event_id,
        "replaces": entry.replaces, "superseded_by": entry.superseded_by,  # a correction's link, else ""
    }


async def fetch_entries(target: str, tls: TlsFiles, agency: str, since: datetime | None,
                        until: datetime | None, page_size: int = 1000) -> list[audit_pb2.AuditEntry]:
    """Every entry of ``agency`` in [since, until), following the page tokens."""
    request = audit_pb2.ListAuditEntriesRequest(agency_id=agency, page_size=page_size)
    if since is not None:
        request.since.FromDatetime(since)
    if until is not None:
        request.until.FromDatetime(until)
    entries: list[audit_pb2.AuditEntry] = []
    async with client_channel(target, tls) as channel:
        stub = audit_pb2_grpc.AuditServiceStub(channel)
        while True:
            reply = await stub.ListAuditEntries(request)
            entries.extend(reply.entries)
            if not reply.next_page_token:
                return entries
            request.page_token = reply.next_page_token


@app.command("list")
def list_command(
    agency: str = typer.Option(..., "--agency", help="agency whose trail to list"),
    since: str | None = typer.Option(None, "--since", help="start (inclusive), ISO 8601; default: the beginning"),
    until: str | None = typer.Option(None, "--until", help="end (exclusive), ISO 8601; default: now"),
    server: str = typer.Option("127.0.0.1:50051", "--server", envvar="MICROCRED_ISSUER_TARGET",
                               help="issuer service host:port (it hosts the AuditService)"),
    tls_dir: Path = typer.Option(..., "--tls-dir", help="ca.crt and the operator's client certificate and key"),
    cert_name: str | None = typer.Option(None, "--cert-name", help="NAME of NAME.crt/NAME.key in --tls-dir"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line instead of a table"),
) -> None:
    """List who did what, when and why, oldest first."""
    start, end = parse_moment(since, "--since"), parse_moment(until, "--until")
    try:
        tls = tls_from_dir(tls_dir, cert_name)
        entries = asyncio.run(fetch_entries(server, tls, agency, start, end))
    except (OSError, ValueError) as exc:
        console.print(f"[red]cannot read the audit log:[/red] {exc}")
        raise typer.Exit(2) from None
    except grpc.aio.AioRpcError as exc:
        console.print(f"[red]{exc.code().name}[/red]: {exc.details()}")
        raise typer.Exit(1) from None
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry_record(entry), ensure_ascii=False))
        return
    table = Table(title=f"audit trail of {agency} ({len(entries)} entries)")
    for column in ("when (UTC)", "action", "subject", "actor", "issuer", "reason"):
        table.add_column(column)
    for entry in entries:
        record = entry_record(entry)
        link = (f" (replaces {entry.replaces})" if entry.replaces else
                f" (superseded by {entry.superseded_by})" if entry.superseded_by else "")
        table.add_row(record["occurred_at"], record["action"], record["subject"], record["actor"],
                      record["issuer_id"], record["reason"] + link)
    console.print(table)
