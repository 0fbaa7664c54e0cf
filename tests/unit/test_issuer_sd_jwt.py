"""Issuing the SD-JWT VC format (issue 19) with in-memory ports: the credential's issuer key is certified by the
document-signing CA, its status is the revocation entry's Token Status List entry, it travels in the event and
comes back on a retry; a service without a CA, a did:key issuer and bad requests are refused by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.registry.did_web import https_of_did_web
from microcred.sdjwt.claims import read_micro_credential
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.verify import VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import load_certificates
from microcred.status.token_status_list import token_status_uri
from services.issuer.adapters.document_signing import CertifiedDocumentSigning, derive_document_key
from services.issuer.api.grpc import request_item
from services.issuer.application.issuance import IssueItem, Refusal
from tests.harness.factories import valid_micro_credential
from tests.unit.test_issuer_issuance import UNI_A, Rig, issued, refusal, rig

CA = pki.create_ca("Agency document-signing CA", agency="agency-ie")


def with_documents(r: Rig, ca: pki.CertifiedKey | None = CA) -> Rig:
    r.issuance._documents = CertifiedDocumentSigning(r.world.keystore, ca)
    return r


async def test_an_sd_jwt_vc_is_issued_beside_the_data_integrity_credential() -> None:
    r = with_documents(rig())
    holder = ec.generate_private_key(ec.SECP256R1())
    [outcome] = await r.issuance.issue(UNI_A, [IssueItem("row-1", valid_micro_credential(), sd_jwt_vc=True,
                                                         holder_jwk=public_jwk(holder.public_key()))])
    credential = issued(outcome)
    assert r.verify(credential.credential_json) is True and credential.sd_jwt_vc
    policy = VerifierPolicy(trust_anchors=load_certificates(CA.cert_pem))
    verified = verify_sd_jwt_vc(credential.sd_jwt_vc, policy, datetime.now(UTC))
    assert {c.id: c.status.value for c in verified.checks if c.id != "holder_binding"} == {
        "format": "valid", "issuer_identity": "valid", "signature": "valid", "disclosures": "valid",
        "type_metadata": "valid", "validity_window": "valid"}, verified.to_dict()
    assert verified.issuer == https_of_did_web(r.world.dids["uni-a"])
    revocation = credential.status_entries[0]
    assert verified.status_reference is not None
    assert verified.status_reference.uri == token_status_uri(revocation.status_list_credential)
    assert verified.status_reference.idx == revocation.status_list_index
    assert verified.header["x5c"] and len(verified.header["x5c"]) == 1  # the CA is the verifier's anchor
    assert verified.claims is not None and verified.claims["cnf"]["jwk"] == public_jwk(holder.public_key())
    assert read_micro_credential(verified.claims).title == valid_micro_credential().title
    [event] = r.published()
    assert event.sd_jwt_vc == credential.sd_jwt_vc
    [again] = await r.issuance.issue(UNI_A, [IssueItem("row-1", valid_micro_credential(), sd_jwt_vc=True)])
    assert issued(again).already_issued and issued(again).sd_jwt_vc == credential.sd_jwt_vc


async def test_the_sd_jwt_key_is_the_issuers_own_derived_and_stable() -> None:
    r = with_documents(rig())
    [first] = await r.issuance.issue(UNI_A, [IssueItem("a", valid_micro_credential(), sd_jwt_vc=True)])
    other = CertifiedDocumentSigning(r.world.keystore, CA)  # another replica: same key
    issuer = await r.world.registry.get_issuer("uni-a")
    assert issuer is not None
    key = other.issuer_key(issuer, datetime.now(UTC)).key
    seed = r.world.keystore.get_signing_key("uni-a/key-1").private_bytes_raw()
    assert key.private_numbers() == derive_document_key(seed).private_numbers()
    assert derive_document_key(b"\x01" * 32).private_numbers() != derive_document_key(b"\x02" * 32).private_numbers()
    assert issued(first).sd_jwt_vc


async def test_without_a_document_signing_ca_the_format_is_refused_and_nothing_is_spent() -> None:
    r = with_documents(rig(), ca=None)
    [outcome, plain] = await r.issuance.issue(UNI_A, [IssueItem("x", valid_micro_credential(), sd_jwt_vc=True),
                                                      IssueItem("y", valid_micro_credential())])
    failed = refusal(outcome)
    assert failed.code == code_pb2.FAILED_PRECONDITION and failed.reason == "SD_JWT_VC_UNAVAILABLE"
    assert issued(plain).sd_jwt_vc == ""  # the other item is issued as before
    assert [e.credential_id for e in r.published()] == [issued(plain).credential_id]


def test_requests_name_a_bad_format_and_a_private_or_malformed_holder_key() -> None:
    mc = valid_micro_credential()
    holder = ec.generate_private_key(ec.SECP256R1())
    private = {**public_jwk(holder.public_key()), "d": "AAAA"}
    for formats, jwk, fields in (([99], "", {"formats[0]"}), ([], json.dumps(private), {"holder_jwk_json"}),
                                 ([2, 7], "{not json", {"formats[1]", "holder_jwk_json"})):
        out = request_item("k", mc, "", formats, jwk)
        assert isinstance(out, Refusal) and out.code == code_pb2.INVALID_ARGUMENT
        assert {v.field for v in out.violations} == fields
    ok = request_item("k", mc, "ref", [issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC],
                      json.dumps(public_jwk(holder.public_key())))
    assert isinstance(ok, IssueItem) and ok.sd_jwt_vc and ok.holder_jwk is not None and ok.client_reference == "ref"
    plain = request_item("k", mc, "", [], "")
    assert isinstance(plain, IssueItem) and not plain.sd_jwt_vc and plain.holder_jwk is None


async def test_without_a_holder_key_a_bearer_sd_jwt_vc_is_issued_without_cnf_by_default() -> None:
    r = with_documents(rig())
    [outcome] = await r.issuance.issue(UNI_A, [IssueItem("bearer", valid_micro_credential(), sd_jwt_vc=True)])
    policy = VerifierPolicy(trust_anchors=load_certificates(CA.cert_pem))
    verified = verify_sd_jwt_vc(issued(outcome).sd_jwt_vc, policy, datetime.now(UTC))
    assert verified.claims is not None and "cnf" not in verified.claims


async def test_a_service_requiring_holder_keys_refuses_an_sd_jwt_vc_without_one_and_spends_nothing() -> None:
    r = with_documents(rig())
    r.issuance._require_holder_key = True
    holder = ec.generate_private_key(ec.SECP256R1())
    [bare, bound, plain] = await r.issuance.issue(UNI_A, [
        IssueItem("bare", valid_micro_credential(), sd_jwt_vc=True),
        IssueItem("bound", valid_micro_credential(), sd_jwt_vc=True, holder_jwk=public_jwk(holder.public_key())),
        IssueItem("plain", valid_micro_credential())])
    failed = refusal(bare)
    assert failed.code == code_pb2.FAILED_PRECONDITION and failed.reason == "HOLDER_KEY_REQUIRED"
    assert "holder_jwk_json" in failed.message
    policy = VerifierPolicy(trust_anchors=load_certificates(CA.cert_pem))
    verified = verify_sd_jwt_vc(issued(bound).sd_jwt_vc, policy, datetime.now(UTC))
    assert verified.claims is not None and verified.claims["cnf"]["jwk"] == public_jwk(holder.public_key())
    assert issued(plain).sd_jwt_vc == ""
    assert {e.credential_id for e in r.published()} == {issued(bound).credential_id, issued(plain).credential_id}
