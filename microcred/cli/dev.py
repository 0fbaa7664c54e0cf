"""``mcred dev``: run the platform, or only its infrastructure, on this machine."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from microcred.infra.platform import (
    DEFAULT_PORTS,
    PORT_SETTINGS,
    REPO_ROOT,
    Platform,
    PortInUseError,
    dev_ports,
    ensure_dev_pki,
    platform_processes,
    run_platform,
)

app = typer.Typer(help="Run the platform locally (real Kafka and Redis on 127.0.0.1).", no_args_is_help=True)
console = Console()
DEFAULT_DATA = REPO_ROOT / ".run"


def _report(platform: Platform, status: dict[str, str]) -> None:
    table = Table(title="microcred is running (Ctrl-C stops everything)")
    for column in ("component", "endpoint", "health", "log"):
        # fold, never truncate: an operator copies the endpoint and the log path from here
        table.add_column(column, overflow="fold")
    assert platform.kafka is not None and platform.redis is not None
    table.add_row("kafka", platform.kafka.bootstrap, "ready", str(platform.kafka.data_dir))
    table.add_row("redis", platform.redis.service_url, "ready", str(platform.redis.log_path))
    for svc in platform.services:
        table.add_row(svc.spec.name, svc.endpoint, status[svc.spec.name], str(svc.log_path))
        if svc.spec.name == "issuer":
            table.add_row("OpenID4VCI issuer", f"https://localhost:{platform.ports['issuer-rest']}",
                          status[svc.spec.name], str(svc.log_path))
        if svc.spec.name == "revocation":
            table.add_row("status lists", f"http://127.0.0.1:{platform.ports['revocation-http']}/status/",
                          status[svc.spec.name], str(svc.log_path))
    console.print(table)
    console.print(f"mTLS material for gRPC clients: {platform.pki_dir} (ca.crt, client.crt, client.key)")


def _port_help(name: str, what: str) -> str:
    return f"{what} (default {DEFAULT_PORTS[name]}, or {PORT_SETTINGS[name]})"


@app.command("up")
def up(
    data_dir: Path = typer.Option(DEFAULT_DATA, help="where data, logs and dev certificates go (kept between runs)"),
    issuer_port: int = typer.Option(0, help=_port_help("issuer", "issuer gRPC port")),
    revocation_port: int = typer.Option(0, help=_port_help("revocation", "revocation gRPC port")),
    status_port: int = typer.Option(0, help=_port_help("revocation-http", "status-list HTTP port")),
    wallet_port: int = typer.Option(0, help=_port_help("wallet", "wallet HTTP port")),
    verifier_port: int = typer.Option(0, help=_port_help("verifier", "verifier HTTP port")),
    issuer_rest_port: int = typer.Option(0, help=_port_help("issuer-rest", "issuer HTTPS port (OpenID4VCI)")),
) -> None:
    """Start Kafka, Redis and the four services; print their endpoints; stop all on Ctrl-C.

    The data directory is kept: the next `mcred dev up` brings back the same platform (Kafka cluster, topics,
    Redis state, keys, PKI and every credential issued). `mcred dev reset` wipes it.
    """
    try:
        ports = dev_ports()
    except PortInUseError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    chosen = {"issuer": issuer_port, "revocation": revocation_port, "revocation-http": status_port,
              "wallet": wallet_port, "verifier": verifier_port, "issuer-rest": issuer_rest_port}
    ports.update({name: port for name, port in chosen.items() if port})
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_platform(data_dir, _report, ports))
    except PortInUseError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print("stopped: no process left behind")


@app.command("reset")
def reset(
    data_dir: Path = typer.Option(DEFAULT_DATA, help="the data directory `mcred dev up` uses"),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Wipe the local platform's data on purpose: Kafka log, Redis state, keys, PKI and every credential.

    Refused while a platform runs on that directory. Example: `mcred dev reset --yes`.
    """
    if not data_dir.exists():
        console.print(f"nothing to reset: {data_dir} does not exist")
        return
    running = platform_processes(data_dir)
    if running:
        console.print(f"[red]the platform is still running on {data_dir} ({len(running)} processes); "
                      "stop it (Ctrl-C in `make run`) first[/red]")
        raise typer.Exit(1)
    if not yes and not typer.confirm(f"Delete {data_dir} with every credential, key and certificate in it?"):
        console.print("nothing deleted")
        raise typer.Exit(1)
    shutil.rmtree(data_dir)
    console.print(f"deleted {data_dir}: the next `make run` starts an empty platform")


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
            console.print(f"export MICROCRED_REDIS_URL={platform.redis.service_url}")
            console.print("Ctrl-C stops Kafka and Redis")
            await wait_for_shutdown_signal()
        finally:
            platform.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@app.command("pki")
def dev_pki(out: Path = typer.Option(..., help="directory for ca.crt, server.crt/key and client.crt/key")) -> None:
    """Create development PKI material if it is missing: the CA, server and operator client certificates, and the
    document-signing certificates of the Token Status Lists and of the gateway's OpenID4VP requests."""
    ensure_dev_pki(out)
    console.print(f"development PKI in {out}: ca.crt, ca.key, server.crt, server.key, client.crt, client.key, "
                  "token-status.crt, token-status.key, oid4vp.crt, oid4vp.key")
