"""`mcred dev up` (what `make run` calls) brings all four services up and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from microcred.infra.platform import DEFAULT_PORTS, PORT_OPTIONS, platform_processes
from microcred.infra.ports import free_ports
from tests.e2e import devplatform

pytestmark = pytest.mark.integration


def test_platform_starts_reports_serving_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "platform-run"
    run = devplatform.start(data_dir)
    try:
        text = run.text
        for name in ("issuer", "revocation", "wallet", "verifier"):
            row = next(r for r in text.splitlines() if re.search(rf"\b{name}\b", r))
            assert ("SERVING" in row) or ("200" in row), row
            assert str(run.ports[name]) in row, row
        assert f"http://127.0.0.1:{run.ports['revocation-http']}/status/" in text
        for port in re.findall(r"http://127\.0\.0\.1:(\d+)", text):
            if int(port) != run.ports["revocation-http"]:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        # Kafka, Redis and four services mention our data dir; nothing of them is left once Ctrl-C is handled.
        assert len(platform_processes(data_dir)) >= 6, "expected Kafka, Redis and four services"
    finally:
        run.stop()


def test_a_taken_port_fails_fast_naming_the_port_and_its_setting(tmp_path: Path) -> None:
    ports = free_ports(DEFAULT_PORTS)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["verifier"]))
        holder.listen()
        args = [sys.executable, "-m", "microcred.cli.main", "dev", "up", "--data-dir", str(tmp_path / "run")]
        for name, port in ports.items():
            args += [PORT_OPTIONS[name], str(port)]
        result = subprocess.run(args, cwd=devplatform.ROOT, capture_output=True, text=True, timeout=60,
                                env={**os.environ, "COLUMNS": "250"})
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, out
    assert f"port {ports['verifier']} (verifier) is already in use" in out
    assert "MICROCRED_DEV_VERIFIER_PORT" in out and "--verifier-port" in out
    assert not (tmp_path / "run" / "kafka").exists(), "nothing may start before the ports are checked"
    assert platform_processes(tmp_path / "run") == []
