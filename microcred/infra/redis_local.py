"""A real Redis server (Debian's ``redis-server``) on 127.0.0.1 with an append-only file.

Redis holds only read models that are rebuilt from Kafka, but we still run it as production would:
AOF on with ``appendfsync everysec`` (at most about one second of writes lost on a crash, which the
projectors replay from Kafka).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from microcred.infra.ports import free_port


class RedisStartError(RuntimeError):
    """redis-server is missing and could not be installed, or it did not become ready."""


def flush_node(port: int) -> None:
    """``FLUSHALL`` on the local Redis node at ``port`` (synchronously, from outside any event loop)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        client.flushall()
    finally:
        client.close()


def redis_server_binary() -> str:
    """Path of redis-server, installing Debian's package when missing and we are root."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=False, env=env, capture_output=True)
        found = shutil.which("redis-server")
        if found:
            return found
    raise RedisStartError("redis-server is not installed (apt-get install redis-server)")


@dataclass
class LocalRedis:
    """One redis-server process with its data and log under ``data_dir``."""

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def service_url(self) -> str:
        """What a service's ``MICROCRED_REDIS_URL`` is for this server."""
        return self.url

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    def flush(self) -> None:
        """``FLUSHALL`` (what a fault test does to lose every read model at once)."""
        flush_node(self.port)

    def start(self, timeout: float = 20.0) -> None:
        """Start redis-server and wait until it answers PING."""
        binary = redis_server_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--logfile", str(self.log_path), "--daemonize", "no", "--protected-mode", "yes",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        import redis

        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RedisStartError(f"redis-server exited; see {self.log_path}")
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    time.sleep(0.1)
        finally:
            client.close()
        raise RedisStartError(f"redis-server not ready after {timeout}s; see {self.log_path}")

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server (SIGTERM lets it flush the AOF), SIGKILL after ``grace`` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
