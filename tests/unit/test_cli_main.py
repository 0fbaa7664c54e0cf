"""The ``mcred`` top-level group: every command is listed and loads, and a command imports only what it needs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from microcred.cli.main import _COMMANDS, app

HEAVY = ("fastapi", "pyshacl", "reportlab", "microcred.verification", "microcred.infra.platform")


def test_the_overview_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for name in [*_COMMANDS, "version"]:
        assert f" {name} " in result.output


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_each_command_loads_with_its_subcommands(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_credential_gathers_the_commands_of_other_modules_once() -> None:
    for _ in range(2):
        result = CliRunner().invoke(app, ["credential", "--help"])
        assert result.exit_code == 0, result.output
    for command in ("sign", "get", "correct", "list", "export-edc", "pdf"):
        assert f" {command} " in result.output


def test_a_grpc_command_does_not_import_the_heavy_modules() -> None:
    probe = ("import sys\nfrom typer.testing import CliRunner\nfrom microcred.cli.main import app\n"
             "assert CliRunner().invoke(app, ['status', 'show', '--help']).exit_code == 0\n"
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == ""
