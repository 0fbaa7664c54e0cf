"""Presentations (pure): built and signed for a challenge and domain; binding verification refuses any
other challenge, domain, purpose or key."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from services.wallet.domain.presentations import build_presentation, sign_presentation, verify_presentation_binding
from tests.harness.wallet.credentials import TestIssuer

HOLDER = Ed25519PrivateKey.generate()
HOLDER_DID = did_key_from_public_key(HOLDER.public_key())


@pytest.fixture(scope="module")
def credential() -> dict[str, Any]:
    return TestIssuer.new("issuer-a").issue(learner_did=HOLDER_DID).document


@pytest.fixture(scope="module")
def vp(credential: dict[str, Any]) -> dict[str, Any]:
    return sign_presentation(build_presentation([credential], HOLDER_DID), HOLDER, "n-1", "employer.example")


def test_presentation_shape(vp: dict[str, Any], credential: dict[str, Any]) -> None:
    assert vp["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert vp["type"] == ["VerifiablePresentation"] and vp["holder"] == HOLDER_DID
    assert vp["verifiableCredential"] == [credential]
    proof = vp["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "authentication"
    assert (proof["challenge"], proof["domain"]) == ("n-1", "employer.example")
    assert proof["verificationMethod"] == verification_method_id(HOLDER_DID)


def test_bound_presentation_verifies(vp: dict[str, Any]) -> None:
    check = verify_presentation_binding(vp, "n-1", "employer.example")
    assert (check.verified, check.code, check.subjects_bound) == (True, "OK", True)


@pytest.mark.parametrize(("challenge", "domain", "code"), [
    ("n-2", "employer.example", "CHALLENGE_MISMATCH"),
    ("n-1", "other.example", "DOMAIN_MISMATCH"),
])
def test_wrong_challenge_or_domain_fails(vp: dict[str, Any], challenge: str, domain: str, code: str) -> None:
    check = verify_presentation_binding(vp, challenge, domain)
    assert check.verified is False and check.code == code


def test_signed_by_another_key_fails(vp: dict[str, Any]) -> None:
    thief = Ed25519PrivateKey.generate()
    thief_did = did_key_from_public_key(thief.public_key())
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    own_vm = sign_eddsa_rdfc_2022(unsigned, thief, verification_method_id(thief_did), "authentication",
                                  challenge="n-1", domain="employer.example")
    assert verify_presentation_binding(own_vm, "n-1", "employer.example").code == "HOLDER_MISMATCH"
    claimed = copy.deepcopy(own_vm)
    claimed["proof"]["verificationMethod"] = verification_method_id(HOLDER_DID)
    assert verify_presentation_binding(claimed, "n-1", "employer.example").code == "INVALID_SIGNATURE"


def test_tampering_after_signing_fails(vp: dict[str, Any]) -> None:
    tampered = copy.deepcopy(vp)
    tampered["verifiableCredential"][0]["name"] = "Something else"
    assert verify_presentation_binding(tampered, "n-1", "employer.example").code == "INVALID_SIGNATURE"


def test_assertion_purpose_is_not_authentication(credential: dict[str, Any]) -> None:
    wrong = sign_eddsa_rdfc_2022(build_presentation([credential], HOLDER_DID), HOLDER,
                                 verification_method_id(HOLDER_DID), challenge="n-1", domain="employer.example")
    assert verify_presentation_binding(wrong, "n-1", "employer.example").code == "PROOF_PURPOSE_MISMATCH"


def test_not_a_presentation_or_no_holder(vp: dict[str, Any], credential: dict[str, Any]) -> None:
    assert verify_presentation_binding(credential, "n-1", "employer.example").code == "NOT_A_PRESENTATION"
    no_holder = {k: v for k, v in vp.items() if k != "holder"}
    assert verify_presentation_binding(no_holder, "n-1", "employer.example").code == "NO_HOLDER"


def test_subject_binding_unknown_without_subject_ids() -> None:
    hashed_only = TestIssuer.new("issuer-b").issue(email="x@example.org").document
    vp = sign_presentation(build_presentation([hashed_only], HOLDER_DID), HOLDER, "c", "d",
                           created=datetime(2026, 1, 1, tzinfo=UTC))
    check = verify_presentation_binding(vp, "c", "d")
    assert check.verified is True and check.subjects_bound is None
