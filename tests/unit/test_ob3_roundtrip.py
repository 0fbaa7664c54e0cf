"""Model -> OB 3.0 JSON -> read_eu_elements: what survives the rendering, pinned.

The protobuf model keeps everything (it travels in CredentialIssued); the OB 3.0 rendering is coarser:
texts are English only, given/family names and the national id's country are not rendered, the date of
birth, e-mail and national id only as salted hashes, regions' names and the QA body's details beyond its
name are dropped. Everything else comes back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.credential.eu_elements import EUElements, missing_mandatory_elements, read_eu_elements
from microcred.credential.layout import Target
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.jsonld import loader
from microcred.model.validation import MANDATORY_FIELDS
from tests.harness.factories import lang, minimal_micro_credential, valid_micro_credential
from tests.unit.test_ob3_render import DID, render

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors" / "ob3"


def test_everything_the_rendering_carries_comes_back() -> None:
    mc = valid_micro_credential()
    e = read_eu_elements(render(mc))
    assert e.credential_id == "urn:uuid:00000000-0000-4000-8000-000000000001"
    assert e.title == mc.title.values["en"]
    assert e.learner_did == mc.learner.did and e.learner_name == mc.learner.full_name
    assert {i.identity_type for i in e.learner_identifiers} == {"name", "emailAddress", "nationalIdentityNumber",
                                                                 "ext:dateOfBirth"}
    assert e.issuer is not None and e.issuer.id == DID and e.issuer.country == "IE"
    assert [b.name for b in e.awarding_bodies] == ["University of Zed"] and e.awarding_bodies[0].country == "IE"
    assert e.countries == ("IE",) and e.regions[0].uri == mc.regions[0].uri
    assert e.issued_at == "2025-03-14T10:00:00Z" and e.valid_until == "2035-03-14T10:00:00Z"
    assert [o.text for o in e.learning_outcomes] == [lo.text.values["en"] for lo in mc.learning_outcomes]
    assert e.learning_outcomes[0].esco_skill_uris == tuple(mc.learning_outcomes[0].esco_skill_uris)
    assert e.credit_points == "5" and e.credit_system is not None
    assert e.credit_system.uri == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert e.workload_hours == 125.0
    assert e.eqf_level == 6 and e.qf_ehea_cycle == "First cycle" and e.nqf_level_uri == mc.level.nqf_level_uri
    assert e.assessment_type is not None and e.assessment_type.label == "written examination"
    assert e.assessment_description == "Two-hour written examination"
    assert e.learning_mode is not None and e.learning_mode.label == "Blended"
    assert e.learning_setting is not None and e.learning_setting.label == "non-formal learning"
    assert e.quality_assurance is not None and e.quality_assurance.label == "Program Quality Assurance"
    assert e.qa_decision_reference == "QQI-2024-0042" and e.qa_framework == "ESG 2015"
    assert e.qa_body is not None and e.qa_body.name == "Quality and Qualifications Ireland"
    assert e.qa_report_url == mc.quality_assurance.report_url
    assert e.qa_description == mc.quality_assurance.description.values["en"]
    assert e.prerequisites == mc.prerequisites.values["en"]
    assert e.supervision is not None and e.supervision.label == "Supervised with ID Verification"
    assert e.supervision_mode is not None and e.supervision_mode.label == "Online"
    assert (e.grade, e.grade_scheme, e.grade_status) == ("Pass", "Pass/Fail", "Completed")
    assert e.stackable is True and e.related_ids == tuple(mc.integration.related_credential_ids)
    assert e.stackability_description == mc.integration.description.values["en"]
    assert e.further_information == mc.further_information.text.values["en"]
    assert e.further_links == (("Course page", "https://uniz.example/mc/digital"),)
    assert e.achievement_id == mc.achievement_id and e.achievement_type == "MicroCredential"
    assert e.description == mc.description.values["en"] and e.criteria == mc.criteria_narrative.values["en"]
    assert e.language == "en" and e.status_purposes == ("revocation", "suspension")
    assert missing_mandatory_elements(render(mc)) == []


def test_level_not_applicable_hours_only_and_extra_awarding_bodies() -> None:
    mc = minimal_micro_credential()
    mc.level.ClearField("qf_ehea_cycle")
    mc.level.not_applicable.reason.values["en"] = "not referenced"
    mc.workload.Clear()
    mc.workload.hours = 12.5
    mc.awarding_bodies.append(pb.Organisation(id="https://partner.example", legal_name=lang("Partner"),
                                              country=pb.Country(code="FR")))
    e = read_eu_elements(render(mc))
    assert e.eqf_level is None and e.level_not_applicable == "not referenced"
    assert e.workload_hours == 12.5 and e.credit_points == ""
    assert [(b.id, b.name, b.country) for b in e.awarding_bodies][1] == ("https://partner.example", "Partner", "FR")
    assert missing_mandatory_elements(render(mc)) == []


@pytest.mark.parametrize(("target", "element"), [
    (Target.EQF_LEVEL, "level"), (Target.ASSESSMENT_TYPE, "assessment"), (Target.LEARNING_MODE, "participation"),
    (Target.QUALITY_ASSURANCE, "quality_assurance"), (Target.COUNTRY, None),
])
def test_missing_elements_are_named(target: Target, element: str | None) -> None:
    doc = render(minimal_micro_credential())
    achievement = doc["credentialSubject"]["achievement"]
    achievement["alignment"] = [a for a in achievement["alignment"] if a["targetType"] != target]
    # the issuer's address still names a country, so dropping the country alignments loses nothing mandatory
    assert missing_mandatory_elements(doc) == ([element] if element else [])


def test_workload_and_outcomes_missing() -> None:
    doc = render(minimal_micro_credential())
    achievement = doc["credentialSubject"]["achievement"]
    achievement["alignment"] = [a for a in achievement["alignment"]
                                if a["targetType"] not in (Target.CREDIT_POINTS, Target.WORKLOAD_HOURS,
                                                           Target.SKILL)]
    achievement["criteria"]["narrative"] = "Pass the exam."
    assert missing_mandatory_elements(doc) == ["learning_outcomes", "workload"]
    assert missing_mandatory_elements({}) == list(MANDATORY_FIELDS)


@pytest.mark.parametrize("name", ["complete.json", "simple-did-key-method.json", "endorsement-valid.json"])
def test_third_party_credentials_are_read_without_errors(name: str) -> None:
    doc = json.loads((VECTORS / "1edtech" / name).read_text())
    e = read_eu_elements(doc)
    assert isinstance(e, EUElements) and e.title
    assert "level" in missing_mandatory_elements(doc)


@pytest.mark.parametrize("junk", [{"credentialSubject": "x"}, {"credentialSubject": [1, {"achievement": []}]},
                                  {"issuer": 5, "credentialSubject": {"achievement": {"alignment": [None, 3, {}]}}},
                                  {"credentialSubject": {"result": [{"value": 3}], "identifier": "x"}}])
def test_malformed_input_never_raises(junk: dict[str, Any]) -> None:
    read_eu_elements(junk)
    assert len(missing_mandatory_elements(junk)) >= 10


# Texts as issuers type them: any printable characters, Markdown-looking ones included.
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=text, outcomes=st.lists(text, min_size=1, max_size=4), prerequisites=st.one_of(st.none(), text),
       criteria=st.one_of(st.none(), text), further=st.one_of(st.none(), text), link_title=text,
       grade=text, with_did=st.booleans())
def test_texts_round_trip_and_always_canonicalise(title: str, outcomes: list[str], prerequisites: str | None,
                                                  criteria: str | None, further: str | None, link_title: str,
                                                  grade: str, with_did: bool) -> None:
    mc = valid_micro_credential()
    mc.title.values["en"] = title
    del mc.learning_outcomes[:]
    for outcome in outcomes:
        mc.learning_outcomes.add(text=lang(outcome))
    for field_name, value in (("prerequisites", prerequisites), ("criteria_narrative", criteria)):
        mc.ClearField(field_name)
        if value is not None:
            getattr(mc, field_name).values["en"] = value
    mc.further_information.ClearField("text")
    if further is not None:
        mc.further_information.text.values["en"] = further
    mc.further_information.links[0].title.values["en"] = link_title
    mc.grade.value = grade
    if not with_did:
        mc.learner.ClearField("did")
    doc = render(mc)
    loader.canonize(doc)  # safe mode never fails on issuer text
    e = read_eu_elements(doc)

    def one_line(s: str) -> str:
        return " ".join(s.split())

    assert e.title == title
    assert [o.text for o in e.learning_outcomes] == [one_line(o) for o in outcomes]
    assert e.prerequisites == (one_line(prerequisites) if prerequisites and one_line(prerequisites) else "")
    assert e.grade == grade and e.learner_did == (mc.learner.did if with_did else "")
    assert e.further_links[0][1] == "https://uniz.example/mc/digital"
    assert missing_mandatory_elements(doc) == []


heading_like = st.lists(st.sampled_from(["## Learning outcomes", "## Links", "- item", "plain", "## Prerequisites",
                                          "\\ backslash", ""]), min_size=1, max_size=5).map("\n".join)


@settings(max_examples=40, deadline=None)
@given(criteria=heading_like, further=heading_like)
def test_markdown_looking_free_text_stays_in_its_place(criteria: str, further: str) -> None:
    mc = valid_micro_credential()
    mc.criteria_narrative.values["en"] = criteria + " end"
    mc.further_information.text.values["en"] = further + " end"
    e = read_eu_elements(render(mc))
    assert e.criteria == (criteria + " end").strip()
    assert e.further_information == (further + " end").strip()
    assert [o.text for o in e.learning_outcomes] == [lo.text.values["en"] for lo in mc.learning_outcomes]
    assert e.prerequisites == mc.prerequisites.values["en"]
    assert e.further_links == (("Course page", "https://uniz.example/mc/digital"),)


def test_a_remembered_achievement_is_read_as_a_fresh_one() -> None:
    # The achievement's elements are remembered by its JSON text: a second credential sharing it gets the same
    # elements, and one whose achievement differs in any value gets its own (never the remembered ones).
    from microcred.credential import eu_elements

    doc = render(valid_micro_credential())
    first = read_eu_elements(doc)
    assert read_eu_elements(json.loads(json.dumps(doc))) == first
    changed = json.loads(json.dumps(doc))
    alignment = changed["credentialSubject"]["achievement"]["alignment"]
    level = next(a for a in alignment if a.get("targetType") == Target.EQF_LEVEL)
    level["targetCode"] = "3" if level["targetCode"] != "3" else "4"
    again = read_eu_elements(changed)
    assert again.eqf_level == int(level["targetCode"]) != first.eqf_level
    assert again == eu_elements.EUElements(**{**first.__dict__, "eqf_level": again.eqf_level})
