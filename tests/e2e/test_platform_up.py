"""`mcred dev up` (what `make run` calls) brings all four services up and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def processes_mentioning(text: str) -> list[str]:
    """Live processes whose command line or environment mention ``text`` (our data dir is unique to this test).

    Kafka and Redis name the data dir on their command line; the services get it in ``MICROCRED_TLS_DIR``.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if (text in cmdline or text in environ) and str(os.getpid()) != entry.name:
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def test_platform_starts_reports_serving_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "platform-run"
    env = {**os.environ, "COLUMNS": "250"}
    proc = subprocess.Popen([sys.executable, "-m", "microcred.cli.main", "dev", "up", "--data-dir", str(data_dir)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "mTLS material" in line:
                break
        text = "".join(output)
        assert "mTLS material" in text, text
        for name in ("issuer", "revocation", "wallet", "verifier"):
            row = next(r for r in text.splitlines() if re.search(rf"\b{name}\b", r))
            assert ("SERVING" in row) or ("200" in row), row
        for port in re.findall(r"http://127\.0\.0\.1:(\d+)", text):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        # Nothing is left of the processes that mention our data dir once Ctrl-C is handled.
        assert len(processes_mentioning(str(data_dir))) >= 6, "expected Kafka, Redis and four services"
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, rest
    assert "no process left behind" in rest
    time.sleep(0.5)
    assert processes_mentioning(str(data_dir)) == []
