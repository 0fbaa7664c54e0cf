"""Run ``mcred dev up`` (what ``make run`` calls) as a separate process, the way a developer does.

Tests never use the documented default ports: each run gets free ports checked by the harness and passed with
the ``--<name>-port`` options, and the harness reads every endpoint back from the platform's ``endpoints.json``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from microcred.infra.platform import BIND_FAILURE_MARKERS, DEFAULT_PORTS, PORT_OPTIONS, platform_processes
from microcred.infra.ports import free_ports

ROOT = Path(__file__).resolve().parents[2]



@dataclass
class DevUp:
    """One ``mcred dev up`` process and what it printed."""

    data_dir: Path
    ports: dict[str, int]
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def stop(self, timeout: float = 90.0) -> str:
        """Ctrl-C, as a developer would; returns the rest of the output. Asserts a clean exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, self.text + rest
        assert "no process left behind" in rest, rest
        deadline = time.monotonic() + 10
        while platform_processes(self.data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert platform_processes(self.data_dir) == []
        return rest


def start(data_dir: Path, timeout: float = 240.0, attempts: int = 3) -> DevUp:
    """Start ``mcred dev up --data-dir data_dir`` on free ports and wait until it reports its endpoints.

    Should another process bind one of the chosen ports first (the platform then exits naming the bind
    failure), it starts again on new ports; any other failure is an assertion error with the output.
    """
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(data_dir, free_ports(DEFAULT_PORTS), timeout)
        except _LostBindRace:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


class _LostBindRace(AssertionError):
    """The platform exited because a port chosen for it was taken before it could bind it."""


def _logs_since(data_dir: Path, sizes: dict[Path, int]) -> str:
    text = []
    for log in (data_dir / "logs").glob("*.log"):
        with log.open("rb") as f:
            f.seek(sizes.get(log, 0))
            text.append(f.read().decode(errors="replace"))
    return "".join(text)


def _start_once(data_dir: Path, ports: dict[str, int], timeout: float) -> DevUp:
    sizes = {log: log.stat().st_size for log in (data_dir / "logs").glob("*.log")} if data_dir.exists() else {}
    args = [sys.executable, "-m", "microcred.cli.main", "dev", "up", "--data-dir", str(data_dir)]
    for name, port in ports.items():
        args += [PORT_OPTIONS[name], str(port)]
    env = {**os.environ, "COLUMNS": "250"}
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    run = DevUp(data_dir, ports, proc)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        run.output.append(line)
        if "mTLS material" in line:
            return run
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=90)
    if any(marker in _logs_since(data_dir, sizes) for marker in BIND_FAILURE_MARKERS):
        raise _LostBindRace(f"a port was taken before the platform bound it:\n{run.text}{rest}")
    raise AssertionError(f"mcred dev up did not report its endpoints:\n{run.text}{rest}")
