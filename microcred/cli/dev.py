"""``mcred dev``: run the platform, or only its infrastructure, on this machine."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from microcred.infra.platform import REPO_ROOT, Platform, ensure_dev_pki, run_platform

app = typer.Typer(help="Run the platform locally (real Kafka and Redis on 127.0.0.1).", no_args_is_help=True)
console = Console()
DEFAULT_DATA = REPO_ROOT / ".run"


def _report(platform: Platform, status: dict[str, str]) -> None:
    table = Table(title="microcred is running (Ctrl-C stops everything)")
    for column in ("component", "endpoint", "health", "log"):
        table.add_column(column)
    assert platform.kafka is not None and platform.redis is not None
    table.add_row("kafka", platform.kafka.bootstrap, "ready", str(platform.kafka.data_dir))
    table.add_row("redis", platform.redis.url, "ready", str(platform.redis.log_path))
    for svc in platform.services:
        table.add_row(svc.spec.name, svc.endpoint, status[svc.spec.name], str(svc.log_path))
    console.print(table)
    console.print(f"mTLS material for gRPC clients: {platform.pki_dir} (ca.crt, client.crt, client.key)")


@app.command("up")
def up(data_dir: Path = typer.Option(DEFAULT_DATA, help="where data, logs and dev certificates go")) -> None:
    """Start Kafka, Redis and the four services; print their endpoints; stop all on Ctrl-C."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_platform(data_dir, _report))
    console.print("stopped: no process left behind")


@app.command("infra")
def infra(data_dir: Path = typer.Option(DEFAULT_DATA, help="where data and logs go")) -> None:
    """Start only Kafka and Redis (to run one service by hand); print the environment to export."""

    async def run() -> None:
        from microcred.lifecycle import wait_for_shutdown_signal

        platform = Platform(data_dir)
        try:
            await platform.start_infrastructure()
            assert platform.kafka is not None and platform.redis is not None
            console.print(f"export MICROCRED_KAFKA_BOOTSTRAP={platform.kafka.bootstrap}")
            console.print(f"export MICROCRED_REDIS_URL={platform.redis.url}")
            console.print("Ctrl-C stops Kafka and Redis")
            await wait_for_shutdown_signal()
        finally:
            platform.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@app.command("pki")
def dev_pki(out: Path = typer.Option(..., help="directory for ca.crt, server.crt/key and client.crt/key")) -> None:
    """Create development mTLS material (CA, server and operator client certificates) if it is missing."""
    ensure_dev_pki(out)
    console.print(f"development PKI in {out}: ca.crt, server.crt, server.key, client.crt, client.key")
