"""Import verification (no network): only credentials whose every check passed are accepted."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.registry.ports import KeyResolution
from services.wallet.adapters.importer import DataIntegrityVerifier, PipelineVerifier
from tests.harness.wallet.credentials import TestIssuer

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ISSUER = TestIssuer.new("elsewhere")


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    return ISSUER.issue(learner_did="did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2").document


async def test_a_verifying_credential_is_accepted(signed: dict[str, Any]) -> None:
    verdict = await DataIntegrityVerifier().verify(signed, NOW)
    assert verdict.accepted and verdict.code == "OK"


@pytest.mark.parametrize(("change", "code"), [
    (lambda d: d.update(name="forged"), "INVALID_SIGNATURE"),
    (lambda d: d.pop("proof"), "NO_PROOF"),
    (lambda d: d.update({"@context": ["https://www.w3.org/2018/credentials/v1"]}), "UNSUPPORTED_FORMAT"),
    (lambda d: d.update(type=["OpenBadgeCredential"]), "UNSUPPORTED_FORMAT"),
    (lambda d: d.pop("id"), "MISSING_ID"),
    (lambda d: d.update(validUntil="2025-12-31T00:00:00Z"), "EXPIRED"),
    (lambda d: d.update(validFrom="2026-06-01T00:00:00Z"), "NOT_YET_VALID"),
    (lambda d: d.update(validFrom="yesterday"), "MALFORMED"),
    (lambda d: d["proof"].update(verificationMethod="did:web:unknown.example#key-1"), "KEY_NOT_FOUND"),
])
async def test_refusals_name_the_failing_check(signed: dict[str, Any], change: Any, code: str) -> None:
    document = copy.deepcopy(signed)
    change(document)
    verdict = await DataIntegrityVerifier().verify(document, NOW)
    assert (verdict.accepted, verdict.code) == (False, code)


async def test_did_web_issuers_resolve_through_the_registry(signed: dict[str, Any]) -> None:
    key = Ed25519PrivateKey.generate()
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    vm = "did:web:uniz.example#key-1"
    document = sign_eddsa_rdfc_2022({**unsigned, "issuer": {**unsigned["issuer"], "id": "did:web:uniz.example"}},
                                    key, vm)

    class Registry:
        async def resolve_verification_method(self, verification_method_id: str, signed_at: datetime) -> KeyResolution:
            public: Ed25519PublicKey | None = key.public_key() if verification_method_id == vm else None
            return KeyResolution(public)

    assert (await DataIntegrityVerifier(Registry()).verify(document, NOW)).accepted  # type: ignore[arg-type]
    assert (await DataIntegrityVerifier().verify(document, NOW)).code == "KEY_NOT_FOUND"


async def test_pipeline_accepts_an_authentic_credential_and_records_what_it_could_not_check(
        signed: dict[str, Any]) -> None:
    verdict = await PipelineVerifier().verify(signed, NOW)
    assert verdict.accepted and verdict.code == "UNDETERMINED"
    assert verdict.unknown_checks == ("accreditation",)  # a did:key issuer outside the trust registry


@pytest.mark.parametrize(("change", "code"), [
    (lambda d: d.update(name="forged"), "INVALID_SIGNATURE"),
    (lambda d: d.pop("proof"), "NO_PROOF"),
    (lambda d: d.update(validUntil="2025-12-31T00:00:00Z"), None),
    (lambda d: d["proof"].update(verificationMethod="did:web:unknown.example#key-1"), None),
    (lambda d: d.update(type=["VerifiableCredential"]), None),
])
async def test_pipeline_refuses_what_is_not_authentic_or_in_force(signed: dict[str, Any], change: Any,
                                                                  code: str | None) -> None:
    document = copy.deepcopy(signed)
    change(document)
    verdict = await PipelineVerifier().verify(document, NOW)
    assert not verdict.accepted
    assert code is None or verdict.code == code
