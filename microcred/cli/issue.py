"""``mcred issue``: issue a cohort from a CSV or XLSX file through the batch RPC.

::

    mcred issue --file cohort.csv --template achievement.yaml --server issuer.example:50051 --tls-dir uni-a/
    mcred issue --file cohort.xlsx --template achievement.yaml --dry-run

The file format (every column, every template field, an example) is ``docs/cohort-format.md``; the rows
become items of ``IssuerService.IssueCredentials`` (:mod:`microcred.credential.cohort`), and
:mod:`microcred.cli.cohort_run` runs them. ``--tls-dir`` holds ``ca.crt`` and the issuer's client certificate
(as written by ``mcred issuer cert``).

Before anything is sent, the header, the template and the client are checked; an error there stops the run
(exit 2). Each run writes a new results file (``<file>.results-<UTC time>.csv``, or ``--results``): one line
per row with its status (issued, already_issued, conflict, invalid, refused, not_processed), the credential
id, or the error code and every reason. Idempotency keys come from the rows, so the same command can be run
again after any failure: rows issued before are reported as already issued, nothing is issued twice, and a
row whose content changed under the same key is a conflict naming the changed fields.

With ``--deliver offer`` nothing is issued now: each row becomes an OpenID4VCI credential offer
(``IssuerService.CreateOffers``, in chunks; :mod:`microcred.cli.offer_run`), its credential signed when the
learner's wallet redeems it, and the results file (mode 0600: it holds the ``tx_code`` of each offer with
``--tx-code``) gives each row its offer id and ``openid-credential-offer://`` link for the issuer to send.

Exit codes: 0 every row issued (now or before) or offered; 1 some rows were not; 2 nothing could be started
(file, template, client certificate or permission).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from microcred.cli.cohort_run import (
    CallerRefused,
    RowStatus,
    RunOutcome,
    Unreachable,
    issue_rows,
    preflight,
    tls_diagnosis,
)
from microcred.cli.cohort_run import write_results as write_results_file
from microcred.cli.grpc_client import client_cert_name
from microcred.cli.offer_run import MAX_CHUNK, offer_rows, write_offer_results
from microcred.credential.cohort import (
    COLUMN_HELP,
    CohortRow,
    TemplateError,
    cohort_rows,
    header_problems,
    load_template,
    template_problems,
)
from microcred.credential.cohort_files import CohortFileError, read_cohort_file
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.grpc_server import TlsFiles
from microcred.model.validation import validate_micro_credential

__all__ = ["CohortSummary", "PreparedCohort", "client_cert_name", "default_results_path", "issue_command",
           "prepare_cohort", "tls_from_dir"]

console = Console(stderr=True, soft_wrap=True)  # long lines (paths, reasons) stay whole, for grep and logs
_COLUMN_LIST = "\n".join(f"{name}: {text}" for name, text in COLUMN_HELP.items())


class CohortProblem(ValueError):
    """The file or the template stops the run before anything is sent (each line one problem)."""


@dataclass(frozen=True)
class PreparedCohort:
    """The rows of a cohort file with their credentials, and how the file was read."""

    rows: list[CohortRow]
    form: str


@dataclass(frozen=True)
class CohortSummary:
    """How a run went: rows per status, and where the results are."""

    rows: int
    counts: dict[str, int]
    results: Path | None
    form: str

    @property
    def complete(self) -> bool:
        """Every row issued, now or in an earlier run."""
        done = self.counts.get(RowStatus.NEW, 0) + self.counts.get(RowStatus.ALREADY_ISSUED, 0)
        return done == self.rows

    def text(self) -> str:
        """One line for people."""
        parts = [f"{self.counts.get(s, 0)} {label}" for s, label in (
            (RowStatus.NEW, "new"), (RowStatus.ALREADY_ISSUED, "already issued"), (RowStatus.CONFLICT, "conflicts"),
            (RowStatus.INVALID, "invalid"), (RowStatus.REFUSED, "refused"),
            (RowStatus.NOT_PROCESSED, "not processed (run again)"))]
        return f"{self.rows} rows: " + ", ".join(parts)

    def as_json(self) -> dict[str, object]:
        """The summary for ``--json``."""
        return {"rows": self.rows, "form": self.form, "results": str(self.results) if self.results else None,
                **{s.value: self.counts.get(s, 0) for s in RowStatus}}


def tls_from_dir(directory: Path, name: str | None = None) -> TlsFiles:
    """``ca.crt`` and ``NAME.crt``/``NAME.key`` from ``directory`` (NAME: the only other certificate there)."""
    return TlsFiles.from_dir(directory, client_cert_name(directory, name))


def prepare_cohort(file: Path, template_path: Path, now: datetime | None = None) -> PreparedCohort:
    """Read and check the file and the template; raise :class:`CohortProblem` for what stops the run."""
    try:
        table = read_cohort_file(file)
        template = load_template(template_path.read_text(encoding="utf-8"))
    except (CohortFileError, TemplateError) as exc:
        raise CohortProblem(str(exc)) from None
    problems = [f"{file}: {p}" for p in header_problems(table.columns)]
    problems += [f"{template_path}: {v.field}: {v.description}" for v in template_problems(template, table.columns,
                                                                                             now)]
    if problems:
        raise CohortProblem("\n".join(problems))
    return PreparedCohort(list(cohort_rows(template, table.rows, now)), table.form)


def dry_run(prepared: PreparedCohort, now: datetime | None = None) -> RunOutcome:
    """Every row checked as the service would (Annex I validation), nothing sent."""
    outcome = RunOutcome()
    for row in prepared.rows:
        errors = list(row.errors)
        if row.credential is not None:
            errors += [f"{v.field}: {v.description} ({v.reason})"
                       for v in validate_micro_credential(row.credential, now=now)]
        outcome.lines[row.number] = {"row": str(row.number), "key": row.key,
                                     "status": RowStatus.INVALID.value if errors else "ready",
                                     "credential_id": "", "code": "INVALID_ARGUMENT" if errors else "",
                                     "errors": "; ".join(errors)}
    return outcome


def default_results_path(file: Path, now: datetime) -> Path:
    """``<file>.results-<UTC time>.csv`` beside the file: a new one per run, never an earlier run's."""
    return file.with_name(f"{file.stem}.results-{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.csv")


def _progress(total: int, quiet: bool) -> Progress:
    return Progress(TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, disable=quiet or total == 0)


#: ``--format`` names of the formats a cohort can ask for besides Data Integrity.
FORMATS = {"edc": issuer_pb2.CREDENTIAL_FORMAT_EDC, "sd-jwt": issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC}


def _formats(names: list[str]) -> tuple[int, ...]:
    unknown = [n for n in names if n.lower() not in FORMATS]
    if unknown:
        console.print(f"[red]cannot issue:[/red] --format {unknown[0]!r} is not one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    return tuple(dict.fromkeys(FORMATS[n.lower()] for n in names))


async def _run(server: str, tls_dir: Path, cert_name: str | None, prepared: PreparedCohort, attempts: int,
               quiet: bool, formats: tuple[int, ...] = ()) -> RunOutcome:
    name = client_cert_name(tls_dir, cert_name)
    tls = TlsFiles.from_dir(tls_dir, name)
    await preflight(server, tls, attempts=attempts, diagnose=lambda: tls_diagnosis(
        server, tls.ca, tls_dir / f"{name}.crt", tls_dir / f"{name}.key"))
    with _progress(len(prepared.rows), quiet) as bar:
        task = bar.add_task("issue", total=len(prepared.rows))
        return await issue_rows(server, tls, prepared.rows, attempts=attempts,
                                advance=lambda n: bar.advance(task, n), formats=formats)


#: What an offer run's rows end as, in the summary's order.
OFFER_STATUSES = ("offered", "invalid", "refused", "not_processed")


async def _run_offers(server: str, tls_dir: Path, cert_name: str | None, prepared: PreparedCohort, attempts: int,
                      quiet: bool, *, chunk: int, tx_code: bool, expires_in: int, now: datetime) -> RunOutcome:
    name = client_cert_name(tls_dir, cert_name)
    tls = TlsFiles.from_dir(tls_dir, name)
    await preflight(server, tls, attempts=attempts, diagnose=lambda: tls_diagnosis(
        server, tls.ca, tls_dir / f"{name}.crt", tls_dir / f"{name}.key"))
    with Progress(TextColumn("offering"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, disable=quiet or not prepared.rows) as bar:
        task = bar.add_task("offer", total=len(prepared.rows))
        return await offer_rows(server, tls, prepared.rows, chunk=chunk, tx_code=tx_code, expires_in=expires_in,
                                attempts=attempts, advance=lambda n: bar.advance(task, n), now=now)


def _deliver_offers(server: str, tls_dir: Path, cert_name: str | None, prepared: PreparedCohort, out: Path,
                    attempts: int, quiet: bool, as_json: bool, *, chunk: int, tx_code: bool, expires_in: int,
                    now: datetime) -> None:
    """``--deliver offer``: offer the rows, write the (owner-only) results, exit 0/1/2 as documented."""
    stopped = ""
    try:
        outcome = asyncio.run(_run_offers(server, tls_dir, cert_name, prepared, attempts, quiet, chunk=chunk,
                                          tx_code=tx_code, expires_in=expires_in, now=now))
    except (OSError, ValueError) as exc:
        console.print(f"[red]cannot offer:[/red] {exc}")
        raise typer.Exit(2) from None
    except CallerRefused as exc:
        console.print(f"[red]the issuer service refuses this client; no retry can help:[/red] {exc}")
        if exc.outcome is None:
            raise typer.Exit(2) from None
        outcome, stopped = exc.outcome, str(exc)
    except Unreachable as exc:
        console.print(f"[yellow]the issuer service at {server} could not be reached; nothing was sent; run again "
                      f"later:[/yellow] {exc}")
        raise typer.Exit(1) from None
    write_offer_results(out, outcome)
    counts = outcome.counts()
    if as_json:
        print(json.dumps({"deliver": "offer", "rows": len(prepared.rows), "form": prepared.form,
                          "results": str(out), **{s: counts.get(s, 0) for s in OFFER_STATUSES},
                          "stopped": stopped or None}))
    else:
        colour = "green" if counts.get("offered", 0) == len(prepared.rows) else "yellow"
        console.print(f"[{colour}]{len(prepared.rows)} rows: " + ", ".join(
            f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in OFFER_STATUSES)
            + f"[/{colour}]; offer links in {out} (owner-only: it holds the tx_codes)")
    if stopped:
        raise typer.Exit(2)
    if counts.get("offered", 0) != len(prepared.rows):
        raise typer.Exit(1)


def _finish(summary: CohortSummary, as_json: bool, stopped: str = "") -> None:
    if as_json:
        print(json.dumps({**summary.as_json(), "stopped": stopped or None}))
    else:
        colour = "green" if summary.complete else "yellow"
        where = f"; results in {summary.results}" if summary.results else ""
        console.print(f"[{colour}]{summary.text()}[/{colour}]{where}")


def issue_command(
    file: Path = typer.Option(..., "--file", "--csv", help="the cohort: CSV (comma, semicolon or tab; UTF-8, a BOM "
                                                           "is fine) or XLSX (first sheet), one row per learner"),
    template: Path = typer.Option(..., "--template", help="achievement template (YAML): what the cohort shares"),
    server: str = typer.Option("127.0.0.1:50051", "--server", envvar="MICROCRED_ISSUER_TARGET",
                               help="issuer service host:port"),
    tls_dir: Path | None = typer.Option(None, "--tls-dir", help="ca.crt and the issuer's client certificate and "
                                                                "key (not needed with --dry-run)"),
    cert_name: str | None = typer.Option(None, "--cert-name", help="NAME of NAME.crt/NAME.key in --tls-dir"),
    results: Path | None = typer.Option(None, "--results", help="write the results CSV here (default: a new "
                                                                "<file>.results-<UTC time>.csv per run; with "
                                                                "--deliver offer created mode 0600, owner only: "
                                                                "it holds the offer links and tx_codes)"),
    dry_run_only: bool = typer.Option(False, "--dry-run", help="check the file and the template, issue nothing"),
    attempts: int = typer.Option(5, "--attempts", min=1, max=20, help="tries for transient failures, with backoff"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as one JSON object on stdout"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
    formats: list[str] = typer.Option([], "--format", help="also issue every credential in this format: edc "
                                                           "(sealed European Digital Credential, Europass) or "
                                                           "sd-jwt (repeatable)"),
    deliver: str = typer.Option("credential", "--deliver", help="credential: issue now (default); offer: make "
                                                                "one OpenID4VCI credential offer per row, signed "
                                                                "when the learner's wallet redeems it; the "
                                                                "results file gives each row its offer link"),
    tx_code: bool = typer.Option(False, "--tx-code", help="with --deliver offer: each offer needs a 6-digit "
                                                          "tx_code, written to the results file, which is then "
                                                          "SENSITIVE (created mode 0600, owner only): send each "
                                                          "code to its learner apart from the link, then delete "
                                                          "the file"),
    offer_expires_in: int = typer.Option(0, "--offer-expires-in", min=0, help="with --deliver offer: seconds "
                                                                              "the offers live (0: the service's "
                                                                              "maximum)"),
    chunk_size: int = typer.Option(1000, "--chunk-size", min=1, max=MAX_CHUNK, help="with --deliver offer: "
                                                                                    "awards per CreateOffers call"),
) -> None:
    """Issue one micro-credential per row; safe to run again after any failure.

    With --deliver offer, make one OpenID4VCI credential offer per row instead (not idempotent: a re-run makes
    new offers; find earlier ones with their row keys in ListOffers). The results file then holds each offer's
    link and tx_code: it is created owner-only (0600); keep it safe and delete it once the offers are sent.

    Columns (see docs/cohort-format.md; every one optional except a name and one identifier):

    \b
{columns}
    """
    now = datetime.now(UTC)
    try:
        prepared = prepare_cohort(file, template, now)
    except (CohortProblem, OSError) as exc:
        console.print(f"[red]cannot issue:[/red] {exc}")
        raise typer.Exit(2) from None
    out = results or default_results_path(file, now)
    if dry_run_only:
        outcome = dry_run(prepared, now)
        write_results_file(out, outcome)
        counts = outcome.counts()
        summary = CohortSummary(len(prepared.rows), dict(counts), out, prepared.form)
        if as_json:
            print(json.dumps({"dry_run": True, "rows": summary.rows, "form": summary.form, "results": str(out),
                              "ready": counts.get("ready", 0), "invalid": counts.get(RowStatus.INVALID, 0)}))
        else:
            console.print(f"dry run, nothing issued: {summary.rows} rows read as {prepared.form}, "
                          f"{counts.get('ready', 0)} ready, {counts.get(RowStatus.INVALID, 0)} invalid; "
                          f"details in {out}")
        raise typer.Exit(1 if counts.get(RowStatus.INVALID, 0) else 0)
    if tls_dir is None:
        console.print("[red]cannot issue:[/red] --tls-dir is required (the issuer's client certificate)")
        raise typer.Exit(2)
    if deliver not in ("credential", "offer"):
        console.print(f"[red]cannot issue:[/red] --deliver {deliver!r} is not one of credential, offer")
        raise typer.Exit(2)
    if deliver == "offer":
        if formats:
            console.print("[red]cannot offer:[/red] --format does not apply to --deliver offer (the wallet "
                          "receives an SD-JWT VC)")
            raise typer.Exit(2)
        _deliver_offers(server, tls_dir, cert_name, prepared, out, attempts, quiet, as_json, chunk=chunk_size,
                        tx_code=tx_code, expires_in=offer_expires_in, now=now)
        return
    try:
        outcome = asyncio.run(_run(server, tls_dir, cert_name, prepared, attempts, quiet, _formats(formats)))
    except (OSError, ValueError) as exc:
        console.print(f"[red]cannot issue:[/red] {exc}")
        raise typer.Exit(2) from None
    except CallerRefused as exc:
        console.print(f"[red]the issuer service refuses this client; no retry can help:[/red] {exc}")
        if exc.outcome is not None:
            write_results_file(out, exc.outcome)
            _finish(CohortSummary(len(prepared.rows), dict(exc.outcome.counts()), out, prepared.form), as_json,
                    str(exc))
        raise typer.Exit(2) from None
    except Unreachable as exc:
        console.print(f"[yellow]the issuer service at {server} could not be reached; nothing was sent; run again "
                      f"later:[/yellow] {exc}")
        raise typer.Exit(1) from None
    write_results_file(out, outcome)
    summary = CohortSummary(len(prepared.rows), dict(outcome.counts()), out, prepared.form)
    _finish(summary, as_json)
    if not summary.complete:
        raise typer.Exit(1)


issue_command.__doc__ = (issue_command.__doc__ or "").replace("{columns}", _COLUMN_LIST)
