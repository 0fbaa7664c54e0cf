"""``mcred``: the command line for operators, issuers and developers.

Each top-level command's module is imported only when that command runs (or when the overview help lists it):
importing all of them pulls in the PDF renderer, the SHACL validator, the verification pipeline and the local
platform launcher, about two seconds before ``mcred status show`` could start its one gRPC call.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

__all__ = ["app"]


def _module(name: str) -> typer.Typer:
    return import_module(f"microcred.cli.{name}").app  # type: ignore[no-any-return]


def _single(module: str, function: str, name: str) -> typer.Typer:
    """A one-command app: typer turns it into that command itself (``mcred verify``, not ``mcred verify verify``)."""
    single = typer.Typer()
    single.command(name)(getattr(import_module(f"microcred.cli.{module}"), function))
    return single


def _registry(attribute: str) -> typer.Typer:
    import_module("microcred.cli.admin")  # registers its commands on the registry apps
    return getattr(import_module("microcred.cli.registry"), attribute)  # type: ignore[no-any-return]


def _credential() -> typer.Typer:
    from microcred.cli import admin, credential, edc_export, issued
    from microcred.pdf import cohort as pdf_cohort

    if "get" not in {c.name for c in credential.app.registered_commands}:  # once per process (tests invoke often)
        credential.app.command("get")(admin.credential_get)
        credential.app.command("correct")(issued.credential_correct)
        credential.app.command("list")(issued.credential_list)
        credential.app.command("export-edc")(edc_export.export_edc)
        credential.app.command("pdf")(pdf_cohort.pdf_command)
    return credential.app


def _accreditation() -> typer.Typer:
    from microcred.cli import admin

    return admin.accreditation_app


# In the order ``mcred --help`` lists them.
_COMMANDS: dict[str, Callable[[], typer.Typer]] = {
    "dev": lambda: _module("dev"),
    "agency": lambda: _registry("agency_app"),
    "issuer": lambda: _registry("issuer_app"),
    "verify": lambda: _single("verify", "verify_command", "verify"),
    "keys": lambda: _module("keys"),
    "credential": _credential,
    "issue": lambda: _single("issue", "issue_command", "issue"),
    "audit": lambda: _module("audit"),
    "accreditation": _accreditation,
    "status": lambda: _module("status"),
    "trust": lambda: _module("trust"),
    "learner": lambda: _module("learner"),
}

_SINGLES = frozenset({"verify", "issue"})


class _LazyGroup(TyperGroup):
    """The top-level group: :data:`_COMMANDS` are built from their modules on first use.

    (``ctx`` and the command are typed ``Any``: typer vendors click in a private module, ``typer._click``.)
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [*_COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        load = _COMMANDS.get(cmd_name)
        if load is None:
            return super().get_command(ctx, cmd_name)
        loaded = load()
        # A sub-app stays a group even with one command (``mcred keys generate``); a single is that command.
        command = typer.main.get_command(loaded) if cmd_name in _SINGLES else typer.main.get_group(loaded)
        command.name = cmd_name
        return command


app = typer.Typer(help="microcred: EU micro-credentials platform", no_args_is_help=True, cls=_LazyGroup)
console = Console()


@app.callback()
def _group() -> None:
    """microcred: EU micro-credentials platform"""  # a callback keeps ``app`` a group with its one own command


@app.command()
def version() -> None:
    """Print the platform version."""
    from importlib.metadata import version as dist_version

    console.print(dist_version("microcred"))


if __name__ == "__main__":
    app()
