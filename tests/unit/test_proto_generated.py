"""The generated code in microcred/gen is current, importable, and `gen_protos.sh --check` detects drift."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_protos.sh"


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(
        ["bash", str(script), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_generated_code_is_up_to_date() -> None:
    result = _run(SCRIPT, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_check_detects_stale_code(tmp_path: Path) -> None:
    for rel in ("scripts", "proto", "microcred/gen"):
        shutil.copytree(ROOT / rel, tmp_path / rel, ignore=shutil.ignore_patterns("__pycache__"))
    with (tmp_path / "proto/microcred/v1/status.proto").open("a") as f:
        f.write("\n// Added after generation.\nmessage Drift {\n  // A field.\n  string x = 1;\n}\n")
    result = _run(tmp_path / "scripts" / "gen_protos.sh", "--check")
    assert result.returncode == 1
    assert "stale" in result.stderr and "status_pb2" in result.stderr

    regenerated = _run(tmp_path / "scripts" / "gen_protos.sh")
    assert regenerated.returncode == 0, regenerated.stderr
    assert _run(tmp_path / "scripts" / "gen_protos.sh", "--check").returncode == 0


def test_generated_modules_import_under_microcred_gen() -> None:
    from microcred.gen.microcred.v1 import (
        elements_pb2,
        events_pb2,
        issuer_pb2,
        issuer_pb2_grpc,
        registry_pb2_grpc,
        revocation_pb2_grpc,
    )

    assert elements_pb2.MicroCredential.__module__ == "microcred.gen.microcred.v1.elements_pb2"
    assert events_pb2.EventEnvelope.DESCRIPTOR.full_name == "microcred.v1.EventEnvelope"
    assert issuer_pb2.DESCRIPTOR.package == "microcred.v1"
    assert hasattr(issuer_pb2_grpc, "IssuerServiceStub")
    assert hasattr(registry_pb2_grpc, "add_RegistryServiceServicer_to_server")
    assert hasattr(revocation_pb2_grpc, "RevocationServiceServicer")
    assert not (ROOT / "microcred/gen/microcred/v1/elements_pb2_grpc.py").exists()
