"""One run of ``mcred issue``: check the client up front, stream the rows, retry what a retry can fix, record.

* **Up front** (:func:`preflight`): one ``GetCredential`` for an id that cannot exist. ``NOT_FOUND`` means the
  service accepted this client as an issuer; ``UNAUTHENTICATED``, ``PERMISSION_DENIED`` or a failed TLS
  handshake cannot be fixed by running again, so the run stops before anything is sent.
* **Streaming** (:func:`issue_rows`): the rows go through ``IssueCredentials``. A refusal that concerns the
  caller rather than the row (issuer not registered, certificate not registered, accreditation suspended...)
  stops the run at the first answer. When the stream breaks off, or rows are answered ``UNAVAILABLE``, the
  unanswered rows are sent again with exponential backoff, a bounded number of times: the idempotency keys make
  that safe, nothing is issued twice.
* **Outcome per row** (:class:`RowStatus`): new, already issued (the key was answered before), conflict (the key
  was used for other content: the fields that differ are named), invalid, refused, or not processed (a
  retryable failure: run again).
"""

from __future__ import annotations

import asyncio
import csv
import socket
import ssl
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import grpc
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.credential.cohort import CohortRow
from microcred.gen.microcred.v1 import issuer_pb2, issuer_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel

__all__ = ["RESULT_COLUMNS", "CallerRefused", "RowStatus", "RunOutcome", "Unreachable", "issue_rows", "preflight",
           "tls_diagnosis", "write_results"]

RESULT_COLUMNS = ("row", "key", "status", "credential_id", "code", "errors")
#: Failures a later attempt may not meet (the service restarting, overloaded, or rebuilding its state).
RETRYABLE = frozenset({code_pb2.UNAVAILABLE, code_pb2.DEADLINE_EXCEEDED, code_pb2.RESOURCE_EXHAUSTED,
                       code_pb2.ABORTED})
#: Refusals that concern the caller, not the row: every other row would get the same one.
CALLER_REASONS = frozenset({"ISSUER_NOT_REGISTERED", "AGENCY_MISMATCH", "CERTIFICATE_NOT_REGISTERED",
                            "NOT_ACCREDITED", "ACCREDITATION_SUSPENDED", "ACCREDITATION_WITHDRAWN",
                            "ACCREDITATION_EXPIRED", "ACCREDITATION_NOT_YET_VALID", "ISSUER_ROLE_REQUIRED"})


class RowStatus(StrEnum):
    """What became of one row."""

    NEW = "issued"
    ALREADY_ISSUED = "already_issued"
    CONFLICT = "conflict"
    INVALID = "invalid"
    REFUSED = "refused"
    NOT_PROCESSED = "not_processed"


class CallerRefused(Exception):
    """The service refuses this client (certificate, role, registration): no retry can help. ``outcome`` holds
    what was answered before the run stopped (None when nothing was sent)."""

    def __init__(self, message: str, outcome: RunOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


class Unreachable(Exception):
    """The service could not be reached after every attempt: run again later."""


@dataclass
class RunOutcome:
    """Each row's result line (by row number) and the counts per :class:`RowStatus`."""

    lines: dict[int, dict[str, str]] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        """How many rows ended in each status."""
        return Counter(line["status"] for line in self.lines.values())


def _tls_problem(error: grpc.aio.AioRpcError) -> bool:
    details = (error.details() or "").lower()
    return error.code() == grpc.StatusCode.UNAVAILABLE and any(
        word in details for word in ("handshake", "certificate", "ssl", "tls"))


def tls_diagnosis(target: str, ca_pem: bytes, cert_path: Path, key_path: Path, timeout: float = 5.0) -> str | None:
    """Why a TLS session with ``target`` fails with this client certificate, or None when it does not.

    gRPC reports a server that rejects the client certificate only as a closed socket (with TLS 1.3 the
    rejection comes after the client's side of the handshake is done), which reads like a server that is
    down. One plain TLS connection tells the two apart: the server's alert names the rejection."""
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    context = ssl.create_default_context(cadata=ca_pem.decode("ascii", "replace"))
    context.load_cert_chain(cert_path, key_path)
    rejected = ("the service rejected the client certificate{}: use one issued by this platform's CA "
                "(mcred issuer cert)")
    try:
        raw = socket.create_connection((host, int(port)), timeout=timeout)
    except (OSError, ValueError):
        return None  # not a TLS problem: the service is down or unreachable
    try:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.settimeout(timeout)
            try:
                # A gRPC server waits for our HTTP/2 preface: it speaks first, or hangs up, only to refuse us.
                data = tls.recv(1)
            except TimeoutError:
                return None
            except ssl.SSLError as exc:
                return rejected.format(f" ({exc.reason or exc})")
            except OSError:
                return rejected.format("")
            return rejected.format("") if data == b"" else None
    except ssl.SSLCertVerificationError as exc:
        return f"the service's certificate does not verify against ca.crt in --tls-dir ({exc.verify_message})"
    except ssl.SSLError as exc:
        return f"the TLS handshake failed ({exc.reason or exc})"
    except OSError:
        return rejected.format("")
    finally:
        raw.close()


async def preflight(target: str, tls: TlsFiles, *, attempts: int, backoff: float = 0.5,
                    diagnose: Callable[[], str | None] | None = None) -> None:
    """Check that the service accepts this client as an issuer; raise :class:`CallerRefused` or
    :class:`Unreachable` when it does not (after ``attempts`` tries for a transient failure). ``diagnose``
    (e.g. :func:`tls_diagnosis`) is asked, off the event loop, why an unreachable service is unreachable."""
    delay = backoff
    for attempt in range(1, attempts + 1):
        async with client_channel(target, tls) as channel:
            stub = issuer_pb2_grpc.IssuerServiceStub(channel)
            try:
                await stub.GetCredential(issuer_pb2.GetCredentialRequest(
                    credential_id=f"urn:uuid:{uuid.UUID(int=0)}"), timeout=30)
                return
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    return
                if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                    raise CallerRefused(f"{exc.code().name}: {exc.details()}") from None
                if _tls_problem(exc):
                    raise CallerRefused(f"the TLS handshake with {target} failed (check ca.crt and the client "
                                        f"certificate in --tls-dir): {exc.details()}") from None
                if exc.code().value[0] not in RETRYABLE or attempt == attempts:
                    why = await asyncio.to_thread(diagnose) if diagnose is not None else None
                    if why is not None:
                        raise CallerRefused(why) from None
                    raise Unreachable(f"{exc.code().name}: {exc.details()}") from None
        await asyncio.sleep(delay)
        delay *= 2


def _errors(failure: issuer_pb2.IssueFailure) -> str:
    if failure.field_violations:
        return "; ".join(f"{v.field}: {v.description} ({v.reason})" for v in failure.field_violations)
    return failure.message


def _reason(failure: issuer_pb2.IssueFailure) -> str:
    head = failure.message.split(":", 1)[0]
    return head if head.isupper() and " " not in head else ""


def _line(row: CohortRow, status: RowStatus, *, credential_id: str = "", code: str = "", errors: str = ""
          ) -> dict[str, str]:
    return {"row": str(row.number), "key": row.key, "status": status.value, "credential_id": credential_id,
            "code": code, "errors": errors}


def _answer_line(row: CohortRow, response: issuer_pb2.IssueCredentialsResponse) -> dict[str, str]:
    if response.WhichOneof("result") == "issued":
        status = RowStatus.ALREADY_ISSUED if response.issued.already_issued else RowStatus.NEW
        return _line(row, status, credential_id=response.issued.credential_id)
    failure = response.failure
    status = {code_pb2.INVALID_ARGUMENT: RowStatus.INVALID, code_pb2.ALREADY_EXISTS: RowStatus.CONFLICT}.get(
        failure.code, RowStatus.NOT_PROCESSED if failure.code in RETRYABLE else RowStatus.REFUSED)
    errors = _errors(failure)
    if status is RowStatus.CONFLICT and failure.field_violations:
        errors = "fields that differ from the credential issued under this key: " + ", ".join(
            v.field for v in failure.field_violations)
    elif status is RowStatus.NOT_PROCESSED:
        errors = f"{errors}; run again"
    return _line(row, status, code=code_pb2.Code.Name(failure.code), errors=errors)


async def _stream_once(stub: issuer_pb2_grpc.IssuerServiceStub, rows: Sequence[CohortRow], outcome: RunOutcome,
                       advance: Callable[[int], None], formats: Sequence[int] = ()) -> str:
    """Send ``rows`` once; record every answer; return why the stream ended early ('' when it did not)."""
    by_ref = {str(r.number): r for r in rows}

    async def requests() -> AsyncIterator[issuer_pb2.IssueCredentialsRequest]:
        for ref, row in by_ref.items():
            yield issuer_pb2.IssueCredentialsRequest(idempotency_key=row.key, credential=row.credential,
                                                     client_reference=ref, formats=formats)  # type: ignore[arg-type]

    call = stub.IssueCredentials(requests())
    try:
        async for response in call:
            row = by_ref[response.client_reference]
            if response.WhichOneof("result") == "failure" and _reason(response.failure) in CALLER_REASONS:
                call.cancel()
                raise CallerRefused(f"{code_pb2.Code.Name(response.failure.code)}: {response.failure.message}")
            line = _answer_line(row, response)
            outcome.lines[row.number] = line
            if line["status"] != RowStatus.NOT_PROCESSED:
                advance(1)
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED) or _tls_problem(exc):
            raise CallerRefused(f"{exc.code().name}: {exc.details()}") from None
        return f"stream ended: {exc.code().name}: {exc.details()}"
    return ""


async def issue_rows(target: str, tls: TlsFiles, rows: Sequence[CohortRow], *, attempts: int,
                     advance: Callable[[int], None] = lambda n: None, backoff: float = 0.5,
                     formats: Sequence[int] = ()) -> RunOutcome:
    """Issue every buildable row, retrying transient failures up to ``attempts`` times in all; ``formats``: the
    ``CredentialFormat`` values every row asks for besides Data Integrity."""
    outcome = RunOutcome()
    for row in rows:
        if row.credential is None:
            outcome.lines[row.number] = _line(row, RowStatus.INVALID, code="INVALID_ARGUMENT",
                                              errors="; ".join(row.errors))
            advance(1)
    todo = [r for r in rows if r.credential is not None]
    note, delay = "", backoff
    for attempt in range(1, attempts + 1):
        try:
            async with client_channel(target, tls) as channel:
                note = await _stream_once(issuer_pb2_grpc.IssuerServiceStub(channel), todo, outcome, advance,
                                          formats)
        except CallerRefused as refused:
            for row in todo:
                if row.number not in outcome.lines:
                    outcome.lines[row.number] = _line(row, RowStatus.REFUSED, code="PERMISSION_DENIED",
                                                      errors=f"not sent: the run stopped ({refused})")
            raise CallerRefused(str(refused), outcome) from None
        todo = [r for r in todo if outcome.lines.get(r.number, {}).get("status", RowStatus.NOT_PROCESSED)
                == RowStatus.NOT_PROCESSED]
        if not todo or attempt == attempts:
            break
        await asyncio.sleep(delay)
        delay *= 2
    for row in todo:
        if row.number not in outcome.lines:
            outcome.lines[row.number] = _line(row, RowStatus.NOT_PROCESSED, code="UNAVAILABLE",
                                              errors=f"{note or 'no answer'}; run again")
    return outcome


def write_results(path: Path, outcome: RunOutcome) -> None:
    """The results CSV: one line per row, in row order."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        writer.writerows(outcome.lines[n] for n in sorted(outcome.lines))
