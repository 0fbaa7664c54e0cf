"""``mcred``: the command line for operators, issuers and developers."""

from __future__ import annotations

import typer
from rich.console import Console

from microcred.cli import dev

app = typer.Typer(help="microcred: EU micro-credentials platform", no_args_is_help=True)
app.add_typer(dev.app, name="dev")

console = Console()


@app.command()
def version() -> None:
    """Print the platform version."""
    from importlib.metadata import version as dist_version

    console.print(dist_version("microcred"))

if __name__ == "__main__":
    app()
