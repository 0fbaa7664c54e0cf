"""Several gateway worker processes, each listening on its own socket (``SO_REUSEPORT``).

Why not uvicorn's default: its workers share one listening socket, and uvloop (libuv) accepts every pending
connection in one wake-up, so a burst of keep-alive connections (a load balancer's pool, the 16 of
``bench.verify``) can all land on one worker while the others idle. Seen in ``bench.verify``: one worker served
all 16 connections (half the machine unused); libuv's ``UV_TCP_SINGLE_ACCEPT`` helped on a quiet machine but
not on a loaded one (busiest worker 0.955 of the workers' CPU). With ``SO_REUSEPORT`` every worker listens on
its own socket bound to the same address, and the kernel spreads new connections over them by a hash of each
connection, whatever the scheduler does.

uvicorn's supervisor (which starts, watches and restarts the workers, and forwards signals) hands each worker
process the listeners it is given by pickling them; :class:`ReusePortListener` unpickles in the worker as a new
socket of that worker's own, bound with ``SO_REUSEPORT``. Linux only lets sockets of the same user join such a
group. A port of 0 (tests) cannot be shared this way (each worker would get another port): the caller keeps
uvicorn's shared socket then (see :func:`reuse_port_possible`).

In prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, :mod:`microcred.metrics`) the supervisor
also hands back the live gauges of a worker that died or was replaced (``mark_process_dead``), so that /metrics
stops reporting them.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any, cast

import uvicorn
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from microcred.http_protocol import CoalescingHttpToolsProtocol
from microcred.metrics import MULTIPROC_ENV

__all__ = ["ReusePortListener", "reuse_port_possible", "run_workers"]

log = logging.getLogger("uvicorn.error")


def reuse_port_possible(port: int) -> bool:
    """Whether workers can each bind ``port`` themselves (a fixed port, on a system with ``SO_REUSEPORT``)."""
    return port != 0 and hasattr(socket, "SO_REUSEPORT")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        # as uvicorn's own bind: a worker that cannot listen exits with STARTUP_FAILURE, and the supervisor then
        # stops instead of restarting it forever (the port is taken by a socket outside the group)
        sock.close()
        log.error("cannot listen on %s:%s: %s", host, port, exc)
        sys.exit(STARTUP_FAILURE)
    return sock


class ReusePortListener:
    """Stands for a listening socket in the supervisor; becomes a new ``SO_REUSEPORT`` socket bound to
    ``(host, port)`` in each worker process it is sent to (``__reduce__``)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return _listen, (self.host, self.port)

    def close(self) -> None:
        """Nothing to close in the supervisor: it never listens."""


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, which also marks the workers that are gone as dead for prometheus_client."""

    _known: frozenset[int] = frozenset()

    def keep_subprocess_alive(self) -> None:
        """Restart dead workers (uvicorn), then forget the live gauges of every worker no longer in service: the
        supervisor calls this after handling signals (restarts, fewer workers) every half second."""
        super().keep_subprocess_alive()
        path = os.environ.get(MULTIPROC_ENV)
        if not path:
            return
        serving = frozenset(p.pid for p in self.processes if p.pid is not None)
        for pid in self._known - serving:
            mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
        self._known = serving


def run_workers(app: str, host: str, port: int, workers: int) -> None:
    """Serve the application factory ``app`` ("module:callable") from ``workers`` uvicorn worker processes, each
    on its own ``SO_REUSEPORT`` socket; returns when the supervisor stops (SIGINT/SIGTERM)."""
    config = uvicorn.Config(app, factory=True, host=host, port=port, workers=workers, log_config=None,
                            access_log=False, lifespan="on", loop="auto", http=CoalescingHttpToolsProtocol,
                            proxy_headers=False)
    # the supervisor only passes its listeners on to the workers (see the module docstring)
    supervisor = _Supervisor(config, sockets=[cast("socket.socket", ReusePortListener(host, port))])
    supervisor.run()
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        sys.exit(STARTUP_FAILURE)  # a worker could not start (e.g. the port is taken): say so to the orchestrator
