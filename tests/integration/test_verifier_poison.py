"""Hostile documents cost the real gateway bounded work: a named reason for each, and everyone else keeps being served.

The gateway (``services.verifier.app.create_app``, real Kafka and Redis, a real uvicorn socket) gets poison
requests at about 10 per second for a few seconds: directed rings of 200 and 2,000 blank nodes under an inline
``@vocab`` context (the shape that cost 15 s of CPU in issue 14), the same ring with blank-node ids under pinned
contexts only, a document with 100 proofs, and a symmetric tree of identical blank nodes (10 to 30 s of pyld
before). Meanwhile ordinary clients verify distinct credentials and ask ``/healthz``. (The child process's
deadline and pyld's work bound are tested in tests/unit/test_verification_canonical.py.)

Asserted (behaviour, not timings; the timings are in bench/verify.py): every poison request gets a ``format``
result naming why (NOT_COMPACTED or TOO_COMPLEX) and never ``valid``; every ordinary verification gets the same
verdict it gets on a quiet gateway; every ``/healthz`` answers 200.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.credential.ob3 import issuer_profile, render_achievement_credential
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from services.verifier.app import create_app
from services.verifier.config import Settings
from tests.conftest import Infrastructure
from tests.harness.factories import ISSUED_AT, organisation, valid_micro_credential
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

VC2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
KEY = Ed25519PrivateKey.from_private_bytes(b"\x0d" * 32)
DID = did_key_from_public_key(KEY.public_key())
PROOF = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-01T00:00:00Z",
         "verificationMethod": verification_method_id(DID), "proofPurpose": "assertionMethod",
         "proofValue": "z" + "1" * 86}


def ring(n: int, *, inline_vocab: bool) -> dict[str, Any]:
    """A directed ring of ``n`` blank nodes (each points at the next, the last at the first)."""
    nodes = [{"id": f"_:b{i}", "next": {"id": f"_:b{(i + 1) % n}"}} for i in range(n)]
    context: list[Any] = [VC2, {"@vocab": "https://poison.example/#"}] if inline_vocab else [VC2, EXAMPLES]
    return {"@context": context, "type": ["VerifiableCredential"], "issuer": DID,
            "credentialSubject": {"id": "_:b0", "ring": nodes}, "proof": PROOF}


def many_proofs(n: int) -> dict[str, Any]:
    credential = ordinary(0)
    credential["proof"] = [dict(PROOF, created=f"2026-01-01T00:00:{i % 60:02d}Z") for i in range(n)]
    return credential


def symmetric_tree(depth: int, fanout: int) -> dict[str, Any]:
    """Identical blank nodes in a tree: within every size limit, but RDFC-1.0 must tell them apart (costly)."""
    def tree(d: int) -> dict[str, Any]:
        return {"v": "x"} if d == 0 else {"c": [tree(d - 1) for _ in range(fanout)]}
    return {"@context": [VC2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": DID,
            "credentialSubject": tree(depth), "proof": PROOF}


def ordinary(index: int) -> dict[str, Any]:
    """A platform micro-credential (signed by a did:key issuer the registry does not know)."""
    doc = render_achievement_credential(valid_micro_credential(), credential_id=f"urn:uuid:{uuid.UUID(int=index)}",
                                        issuer=issuer_profile(DID, organisation()), status_entries=[],
                                        valid_from=ISSUED_AT)
    return sign_eddsa_rdfc_2022(doc, KEY, verification_method_id(DID), created=ISSUED_AT)


POISON = {"ring-200-inline-vocab": ring(200, inline_vocab=True),
          "ring-2000-inline-vocab": ring(2000, inline_vocab=True),
          "ring-200-pinned": ring(200, inline_vocab=False), "proofs-100": many_proofs(100),
          "symmetric-tree": symmetric_tree(5, 3)}


@pytest.fixture(scope="module")
async def gateway(infrastructure: Infrastructure) -> AsyncIterator[str]:
    tag = uuid.uuid4().hex[:10]
    settings = Settings(kafka_bootstrap=infrastructure.kafka_bootstrap, redis_url=infrastructure.redis_url,
                        http_port=0, environment="test", registry_namespace=f"vpoison-{tag}",
                        registry_group=f"vpoison-{tag}", rate_limit_per_second=1e6, rate_limit_burst=1_000_000)
    async with RunningServer(create_app(settings)) as server:
        yield server.url


def _format(report: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["id"] == "format")
    return found


async def test_each_poison_gets_a_named_reason(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
        for name, document in POISON.items():
            response = await http.post("/v1/verify", json=document)
            assert response.status_code == 200, (name, response.text)
            report = response.json()
            assert report["verdict"] != "valid", name
            assert _format(report)["reason_code"] in ("NOT_COMPACTED", "TOO_COMPLEX"), (name, _format(report))
        tree = (await http.post("/v1/verify", json=POISON["symmetric-tree"])).json()
        assert _format(tree)["reason_code"] == "TOO_COMPLEX"  # many blank nodes that look alike to RDFC-1.0


async def test_ordinary_requests_and_health_keep_answering_under_a_poison_stream(gateway: str) -> None:
    credentials = [ordinary(i) for i in range(1, 25)]
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
        quiet = {(await http.post("/v1/verify", json=c)).json()["verdict"] for c in credentials[:2]}
        assert len(quiet) == 1
        expected = quiet.pop()
        stop = asyncio.Event()
        poison_answers: list[dict[str, Any]] = []
        ordinary_verdicts: list[str] = []
        health: list[int] = []

        async def poison() -> None:
            names = list(POISON)
            pending = []
            for i in range(40):  # ~10 per second for ~4 s, not waiting for answers
                pending.append(asyncio.create_task(http.post("/v1/verify", json=POISON[names[i % len(names)]])))
                await asyncio.sleep(0.1)
            poison_answers.extend(r.json() for r in await asyncio.gather(*pending))
            stop.set()

        async def verify_ordinary() -> None:
            i = 0
            while not stop.is_set():
                report = (await http.post("/v1/verify", json=credentials[i % len(credentials)])).json()
                ordinary_verdicts.append(report["verdict"])
                i += 1

        async def healthz() -> None:
            while not stop.is_set():
                health.append((await http.get("/healthz")).status_code)
                await asyncio.sleep(0.1)

        await asyncio.gather(poison(), verify_ordinary(), healthz())
    assert len(poison_answers) == 40
    for report in poison_answers:
        assert report["verdict"] != "valid"
        assert _format(report)["reason_code"] in ("NOT_COMPACTED", "TOO_COMPLEX")
    assert len(ordinary_verdicts) >= 10 and set(ordinary_verdicts) == {expected}
    assert len(health) >= 10 and set(health) == {200}
