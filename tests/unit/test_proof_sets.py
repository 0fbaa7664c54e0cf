"""Proof sets and chains: every proof is verified and reported; the issuer identity needs one verified proof by
a key of the issuer, and proofs by others are shown for what they are. A proof without a type is malformed
(invalid); an unknown cryptosuite is named (unknown)."""

from __future__ import annotations

import copy
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto import data_integrity
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.crypto.multikey import encode_base58btc
from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify
from tests.verifier_support import NOW, fixture_ports

ISSUER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
WITNESS = Ed25519PrivateKey.from_private_bytes(bytes(range(33, 65)))
ISSUER_DID = did_key_from_public_key(ISSUER.public_key())
WITNESS_DID = did_key_from_public_key(WITNESS.public_key())
CREATED = "2025-01-01T00:00:00Z"


def unsigned() -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "issuer": ISSUER_DID, "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:subject", "name": "Alice"}}


def chained_proof(document: dict[str, Any], key: Ed25519PrivateKey, did: str, *, proof_id: str,
                  previous: str | None) -> dict[str, Any]:
    """One eddsa-rdfc-2022 proof; with ``previous`` it also covers that earlier proof (a proof chain).
    The product signs single proofs and sets; chains come from others, so the test builds one by the spec's
    "Add Proof" algorithm with the library's own hashing step."""
    proofs = document.get("proof", [])
    proofs = proofs if isinstance(proofs, list) else [proofs]
    options: dict[str, Any] = {"id": proof_id, "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                               "created": CREATED, "verificationMethod": verification_method_id(did),
                               "proofPurpose": "assertionMethod"}
    secured = {k: v for k, v in document.items() if k != "proof"}
    if previous is not None:
        options["previousProof"] = previous
        secured["proof"] = [p for p in proofs if p.get("id") == previous]
    hash_data = data_integrity._rdfc_hash_data(secured, options)
    proof = {**options, "proofValue": encode_base58btc(key.sign(hash_data))}
    return {**document, "proof": [*proofs, proof]}


async def test_chain_whose_first_proof_is_by_a_witness_verifies_with_the_issuer_identity() -> None:
    doc = chained_proof(unsigned(), WITNESS, WITNESS_DID, proof_id="urn:proof:1", previous=None)
    doc = chained_proof(doc, ISSUER, ISSUER_DID, proof_id="urn:proof:2", previous="urn:proof:1")
    report = await verify(doc, fixture_ports(controllers=False), NOW)
    signature, identity = report.check(CheckId.SIGNATURE), report.check(CheckId.ISSUER_IDENTITY)
    assert signature is not None and signature.status is CheckStatus.VALID, report.to_dict()
    assert [p["verified"] for p in signature.details["each"]] == [True, True]
    assert identity is not None and (identity.status, identity.reason_code) == (CheckStatus.VALID,
                                                                              Reason.ISSUER_KEY_VALID)
    assert identity.details["verification_method"] == verification_method_id(ISSUER_DID)
    assert [o["verification_method"] for o in identity.details["other_signers"]] == [
        verification_method_id(WITNESS_DID)]
    assert report.verdict is Verdict.VALID


async def test_proof_set_without_any_issuer_proof_is_not_valid() -> None:
    doc = chained_proof(unsigned(), WITNESS, WITNESS_DID, proof_id="urn:proof:1", previous=None)
    report = await verify(doc, fixture_ports(controllers=False), NOW)
    identity = report.check(CheckId.ISSUER_IDENTITY)
    assert identity is not None and identity.status is not CheckStatus.VALID
    assert report.verdict is not Verdict.VALID


async def test_one_failing_proof_of_a_set_makes_the_signature_invalid_and_is_named() -> None:
    doc = chained_proof(unsigned(), ISSUER, ISSUER_DID, proof_id="urn:proof:1", previous=None)
    doc = chained_proof(doc, WITNESS, WITNESS_DID, proof_id="urn:proof:2", previous=None)
    doc["proof"][1]["proofValue"] = doc["proof"][0]["proofValue"]
    report = await verify(doc, fixture_ports(controllers=False), NOW)
    signature = report.check(CheckId.SIGNATURE)
    assert signature is not None and signature.status is CheckStatus.INVALID
    assert [p["verified"] for p in signature.details["each"]] == [True, False]


async def test_proof_without_type_is_malformed_not_unknown() -> None:
    doc = chained_proof(unsigned(), ISSUER, ISSUER_DID, proof_id="urn:proof:1", previous=None)
    broken = copy.deepcopy(doc)
    del broken["proof"][0]["type"]
    report = await verify(broken, fixture_ports(controllers=False), NOW)
    signature = report.check(CheckId.SIGNATURE)
    assert signature is not None and (signature.status, signature.reason_code) == (CheckStatus.INVALID,
                                                                                Reason.MALFORMED_PROOF)
    assert report.verdict is Verdict.INVALID


async def test_unknown_cryptosuite_is_unknown_with_its_name() -> None:
    doc = chained_proof(unsigned(), ISSUER, ISSUER_DID, proof_id="urn:proof:1", previous=None)
    doc["proof"][0]["cryptosuite"] = "ecdsa-rdfc-2019"
    report = await verify(doc, fixture_ports(controllers=False), NOW)
    signature = report.check(CheckId.SIGNATURE)
    assert signature is not None and (signature.status, signature.reason_code) == (CheckStatus.UNKNOWN,
                                                                                Reason.UNSUPPORTED_CRYPTOSUITE)
    assert "ecdsa-rdfc-2019" in signature.message
    assert report.verdict is Verdict.UNDETERMINED
