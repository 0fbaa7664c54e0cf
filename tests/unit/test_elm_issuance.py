"""Issuing the EDC format (issue 22) with in-memory ports: the sealed EDC travels in the event and the answer,
its JAdES seal verifies with the document-signing CA as anchor (unknown without it), its payload is the same
credential (same id) and passes SHACL, naming the credential's own Token Status List entry; a retry answers the
same document; the format is refused by name when no seal key is available, and a request with it maps to the
item."""

from __future__ import annotations

import json

from cryptography import x509
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]
from hypothesis import HealthCheck, given, settings

from microcred.elm.jades import verify_jades
from microcred.elm.shacl import validate_edc
from microcred.elm.status import read_status_reference
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2, status_pb2
from microcred.sdjwt.issue import StatusReference
from microcred.status.token_status_list import token_status_uri
from services.issuer.adapters.document_signing import CertifiedDocumentSigning
from services.issuer.api.grpc import request_item
from services.issuer.application.issuance import Caller, IssueItem
from tests.fixtures.issuer.world import AGENCY
from tests.harness.factories import valid_micro_credential
from tests.unit.test_elm_shacl import micro_credentials
from tests.unit.test_issuer_issuance import UNI_A, issued, refusal, rig
from tests.unit.test_issuer_sd_jwt import CA, with_documents

PRIVACY_CALLER = Caller("uni-a", AGENCY)


def _mc() -> pb.MicroCredential:
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "https://qqi.example"  # the factory's QA body reuses the university's id
    return mc


async def test_an_edc_is_sealed_beside_the_data_integrity_credential() -> None:
    r = with_documents(rig())
    [outcome, plain] = await r.issuance.issue(UNI_A, [IssueItem("row-1", _mc(), edc=True),
                                                      IssueItem("row-2", _mc())])
    credential = issued(outcome)
    assert credential.edc_jsonld and issued(plain).edc_jsonld == ""
    anchor = x509.load_pem_x509_certificate(CA.cert_pem)
    verdict = verify_jades(credential.edc_jsonld, anchors=[anchor])
    assert (verdict.signature, verdict.trust) == ("valid", "trusted"), verdict.trust_reason
    assert verify_jades(credential.edc_jsonld).trust == "unknown"
    document = json.loads(verdict.payload)
    assert document["id"] == credential.credential_id
    assert document["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert validate_edc(document).violations == ()
    # its status is the credential's own revocation entry, as a Token Status List entry (revocation + suspension)
    [revocation] = [e for e in credential.status_entries if e.status_purpose == status_pb2.STATUS_PURPOSE_REVOCATION]
    assert read_status_reference(document) == StatusReference(
        token_status_uri(revocation.status_list_credential), revocation.status_list_index)
    events = r.published()
    assert [e.edc_jsonld for e in events] == [credential.edc_jsonld, ""]
    [again] = await r.issuance.issue(UNI_A, [IssueItem("row-1", _mc(), edc=True)])
    assert issued(again).already_issued and issued(again).edc_jsonld == credential.edc_jsonld


async def test_without_a_seal_key_the_edc_format_is_refused_by_name() -> None:
    r = with_documents(rig(), ca=None)
    [outcome, plain] = await r.issuance.issue(UNI_A, [IssueItem("x", valid_micro_credential(), edc=True),
                                                      IssueItem("y", valid_micro_credential())])
    failed = refusal(outcome)
    assert failed.code == code_pb2.FAILED_PRECONDITION and failed.reason == "EDC_UNAVAILABLE"
    assert issued(plain).edc_jsonld == ""


async def test_no_edc_is_issued_without_a_status_entry_to_name() -> None:
    r = with_documents(rig())
    r.source.base_url = "https://status.example.test/lists"  # not the revocation service's /status/ layout
    [outcome, plain] = await r.issuance.issue(UNI_A, [IssueItem("x", _mc(), edc=True), IssueItem("y", _mc())])
    failed = refusal(outcome)  # never an EDC its issuer could not revoke; the platform, not the request, is at fault
    assert failed.code == code_pb2.INTERNAL and "Token Status List entry" in failed.message
    assert issued(plain).credential_json and not issued(plain).edc_jsonld


async def test_a_model_elm_cannot_render_is_invalid_argument_and_the_rest_is_issued() -> None:
    r = with_documents(rig())
    [bad, good] = await r.issuance.issue(UNI_A, [IssueItem("x", valid_micro_credential(), edc=True),
                                                 IssueItem("y", _mc(), edc=True)])
    failed = refusal(bad)
    assert failed.code == code_pb2.INVALID_ARGUMENT and failed.reason == "EDC_UNRENDERABLE"
    assert "two different organisations" in failed.message and failed.violations[0].field == "formats"
    assert issued(good).edc_jsonld
    assert [e.credential_id for e in r.published()] == [issued(good).credential_id]


def test_a_request_for_the_edc_format_asks_for_it() -> None:
    item = request_item("k", valid_micro_credential(), "", [issuer_pb2.CREDENTIAL_FORMAT_EDC], "")
    assert isinstance(item, IssueItem) and item.edc and not item.sd_jwt_vc
    plain = request_item("k", valid_micro_credential(), "", [], "")
    assert isinstance(plain, IssueItem) and not plain.edc


async def test_the_edc_travels_sealed_under_the_learner_key_and_get_opens_it() -> None:
    from microcred.events.envelope import open_envelope
    from microcred.gen.microcred.v1 import events_pb2
    from tests.unit.test_privacy_events import Rig, clear_of_personal_data

    r = Rig()
    r.issuance._documents = CertifiedDocumentSigning(r.issuance._keystore, CA)
    [outcome] = await r.issuance.issue(PRIVACY_CALLER, [IssueItem("row-1", _mc(), edc=True)])
    answer = issued(outcome)
    assert answer.edc_jsonld and "Andromeda" in answer.edc_jsonld  # the learner's own document names them
    [raw] = r.records()
    assert clear_of_personal_data(raw)
    envelope, event = open_envelope(raw)
    assert isinstance(event, events_pb2.CredentialIssued) and not event.edc_jsonld
    [opened] = await r.privacy.open([(envelope, event)])
    assert opened.payload.edc_jsonld == answer.edc_jsonld
    assert all(clear_of_personal_data(v) for v in r.raw_store.issued.values())
    got = await r.issuance.get(PRIVACY_CALLER, answer.credential_id)
    assert got is not None and got[0].edc_jsonld == answer.edc_jsonld


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(micro_credentials())
async def test_every_edc_the_platform_issues_passes_shacl(mc: pb.MicroCredential) -> None:
    """The generated cohort of test_elm_shacl (optional elements present and absent, several languages, EQF or
    not applicable, several awarding bodies) issued through the issuance use case, as the platform seals it
    (the registry's issuer and its document key): 0 violations, and EDC-accredited where accredited."""
    if mc.level.WhichOneof("eqf") == "eqf_level" and mc.level.eqf_level > 7:  # the rig's issuer: EQF 7 at most
        mc.level.eqf_level = 7  # type: ignore[assignment]
        mc.level.ClearField("qf_ehea_cycle")
    r = with_documents(rig())
    [outcome] = await r.issuance.issue(UNI_A, [IssueItem("k", mc, edc=True)])
    credential = issued(outcome)
    verdict = verify_jades(credential.edc_jsonld, anchors=[x509.load_pem_x509_certificate(CA.cert_pem)])
    assert (verdict.signature, verdict.trust) == ("valid", "trusted")
    document = json.loads(verdict.payload)
    assert validate_edc(document).violations == ()
    if mc.quality_assurance.accreditation_id:
        assert validate_edc(document, accredited=True).violations == ()
