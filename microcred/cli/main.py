"""``mcred``: the command line for operators, issuers and developers."""

from __future__ import annotations

import typer
from rich.console import Console

from microcred.cli import (
    admin,
    audit,
    credential,
    dev,
    edc_export,
    issue,
    issued,
    keys,
    learner,
    registry,
    status,
    trust,
    verify,
)
from microcred.pdf import cohort as pdf_cohort

app = typer.Typer(help="microcred: EU micro-credentials platform", no_args_is_help=True)
app.add_typer(dev.app, name="dev")
app.add_typer(registry.agency_app, name="agency")
app.add_typer(registry.issuer_app, name="issuer")
app.command("verify")(verify.verify_command)
app.add_typer(keys.app, name="keys")
app.add_typer(credential.app, name="credential")
app.command("issue")(issue.issue_command)
app.add_typer(audit.app, name="audit")
app.add_typer(admin.accreditation_app, name="accreditation")
app.add_typer(status.app, name="status")
app.add_typer(trust.app, name="trust")
app.add_typer(learner.app, name="learner")
credential.app.command("get")(admin.credential_get)
credential.app.command("correct")(issued.credential_correct)
credential.app.command("list")(issued.credential_list)
credential.app.command("export-edc")(edc_export.export_edc)
credential.app.command("pdf")(pdf_cohort.pdf_command)

console = Console()


@app.command()
def version() -> None:
    """Print the platform version."""
    from importlib.metadata import version as dist_version

    console.print(dist_version("microcred"))

if __name__ == "__main__":
    app()
