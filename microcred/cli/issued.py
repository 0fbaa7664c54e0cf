"""``mcred credential correct`` and ``mcred credential list``: an issuer's own issued credentials (IssuerService,
mTLS with the issuer's client certificate).

::

    mcred credential correct urn:uuid:... --set learner.given_name=Anna-Maria --reason "name misspelt" \\
        --tls-dir uni-a/
    mcred credential correct urn:uuid:... --file corrected.json --reason "wrong ECTS" --tls-dir uni-a/ --json
    mcred credential list --since 2026-09-01 --tls-dir uni-a/

A correction reads the credential (``GetCredential``), applies the changes to its EU elements and sends the whole
corrected credential to ``CorrectCredential``: the service issues the replacement, revokes the old credential
with reason "superseded" and links the two in the events, the audit log and the learner's wallet. Running the same
correction again answers the same replacement (nothing is issued twice). Exit codes as in
:mod:`microcred.cli.grpc_client`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import grpc
import typer
from google.protobuf import json_format

from microcred.cli.audit import parse_moment
from microcred.cli.grpc_client import CERT_NAME, JSON, TLS_DIR, connect, emit, fail, run_call, to_dict
from microcred.gen.microcred.v1 import elements_pb2, issuer_pb2, issuer_pb2_grpc

__all__ = ["apply_changes", "credential_correct", "credential_list"]

SERVER = typer.Option("127.0.0.1:50051", "--server", envvar="MICROCRED_ISSUER_TARGET",
                      help="issuer service host:port")
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted ``path`` (``a.b[2].c``; map keys are plain segments), creating objects on the way."""
    node: Any = data
    segments = path.split(".")
    for n, segment in enumerate(segments):
        last = n == len(segments) - 1
        match = _SEGMENT.match(segment)
        if match is None or not isinstance(node, dict):
            raise ValueError(f"{path!r}: {segment!r} is not a field name (write e.g. learner.given_name, "
                             "learning_outcomes[0].text or title.values.en)")
        name, index = match.group(1), match.group(2)
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
            continue
        items = node.get(name)
        if not isinstance(items, list) or int(index) >= len(items):
            size = len(items) if isinstance(items, list) else 0
            raise ValueError(f"{path!r}: {name} has {size} entries; index {index} is not one of them")
        if last:
            items[int(index)] = value
        else:
            node = items[int(index)]


def apply_changes(credential: elements_pb2.MicroCredential, changes: list[str]) -> elements_pb2.MicroCredential:
    """``credential`` with each change ``PATH=TEXT`` (a string) or ``PATH:=JSON`` (any JSON value) applied.

    Paths use the .proto field names (as ``mcred credential get --json`` shows them). Raises ValueError naming
    the change that cannot be applied (unknown field, wrong type, bad JSON).
    """
    data = json_format.MessageToDict(credential, preserving_proto_field_name=True)
    for change in changes:
        path, sep, raw = change.partition("=")
        if not sep or not path:
            raise ValueError(f"--set {change!r}: write PATH=TEXT or PATH:=JSON, e.g. learner.given_name=Anna")
        value: Any = raw
        if path.endswith(":"):
            path = path[:-1]
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"--set {change!r}: {raw!r} is not JSON ({exc})") from None
        _set(data, path.strip(), value)
    try:
        return json_format.ParseDict(data, elements_pb2.MicroCredential())
    except json_format.ParseError as exc:
        raise ValueError(f"the corrected credential does not fit the model: {exc}") from None


def _issuer(server: str, tls_dir: Path, cert_name: str | None, rpc: str, request: Any) -> Any:
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> Any:
        return await getattr(issuer_pb2_grpc.IssuerServiceStub(channel), rpc)(request, timeout=60)

    return run_call(server, tls, call)


def _corrected(credential_id: str, changes: list[str], file: Path | None, server: str, tls_dir: Path,
               cert_name: str | None) -> elements_pb2.MicroCredential:
    """The corrected EU elements: from ``--file``, or the issued ones with ``--set`` changes."""
    if file is not None:
        try:
            return json_format.Parse(file.read_text(encoding="utf-8"), elements_pb2.MicroCredential())
        except (OSError, ValueError) as exc:  # json_format.ParseError is a ValueError
            fail(f"--file {file}: {exc}")
    current = _issuer(server, tls_dir, cert_name, "GetCredential",
                      issuer_pb2.GetCredentialRequest(credential_id=credential_id))
    try:
        return apply_changes(current.micro_credential, changes)
    except ValueError as exc:
        fail(str(exc))


def credential_correct(
        credential_id: str = typer.Argument(..., help="the credential to correct (urn:uuid:...)"),
        change: list[str] = typer.Option([], "--set", help="PATH=TEXT or PATH:=JSON on the issued EU elements, "
                                                           "e.g. learner.given_name=Anna (repeatable)"),
        file: Path | None = typer.Option(None, "--file", help="the corrected EU elements in full (JSON, as "
                                                              "`mcred credential get --json` shows micro_credential)"),
        reason: str = typer.Option(..., "--reason", help="why it is corrected (audit log; no personal data)"),
        server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
        as_json: bool = JSON) -> None:
    """Correct one of your credentials: issue the corrected one, revoke the old one as "superseded", link both.

    \b
    Examples:
      mcred credential correct urn:uuid:... --set learner.given_name=Anna-Maria --reason "name misspelt" \\
          --tls-dir uni-a/
      mcred credential correct urn:uuid:... --set workload.credit_points=5 --set workload.hours:=125 \\
          --reason "wrong workload" --tls-dir uni-a/
      mcred credential correct urn:uuid:... --file corrected.json --reason "wrong outcomes" --tls-dir uni-a/ --json

    Running it again answers the same replacement (already_corrected). A second, different correction of the
    same credential is refused: correct the replacement instead.
    """
    if bool(change) == (file is not None):
        fail("give the changes with --set (repeatable) or the whole corrected credential with --file, not both")
    corrected = _corrected(credential_id, change, file, server, tls_dir, cert_name)
    response = _issuer(server, tls_dir, cert_name, "CorrectCredential", issuer_pb2.CorrectCredentialRequest(
        credential_id=credential_id, credential=corrected, reason=reason))
    again = " (corrected before; nothing changed now)" if response.already_corrected else ""
    emit(to_dict(response), as_json,
         f"{response.superseded_credential_id}: revoked as superseded by {response.credential.credential_id}{again}")


def credential_list(
        since: str | None = typer.Option(None, "--since", help="issued at or after (ISO date or date-time)"),
        until: str | None = typer.Option(None, "--until", help="issued before (ISO date or date-time)"),
        limit: int = typer.Option(100, "--limit", min=1, help="at most this many (newest first)"),
        page_token: str = typer.Option("", "--page-token", help="continue where an earlier list stopped"),
        server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
        as_json: bool = JSON) -> None:
    """Your issued credentials, newest first: id, issue time, title, and the credential each one corrects.

    \b
    Examples:
      mcred credential list --tls-dir uni-a/
      mcred credential list --since 2026-09-01 --until 2026-10-01 --limit 1000 --tls-dir uni-a/ --json
      mcred credential list --page-token <next_page_token> --tls-dir uni-a/

    Status is the revocation service's: `mcred status show ID`.
    """
    request = issuer_pb2.ListCredentialsRequest(page_size=min(limit, 1000), page_token=page_token)
    start, end = parse_moment(since, "--since"), parse_moment(until, "--until")
    if start is not None:
        request.issued_since.FromDatetime(start)
    if end is not None:
        request.issued_before.FromDatetime(end)
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> tuple[list[issuer_pb2.CredentialSummary], str]:
        stub = issuer_pb2_grpc.IssuerServiceStub(channel)
        found: list[issuer_pb2.CredentialSummary] = []
        while True:
            request.page_size = min(limit - len(found), 1000)
            page = await stub.ListCredentials(request, timeout=60)
            found += page.credentials
            request.page_token = page.next_page_token
            if not page.next_page_token or len(found) >= limit:
                return found, page.next_page_token

    credentials, token = run_call(server, tls, call)
    lines = [f"{c.credential_id}  {c.issued_at.ToJsonString()}  {c.title}"
             + (f"  (corrects {c.replaces})" if c.replaces else "") for c in credentials]
    if token:
        lines.append(f"more: --page-token {token}")
    emit({"credentials": [to_dict(c) for c in credentials], "next_page_token": token}, as_json,
         "\n".join(lines) or "no credentials")
