"""One run of ``mcred issue --deliver offer``: the rows of a cohort become OpenID4VCI credential offers through
``IssuerService.CreateOffers``, in chunks, and each row's offer link (and ``tx_code``) goes to a results file.

* **Rows that cannot be offered** (a row the template could not build, or an award that fails the same Annex I
  validation as the service's) are reported ``invalid`` with every reason, and never sent.
* **Chunks** of ``chunk`` awards per call, each award with its row key as the offer's ``reference`` (what
  ``ListOffers`` answers back). The service refuses a whole call when one award is invalid, naming it
  (``credentials[n]``): that row is reported ``invalid`` with its field violations and the rest of the chunk is
  sent again without it.
* **Transient failures** (UNAVAILABLE, DEADLINE_EXCEEDED, ...) are retried with exponential backoff a bounded
  number of times; a chunk still unanswered then is ``not_processed``. ``CreateOffers`` has no idempotency key: a
  call that timed out may have made offers the run never saw; ``ListOffers`` finds them by reference (the row
  key), and an issuer withdraws them there. Refusals of the caller (certificate, role) stop the run.
* **The results file** holds each row's ``tx_code``, a secret for the learner: it is created with mode 0600
  (owner only) before anything is written to it.
"""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import grpc
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status

from microcred.cli.cohort_run import RETRYABLE, CallerRefused, RunOutcome, _tls_problem
from microcred.credential.cohort import CohortRow
from microcred.gen.microcred.v1 import issuer_pb2, issuer_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel
from microcred.model.validation import validate_micro_credential

__all__ = ["MAX_CHUNK", "OFFER_COLUMNS", "invalid_rows", "local_errors", "offer_chunk", "offer_rows",
           "write_offer_results"]

OFFER_COLUMNS = ("row", "key", "status", "offer_id", "link", "tx_code", "code", "errors")
#: CreateOffers takes at most this many awards per call.
MAX_CHUNK = 5000
#: The service keeps at most this many characters of a reference (the row key).
MAX_REFERENCE = 200


def _line(row: CohortRow, status: str, *, offer: issuer_pb2.CredentialOffer | None = None, code: str = "",
          errors: str = "") -> dict[str, str]:
    return {"row": str(row.number), "key": row.key, "status": status,
            "offer_id": offer.offer_id if offer else "", "link": offer.link if offer else "",
            "tx_code": offer.tx_code if offer else "", "code": code, "errors": errors}


def _violations(error: grpc.aio.AioRpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    status = rpc_status.from_call(error)
    out: list[error_details_pb2.BadRequest.FieldViolation] = []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out += list(bad.field_violations)
    return out


def invalid_rows(violations: Sequence[error_details_pb2.BadRequest.FieldViolation], size: int
                  ) -> dict[int, list[str]]:
    """The positions in the call that the violations name (``credentials[n]...``), with their reasons."""
    out: dict[int, list[str]] = {}
    for v in violations:
        head, _, rest = v.field.partition("]")
        if head.startswith("credentials[") and head[12:].isdigit() and int(head[12:]) < size:
            out.setdefault(int(head[12:]), []).append(f"{rest.lstrip('.') or 'credential'}: {v.description}")
    return out


def local_errors(row: CohortRow, now: datetime | None = None) -> list[str]:
    """Why a row cannot be offered before anything is sent ([] when it can)."""
    errors = list(row.errors)
    if row.credential is not None:
        errors += [f"{v.field}: {v.description} ({v.reason})" for v in validate_micro_credential(row.credential,
                                                                                                  now=now)]
    if len(row.key) > MAX_REFERENCE:
        errors.append(f"key: the row's key is longer than {MAX_REFERENCE} characters (the offer's reference)")
    return errors


async def offer_chunk(stub: issuer_pb2_grpc.IssuerServiceStub, rows: list[CohortRow], outcome: RunOutcome,
                       request: issuer_pb2.CreateOffersRequest, *, attempts: int, backoff: float,
                       advance: Callable[[int], None]) -> None:
    """Offer one chunk: every row ends offered, invalid, refused or not processed."""
    todo, delay, attempt = list(rows), backoff, 1
    while todo:
        call = issuer_pb2.CreateOffersRequest()
        call.CopyFrom(request)
        call.credentials.extend(r.credential for r in todo if r.credential is not None)
        call.references.extend(r.key for r in todo)
        try:
            answer = await stub.CreateOffers(call, timeout=300)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED) \
                    or _tls_problem(exc):
                raise CallerRefused(f"{exc.code().name}: {exc.details()}") from None
            invalid = invalid_rows(_violations(exc), len(todo)) \
                if exc.code() == grpc.StatusCode.INVALID_ARGUMENT else {}
            if invalid:  # those rows are invalid; the rest of the chunk goes again
                for n, reasons in invalid.items():
                    outcome.lines[todo[n].number] = _line(todo[n], "invalid", code="INVALID_ARGUMENT",
                                                          errors="; ".join(reasons))
                advance(len(invalid))
                todo = [r for n, r in enumerate(todo) if n not in invalid]
                continue
            retry = exc.code().value[0] in RETRYABLE and attempt < attempts
            if retry:
                attempt += 1
                await asyncio.sleep(delay)
                delay *= 2
                continue
            status = "not_processed" if exc.code().value[0] in RETRYABLE else "refused"
            why = f"{exc.code().name}: {exc.details()}" + ("; run these rows again" if status == "not_processed"
                                                          else "")
            for row in todo:
                outcome.lines[row.number] = _line(row, status, code=exc.code().name, errors=why)
            advance(len(todo))
            return
        for row, offer in zip(todo, answer.offers, strict=True):
            outcome.lines[row.number] = _line(row, "offered", offer=offer)
        advance(len(todo))
        return


async def offer_rows(target: str, tls: TlsFiles, rows: Sequence[CohortRow], *, chunk: int = 1000,
                     tx_code: bool = False, expires_in: int = 0, attempts: int = 5, backoff: float = 0.5,
                     advance: Callable[[int], None] = lambda n: None, now: datetime | None = None) -> RunOutcome:
    """Offer every row that can be offered (see the module docstring); one line per row."""
    outcome = RunOutcome()
    ready: list[CohortRow] = []
    for row in rows:
        errors = local_errors(row, now)
        if errors:
            outcome.lines[row.number] = _line(row, "invalid", code="INVALID_ARGUMENT", errors="; ".join(errors))
            advance(1)
        else:
            ready.append(row)
    request = issuer_pb2.CreateOffersRequest(tx_code=tx_code, expires_in_seconds=expires_in)
    size = max(1, min(chunk, MAX_CHUNK))
    async with client_channel(target, tls) as channel:
        stub = issuer_pb2_grpc.IssuerServiceStub(channel)
        for start in range(0, len(ready), size):
            part = ready[start:start + size]
            try:
                await offer_chunk(stub, part, outcome, request, attempts=attempts, backoff=backoff,
                                   advance=advance)
            except CallerRefused as refused:
                for row in ready[start:]:
                    if row.number not in outcome.lines:
                        outcome.lines[row.number] = _line(row, "refused", code="PERMISSION_DENIED",
                                                          errors=f"not sent: the run stopped ({refused})")
                raise CallerRefused(str(refused), outcome) from None
    return outcome


def write_offer_results(path: Path, outcome: RunOutcome) -> None:
    """The results CSV (one line per row, in row order), created owner-only (0600): it holds the tx_codes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: make it owner-only too
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=OFFER_COLUMNS)
        writer.writeheader()
        writer.writerows(outcome.lines[n] for n in sorted(outcome.lines))
