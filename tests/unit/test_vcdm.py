"""The VC Data Model validator (microcred.vcdm): the same rules refuse a document at signing and make the
verifier's FORMAT check fail with the rule named. The non-conforming documents are those of the W3C
vc-data-model-2.0-test-suite that the verifier used to report as valid (issue 15)."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred import vcdm
from microcred.credential.signing import DATA_INTEGRITY_V2, SigningError, sign_document, with_proof_context
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022, verify_data_integrity
from microcred.crypto.did_key import did_key_from_public_key, resolve_key, verification_method_id
from microcred.vcdm.related import pinned_resource
from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify
from tests.verifier_support import NOW, fixture_ports

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
DID = did_key_from_public_key(KEY.public_key())
V2 = "https://www.w3.org/ns/credentials/v2"
V2_BYTES = pinned_resource(V2)
assert V2_BYTES is not None
SRI = "sha384-" + base64.b64encode(hashlib.sha384(V2_BYTES).digest()).decode()
MULTIBASE = "u" + base64.urlsafe_b64encode(hashlib.sha256(V2_BYTES).digest()).decode().rstrip("=")


def credential(**extra: Any) -> dict[str, Any]:
    return {"@context": [V2], "type": ["VerifiableCredential"], "issuer": DID,
            "credentialSubject": {"id": "did:example:subject"}, **extra}


# (name, document, the rule the validator names)
NON_CONFORMING: list[tuple[str, dict[str, Any], str]] = [
    ("termsOfUse-empty", credential(termsOfUse={}), "terms_of_use.type"),
    ("termsOfUse-no-type", credential(termsOfUse={"id": "https://example.org/tou/1"}), "terms_of_use.type"),
    ("evidence-no-type", credential(evidence={"id": "https://example.org/evidence/1"}), "evidence.type"),
    ("refreshService-no-type", credential(refreshService={"id": "https://example.org/refresh"}),
     "refresh_service.type"),
    ("credentialSchema-no-type", credential(credentialSchema={"id": "https://example.org/schema/1"}),
     "credential_schema.type"),
    ("credentialSubject-empty", credential(credentialSubject={}), "credential_subject.claims"),
    ("credentialSubject-one-empty", credential(credentialSubject=[{"id": "did:example:s"}, {}]),
     "credential_subject.claims"),
    ("relatedResource-strings", credential(relatedResource=[V2]), "related_resource.object"),
    ("relatedResource-no-id", credential(relatedResource=[{"digestMultibase": MULTIBASE}]), "related_resource.id"),
    ("relatedResource-duplicate-id", credential(relatedResource=[{"id": V2, "digestSRI": SRI},
                                                                 {"id": V2, "digestMultibase": MULTIBASE}]),
     "related_resource.unique"),
    ("relatedResource-no-digest", credential(relatedResource=[{"id": V2}]), "related_resource.digest"),
    ("relatedResource-wrong-multibase",
     credential(relatedResource=[{"id": V2, "digestMultibase": "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"}]),
     "related_resource.digest_mismatch"),
    ("relatedResource-wrong-sri",
     credential(relatedResource=[{"id": V2, "digestSRI": "sha384-" + base64.b64encode(bytes(48)).decode()}]),
     "related_resource.digest_mismatch"),
    ("relatedResource-malformed-sri",
     credential(relatedResource=[{"id": V2, "digestSRI": "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnX"
                                                          "Ez6a5AeeY_1qQ0d0P"}]),
     "related_resource.digest_format"),
    ("credentialStatus-no-type", credential(credentialStatus={"id": "https://example.org/status#1"}),
     "credential_status.type"),
    ("validFrom-malformed", credential(validFrom="2024-01-01"), "valid_from.format"),
    ("validUntil-no-zone", credential(validUntil="2030-01-01T00:00:00"), "valid_until.format"),
    ("validUntil-before-validFrom", credential(validFrom="2030-01-01T00:00:00Z", validUntil="2020-01-01T00:00:00Z"),
     "validity.order"),
    ("issuer-null", credential(issuer=None), "issuer.not_null"),
    ("no-credentialSubject", {k: v for k, v in credential().items() if k != "credentialSubject"},
     "credential_subject.required"),
]

CONFORMING = [
    credential(),
    credential(termsOfUse={"type": "https://example.org/vocab#IssuerPolicy", "id": "https://example.org/tou/1"}),
    credential(relatedResource=[{"id": V2, "digestSRI": SRI, "mediaType": "application/ld+json"}]),
    credential(relatedResource={"id": V2, "digestMultibase": MULTIBASE}),
    credential(validFrom="2024-01-01T00:00:00.123+01:00", validUntil="99999-01-01T00:00:00Z"),
    credential(issuer={"id": DID, "name": "Example"}),
    {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"], "issuer": DID,
     "issuanceDate": "2024-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:subject"}},
]


@pytest.mark.parametrize(("name", "document", "rule"), NON_CONFORMING, ids=[n for n, _, _ in NON_CONFORMING])
def test_validator_names_the_broken_rule(name: str, document: dict[str, Any], rule: str) -> None:
    assert rule in [v.rule for v in vcdm.validate(document)], name


@pytest.mark.parametrize("document", CONFORMING)
def test_conforming_documents_pass(document: dict[str, Any]) -> None:
    assert vcdm.validate(document) == []


@pytest.mark.parametrize(("name", "document", "rule"), NON_CONFORMING, ids=[n for n, _, _ in NON_CONFORMING])
def test_signer_refuses_with_the_rule(name: str, document: dict[str, Any], rule: str) -> None:
    with pytest.raises(vcdm.DataModelError) as refused:
        sign_document(document, KEY, verification_method_id(DID))
    assert rule in [v.rule for v in refused.value.violations], name


@pytest.mark.parametrize(("name", "document", "rule"), NON_CONFORMING, ids=[n for n, _, _ in NON_CONFORMING])
async def test_verifier_reports_format_failure_with_the_rule(name: str, document: dict[str, Any], rule: str) -> None:
    # Signed by a signer that does not check the data model (what an outside issuer could send us). Every listed
    # document is signable as JSON-LD in safe mode: one that is not fails here, never skips.
    signed = sign_eddsa_rdfc_2022(document, KEY, verification_method_id(DID))
    report = await verify(signed, fixture_ports(controllers=False), NOW)
    assert report.verdict is not Verdict.VALID, name
    fmt = report.check(CheckId.FORMAT)
    assert fmt is not None and fmt.status is CheckStatus.INVALID, fmt
    text = str(fmt.to_dict())
    assert rule in text or fmt.reason_code in (Reason.MISSING_FIELD, Reason.INVALID_FIELD), text


async def test_the_twelve_reported_valid_before_now_fail_on_data_model_rule() -> None:
    ports = fixture_ports(controllers=False)
    named = {n: r for n, _, r in NON_CONFORMING}
    for name, document, _ in NON_CONFORMING[:14]:
        report = await verify(sign_eddsa_rdfc_2022(document, KEY, verification_method_id(DID)), ports, NOW)
        fmt = report.check(CheckId.FORMAT)
        assert fmt is not None and fmt.reason_code is Reason.DATA_MODEL_VIOLATION, (name, fmt)
        assert fmt.details["rule"] == named[name]


async def test_conforming_credential_signed_by_sign_document_verifies() -> None:
    signed = sign_document(credential(validFrom="2024-01-01T00:00:00Z"), KEY, verification_method_id(DID))
    report = await verify(signed, fixture_ports(controllers=False), NOW)
    fmt = report.check(CheckId.FORMAT)
    assert fmt is not None and fmt.status is CheckStatus.VALID, report.to_dict()


def test_vc11_gets_the_data_integrity_context_and_verifies() -> None:
    v11 = copy.deepcopy(CONFORMING[-1])
    assert with_proof_context(v11)["@context"][-1] == DATA_INTEGRITY_V2
    assert with_proof_context(credential())["@context"] == [V2]
    signed = sign_document(v11, KEY, verification_method_id(DID))
    assert signed["@context"] == ["https://www.w3.org/2018/credentials/v1", DATA_INTEGRITY_V2]
    assert verify_data_integrity(signed, resolve_key).verified is True


def test_unknown_cryptosuite_is_refused_by_name() -> None:
    with pytest.raises(SigningError, match="unsupported cryptosuite"):
        sign_document(credential(), KEY, verification_method_id(DID), cryptosuite="ecdsa-rdfc-2019")


def test_related_resource_not_held_is_unknown_not_valid() -> None:
    doc = credential(relatedResource=[{"id": "https://example.org/resource", "digestSRI": SRI}])
    violations = vcdm.validate(doc)
    assert [(v.rule, v.severity) for v in violations] == [("related_resource.unavailable", vcdm.Severity.UNKNOWN)]
    with pytest.raises(vcdm.DataModelError):
        vcdm.require_valid(doc)
    # With the resource at hand (a retriever), a matching digest passes.
    assert vcdm.validate(doc, retrieve=lambda url: V2_BYTES) == []


def test_rules_read_the_json_ld_interpretation_not_json_keys() -> None:
    # An alias for termsOfUse defined in a local context is still termsOfUse, and still needs a type.
    aliased = credential(tou={"id": "https://example.org/tou/1"})
    aliased["@context"] = [V2, {"tou": {"@id": "https://www.w3.org/2018/credentials#termsOfUse",
                                        "@type": "@id"}}]
    assert "terms_of_use.type" in [v.rule for v in vcdm.validate(aliased)]


def test_non_objects_and_wrong_contexts() -> None:
    assert [v.rule for v in vcdm.validate([])] == ["document.object"]
    assert [v.rule for v in vcdm.validate({"type": ["VerifiableCredential"]})] == ["context.required"]
    wrong = credential()
    wrong["@context"] = ["https://www.w3.org/ns/credentials/examples/v2", V2]
    assert [v.rule for v in vcdm.validate(wrong)] == ["context.first"]
    untyped = credential()
    untyped["type"] = ["ExampleCredential"]
    untyped["@context"] = [V2, "https://www.w3.org/ns/credentials/examples/v2"]
    assert "type.credential" in [v.rule for v in vcdm.validate(untyped)]
