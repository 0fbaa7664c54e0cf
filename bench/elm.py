"""EDC figures (issue 22): issuance end to end in the EDC format, rendering + sealing alone, SHACL per document.

* ``edc_issuance_e2e_per_s``: the issuer service in this process (signing workers, the revocation service as its
  own process, real Kafka and Redis) answering ``IssueCredentials`` streams over gRPC/TLS from an in-process
  client, every request asking for ``CREDENTIAL_FORMAT_EDC``: each answer counted is a distinct credential signed
  (Data Integrity), rendered as ELM, sealed (JAdES B-B, ES256), sealed again under the learner key with the other
  personal fields and acknowledged by Kafka. The client shares this process (bench.issuance's client process
  builds the factory credential, whose QA body reuses the university's id, which ELM refuses), so the figure is
  conservative.
* ``edc_render_seal_per_s``: rendering the EU model as an EDC and JAdES-sealing it alone, one core, distinct
  credentials.
* ``edc_shacl_ms_per_document``: pyshacl validation against EDC-generic-no-cv of one distinct sealed payload
  (wall time, one core, mean over the run; the shapes graph is parsed once and reused); ``..._accredited`` with
  the EDC-accredited shapes added.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bench.issuance import AGENCY, _credential
from microcred import pki
from microcred.elm.issue import elm_issuer, sealed_edc
from microcred.elm.shacl import validate_edc
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2, registry_pb2
from microcred.sdjwt.x5c import x5c_header
from tests.harness.issuer import start_issuer_harness

__all__ = ["measure"]


def _distinct(n: int) -> pb.MicroCredential:
    mc = _credential(n)
    mc.quality_assurance.qa_body.id = "did:web:qqi.example"  # its own id (the factory reuses the university's)
    mc.quality_assurance.accreditation_id = f"urn:microcred:accreditation:{n % 7}"
    return mc


def _sealed(count: int) -> tuple[list[str], float]:
    """``count`` distinct sealed EDCs and how many were made per second on one core."""
    ca = pki.create_ca("bench platform CA")
    certified = pki.create_signing_cert(ca, issuer_uri="https://uniz.example", common_name="University of Zed")
    key = load_pem_private_key(certified.key_pem, password=None)
    x5c = x5c_header([certified.cert_pem])
    models = [_distinct(n) for n in range(count)]
    issuer = elm_issuer(registry_pb2.Issuer(issuer_id="uniz", organisation=models[0].awarding_bodies[0]),
                        "https://uniz.example")
    now = datetime.now(UTC)
    started = time.perf_counter()
    texts = [sealed_edc(mc, issuer=issuer, credential_id=f"urn:uuid:{uuid.UUID(int=n + 1)}", issued_at=now,
                        key=key, x5c=x5c) for n, mc in enumerate(models)]  # type: ignore[arg-type]
    return texts, count / (time.perf_counter() - started)


def _shacl_ms(texts: list[str], accredited: bool) -> float:
    payloads = [json.loads(json.loads(t)["payload"]) for t in texts]
    validate_edc(payloads[0], accredited=accredited)  # warm-up: shapes parsed, contexts loaded
    started = time.perf_counter()
    for payload in payloads[1:]:
        if validate_edc(payload, accredited=accredited).violations:
            raise RuntimeError("a platform EDC broke the shapes during the benchmark")
    return (time.perf_counter() - started) / (len(payloads) - 1) * 1000


async def _issue(harness: Any, issuer: str, count: int, streams: int = 4, chunk: int = 250) -> tuple[int, float]:
    """Issue ``count`` distinct EDC credentials over ``streams`` concurrent IssueCredentials streams."""
    stub = harness.issuer_stub(issuer, AGENCY)
    tag = uuid.uuid4().hex[:6]
    models = [_distinct(n) for n in range(count)]
    issued = failed = 0

    async def stream(part: range) -> None:
        nonlocal issued, failed
        for start in range(part.start, part.stop, chunk):
            async def requests(lo: int = start) -> AsyncIterator[issuer_pb2.IssueCredentialsRequest]:
                for n in range(lo, min(lo + chunk, part.stop)):
                    yield issuer_pb2.IssueCredentialsRequest(idempotency_key=f"{tag}-{n}", credential=models[n],
                                                             formats=[issuer_pb2.CREDENTIAL_FORMAT_EDC])
            async for response in stub.IssueCredentials(requests()):
                if response.HasField("issued") and response.issued.edc_jsonld:
                    issued += 1
                else:
                    failed += 1

    size = -(-count // streams)
    started = time.perf_counter()
    await asyncio.gather(*(stream(range(i, min(i + size, count))) for i in range(0, count, size)))
    seconds = time.perf_counter() - started
    if failed:
        raise RuntimeError(f"{failed} EDC credentials failed during the benchmark")
    return issued, seconds


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Issue EDC credentials end to end, then render + seal and SHACL-validate in process; return the figures."""
    count = 500 if quick else 3_000
    work = Path(infra.work_dir) / f"elm-{uuid.uuid4().hex[:6]}"
    ca = pki.create_ca("bench document-signing CA", agency=AGENCY)
    ca_cert, ca_key = ca.write(work / "document-ca", "ca")
    harness = await start_issuer_harness(infra.kafka_bootstrap, infra.redis_url, work, status_block_size=5000,
                                         log_level="WARNING", revocation_process=True,
                                         document_signing_ca_cert_file=ca_cert, document_signing_ca_key_file=ca_key)
    try:
        issuer = f"bench-edc-{uuid.uuid4().hex[:6]}"
        await harness.onboard(AGENCY, {issuer: 8})
        await _issue(harness, issuer, 100)  # warm-up
        issued, seconds = await _issue(harness, issuer, count)
    finally:
        await harness.close()
    texts, per_s = _sealed(100 if quick else 300)
    documents = 20 if quick else 60
    return {"edc_issuance_e2e_per_s": round(issued / seconds, 1), "edc_render_seal_per_s": round(per_s, 1),
            "edc_shacl_ms_per_document": round(_shacl_ms(texts[:documents], False), 1),
            "edc_shacl_ms_per_document_accredited": round(_shacl_ms(texts[:documents], True), 1)}
