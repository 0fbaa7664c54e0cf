"""SHACL gate for the ELM/EDC rendering (issue 22): a generated cohort of varied micro-credentials, rendered as
EDC JSON-LD, validates with 0 violations against the EC's ``EDC-generic-no-cv`` shapes, with contexts loaded
from the pinned local copies only. The EC's own samples check the harness itself: the sealed sample's payload
conforms, the unsigned one reports exactly the two gaps the EC fills at sealing time."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.elm.render import ElmIssuer, render_edc
from microcred.elm.shacl import validate_edc
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.jsonld.loader import RemoteContextRefused
from microcred.model.validation import validate_micro_credential
from microcred.sdjwt.issue import StatusReference
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

DATA = Path(__file__).parent / "test_elm_data"
ISSUER = ElmIssuer(id="did:web:issuer.example", organisation=_org("Issuing Platform", "BE", "did:web:issuer.example"),
                   eidas_identifier="VATBE-0123456789", eidas_country="BE")
OPTIONAL = ("regions", "prerequisites", "supervision", "grade", "integration", "further_information",
            "valid_from", "valid_until", "achievement_id", "description", "criteria_narrative", "language")
LANGUAGES = ("fr", "de", "es", "it", "pl", "el", "ga")


def _render(mc: pb.MicroCredential, status: StatusReference | None = None) -> dict[str, Any]:
    return render_edc(mc, issuer=ISSUER, credential_id="urn:uuid:6b4d1c0e-3a53-4d58-9a55-1b0b5c1e2f10",
                      issued_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC), status=status)


#: The platform's status references: its revocation service's Token Status List of a revocation list, any index.
STATUSES = st.none() | st.builds(StatusReference, st.sampled_from([
    "https://status.example/token-status/uni-a-revocation-1", "http://127.0.0.1:8443/token-status/x-7"]),
    st.integers(0, 1_048_575))


@st.composite
def micro_credentials(draw: st.DrawFn) -> pb.MicroCredential:
    """Valid micro-credentials: any subset of the optional elements, varied vocabularies, extra languages."""
    mc = _mc()
    for name in OPTIONAL:
        if draw(st.booleans()):
            mc.ClearField(name)
    extra = draw(st.lists(st.sampled_from(LANGUAGES), unique=True, max_size=3))
    for tag in extra:
        mc.title.values[tag] = f"Titre {tag}"
        mc.learning_outcomes[0].text.values[tag] = f"Résultat {tag} — ünïcödé"
        if mc.HasField("description"):
            mc.description.values[tag] = f"Beschreibung {tag}"
    if extra and draw(st.booleans()):
        mc.language = extra[0]
    if draw(st.booleans()):
        mc.level.not_applicable.reason.values["en"] = "not referenced to a qualifications framework"
        mc.level.ClearField("nqf_level_uri")
        mc.level.ClearField("qf_ehea_cycle")
    else:
        level = draw(st.integers(1, 8))
        mc.level.eqf_level = level  # type: ignore[assignment]
        cycles = {5: pb.QF_EHEA_CYCLE_SHORT, 6: pb.QF_EHEA_CYCLE_FIRST, 7: pb.QF_EHEA_CYCLE_SECOND,
                  8: pb.QF_EHEA_CYCLE_THIRD}
        if level in cycles and draw(st.booleans()):
            mc.level.qf_ehea_cycle = cycles[level]
        else:
            mc.level.ClearField("qf_ehea_cycle")
    mc.workload.credit_system = draw(st.sampled_from([pb.CREDIT_SYSTEM_ECTS, pb.CREDIT_SYSTEM_ECVET]))
    mc.workload.credit_points = draw(st.sampled_from(["0.25", "1", "2.5", "60"]))
    if draw(st.booleans()):
        mc.workload.hours = draw(st.sampled_from([0.0, 1.5, 30.0]))
    mc.assessment.type = draw(st.integers(1, 14))  # type: ignore[assignment]
    mc.participation.mode = draw(st.sampled_from([pb.LEARNING_MODE_ONLINE, pb.LEARNING_MODE_ONSITE,
                                                  pb.LEARNING_MODE_BLENDED]))
    if draw(st.booleans()):
        mc.participation.ClearField("setting")
    mc.quality_assurance.type = draw(st.integers(1, 4))  # type: ignore[assignment]
    if draw(st.booleans()):
        for name in ("framework_name", "decision_reference", "report_url", "description"):
            mc.quality_assurance.ClearField(name)
    if draw(st.booleans()):
        mc.quality_assurance.accreditation_id = "urn:microcred:accreditation:42"
    if mc.HasField("supervision"):
        mc.supervision.verification = draw(st.integers(1, 4))  # type: ignore[assignment]
    if mc.HasField("integration") and draw(st.booleans()):
        mc.integration.kind = pb.INTEGRATION_KIND_STAND_ALONE
        mc.integration.ClearField("related_credential_ids")
    if draw(st.booleans()):
        mc.awarding_bodies.append(_org("Universidad de Ejemplo", "ES", "https://ejemplo.example"))
    return mc


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(micro_credentials(), STATUSES)
def test_generated_cohort_has_no_shacl_violation(mc: pb.MicroCredential, status: StatusReference | None) -> None:
    assert validate_micro_credential(mc, now=datetime(2026, 3, 1, tzinfo=UTC)) == []
    document = _render(mc, status)
    assert ("credentialStatus" in document) is (status is not None)  # the platform's EDCs name their status
    report = validate_edc(document)
    assert report.violations == ()
    assert report.conforms
    if mc.quality_assurance.accreditation_id:  # an accredited issuer also meets EDC-accredited
        assert "accreditation" in document["evidence"]
        assert validate_edc(document, accredited=True).violations == ()


def test_accredited_profile_needs_the_accreditation_in_the_evidence() -> None:
    mc = _mc()
    mc.quality_assurance.accreditation_id = "urn:microcred:accreditation:42"
    document = _render(mc)
    assert validate_edc(document, accredited=True).violations == ()
    del document["evidence"]["accreditation"]
    report = validate_edc(document, accredited=True)
    assert [v.split(" | ")[1] for v in report.violations] == ["http://data.europa.eu/snb/model/elm/accreditation"]
    assert validate_edc(document).violations == ()


def test_every_optional_element_absent_and_present() -> None:
    full = _mc()
    bare = _mc()
    for name in OPTIONAL:
        bare.ClearField(name)
    for mc in (full, bare):
        report = validate_edc(_render(mc))
        assert report.violations == ()


def test_a_broken_rendering_is_reported() -> None:
    document = _render(_mc())
    del document["credentialSubject"]["hasClaim"]["title"]
    del document["issuer"]["eIDASIdentifier"]
    report = validate_edc(document)
    assert not report.conforms
    assert any("eidasLegalIdentifier" in v for v in report.violations)
    assert any("http://purl.org/dc/terms/title" in v for v in report.violations)


def test_ec_sealed_sample_payload_conforms() -> None:
    sealed = json.loads((DATA / "Sample-MC-Annex1-signed.jsonld").read_text("utf-8"))
    report = validate_edc(json.loads(sealed["payload"]))
    assert report.conforms and report.violations == ()


def test_ec_unsigned_sample_lacks_only_what_sealing_adds() -> None:
    document = json.loads((DATA / "Sample-MC-Annex1-unsigned.jsonld").read_text("utf-8"))
    report = validate_edc(document)
    assert not report.conforms
    paths = sorted(v.split(" | ")[1] for v in report.violations)
    assert paths == ["http://data.europa.eu/snb/model/elm/eidasLegalIdentifier",
                     "https://www.w3.org/2018/credentials#issued",
                     "https://www.w3.org/2018/credentials#issuer"]


def test_remote_context_is_refused() -> None:
    document = copy.deepcopy(_render(_mc()))
    document["@context"].append("https://evil.example/context.jsonld")
    with pytest.raises(RemoteContextRefused, match=r"evil\.example"):
        validate_edc(document)
