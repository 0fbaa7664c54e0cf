"""A batch stream whose chunk stalls on a dependency still answers every item, and the service keeps serving.

Before the chunk deadline, one chunk that never finished (a hung signing worker, a stuck Kafka acknowledgement)
held the whole ``IssueCredentials`` stream: the handler stopped reading requests, the client's writes blocked on
flow control until its deadline, and grpc reported that as ``INTERNAL: Internal error from Core``. Handler logic
only, so the issuance behind it is an in-memory fake; the caller presents a real client certificate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from services.issuer.api.grpc import IssuerApi
from services.issuer.application.issuance import Caller, IssueItem, Outcome
from tests.harness.factories import valid_micro_credential


class Context:
    """What the servicer reads from ``grpc.aio.ServicerContext``: the caller's verified certificate."""

    def __init__(self, cert_pem: bytes) -> None:
        self._auth = {"x509_pem_cert": [cert_pem]}

    def auth_context(self) -> dict[str, list[bytes]]:
        return self._auth


class StallingIssuance:
    """Issues every chunk at once, except those holding a key in ``stall_on``: they wait forever."""

    def __init__(self, stall_on: set[str]) -> None:
        self.stall_on = stall_on
        self.cancelled = 0

    async def issue(self, caller: Caller, items: Sequence[IssueItem]) -> list[Outcome]:
        if any(item.idempotency_key in self.stall_on for item in items):
            try:
                await self.wait_for_a_worker_that_hangs()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return [issuer_pb2.IssuedCredential(credential_id=f"urn:uuid:{item.idempotency_key}") for item in items]

    async def wait_for_a_worker_that_hangs(self) -> None:
        await asyncio.Event().wait()


@pytest.fixture(scope="module")
def context() -> Context:
    ca = pki.create_ca("stall test CA")
    return Context(pki.create_client_cert(ca, "uni-stall", "ag-stall", pki.ROLE_ISSUER).cert_pem)


async def stream(api: IssuerApi, context: Context, keys: list[str]) -> dict[str, issuer_pb2.IssueCredentialsResponse]:
    async def requests() -> AsyncIterator[issuer_pb2.IssueCredentialsRequest]:
        for key in keys:
            yield issuer_pb2.IssueCredentialsRequest(idempotency_key=key, credential=valid_micro_credential())

    async def collect() -> dict[str, issuer_pb2.IssueCredentialsResponse]:
        return {r.idempotency_key: r async for r in api.IssueCredentials(requests(), context)}

    # Far beyond the chunk deadline: before the fix the stream never ended and this timed out.
    return await asyncio.wait_for(collect(), 30)


async def test_a_stalled_chunk_answers_unavailable_and_the_rest_is_issued(
        context: Context, caplog: pytest.LogCaptureFixture) -> None:
    keys = [f"k{i}" for i in range(12)]
    issuance = StallingIssuance({"k4"})
    api = IssuerApi(issuance, chunk_size=4, in_flight=2, linger=0.05, chunk_timeout=0.5)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="services.issuer.api.grpc"):
        answers = await stream(api, context, keys)

    assert sorted(answers) == sorted(keys)  # every item answered, once
    stalled = {k for k, r in answers.items() if r.HasField("failure")}
    assert stalled and "k4" in stalled and len(stalled) <= 4, stalled  # only the stalled chunk
    for key in stalled:
        assert answers[key].failure.code == code_pb2.UNAVAILABLE
        assert "retry with the same idempotency key" in answers[key].failure.message
    assert all(answers[k].issued.credential_id == f"urn:uuid:{k}" for k in set(keys) - stalled)
    await asyncio.sleep(0)
    assert issuance.cancelled == 1  # the stalled work was stopped, not left behind
    # The log says where the chunk was stuck.
    [record] = [r for r in caplog.records if r.getMessage().startswith("batch chunk stalled")]
    where: Any = record.__dict__["stalled_in"]
    assert "wait_for_a_worker_that_hangs" in where, where


async def test_the_service_keeps_serving_after_a_stall(context: Context) -> None:
    issuance = StallingIssuance({"first-0"})
    api = IssuerApi(issuance, chunk_size=8, chunk_timeout=0.5)  # type: ignore[arg-type]
    first = await stream(api, context, [f"first-{i}" for i in range(3)])
    assert all(r.failure.code == code_pb2.UNAVAILABLE for r in first.values())
    issuance.stall_on.clear()  # the dependency recovered: the same keys, sent again, are issued
    again = await stream(api, context, [f"first-{i}" for i in range(3)])
    assert all(r.HasField("issued") for r in again.values()), again
