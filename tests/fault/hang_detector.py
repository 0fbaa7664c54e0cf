"""Hung-service detector of the fault harness: a service that stops answering fails the test that hung it.

A fault test kills brokers and services on purpose, so a service that is *dead* is not what this looks for: it
looks for a process that is alive and does not answer its health check (the gRPC ``grpc.health.v1`` Check over
mutual TLS, ``GET /healthz`` over HTTP). Any answer counts, NOT_SERVING and 503 included: the process is alive
and its event loop turns. Two moments:

* **during the test** a watchdog thread probes every service every few seconds. A process that answered once
  and then gives no answer for :data:`HANG_SECONDS` is hung: its stacks are dumped at once (while it hangs)
  and the test's coroutine is cancelled, so a hung issuer costs a minute, not the test's whole timeout;
* **after the test** every live service must answer within :data:`FINAL_GRACE_SECONDS`.

A hang found either way fails the test's call phase with :class:`HungServices`, whose message carries the
stacks; they also go to the log and to ``<platform data dir>/logs/hang-<service>-<pid>.txt``. Stacks come from
``py-spy dump`` (``--nonblocking`` for a process that is stopped, which py-spy cannot suspend again). The
watchdog is a thread with blocking probes so that it keeps working when the test's own event loop is stuck.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from microcred.grpc_server import TlsFiles
from microcred.infra.platform import RunningService
from tests.processes import process_state

log = logging.getLogger(__name__)

#: Seconds without any answer from a live service (that answered before) before the watchdog calls it hung.
HANG_SECONDS = float(os.environ.get("FAULT_HANG_SECONDS", "60"))
#: After a test, how long a live service may take to answer.
FINAL_GRACE_SECONDS = float(os.environ.get("FAULT_HANG_FINAL_SECONDS", "20"))
PROBE_TIMEOUT = 3.0
PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))


class HungServices(AssertionError):
    """One or more services stopped answering during or after a test (the message holds their stacks)."""


@dataclass(frozen=True)
class Hang:
    """A service that stopped answering, what the last probe said, and its stacks."""

    service: str
    pid: int
    silent_seconds: float
    last_error: str
    stacks: str

    def describe(self) -> str:
        return (f"service {self.service} (pid {self.pid}) stopped answering its health check for "
                f"{self.silent_seconds:.0f}s (last probe: {self.last_error})\n--- stacks of {self.service} ---\n"
                f"{self.stacks}")


def probe_once(svc: RunningService, tls: TlsFiles | None, timeout: float = PROBE_TIMEOUT) -> str | None:
    """``None`` when the service answered (any status), else what went wrong. Blocking, for the watchdog thread."""
    if svc.spec.kind == "grpc":
        if tls is None:
            return "no client TLS files"
        credentials = grpc.ssl_channel_credentials(root_certificates=tls.ca, private_key=tls.key,
                                                   certificate_chain=tls.cert)
        with grpc.secure_channel(f"localhost:{svc.port}", credentials) as channel:
            try:
                health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            except grpc.RpcError as exc:
                code = exc.code() if isinstance(exc, grpc.Call) else None
                return f"gRPC {code.name if code else exc!r}"
            return None
    try:
        httpx.get(f"http://127.0.0.1:{svc.port}/healthz", timeout=timeout)
    except httpx.HTTPError as exc:
        return f"HTTP {type(exc).__name__}"
    return None


def dump_stacks(pid: int, timeout: float = 60.0) -> str:
    """The Python stacks of ``pid`` and its child processes (signing workers), via ``py-spy dump``."""
    state = process_state(pid)
    attempts = [["--nonblocking"]] if state == "T" else [[], ["--nonblocking"]]
    errors = []
    for extra in attempts:
        command = [PY_SPY, "dump", "--subprocesses", *extra, "--pid", str(pid)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(f"{' '.join(command)}: {exc!r}")
            continue
        if done.returncode == 0 and done.stdout.strip():
            return f"(process state {state}; {' '.join(command[1:])})\n{done.stdout}"
        errors.append(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[:400]}")
    return "stack dump unavailable:\n" + "\n".join(errors)


@dataclass
class HangWatch:
    """Watches the live services of one platform during one test; see the module docstring."""

    services: Callable[[], Iterable[RunningService]]
    tls: TlsFiles | None
    report_dir: Path | None = None
    hang_seconds: float = HANG_SECONDS
    interval: float = 2.0
    hangs: list[Hang] = field(default_factory=list)
    _answered_at: dict[int, float] = field(default_factory=dict)  # pid -> last answer (monotonic)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, on_hang: Callable[[], None]) -> None:
        """Start the watchdog thread; ``on_hang`` is called (from that thread) once, on the first hang."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(on_hang,), name="hang-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PROBE_TIMEOUT * 4 + 120)
            self._thread = None

    def _live(self) -> list[RunningService]:
        return [s for s in self.services() if s.process.poll() is None]

    def _hung_pids(self) -> set[int]:
        with self._lock:
            return {h.pid for h in self.hangs}

    def _run(self, on_hang: Callable[[], None]) -> None:
        notified = False
        while not self._stop.wait(self.interval):
            for svc in self._live():
                pid = svc.process.pid
                if pid in self._hung_pids():
                    continue
                error = probe_once(svc, self.tls)
                now = time.monotonic()
                if error is None:
                    self._answered_at[pid] = now
                    continue
                last = self._answered_at.get(pid)  # None: still starting (a restart); the final check covers it
                if last is not None and now - last >= self.hang_seconds and svc.process.poll() is None:
                    self._record(svc, now - last, error)
                    if not notified:
                        notified = True
                        on_hang()

    def final_check(self, grace: float = FINAL_GRACE_SECONDS) -> list[Hang]:
        """Every live service must answer within ``grace`` seconds; returns every hang of this test."""
        deadline = time.monotonic() + grace
        for svc in self._live():
            if svc.process.pid in self._hung_pids():
                continue
            started = time.monotonic()
            while (error := probe_once(svc, self.tls)) is not None and svc.process.poll() is None:
                if time.monotonic() > deadline:
                    self._record(svc, time.monotonic() - started, error)
                    break
                time.sleep(1.0)
        with self._lock:
            return list(self.hangs)

    def _record(self, svc: RunningService, silent: float, error: str) -> None:
        hang = Hang(svc.spec.name, svc.process.pid, silent, error, dump_stacks(svc.process.pid))
        log.error("hung service\n%s", hang.describe())
        if self.report_dir is not None:
            self.report_dir.mkdir(parents=True, exist_ok=True)
            (self.report_dir / f"hang-{svc.spec.name}-{svc.process.pid}.txt").write_text(hang.describe())
        with self._lock:
            self.hangs.append(hang)


def cancel_test_task(loop: asyncio.AbstractEventLoop, test_name: str) -> None:
    """From another thread: cancel the task running the test coroutine ``test_name`` on ``loop``."""
    def cancel() -> None:
        for task in asyncio.all_tasks(loop):
            if getattr(task.get_coro(), "__name__", "") == test_name:
                task.cancel(f"hung service detected during {test_name}")

    if not loop.is_closed():
        loop.call_soon_threadsafe(cancel)


def failure_message(hangs: list[Hang]) -> str:
    """What a test that hung services fails with."""
    names = ", ".join(sorted({h.service for h in hangs}))
    return f"hung service(s): {names}\n\n" + "\n\n".join(h.describe() for h in hangs)
