"""ELM/EDC rendering (issue 22): every Annex I element of the model lands where the EC's Annex I sample puts it,
in every language given, deterministically."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.elm.render import EDC_CONTEXTS, ElmIssuer, render_edc
from microcred.gen.microcred.v1 import elements_pb2 as pb
from tests.harness.factories import organisation, valid_micro_credential


def _org(name: str, country: str, org_id: str) -> pb.Organisation:
    org = organisation(name, country)
    org.id = org_id
    return org


def _mc() -> pb.MicroCredential:
    """The factory's complete micro-credential, its QA body given its own id (the factory reuses one id)."""
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "did:web:qqi.example"
    return mc

ISSUER = ElmIssuer(id="did:web:issuer.example", organisation=_org("Issuing Platform", "BE", "did:web:issuer.example"),
                   eidas_identifier="VATBE-0123456789", eidas_country="BE")
CRED_ID = "urn:uuid:0f1e2d3c-4b5a-4697-8877-665544332211"


def _render() -> dict[str, Any]:
    return render_edc(_mc(), issuer=ISSUER, credential_id=CRED_ID,
                      issued_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))


def test_envelope_follows_the_ec_sample() -> None:
    doc = _render()
    assert doc["@context"] == EDC_CONTEXTS
    assert doc["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert doc["id"] == CRED_ID
    assert doc["issued"] == doc["issuanceDate"] == "2026-03-01T09:30:00Z"
    assert doc["expirationDate"].startswith("20")
    assert doc["issuer"]["id"] == "did:web:issuer.example"
    assert doc["issuer"]["eIDASIdentifier"]["notation"] == "VATBE-0123456789"
    assert doc["displayParameter"]["primaryLanguage"]["id"].endswith("/language/ENG")
    assert doc["credentialProfiles"]["prefLabel"] == {"en": "Generic"}


def test_every_annex_i_element_is_mapped() -> None:
    doc = _render()
    person = doc["credentialSubject"]
    assert person["type"] == "Person" and person["fullName"] == {"en": "Ana Andromeda"}  # 1
    assert person["nationalID"]["notation"] == "LA-234218"
    assert person["dateOfBirth"] == "2000-05-17T00:00:00Z"
    claim = person["hasClaim"]
    spec = claim["specifiedBy"]
    assert claim["title"] == {"en": "Digital micro-credential creation",  # 2, every language
                              "es": "Creación de microcredenciales digitales"}
    body = claim["awardedBy"]["awardingBody"][0]  # 3, 4
    assert body["legalName"] == {"en": "University of Zed", "ga": "Ollscoil Zed"}
    assert body["location"]["address"]["countryCode"]["id"].endswith("/country/IRL")
    assert body["location"]["spatialCode"]["id"].endswith("/atu/IRL_CTH_DUB")
    assert claim["awardedBy"]["awardingDate"].startswith("20")  # 5
    outcome = spec["learningOutcome"][0]  # 6
    assert outcome["title"]["es"] == "Contenido digital"
    assert outcome["relatedESCOSkill"][0]["id"].startswith("http://data.europa.eu/esco/skill/")
    assert spec["creditPoint"]["point"] == "5"  # 7
    assert spec["creditPoint"]["framework"]["id"] == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert spec["volumeOfLearning"] == "PT125H"
    assert spec["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/6"  # 8
    assert spec["nqfLevel"]["id"] == "http://data.europa.eu/snb/qdr/c_c392e7a2"
    assert spec["provenBy"]["dcType"]["id"].endswith("/assessment/6e6cb2cc78")  # 9
    assert spec["mode"]["id"].endswith("/learning-assessment/e92d221e4d")  # 10
    assert spec["learningSetting"]["id"].endswith("/learning-setting/e207a81fc7")
    accreditation = spec["accreditation"]  # 11
    assert accreditation["dcType"]["id"].endswith("/accreditation/820101cba6")
    assert accreditation["accreditingAgent"]["legalName"]["en"] == "Quality and Qualifications Ireland"
    assert accreditation["report"]["contentURL"] == "https://qqi.example/reports/2024-0042"
    assert spec["entryRequirement"]["noteLiteral"] == {"en": "Basic digital skills (DigComp level 3)"}  # 12
    assert spec["learningOutcomeSummary"]["noteLiteral"] == {"en": "Pass the written examination"}
    assessment = claim["provenBy"]
    assert assessment["idVerification"]["id"].endswith("/supervision-verification/70be69aaf9")  # 13
    assert assessment["grade"]["noteLiteral"] == {"en": "Pass"}  # 14
    assert assessment["specifiedBy"]["gradingScheme"]["title"] == {"en": "Pass/Fail"}
    assert spec["isPartialQualification"] is True  # 15
    notes = [n["noteLiteral"]["en"] for n in spec["additionalNote"]]
    assert any("digital-education-certificate" in n for n in notes)
    assert "QF-EHEA first cycle" in notes
    assert "Offered in the Research Alliance network" in notes  # 16
    assert spec["supplementaryDocument"][0]["contentURL"] == "https://uniz.example/mc/digital"


def test_rendering_is_deterministic_and_nodes_are_shared_by_id() -> None:
    first, second = _render(), _render()
    assert first == second
    claim = first["credentialSubject"]["hasClaim"]
    assert claim["provenBy"]["assessedBy"][0] == claim["awardedBy"]["awardingBody"][0]


def test_absent_optional_elements_leave_no_trace() -> None:
    mc = _mc()
    for name in ("prerequisites", "supervision", "grade", "integration", "further_information"):
        mc.ClearField(name)
    doc = render_edc(mc, issuer=ISSUER, credential_id=CRED_ID, issued_at=datetime(2026, 3, 1, tzinfo=UTC))
    claim = doc["credentialSubject"]["hasClaim"]
    assert "provenBy" not in claim
    for key in ("entryRequirement", "isPartialQualification", "supplementaryDocument"):
        assert key not in claim["specifiedBy"]


def test_one_id_for_two_organisations_is_refused() -> None:
    mc = _mc()
    mc.quality_assurance.qa_body.id = mc.awarding_bodies[0].id
    with pytest.raises(ValueError, match="two different organisations"):
        render_edc(mc, issuer=ISSUER, credential_id=CRED_ID, issued_at=datetime(2026, 3, 1, tzinfo=UTC))
