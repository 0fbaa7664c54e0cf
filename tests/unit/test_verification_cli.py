"""``mcred verify``: the report as JSON and the exit codes 0 valid, 1 invalid, 3 undetermined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from microcred.cli.main import app
from tests.verifier_support import FIXTURES, load

CONTROLLERS = str(FIXTURES / "controllers.json")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROCRED_CACHE", str(tmp_path / "cache"))


def run(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["verify", *args])
    try:
        body = json.loads(result.stdout)
    except ValueError:
        body = {}
    return result.exit_code, body


def test_valid_credential_exits_0() -> None:
    code, report = run(str(FIXTURES / "w3c/eddsa-rdfc-2022.json"), "--offline", "--controllers", CONTROLLERS)
    assert code == 0 and report["verdict"] == "valid"
    checks: Any = report["checks"]
    assert [c["id"] for c in checks][:3] == ["format", "eu_elements", "signature"]


def test_invalid_credential_exits_1() -> None:
    code, report = run(str(FIXTURES / "1edtech/simple-err-proof-value.json"), "--offline", "--controllers", CONTROLLERS)
    assert code == 1 and report["verdict"] == "invalid"


def test_offline_without_the_status_list_is_undetermined(tmp_path: Path) -> None:
    code, report = run(str(FIXTURES / "bitstring/section-A.1-credential-eddsa-rdfc-2022.json"), "--offline",
                       "--controllers", CONTROLLERS)
    assert code == 3 and report["verdict"] == "undetermined"
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"credential": load("bitstring/section-A.1-credential-eddsa-rdfc-2022.json"),
                                  "status_lists": [load("bitstring/section-A.2-statuslist-eddsa-rdfc-2022.json")]}))
    code, report = run(str(bundle), "--offline", "--controllers", CONTROLLERS)
    assert code == 0, report


def test_unresolvable_issuer_without_controllers_is_undetermined() -> None:
    code, _ = run(str(FIXTURES / "1edtech/simple.json"), "--offline")
    assert code == 3


def test_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _ = run(str(bad))
    assert code == 2
