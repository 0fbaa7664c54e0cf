"""``mcred issue``: issue a cohort from a CSV file through the batch RPC, with a progress bar and a results file.

::

    mcred issue --csv cohort.csv --template achievement.yaml --server issuer.example:50051 --tls-dir uni-a/

Each CSV row becomes one item of ``IssuerService.IssueCredentials`` (see :mod:`microcred.credential.cohort` for
the template and the columns). ``--tls-dir`` holds ``ca.crt`` and the issuer's client certificate (as written by
``mcred issuer cert``). The results CSV (default ``<csv>.results.csv``) has one line per row: the credential id,
or the error code and every reason. Idempotency keys come from the rows, so after any failure the same command
can simply be run again: rows issued before get their original credential back, nothing is issued twice.
Exit code 0 when every row was issued, 1 when some were not, 2 when nothing could be started.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import typer
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from microcred.credential.cohort import CohortRow, TemplateError, cohort_rows, load_template
from microcred.gen.microcred.v1 import issuer_pb2, issuer_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel

__all__ = ["CohortSummary", "issue_cohort", "issue_command", "load_cohort", "stream_cohort", "tls_from_dir",
           "write_results"]

console = Console(stderr=True)
RESULT_COLUMNS = ("row", "key", "status", "credential_id", "code", "errors")


@dataclass(frozen=True)
class CohortSummary:
    """How a run went."""

    rows: int
    issued: int
    failed: int
    results: Path


def tls_from_dir(directory: Path, name: str | None = None) -> TlsFiles:
    """``ca.crt`` and ``NAME.crt``/``NAME.key`` from ``directory`` (NAME: the only other certificate there)."""
    if name is None:
        names = sorted(p.stem for p in directory.glob("*.crt") if p.stem != "ca" and (directory / f"{p.stem}.key")
                       .exists())
        if len(names) != 1:
            raise ValueError(f"{directory}: say which client certificate to use (--cert-name); found {names}")
        name = names[0]
    return TlsFiles.from_dir(directory, name)


def _errors(failure: issuer_pb2.IssueFailure) -> str:
    if failure.field_violations:
        return "; ".join(f"{v.field}: {v.description} ({v.reason})" for v in failure.field_violations)
    return failure.message


def _line(row: CohortRow, response: issuer_pb2.IssueCredentialsResponse | None, note: str) -> dict[str, str]:
    out = {"row": str(row.number), "key": row.key, "status": "failed", "credential_id": "", "code": "",
           "errors": ""}
    if row.credential is None:
        out.update(code="INVALID_ARGUMENT", errors="; ".join(row.errors))
    elif response is None:
        out.update(status="not_processed", code="UNAVAILABLE", errors=note or "no answer; run again")
    elif response.WhichOneof("result") == "issued":
        out.update(status="issued", credential_id=response.issued.credential_id)
    else:
        out.update(code=code_pb2.Code.Name(response.failure.code), errors=_errors(response.failure))
    return out


def load_cohort(csv_path: Path, template_path: Path) -> list[CohortRow]:
    """The rows of a cohort CSV, each with its credential (or its format errors) and idempotency key."""
    template = load_template(template_path.read_text(encoding="utf-8"))
    with csv_path.open(newline="", encoding="utf-8-sig") as fh:
        return list(cohort_rows(template, csv.DictReader(fh)))


async def stream_cohort(target: str, tls: TlsFiles, rows: list[CohortRow], *, progress: bool = True
                        ) -> tuple[dict[str, issuer_pb2.IssueCredentialsResponse], str]:
    """Send the buildable rows through ``IssueCredentials``; return the answers by row number and a note on
    why the stream ended early ('' when it did not)."""
    sendable = {str(r.number): r for r in rows if r.credential is not None}
    responses: dict[str, issuer_pb2.IssueCredentialsResponse] = {}
    note = ""
    bar = Progress(TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=console, disable=not progress)

    async def requests() -> AsyncIterator[issuer_pb2.IssueCredentialsRequest]:
        for ref, row in sendable.items():
            yield issuer_pb2.IssueCredentialsRequest(idempotency_key=row.key, credential=row.credential,
                                                     client_reference=ref)

    with bar:
        task = bar.add_task("issue", total=len(rows))
        bar.advance(task, len(rows) - len(sendable))
        async with client_channel(target, tls) as channel:
            stub = issuer_pb2_grpc.IssuerServiceStub(channel)
            try:
                async for response in stub.IssueCredentials(requests()):
                    responses[response.client_reference] = response
                    bar.advance(task)
            except grpc.aio.AioRpcError as exc:
                note = f"stream ended: {exc.code().name}: {exc.details()}; run again"
    return responses, note


def write_results(rows: list[CohortRow], responses: dict[str, issuer_pb2.IssueCredentialsResponse], note: str,
                  results_path: Path) -> CohortSummary:
    """Write one results line per row and summarise."""
    lines = [_line(row, responses.get(str(row.number)), note) for row in rows]
    with results_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        writer.writerows(lines)
    issued = sum(1 for line in lines if line["status"] == "issued")
    return CohortSummary(len(rows), issued, len(rows) - issued, results_path)


async def issue_cohort(target: str, tls: TlsFiles, csv_path: Path, template_path: Path,
                       results_path: Path | None = None, *, progress: bool = True) -> CohortSummary:
    """Load, stream and record a whole cohort (file I/O off the event loop)."""
    rows = await asyncio.to_thread(load_cohort, csv_path, template_path)
    responses, note = await stream_cohort(target, tls, rows, progress=progress)
    return await asyncio.to_thread(write_results, rows, responses, note,
                                   results_path or csv_path.with_suffix(".results.csv"))


def issue_command(
    csv_path: Path = typer.Option(..., "--csv", help="one row per learner"),
    template: Path = typer.Option(..., "--template", help="achievement template (YAML)"),
    server: str = typer.Option("127.0.0.1:50051", "--server", envvar="MICROCRED_ISSUER_TARGET",
                               help="issuer service host:port"),
    tls_dir: Path = typer.Option(..., "--tls-dir", help="ca.crt and the issuer's client certificate and key"),
    cert_name: str | None = typer.Option(None, "--cert-name", help="NAME of NAME.crt/NAME.key in --tls-dir"),
    results: Path | None = typer.Option(None, "--results", help="results CSV (default: <csv>.results.csv)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Issue one micro-credential per CSV row; safe to run again after any failure."""
    try:
        tls = tls_from_dir(tls_dir, cert_name)
        summary = asyncio.run(issue_cohort(server, tls, csv_path, template, results, progress=not quiet))
    except (OSError, ValueError, TemplateError) as exc:
        console.print(f"[red]cannot issue:[/red] {exc}")
        raise typer.Exit(2) from None
    colour = "green" if summary.failed == 0 else "yellow"
    console.print(f"[{colour}]{summary.issued} of {summary.rows} rows issued, {summary.failed} not[/{colour}]; "
                  f"results in {summary.results}")
    if summary.failed:
        raise typer.Exit(1)
