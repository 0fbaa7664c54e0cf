"""A key may sign only for the verification relation its controller lists it under: a key listed only under
``authentication`` cannot make ``assertionMethod`` proofs (credentials), and the platform's did:web keys (all
under ``assertionMethod``) cannot make ``authentication`` proofs. did:key keys hold both relations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.crypto.multikey import encode_ed25519_public_key
from microcred.registry import did_web
from microcred.verification import VerificationPorts, verify
from microcred.verification.checks import CheckId
from microcred.verification.keys import ChainKeyResolver, ControllerDocumentResolver, DidKeyResolver
from microcred.verification.ports import KeyLookupProblem
from tests.unit.test_registry_did_web import DID, credential, later, rotated_registry
from tests.unit.test_registry_did_web import TEST_KEYS as REGISTRY_KEYS
from tests.verifier_support import DictStatusSource

PARTNER = "https://partner.example/issuers/1"
ASSERT_KEY = Ed25519PrivateKey.from_private_bytes(b"\x11" * 32)
AUTH_KEY = Ed25519PrivateKey.from_private_bytes(b"\x12" * 32)
HOLDER_DID_KEY = Ed25519PrivateKey.from_private_bytes(b"\x13" * 32)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def controller() -> dict[str, Any]:
    did_key = did_key_from_public_key(HOLDER_DID_KEY.public_key())
    return {
        "id": PARTNER,
        "verificationMethod": [
            {"id": "#assert", "type": "Multikey", "controller": PARTNER,
             "publicKeyMultibase": encode_ed25519_public_key(ASSERT_KEY.public_key())},
            {"id": "#auth", "type": "Multikey", "controller": PARTNER,
             "publicKeyMultibase": encode_ed25519_public_key(AUTH_KEY.public_key())},
        ],
        "assertionMethod": ["#assert"],
        "authentication": ["#auth", verification_method_id(did_key)],
    }


def ports() -> VerificationPorts:
    return VerificationPorts(keys=ChainKeyResolver(DidKeyResolver(), ControllerDocumentResolver([controller()])),
                             status=DictStatusSource())


def signed(key: Ed25519PrivateKey, method: str) -> dict[str, Any]:
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
           "id": "urn:uuid:7b0c5f5e-0000-4000-8000-000000000001", "issuer": PARTNER,
           "validFrom": "2025-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:learner"}}
    result: dict[str, Any] = sign_eddsa_rdfc_2022(doc, key, method, created=datetime(2025, 6, 1, tzinfo=UTC))
    return result


async def test_an_assertion_key_signs_credentials() -> None:
    report = await verify(signed(ASSERT_KEY, PARTNER + "#assert"), ports(), NOW)
    assert report.verdict.value == "valid", report.to_dict()


async def test_an_authentication_only_key_cannot_sign_a_credential() -> None:
    report = await verify(signed(AUTH_KEY, PARTNER + "#auth"), ports(), NOW)
    identity = report.check(CheckId.ISSUER_IDENTITY)
    assert report.verdict.value == "invalid", report.to_dict()
    assert identity is not None and identity.status.value == "invalid"
    assert "assertionMethod" in str(identity.details.get("problem", ""))


async def test_a_did_key_listed_only_under_authentication_cannot_speak_for_the_controller() -> None:
    did_key = did_key_from_public_key(HOLDER_DID_KEY.public_key())
    report = await verify(signed(HOLDER_DID_KEY, verification_method_id(did_key)), ports(), NOW)
    assert report.verdict.value != "valid", report.to_dict()


async def test_resolution_is_per_relation() -> None:
    resolver = ChainKeyResolver(DidKeyResolver(), ControllerDocumentResolver([controller()]))
    auth = await resolver.resolve(PARTNER + "#auth", NOW, purpose="authentication")
    assert auth.public_key is not None and PARTNER in auth.controllers
    refused = await resolver.resolve(PARTNER + "#auth", NOW, purpose="assertionMethod")
    assert refused.public_key is None and refused.problem is KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD
    assert (await resolver.resolve(PARTNER + "#assert", NOW)).public_key is not None  # assertionMethod default
    did_key = verification_method_id(did_key_from_public_key(HOLDER_DID_KEY.public_key()))
    as_holder = await resolver.resolve(did_key, NOW, purpose="authentication")
    assert PARTNER in as_holder.controllers
    as_issuer = await resolver.resolve(did_key, NOW, purpose="assertionMethod")
    assert as_issuer.public_key is not None and PARTNER not in as_issuer.controllers  # its own DID only
    odd = await DidKeyResolver().resolve(did_key, NOW, purpose="keyAgreement")
    assert odd.public_key is None and odd.problem is KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD


async def test_registry_did_web_keys_are_assertion_keys_only() -> None:
    registry = await rotated_registry()
    document = sign_eddsa_rdfc_2022(credential(9), REGISTRY_KEYS.get_signing_key("uni-a/key-1"), f"{DID}#key-1",
                                    created=later(10), proof_purpose="authentication")
    result = await did_web.verify_with_registry(document, registry, expected_proof_purpose="authentication")
    assert result.verified is False and result.reason == "UNKNOWN_VERIFICATION_METHOD"
    assert result.key_problem is not None and "assertionMethod" in result.key_problem.message
