"""did:web identifiers and documents, and Data Integrity verification with keys from the registry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from microcred.crypto.data_integrity import VerificationCode, sign_eddsa_rdfc_2022
from microcred.registry import did_web
from microcred.registry.memory import InMemoryRegistry
from microcred.registry.ports import KeyProblem
from tests.contract.registry import (
    HOST,
    T0,
    TEST_KEYS,
    MemoryHarness,
    agency_registered,
    issuer_registered,
    later,
    public_key,
    rotated,
)

DID = "did:web:trust.example%3A8443:issuers:uni-a"


def credential(n: int = 1) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "type": ["VerifiableCredential"], "issuer": DID, "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner-1"}}


async def rotated_registry() -> InMemoryRegistry:
    harness = MemoryHarness()
    for i, event in enumerate((agency_registered(), issuer_registered())):
        await harness.feed(event, later(i))
    await harness.feed(rotated(retired_at=later(30)), later(20))
    return harness.registry


def test_did_web_ids_and_urls() -> None:
    assert did_web.did_web_id(HOST, "uni-a") == DID
    assert did_web.did_web_id("Trust.Example", "uni-a") == "did:web:trust.example:issuers:uni-a"
    assert did_web.did_web_url(DID) == "https://trust.example:8443/issuers/uni-a/did.json"
    assert did_web.did_web_url("did:web:example.com") == "https://example.com/.well-known/did.json"
    for bad in ("", "https://x/", "a/b"):
        with pytest.raises(ValueError):
            did_web.did_web_id(bad, "uni-a")
    with pytest.raises(ValueError):
        did_web.did_web_url("did:key:z6Mk")


def test_key_ids() -> None:
    assert did_web.method_id(DID, 3) == f"{DID}#key-3"
    assert did_web.key_number(f"{DID}#key-12") == 12
    assert did_web.key_number(f"{DID}#key-0") is None and did_web.key_number(f"{DID}#other") is None
    assert did_web.key_store_id_for_method("uni-a", f"{DID}#key-2") == "uni-a/key-2"
    with pytest.raises(ValueError):
        did_web.key_store_id_for_method("uni-a", f"{DID}#primary")


async def test_did_document_lists_current_and_retired_keys() -> None:
    registry = await rotated_registry()
    issuer = await registry.get_issuer("uni-a")
    assert issuer is not None
    doc = did_web.build_did_document(issuer)
    assert doc["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert doc["id"] == DID
    key1, key2 = doc["verificationMethod"]
    assert key1 == {"id": f"{DID}#key-1", "type": "Multikey", "controller": DID,
                    "publicKeyMultibase": public_key("uni-a/key-1"), "revoked": "2025-01-01T09:30:00Z"}
    assert "revoked" not in key2 and key2["publicKeyMultibase"] == public_key("uni-a/key-2")
    assert doc["assertionMethod"] == [f"{DID}#key-1", f"{DID}#key-2"]


async def test_credentials_signed_before_and_after_a_rotation_verify() -> None:
    registry = await rotated_registry()
    old = sign_eddsa_rdfc_2022(credential(1), TEST_KEYS.get_signing_key("uni-a/key-1"), f"{DID}#key-1",
                               created=later(10))
    new = sign_eddsa_rdfc_2022(credential(2), TEST_KEYS.get_signing_key("uni-a/key-2"), f"{DID}#key-2",
                               created=later(40))
    for document in (old, new):
        result = await did_web.verify_with_registry(document, registry)
        assert result.verified is True and result.key_problem is None and result.reason == "OK"


async def test_a_signature_by_a_retired_key_after_retirement_is_rejected_with_the_reason() -> None:
    registry = await rotated_registry()
    late = sign_eddsa_rdfc_2022(credential(3), TEST_KEYS.get_signing_key("uni-a/key-1"), f"{DID}#key-1",
                                created=later(30) + timedelta(seconds=1))
    result = await did_web.verify_with_registry(late, registry)
    assert result.verified is False and result.reason == "KEY_RETIRED"
    assert result.key_problem is not None and result.key_problem.problem is KeyProblem.KEY_RETIRED
    assert result.outcome.code is VerificationCode.KEY_NOT_FOUND


async def test_unknown_issuers_are_unverifiable_not_invalid() -> None:
    registry = await rotated_registry()
    stranger = "did:web:elsewhere.example:issuers:x#key-1"
    document = sign_eddsa_rdfc_2022(credential(4), TEST_KEYS.get_signing_key("uni-a/key-1"), stranger, created=T0)
    result = await did_web.verify_with_registry(document, registry)
    assert result.verified is None and result.reason == "UNKNOWN_ISSUER"
    keys = await did_web.registry_keys(registry, {"proof": [{"verificationMethod": "did:key:z6Mk#z6Mk"}, "junk"]})
    assert keys.keys == {} and keys.problems == {}
    resolution = await did_web.resolve_verification_method(registry, "did:web:no-fragment", T0)
    assert resolution.problem is KeyProblem.UNKNOWN_VERIFICATION_METHOD


async def test_a_tampered_credential_still_fails_on_its_signature() -> None:
    registry = await rotated_registry()
    signed = sign_eddsa_rdfc_2022(credential(5), TEST_KEYS.get_signing_key("uni-a/key-2"), f"{DID}#key-2",
                                  created=later(40))
    signed["credentialSubject"]["id"] = "did:example:someone-else"
    result = await did_web.verify_with_registry(signed, registry)
    assert result.verified is False and result.reason == "INVALID_SIGNATURE"
