"""What every ``mcred`` command that talks to a service shares: the mTLS connection options, one way to call,
one way to report a refusal, and ``--json`` output.

Exit codes, the same for every such command:

* 0: done;
* 1: the service refused (invalid request, not found, already exists, not permitted, wrong state), or some
  items of a bulk command failed; the message (and ``--json``) says which and why;
* 2: the command could not run: bad local input, the service unreachable, or the client certificate refused.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import grpc
import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from rich.console import Console

from microcred.grpc_server import TlsFiles, client_channel

__all__ = ["CERT_NAME", "JSON", "TLS_DIR", "client_cert_name", "connect", "emit", "fail", "run_call", "to_dict"]

T = TypeVar("T")
console = Console(stderr=True, soft_wrap=True)

TLS_DIR = typer.Option(..., "--tls-dir", envvar="MICROCRED_TLS_DIR",
                       help="ca.crt and your client certificate and key (as written by mcred agency/issuer cert)")
CERT_NAME = typer.Option(None, "--cert-name", help="NAME of NAME.crt/NAME.key in --tls-dir (when several)")
JSON = typer.Option(False, "--json", help="print the answer as JSON on stdout")
#: Refusals no retry changes: exit 1 with the service's reason.
_REFUSALS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS,
             grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE}


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` and exit with ``code``."""
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def client_cert_name(directory: Path, name: str | None = None) -> str:
    """NAME of ``NAME.crt``/``NAME.key`` in ``directory``: ``name``, or the only client certificate there."""
    if name is None:
        names = sorted(p.stem for p in directory.glob("*.crt") if p.stem != "ca" and (directory / f"{p.stem}.key")
                       .exists())
        if len(names) != 1:
            raise ValueError(f"{directory}: say which client certificate to use (--cert-name); found {names}")
        name = names[0]
    return name


def connect(tls_dir: Path, cert_name: str | None) -> TlsFiles:
    """The client's TLS files from ``tls_dir`` (the only client certificate there unless ``cert_name``)."""
    try:
        return TlsFiles.from_dir(tls_dir, client_cert_name(tls_dir, cert_name))
    except (OSError, ValueError) as exc:
        fail(f"cannot read the client certificate: {exc}")


def _explain(error: grpc.aio.AioRpcError) -> str:
    """The service's message plus its field violations and reason (google.rpc details), in one line."""
    parts = [f"{error.code().name}: {error.details()}"]
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in status_pb2.Status.FromString(value).details:
            bad, info = error_details_pb2.BadRequest(), error_details_pb2.ErrorInfo()
            if detail.Unpack(bad):
                parts += [f"{v.field}: {v.description}" for v in bad.field_violations
                          if v.description not in parts[0]]
            elif detail.Unpack(info) and info.reason not in parts[0]:
                parts.append(f"reason {info.reason}")
    return "; ".join(parts)


def run_call(target: str, tls: TlsFiles, call: Callable[[grpc.aio.Channel], Awaitable[T]]) -> T:
    """Run ``call`` over one mTLS channel to ``target``; a gRPC error exits with the codes above."""
    async def go() -> T:
        async with client_channel(target, tls) as channel:
            return await call(channel)

    try:
        return asyncio.run(go())
    except grpc.aio.AioRpcError as exc:
        fail(_explain(exc), 1 if exc.code() in _REFUSALS else 2)


def to_dict(message: Message) -> dict[str, Any]:
    """A protobuf message as JSON-ready data (field names as in the .proto files)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def emit(data: Any, as_json: bool, text: str) -> None:
    """``data`` as JSON on stdout with ``--json``, else ``text`` for people."""
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        Console(soft_wrap=True).print(text, highlight=False)
