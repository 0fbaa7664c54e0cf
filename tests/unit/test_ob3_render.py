"""The Open Badges 3.0 rendering: standard contexts only, every term defined, required OB 3.0 fields, EU elements."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credential.layout import ACHIEVEMENT_TYPE, CONTEXTS, OB_CONTEXT, Target
from microcred.credential.ob3 import identity_hash, issuer_profile, render_achievement_credential
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.jsonld import loader
from microcred.status.build import status_entry
from tests.harness.factories import LEARNER_EMAIL, lang, minimal_micro_credential, organisation, valid_micro_credential

DID = "did:web:trust.example.test:issuers:uni-a"
ISSUER = issuer_profile(DID, organisation("University A"))
ENTRIES = (status_entry("https://status.example.test/lists/r1", 7, "revocation"),
           status_entry("https://status.example.test/lists/s1", 9, "suspension"))
VALID_FROM = datetime(2025, 3, 14, 10, tzinfo=UTC)
SALT = "test-salt"
# Every predicate of our credentials must come from one of these vocabularies (nothing undefined, no @vocab).
NAMESPACES = ("https://purl.imsglobal.org/spec/vc/ob/vocab.html#", "https://schema.org/",
              "https://www.w3.org/2018/credentials#", "https://www.w3.org/ns/credentials/status#",
              "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def render(mc: pb.MicroCredential, **kwargs: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"credential_id": "urn:uuid:00000000-0000-4000-8000-000000000001", "issuer": ISSUER,
                            "status_entries": ENTRIES, "valid_from": VALID_FROM, "salt": SALT, **kwargs}
    return render_achievement_credential(mc, **args)


def variants() -> dict[str, pb.MicroCredential]:
    """Credentials exercising every branch of the renderer."""
    out = {"full": valid_micro_credential(), "minimal": minimal_micro_credential()}
    no_did = valid_micro_credential()
    no_did.learner.ClearField("did")
    out["no learner DID"] = no_did
    not_applicable = minimal_micro_credential()
    not_applicable.level.ClearField("qf_ehea_cycle")
    not_applicable.level.not_applicable.reason.values["en"] = "not referenced to a framework"
    out["level not applicable"] = not_applicable
    hours = minimal_micro_credential()
    hours.workload.ClearField("credit_points")
    hours.workload.ClearField("credit_system")
    hours.workload.hours = 37.5
    out["hours only"] = hours
    ecvet = minimal_micro_credential()
    ecvet.workload.credit_system = pb.CREDIT_SYSTEM_ECVET
    out["ECVET"] = ecvet
    bodies = valid_micro_credential()
    bodies.awarding_bodies.append(pb.Organisation(legal_name=lang("Partner College"), country=pb.Country(code="FR")))
    bodies.countries.append(pb.Country(code="FR"))
    out["two awarding bodies"] = bodies
    alone = valid_micro_credential()
    alone.integration.Clear()
    alone.integration.kind = pb.INTEGRATION_KIND_STAND_ALONE
    alone.grade.status = pb.GRADE_STATUS_FAILED
    alone.grade.scheme.ClearField("id")
    alone.grade.distribution.values["en"] = "A 10%, B 30%"
    out["stand-alone, failed grade"] = alone
    return out


@pytest.mark.parametrize("name", list(variants()))
def test_every_variant_canonicalises_in_safe_mode_with_known_vocabularies(name: str) -> None:
    doc = render(variants()[name])
    nquads = loader.canonize(doc)  # safe mode: raises on any undefined term or relative IRI
    predicates = {line.split(" ")[1].strip("<>") for line in nquads.splitlines()}
    assert all(p.startswith(NAMESPACES) for p in predicates), sorted(p for p in predicates
                                                                     if not p.startswith(NAMESPACES))


def test_only_the_standard_contexts_and_types() -> None:
    doc = render(valid_micro_credential())
    assert doc["@context"] == list(CONTEXTS) and doc["@context"][1] == OB_CONTEXT
    assert doc["type"] == ["VerifiableCredential", "AchievementCredential"]
    achievement = doc["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == ACHIEVEMENT_TYPE == "MicroCredential"
    assert "credentialSchema" not in doc  # 1EdTechJsonSchemaValidator2019 is not defined by the contexts


def _objects(node: Any, of_type: str) -> list[dict[str, Any]]:
    out = []
    if isinstance(node, dict):
        types = node.get("type")
        if types == of_type or (isinstance(types, list) and of_type in types):
            out.append(node)
        for value in node.values():
            out += _objects(value, of_type)
    elif isinstance(node, list):
        for item in node:
            out += _objects(item, of_type)
    return out


@pytest.mark.parametrize("name", list(variants()))
def test_ob3_required_fields(name: str) -> None:
    doc = render(variants()[name])
    for key in ("id", "type", "issuer", "validFrom", "credentialSubject", "name"):
        assert doc[key]
    required = {"Achievement": ("id", "criteria", "description", "name"), "Profile": ("id", "name"),
                "AchievementSubject": (), "Alignment": ("targetName", "targetUrl", "targetType", "targetFramework"),
                "IdentityObject": ("hashed", "identityHash", "identityType"), "Result": ("resultDescription",),
                "ResultDescription": ("id", "name", "resultType"), "Related": ("id",), "Address": ()}
    for of_type, fields in required.items():
        for obj in _objects(doc, of_type):
            assert all(obj.get(f) not in (None, "") for f in fields), (of_type, obj)
    for alignment in _objects(doc, "Alignment"):
        assert re.fullmatch(r"[a-z]+:\S+", alignment["targetUrl"])
        assert alignment["targetType"] in {t.value for t in Target}
    assert doc["credentialStatus"] == [dict(e) for e in ENTRIES]


def test_eu_elements_without_native_property_point_at_eu_vocabularies() -> None:
    doc = render(valid_micro_credential())
    by_type = {a["targetType"]: a for a in doc["credentialSubject"]["achievement"]["alignment"]}
    assert by_type["ext:EQFLevel"]["targetUrl"] == "http://data.europa.eu/snb/eqf/6"
    assert by_type["ext:EQFLevel"]["targetDescription"] == "QF-EHEA: First cycle"
    assert by_type["ext:CreditPoints"]["targetUrl"] == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert by_type["ext:CreditPoints"]["targetCode"] == "5"
    assert by_type["ext:NotionalWorkload"]["targetCode"] == "PT125H"
    assert by_type["ext:LearningMode"]["targetUrl"] == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert by_type["ext:LearningSetting"]["targetUrl"] == "http://data.europa.eu/snb/learning-setting/e207a81fc7"
    assert by_type["ext:AssessmentType"]["targetUrl"] == "http://data.europa.eu/snb/assessment/6e6cb2cc78"
    assert by_type["ext:QualityAssurance"]["targetUrl"] == "http://data.europa.eu/snb/accreditation/820101cba6"
    assert by_type["ext:SupervisionVerification"]["targetUrl"] == \
        "http://data.europa.eu/snb/supervision-verification/70be69aaf9"
    assert by_type["ext:Country"]["targetUrl"] == "http://publications.europa.eu/resource/authority/country/IRL"
    assert by_type["ext:NQFLevel"]["targetUrl"] == "http://data.europa.eu/snb/qdr/c_c392e7a2"
    assert by_type["ceasn:Competency"]["targetUrl"].startswith("http://data.europa.eu/esco/")
    assert all(a["type"] == ["Alignment"] and a["targetFramework"] for a in by_type.values())


def test_the_learner_is_identified_by_did_and_salted_hashes() -> None:
    subject = render(valid_micro_credential())["credentialSubject"]
    assert subject["id"] == valid_micro_credential().learner.did
    by_type = {i["identityType"]: i for i in subject["identifier"] if i.get("salt", SALT) == SALT}
    assert by_type["name"] == {"type": "IdentityObject", "identityHash": "Ana Andromeda", "identityType": "name",
                               "hashed": False}
    email = by_type["emailAddress"]
    assert email["identityHash"] == "sha256$" + hashlib.sha256((LEARNER_EMAIL + SALT).encode()).hexdigest()
    assert email["identityHash"] == identity_hash(LEARNER_EMAIL, email["salt"]) and email["hashed"] is True
    assert by_type["nationalIdentityNumber"]["identityHash"] == identity_hash("LA-234218", SALT)
    assert by_type["ext:dateOfBirth"]["identityHash"] == identity_hash("2000-05-17", SALT)
    assert "LA-234218" not in str(subject) and LEARNER_EMAIL not in str(subject)  # no clear-text personal ids
    given = valid_micro_credential().learner.hashed_id  # the model's own hashed id is passed through
    assert {"type": "IdentityObject", "identityHash": given.identity_hash, "identityType": given.identity_type,
            "hashed": True, "salt": given.salt} in subject["identifier"]


def test_rendering_is_pure_and_the_default_salt_follows_the_credential_id() -> None:
    assert render(valid_micro_credential()) == render(valid_micro_credential())
    a = render(valid_micro_credential(), salt=None)
    b = render(valid_micro_credential(), salt=None, credential_id="urn:uuid:00000000-0000-4000-8000-000000000002")
    salts = {i.get("salt") for d in (a, b) for i in d["credentialSubject"]["identifier"] if i["hashed"]} - {
        valid_micro_credential().learner.hashed_id.salt}
    assert len(salts) == 2


def test_control_characters_are_replaced() -> None:
    mc = valid_micro_credential()
    mc.title.values["en"] = "Tab\there\x00and\x7fbell\x07, new\nline"
    doc = render(mc)
    assert doc["name"] == "Tab here and bell , new\nline"
    loader.canonize(doc)


def test_no_learner_did_leaves_the_subject_a_blank_node() -> None:
    mc = valid_micro_credential()
    mc.learner.ClearField("did")
    assert "id" not in render(mc)["credentialSubject"]
