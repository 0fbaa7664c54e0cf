"""SD-JWT VCs signed by the issuer's signing workers, beside their Data Integrity credentials (issue 19).

A real spawned worker signs both formats in one job: only the public ``iss`` and ``x5c`` travel with the chunk,
the worker derives the ES256 key from the Ed25519 seed it already gets, and refuses to sign when the certificate
does not certify that key. The JSON writer behind the SD-JWT texts writes what ``json.dumps`` writes and refuses
what it refuses.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.credential.signing import IssueJob, render_and_sign
from microcred.sdjwt.claims import read_micro_credential
from microcred.sdjwt.issue import SdJwtChunk, SdJwtJob
from microcred.sdjwt.jose import compact_json, public_jwk
from microcred.sdjwt.verify import VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import load_certificates, x5c_header
from services.issuer.adapters.document_signing import derive_document_key
from services.issuer.adapters.signing import SigningPool
from tests.harness.factories import valid_micro_credential

ISSUER = {"id": "did:web:issuer.example", "type": ["Profile"], "name": "Issuer"}
ISS = "https://issuer.example"
SEED = bytes(range(32))
METHOD = "did:web:issuer.example#key-1"
CREATED = "2026-01-01T00:00:00Z"


def jobs(n: int) -> list[IssueJob]:
    out = []
    for i in range(n):
        mc = valid_micro_credential()
        mc.learner.full_name = f"Learner {i}"
        out.append(IssueJob(mc.SerializeToString(), f"urn:uuid:00000000-0000-4000-8000-{i:012d}", (),
                            datetime(2026, 1, 1, tzinfo=UTC), f"salt{i}"))
    return out


def chain(ca: pki.CertifiedKey, key: ec.EllipticCurvePrivateKey) -> tuple[str, ...]:
    certified = pki.create_signing_cert(ca, issuer_uri=ISS, common_name="Issuer", key=key,
                                        not_before=datetime.now(UTC) - timedelta(days=1))
    return tuple(x5c_header([certified.cert_pem]))


@pytest.fixture
async def pool() -> AsyncIterator[SigningPool]:
    signing = SigningPool(1, min_jobs_per_worker=1, timeout=60.0)
    await signing.start()
    try:
        yield signing
    finally:
        await signing.close()


async def test_a_worker_signs_both_formats_with_the_key_derived_from_the_seed(pool: SigningPool) -> None:
    ca = pki.create_ca("document-signing CA", agency="agency-x")
    holder = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    wanted = (SdJwtJob("https://status.example/token-status/l-1", 7, public_jwk(holder.public_key())), None,
              SdJwtJob("https://status.example/token-status/l-1", 9, None))
    chunk = SdJwtChunk(ISS, chain(ca, derive_document_key(SEED)), now, wanted)
    batch = jobs(3)
    results = await pool.sign_formats(batch, ISSUER, SEED, METHOD, CREATED, chunk)
    # the Data Integrity credentials are exactly what signing alone gives (Ed25519 is deterministic)
    assert [r[0] for r in results] == [text for text, _ in render_and_sign(batch, ISSUER, SEED, METHOD, CREATED)]
    assert [r[2:] for r in results] == [("", "")] * 3
    assert results[1][1] == ""  # Data Integrity only for that one
    policy = VerifierPolicy(trust_anchors=load_certificates(ca.cert_pem))
    for (_, sd_jwt, _, _), job, n in zip(results, wanted, range(3), strict=True):
        if job is None:
            continue
        verified = verify_sd_jwt_vc(sd_jwt, policy, now)
        assert {c.id: c.status.value for c in verified.checks if c.id != "holder_binding"} == {
            "format": "valid", "issuer_identity": "valid", "signature": "valid", "disclosures": "valid",
            "type_metadata": "valid", "validity_window": "valid"}, verified.to_dict()
        assert verified.claims is not None and verified.status_reference is not None
        assert verified.status_reference.idx == job.status_idx
        assert ("cnf" in verified.claims) is (job.holder_jwk is not None)
        assert read_micro_credential(verified.claims).learner.full_name == f"Learner {n}"


async def test_a_certificate_of_another_key_is_refused_per_item_and_nothing_half_issued(pool: SigningPool) -> None:
    ca = pki.create_ca("document-signing CA", agency="agency-x")
    other = chain(ca, ec.generate_private_key(ec.SECP256R1()))
    wanted = (SdJwtJob("https://status.example/token-status/l-1", 1, None), None)
    results = await pool.sign_formats(jobs(2), ISSUER, SEED, METHOD, CREATED,
                                      SdJwtChunk(ISS, other, datetime.now(UTC), wanted))
    text, sd_jwt, error, sd_error = results[0]
    assert (text, sd_jwt, error) == ("", "", "") and "does not certify" in sd_error
    assert results[1][0] and results[1][1:] == ("", "", "")  # the Data Integrity-only item is signed
    inline = await SigningPool(0).sign_formats(jobs(2), ISSUER, SEED, METHOD, CREATED,
                                               SdJwtChunk(ISS, other, datetime.now(UTC), wanted))
    assert inline == results


@pytest.mark.parametrize("value", [
    {"a": "ü\u2028\n\t\"\\", "b": [1, True, None, {"c": -3}], "d": "\x01\x1f\x7f"},
    ["salt", "name", {"nested": ["x", 1.5, 10**30]}],  # an integer beyond 64 bits: the standard library writes it
    {"text": "null inside a string", "n": 0},
])
def test_compact_json_writes_what_json_dumps_writes(value: object) -> None:
    assert compact_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_compact_json_refuses_non_finite_numbers_like_json_dumps(bad: float) -> None:
    with pytest.raises(ValueError):
        compact_json({"grade": [bad]})
