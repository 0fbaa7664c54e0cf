"""``mcred pdf``: a cohort's PDFs from a folder of signed credentials, with a progress bar (issue 23).

Reads every ``*.json`` file of a folder (one signed OB 3.0 credential each, as ``mcred issue`` writes them),
renders each with :func:`microcred.pdf.render.render_pdf` and writes ``<credential id>.pdf`` beside the others in
the output folder, the signed credential attached. The QR code carries ``--url-template`` with ``{credential_id}``
filled in: a cohort rendered on the issuer's side has no learner-owned verification link (those live in the
learner's wallet, which makes its own PDF), so the issuer names the page where its credentials can be checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from microcred.pdf.labels import LANGUAGES
from microcred.pdf.render import PAPERS, CredentialPdf, render_pdf

__all__ = ["pdf_command", "render_cohort"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_CREDENTIAL_BYTES = 2 * 1024 * 1024


def _issuer_name(document: dict[str, Any]) -> str:
    issuer = document.get("issuer")
    name = issuer.get("name") if isinstance(issuer, dict) else None
    return name if isinstance(name, str) else ""


def render_cohort(files: Iterable[Path], out_dir: Path, *, url_template: str, lang: str, paper: str,
                  advance: Callable[[], None] = lambda: None) -> list[Path]:
    """Render each credential file to ``out_dir``; returns the PDFs written. A file that is not a credential
    stops the run with ValueError naming it (nothing is half-written: each PDF is written whole)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file in files:
        raw = file.read_bytes()
        if len(raw) > MAX_CREDENTIAL_BYTES:
            raise ValueError(f"{file}: larger than {MAX_CREDENTIAL_BYTES} bytes")
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{file}: not JSON") from exc
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise ValueError(f"{file}: not a credential (no id)")
        cid = document["id"]
        url = url_template.format(credential_id=quote(cid, safe=""))
        pdf = render_pdf(CredentialPdf(document, cid, url, issuer_name=_issuer_name(document),
                                       attachments=[("credential.json", raw)]), lang, paper)
        target = out_dir / f"{_UNSAFE.sub('-', cid).strip('-')[:100] or 'credential'}.pdf"
        target.write_bytes(pdf)
        written.append(target)
        advance()
    return written


def pdf_command(
    source: Annotated[Path, typer.Argument(help="folder of signed credentials (*.json)", exists=True,
                                           file_okay=False)],
    out: Annotated[Path, typer.Argument(help="folder the PDFs are written to")],
    url_template: Annotated[str, typer.Option(help="verification URL with {credential_id}")],
    lang: Annotated[str, typer.Option(help="en, pl, de or fr")] = "en",
    paper: Annotated[str, typer.Option(help="a4 or letter")] = "a4",
) -> None:
    """Render a cohort's credentials as PDFs (QR code, signed credential attached), with a progress bar."""
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"one of {', '.join(LANGUAGES)}", param_hint="--lang")
    if paper not in PAPERS:
        raise typer.BadParameter(f"one of {', '.join(PAPERS)}", param_hint="--paper")
    if "{credential_id}" not in url_template:
        raise typer.BadParameter("must contain {credential_id}", param_hint="--url-template")
    files = sorted(source.glob("*.json"))
    with Progress(TextColumn("PDFs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as progress:
        task = progress.add_task("render", total=len(files))
        try:
            written = render_cohort(files, out, url_template=url_template, lang=lang, paper=paper,
                                    advance=lambda: progress.advance(task))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="SOURCE") from exc
    typer.echo(f"{len(written)} PDFs written to {out}")
