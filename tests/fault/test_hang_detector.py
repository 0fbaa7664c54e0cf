"""The hung-service detector works: a service made to stop answering (SIGSTOP) fails its test with its stacks.

An inner pytest session (a subprocess) runs three tiny tests under the real hooks of ``tests/fault/conftest.py``
against two real services: a gRPC health server over mutual TLS and an HTTP ``/healthz`` server, each its own
process. One test stops the gRPC service and then waits in a long step (the watchdog must find the hang and end
the wait), one stops it just before it returns (the check after the test must find it), and one leaves both
alone (a detector that fails everything would be wrong too). The outer test reads the inner report.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

FAKE_SERVICE = '''
"""A stand-in service for the detector's test: grpc.health.v1 over mutual TLS, or GET /healthz over HTTP."""
import asyncio
import http.server
import sys
from pathlib import Path

from microcred.grpc_server import TlsFiles, create_server


async def fake_grpc_service(pki: Path) -> None:
    server = create_server(TlsFiles.from_dir(pki), "127.0.0.1:0", (), lambda s: None)
    await server.start()
    print(server.port, flush=True)
    await asyncio.Event().wait()


class Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def fake_http_service() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if sys.argv[1] == "grpc":
    asyncio.run(fake_grpc_service(Path(sys.argv[2])))
else:
    fake_http_service()
'''

INNER_CONFTEST = '''
from tests.fault.conftest import hang_watch, pytest_runtest_call  # noqa: F401  (the real fixture and hook)
'''

INNER_TESTS = '''
import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from microcred.infra.platform import RunningService, ServiceSpec, ensure_dev_pki

HERE = Path(__file__).parent


@dataclass
class FakePlatform:
    data_dir: Path
    services: list[RunningService] = field(default_factory=list)

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"


@dataclass
class FakeFault:
    platform: FakePlatform
    loop: asyncio.AbstractEventLoop


def start(platform: FakePlatform, name: str, kind: str) -> RunningService:
    log_path = platform.data_dir / f"{name}.log"
    process = subprocess.Popen([sys.executable, str(HERE / "fake_service.py"), kind, str(platform.pki_dir)],
                               stdout=subprocess.PIPE, stderr=log_path.open("wb"), start_new_session=True)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    with (platform.data_dir / "pids").open("a") as pids:
        pids.write(f"{process.pid}\\n")
    service = RunningService(ServiceSpec(name, "fake_service", kind, 0), port, process, log_path)
    platform.services.append(service)
    return service


@pytest.fixture
async def fault(tmp_path: Path) -> FakeFault:
    platform = FakePlatform(tmp_path)
    ensure_dev_pki(platform.pki_dir)
    start(platform, "fake-grpc", "grpc")
    start(platform, "fake-http", "http")
    yield FakeFault(platform, asyncio.get_running_loop())
    for service in platform.services:
        os.kill(service.process.pid, signal.SIGCONT)
        service.process.kill()
        service.process.wait()


def stop_grpc(fault: FakeFault) -> None:
    os.kill(fault.platform.services[0].process.pid, signal.SIGSTOP)


async def test_stops_answering_during_a_long_step(fault: FakeFault) -> None:
    await asyncio.sleep(3)  # both answer first: the watchdog only calls a service hung that answered before
    stop_grpc(fault)
    await asyncio.sleep(3600)  # a long step, as a batch that streams: the watchdog must end it


async def test_stops_answering_at_the_end(fault: FakeFault) -> None:
    stop_grpc(fault)


async def test_healthy_services_pass(fault: FakeFault) -> None:
    await asyncio.sleep(3)
'''


def test_a_stopped_service_fails_its_test_with_a_stack_dump(tmp_path: Path) -> None:
    (tmp_path / "fake_service.py").write_text(FAKE_SERVICE)
    (tmp_path / "conftest.py").write_text(textwrap.dedent(INNER_CONFTEST))
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = "
                                         "session\nasyncio_default_test_loop_scope = session\n")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FAULT_HANG_SECONDS": "4", "FAULT_HANG_FINAL_SECONDS": "4"}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-v",
                               f"--basetemp={tmp_path / 'inner'}", "test_inner.py"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    finally:
        _kill_leftovers(tmp_path / "inner")
    report = done.stdout + done.stderr
    outcomes = dict(re.findall(r"test_inner\.py::(\w+) (PASSED|FAILED|ERROR)", report))
    assert outcomes == {"test_stops_answering_during_a_long_step": "FAILED",
                        "test_stops_answering_at_the_end": "FAILED",
                        "test_healthy_services_pass": "PASSED"}, report
    assert re.search(r"\b2 failed, 1 passed\b", report), report
    assert done.returncode == 1, report
    # Each failure names the stopped service, not the healthy one, and carries its Python stacks from py-spy.
    failures = report.split("= FAILURES =")[1].split("short test summary")[0]
    assert failures.count("hung service(s): fake-grpc") >= 2, report
    assert "service fake-http (pid" not in failures, report
    assert failures.count("--- stacks of fake-grpc ---") >= 2, report
    assert re.search(r"Thread \d+", failures) and "fake_service.py" in failures, report
    assert "stack dump unavailable" not in failures, report
    # The long step was ended by the watchdog (cancelled), not left to run its hour.
    assert "CancelledError" in failures, report


def _kill_leftovers(inner: Path) -> None:
    """SIGCONT and SIGKILL every fake service the inner session started (should it have left any)."""
    for pids in inner.rglob("pids"):
        for pid in map(int, pids.read_text().split()):
            try:
                if b"fake_service.py" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue  # gone, and the number taken by another process since
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, FileNotFoundError):
                pass
