"""``mcred``: the command line for operators, issuers and developers.

Each top-level command's module is imported only when that command runs (or when the overview help lists it):
importing all of them pulls in the PDF renderer, the SHACL validator, the verification pipeline and the local
platform launcher, about two seconds before ``mcred status show`` could start its one gRPC call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

__all__ = ["app"]


def _sub_app(module: str, attribute: str = "app") -> Any:
    """``module``'s Typer app as a command group (a group even with one command: ``mcred keys generate``)."""
    return typer.main.get_group(getattr(import_module(f"microcred.cli.{module}"), attribute))


def _single(module: str, function: str, name: str) -> Any:
    """One function as the command itself (``mcred verify``, not ``mcred verify verify``)."""
    single = typer.Typer()
    single.command(name)(getattr(import_module(f"microcred.cli.{module}"), function))
    return typer.main.get_command(single)


@cache  # admin registers its commands on the registry apps once per process
def _with_admin() -> None:
    import_module("microcred.cli.admin")


@cache  # the credential app gains other modules' commands once per process (tests invoke often)
def _credential_commands() -> None:
    from microcred.cli import admin, credential, edc_export, issued
    from microcred.pdf import cohort as pdf_cohort

    credential.app.command("get")(admin.credential_get)
    credential.app.command("correct")(issued.credential_correct)
    credential.app.command("list")(issued.credential_list)
    credential.app.command("export-edc")(edc_export.export_edc)
    credential.app.command("pdf")(pdf_cohort.pdf_command)


def _registry(attribute: str) -> Any:
    _with_admin()
    return _sub_app("registry", attribute)


def _credential() -> Any:
    _credential_commands()
    return _sub_app("credential")


# In the order ``mcred --help`` lists them; each builds its (typer._click) command.
_COMMANDS: dict[str, Callable[[], Any]] = {
    "dev": lambda: _sub_app("dev"),
    "agency": lambda: _registry("agency_app"),
    "issuer": lambda: _registry("issuer_app"),
    "verify": lambda: _single("verify", "verify_command", "verify"),
    "keys": lambda: _sub_app("keys"),
    "credential": _credential,
    "issue": lambda: _single("issue", "issue_command", "issue"),
    "audit": lambda: _sub_app("audit"),
    "accreditation": lambda: _sub_app("admin", "accreditation_app"),
    "status": lambda: _sub_app("status"),
    "trust": lambda: _sub_app("trust"),
    "learner": lambda: _sub_app("learner"),
}


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
        command = load()
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
