"""``mcred status ...``: revoke, suspend, reinstate and read credentials' status (RevocationService, mTLS).

::

    mcred status show urn:uuid:... --tls-dir uni-a/
    mcred status revoke urn:uuid:... --reason "awarded in error" --tls-dir uni-a/
    mcred status suspend --file ids.txt --reason "under investigation" --tls-dir uni-a/ --json
    mcred status reinstate urn:uuid:... --reason "investigation closed" --tls-dir uni-a/

An issuer changes its own credentials; an agency operator those of its issuers. ``--file`` takes one
credential id per line (blank lines and ``#`` comments skipped): revocations and suspensions go in batches of
the bulk RPCs, reinstatements one by one. Every change carries a reason, kept in the audit trail. Exit codes as
in :mod:`microcred.cli.grpc_client`; a bulk run exits 1 when any id failed, and reports each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import typer
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.cli.grpc_client import CERT_NAME, JSON, TLS_DIR, connect, emit, fail, run_call, to_dict
from microcred.gen.microcred.v1 import revocation_pb2, revocation_pb2_grpc

__all__ = ["app", "read_ids"]

app = typer.Typer(help="Revoke, suspend, reinstate and read the status of credentials.", no_args_is_help=True)
SERVER = typer.Option("127.0.0.1:50052", "--server", envvar="MICROCRED_REVOCATION_TARGET",
                      help="revocation service host:port")
REASON = typer.Option(..., "--reason", help="why (kept in the audit trail)")
FILE = typer.Option(None, "--file", help="one credential id per line instead of CREDENTIAL_ID")
#: Items per bulk request (the service's limit is larger; smaller batches report progress sooner).
BATCH = 500


def read_ids(path: Path) -> list[str]:
    """The credential ids in ``path``: one per line, blank lines and ``#`` comments skipped, duplicates once."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    ids = [line.split("#", 1)[0].strip() for line in lines]
    return list(dict.fromkeys(i for i in ids if i))


def _targets(credential_id: str | None, file: Path | None) -> list[str]:
    if (credential_id is None) == (file is None):
        fail("give either a CREDENTIAL_ID or --file")
    if credential_id is not None:
        return [credential_id]
    assert file is not None
    ids = read_ids(file)
    if not ids:
        fail(f"{file}: no credential ids")
    return ids


def _status_line(status: revocation_pb2.CredentialStatus) -> str:
    state = "revoked" if status.revoked else "suspended" if status.suspended else "active"
    return f"{status.credential_id}: {state} (issuer {status.issuer_id})"


def _single(server: str, tls_dir: Path, cert_name: str | None, rpc: str, request: Any, as_json: bool) -> None:
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> Any:
        return await getattr(revocation_pb2_grpc.RevocationServiceStub(channel), rpc)(request, timeout=30)

    response = run_call(server, tls, call)
    emit(to_dict(response.status), as_json, _status_line(response.status))


def _bulk(server: str, tls_dir: Path, cert_name: str | None, ids: list[str], reason: str, suspend: bool,
          as_json: bool) -> None:
    tls = connect(tls_dir, cert_name)
    rpc = "SuspendCredentials" if suspend else "RevokeCredentials"
    request_type = revocation_pb2.SuspendCredentialsRequest if suspend else revocation_pb2.RevokeCredentialsRequest

    async def call(channel: grpc.aio.Channel) -> list[Any]:
        stub = revocation_pb2_grpc.RevocationServiceStub(channel)
        results: list[Any] = []
        for start in range(0, len(ids), BATCH):
            items = [revocation_pb2.RevokeCredentialsItem(credential_id=i) for i in ids[start:start + BATCH]]
            response = await getattr(stub, rpc)(request_type(items=items, reason=reason), timeout=120)
            results.extend(response.results)
        return results

    results = run_call(server, tls, call)
    failed = [r for r in results if r.code != code_pb2.OK]
    rows = [{"credential_id": r.credential_id, "code": code_pb2.Code.Name(r.code), "message": r.message}
            for r in results]
    verb = "suspended" if suspend else "revoked"
    text = "\n".join([f"{len(results) - len(failed)} of {len(results)} {verb}"]
                     + [f"  {r['credential_id']}: {r['code']} {r['message']}" for r in rows if r["code"] != "OK"])
    emit({"changed": len(results) - len(failed), "failed": len(failed), "results": rows}, as_json, text)
    if failed:
        raise typer.Exit(1)


@app.command("show")
def show(credential_id: str = typer.Argument(..., help="the credential id (urn:uuid:...)"),
         server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
         as_json: bool = JSON) -> None:
    """Read a credential's status: active, suspended or revoked, and its status-list entries."""
    _single(server, tls_dir, cert_name, "GetCredentialStatus",
            revocation_pb2.GetCredentialStatusRequest(credential_id=credential_id), as_json)


def _revoke_or_suspend(suspend: bool, credential_id: str | None, reason: str, file: Path | None, server: str,
                       tls_dir: Path, cert_name: str | None, as_json: bool) -> None:
    ids = _targets(credential_id, file)
    if file is not None:
        _bulk(server, tls_dir, cert_name, ids, reason, suspend, as_json)
    elif suspend:
        _single(server, tls_dir, cert_name, "SuspendCredential",
                revocation_pb2.SuspendCredentialRequest(credential_id=ids[0], reason=reason), as_json)
    else:
        _single(server, tls_dir, cert_name, "RevokeCredential",
                revocation_pb2.RevokeCredentialRequest(credential_id=ids[0], reason=reason), as_json)


@app.command("revoke")
def revoke(credential_id: str | None = typer.Argument(None, help="the credential id (urn:uuid:...)"),
           reason: str = REASON, file: Path | None = FILE, server: str = SERVER, tls_dir: Path = TLS_DIR,
           cert_name: str | None = CERT_NAME, as_json: bool = JSON) -> None:
    """Revoke for good (verifiers then answer "invalid": revoked)."""
    _revoke_or_suspend(False, credential_id, reason, file, server, tls_dir, cert_name, as_json)


@app.command("suspend")
def suspend(credential_id: str | None = typer.Argument(None, help="the credential id (urn:uuid:...)"),
            reason: str = REASON, file: Path | None = FILE, server: str = SERVER, tls_dir: Path = TLS_DIR,
            cert_name: str | None = CERT_NAME, as_json: bool = JSON) -> None:
    """Suspend until reinstated (verifiers answer "invalid": suspended meanwhile)."""
    _revoke_or_suspend(True, credential_id, reason, file, server, tls_dir, cert_name, as_json)


@app.command("reinstate")
def reinstate(credential_id: str | None = typer.Argument(None, help="the credential id (urn:uuid:...)"),
              reason: str = REASON, file: Path | None = FILE, server: str = SERVER, tls_dir: Path = TLS_DIR,
              cert_name: str | None = CERT_NAME, as_json: bool = JSON) -> None:
    """Lift a suspension (a revocation cannot be lifted)."""
    ids = _targets(credential_id, file)
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> list[tuple[str, Any]]:
        stub = revocation_pb2_grpc.RevocationServiceStub(channel)
        out: list[tuple[str, Any]] = []
        for cid in ids:  # no bulk RPC for reinstatement: one call per id, every outcome reported
            try:
                response = await stub.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
                    credential_id=cid, reason=reason), timeout=30)
                out.append((cid, response.status))
            except grpc.aio.AioRpcError as exc:
                if len(ids) == 1:
                    raise
                out.append((cid, f"{exc.code().name}: {exc.details()}"))
        return out

    outcomes = run_call(server, tls, call)
    failed = [(cid, why) for cid, why in outcomes if isinstance(why, str)]
    if file is None and not failed:
        emit(to_dict(outcomes[0][1]), as_json, _status_line(outcomes[0][1]))
        return
    emit({"changed": len(outcomes) - len(failed), "failed": len(failed),
          "results": [{"credential_id": cid, "error": why if isinstance(why, str) else ""} for cid, why in outcomes]},
         as_json, "\n".join([f"{len(outcomes) - len(failed)} of {len(outcomes)} reinstated"]
                            + [f"  {cid}: {why}" for cid, why in failed]))
    if failed:
        raise typer.Exit(1)
