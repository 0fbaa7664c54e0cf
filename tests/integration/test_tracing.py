"""One trace follows a credential from the issuer's gRPC call through Kafka into the wallet and revocation.

The issuer service, the revocation service and the wallet run in this process against a Kafka broker of
their own (so the wallet and revocation consumers start on empty topics) and the session's Redis; every span
goes to an in-memory exporter. Issuing one credential must produce, under a single trace id: the issuer's
gRPC server span, the PRODUCER span of the ``credentials`` publish, and a CONSUMER span in the wallet's group
and one in the revocation service's group, each a descendant of the producer span. Spans carry identifiers,
never the learner's personal data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from microcred.gen.microcred.v1 import issuer_pb2
from microcred.kafka.topics import CREDENTIALS
from microcred.telemetry import configure_telemetry
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import start_issuer_harness
from tests.harness.wallet.harness import running_wallet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

AGENCY, ISSUER = "ie-trace", "uni-trace"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_telemetry("tests", exporter=exporter)
    yield exporter
    exporter.shutdown()  # later tests' spans are no longer kept


def _parent_chain(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[int]:
    chain, current = [], span
    while current.parent is not None:
        chain.append(current.parent.span_id)
        parent = by_id.get(current.parent.span_id)
        if parent is None:
            break
        current = parent
    return chain


def _consumer_spans(finished: Sequence[ReadableSpan], trace_id: int, group: str) -> list[ReadableSpan]:
    """CONSUMER spans of the trace that processed a ``credentials`` record in the group."""
    return [s for s in finished if s.kind == SpanKind.CONSUMER and s.context.trace_id == trace_id
            and (s.attributes or {}).get("messaging.destination.name") == CREDENTIALS.name
            and (s.attributes or {}).get("messaging.consumer.group.name") == group]


async def test_one_trace_from_issuer_grpc_through_kafka_to_wallet_and_revocation(
        own_kafka: Infrastructure, spans: InMemorySpanExporter, unique: str, tmp_path: Path) -> None:
    stack = await start_issuer_harness(own_kafka.kafka_bootstrap, own_kafka.redis_url, tmp_path / "issuer",
                                       status_block_size=20)
    try:
        await stack.onboard(AGENCY, {ISSUER: 8})
        assert stack.revocation is not None
        revocation_group = stack.revocation.settings.revocation_consumer_group
        async with running_wallet(own_kafka, unique, tmp_path / "wallet", wallet_topic_prefix="") as wallet:
            wallet_group = wallet.settings.wallet_consumer_group
            spans.clear()
            mc = valid_micro_credential()
            reply = await stack.issuer_stub(ISSUER, AGENCY).IssueCredential(issuer_pb2.IssueCredentialRequest(
                idempotency_key=f"trace-{unique}", credential=mc))
            credential_id = reply.credential.credential_id

            finished: Sequence[ReadableSpan] = ()
            server: ReadableSpan | None = None
            for _ in range(150):
                finished = spans.get_finished_spans()
                server = next((s for s in finished if s.kind == SpanKind.SERVER
                               and s.name.endswith("IssuerService/IssueCredential")), None)
                if server is not None and _consumer_spans(finished, server.context.trace_id, wallet_group) \
                        and _consumer_spans(finished, server.context.trace_id, revocation_group):
                    break
                await asyncio.sleep(0.1)
            assert server is not None, [s.name for s in finished]
            trace_id = server.context.trace_id
            in_trace = [s for s in finished if s.context.trace_id == trace_id]
            by_id = {s.context.span_id: s for s in in_trace}

            [produce] = [s for s in in_trace if s.kind == SpanKind.PRODUCER
                         and (s.attributes or {}).get("messaging.destination.name") == CREDENTIALS.name]
            assert server.context.span_id in _parent_chain(produce, by_id)  # published inside the RPC
            wallet_spans = _consumer_spans(in_trace, trace_id, wallet_group)
            revocation_spans = _consumer_spans(in_trace, trace_id, revocation_group)
            assert wallet_spans and revocation_spans, sorted(s.name for s in in_trace)
            for consumed in (*wallet_spans, *revocation_spans):
                assert consumed.parent is not None and consumed.parent.span_id == produce.context.span_id
                assert (consumed.attributes or {})["microcred.event_type"] == "CredentialIssued"

            # Identifiers only: the learner's name and e-mail appear in no span of the trace.
            personal = [mc.learner.full_name, mc.learner.email]
            for span in in_trace:
                text = json.dumps({k: str(v) for k, v in (span.attributes or {}).items()}) + span.name
                assert not [p for p in personal if p and p in text], span.name
            assert credential_id
    finally:
        await stack.close()
