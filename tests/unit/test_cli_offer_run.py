"""``mcred issue --deliver offer``'s run (microcred.cli.offer_run) against a scripted CreateOffers: a row the
service refuses by name is reported with its violations and the rest of its chunk is sent again; transient
failures are retried a bounded number of times; the caller's refusal stops the run; the results file is
owner-only even when it existed before. The run against the real service is tests/integration/
test_cli_issue_offers.py."""

from __future__ import annotations

import csv
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.cli.cohort_run import CallerRefused, RunOutcome
from microcred.cli.offer_run import invalid_rows, local_errors, offer_chunk, write_offer_results
from microcred.credential.cohort import CohortRow
from microcred.gen.microcred.v1 import issuer_pb2
from tests.harness.factories import valid_micro_credential


def rows(count: int) -> list[CohortRow]:
    return [CohortRow(n, f"csv:abc:student-{n}", valid_micro_credential(), []) for n in range(1, count + 1)]


def rpc_error(code: grpc.StatusCode, message: str, *fields: str) -> grpc.aio.AioRpcError:
    details = []
    if fields:
        bad = error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description="is wrong") for f in fields])
        packed = any_pb2.Any()
        packed.Pack(bad)
        details.append(packed)
    status = status_pb2.Status(code=code.value[0], message=message, details=details)
    trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=message)


class ScriptedStub:
    """CreateOffers answering from a script: each step an exception or None (then one offer per award)."""

    def __init__(self, *steps: grpc.aio.AioRpcError | None) -> None:
        self.steps, self.calls = list(steps), []  # type: ignore[var-annotated]

    async def CreateOffers(self, request: issuer_pb2.CreateOffersRequest, timeout: float) -> Any:
        self.calls.append(list(request.references))
        step = self.steps.pop(0) if self.steps else None
        if step is not None:
            raise step
        return issuer_pb2.CreateOffersResponse(offers=[issuer_pb2.CredentialOffer(
            offer_id=f"id-{ref}", link=f"openid-credential-offer://?{ref}", tx_code="123456" if request.tx_code else "")
            for ref in request.references])


async def run(stub: ScriptedStub, count: int, attempts: int = 3) -> tuple[RunOutcome, list[int]]:
    outcome, advanced = RunOutcome(), []
    advance: Callable[[int], None] = advanced.append
    await offer_chunk(stub, rows(count), outcome, issuer_pb2.CreateOffersRequest(tx_code=True),  # type: ignore[arg-type]
                       attempts=attempts, backoff=0.0, advance=advance)
    return outcome, advanced


async def test_a_row_the_service_names_is_invalid_and_the_rest_is_sent_again() -> None:
    stub = ScriptedStub(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "credentials[1]: invalid",
                                  "credentials[1].learner.email", "credentials[1].title"))
    outcome, advanced = await run(stub, 3)
    assert stub.calls == [["csv:abc:student-1", "csv:abc:student-2", "csv:abc:student-3"],
                          ["csv:abc:student-1", "csv:abc:student-3"]]
    assert outcome.lines[2]["status"] == "invalid" and outcome.lines[2]["errors"] == \
        "learner.email: is wrong; title: is wrong"
    assert [outcome.lines[n]["offer_id"] for n in (1, 3)] == ["id-csv:abc:student-1", "id-csv:abc:student-3"]
    assert outcome.lines[3]["tx_code"] == "123456" and sum(advanced) == 3


async def test_transient_failures_are_retried_then_reported_not_processed() -> None:
    unavailable = rpc_error(grpc.StatusCode.UNAVAILABLE, "restarting")
    outcome, _ = await run(ScriptedStub(unavailable, unavailable), 2)
    assert {line["status"] for line in outcome.lines.values()} == {"offered"}
    outcome, advanced = await run(ScriptedStub(unavailable, unavailable, unavailable), 2)
    assert {line["status"] for line in outcome.lines.values()} == {"not_processed"} and sum(advanced) == 2
    assert "run these rows again" in outcome.lines[1]["errors"]
    outcome, _ = await run(ScriptedStub(rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "no OpenID4VCI")), 2)
    assert {line["status"] for line in outcome.lines.values()} == {"refused"}


async def test_the_callers_refusal_stops_the_run() -> None:
    with pytest.raises(CallerRefused):
        await run(ScriptedStub(rpc_error(grpc.StatusCode.PERMISSION_DENIED, "not an issuer")), 2)


def test_violations_name_rows_by_position() -> None:
    fields = ["credentials[0].title", "credentials[12].x", "credentials[x].y", "references[0]", "credentials[2]"]
    violations = [error_details_pb2.BadRequest.FieldViolation(field=f, description="d") for f in fields]
    assert invalid_rows(violations, 5) == {0: ["title: d"], 2: ["credential: d"]}


def test_a_long_key_is_refused_before_sending() -> None:
    row = CohortRow(1, "csv:abc:" + "k" * 200, valid_micro_credential(), [])
    assert any(e.startswith("key:") for e in local_errors(row))
    assert local_errors(rows(1)[0]) == []


def test_the_results_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "offers.csv"
    path.write_text("old\n")
    path.chmod(0o644)
    outcome = RunOutcome({2: {"row": "2", "key": "k2", "status": "offered", "offer_id": "o", "link": "l",
                              "tx_code": "654321", "code": "", "errors": ""},
                          1: {"row": "1", "key": "k1", "status": "invalid", "offer_id": "", "link": "",
                              "tx_code": "", "code": "INVALID_ARGUMENT", "errors": "title: missing"}})
    write_offer_results(path, outcome)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open(newline="") as fh:
        assert [(line["row"], line["tx_code"]) for line in csv.DictReader(fh)] == [("1", ""), ("2", "654321")]
