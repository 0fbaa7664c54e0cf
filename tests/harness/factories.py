"""Builders of protobuf test data shared by the tests of every service and by ``bench/``.

``valid_micro_credential()`` returns a complete MicroCredential (all 11 mandatory and all 5 optional
Annex I elements, plus validity window and achievement data) that passes
``validate_micro_credential``. Each call returns a fresh message, so tests may mutate it freely.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from microcred.gen.microcred.v1 import elements_pb2 as pb

#: Issue date of the factory credential.
ISSUED_AT = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
#: End of validity of the factory credential.
VALID_UNTIL = datetime(2035, 3, 14, 10, 0, tzinfo=UTC)
#: A "now" for tests that must not depend on the wall clock.
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

LEARNER_DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
LEARNER_EMAIL = "ana.andromeda@example.org"
SALT = "c2FsdC1mb3ItdGVzdHM"


def timestamp(dt: datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp for an aware datetime."""
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt)
    return ts


def lang(en: str, **others: str) -> pb.LangString:
    """A LangString with an English text and optional other languages (``lang("x", de="y")``)."""
    return pb.LangString(values={"en": en, **others})


def identity_hash(value: str, salt: str = SALT) -> str:
    """Open Badges 3.0 identityHash: ``sha256$`` + hex(sha256(value + salt))."""
    return "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()


def organisation(name: str = "University of Zed", country: str = "IE") -> pb.Organisation:
    """A valid awarding body / QA body."""
    return pb.Organisation(
        id="did:web:uniz.example",
        legal_name=lang(name, ga="Ollscoil Zed"),
        identifiers=[
            pb.Identifier(scheme="registration", value="0000"),
            pb.Identifier(scheme="vat", value="654321"),
        ],
        country=pb.Country(code=country),
        homepage="https://uniz.example",
        email="registry@uniz.example",
    )


def valid_micro_credential() -> pb.MicroCredential:
    """A complete, valid micro-credential (EQF 6, 5 ECTS, blended, supervised with ID verification)."""
    return pb.MicroCredential(
        learner=pb.Person(
            given_name="Ana",
            family_name="Andromeda",
            full_name="Ana Andromeda",
            date_of_birth={"year": 2000, "month": 5, "day": 17},
            national_id=pb.NationalIdentifier(value="LA-234218", country_code="IT"),
            email=LEARNER_EMAIL,
            did=LEARNER_DID,
            hashed_id=pb.HashedIdentifier(
                identity_type="emailAddress", identity_hash=identity_hash(LEARNER_EMAIL), salt=SALT
            ),
        ),
        title=lang("Digital micro-credential creation", es="Creación de microcredenciales digitales"),
        countries=[pb.Country(code="IE", uri="http://publications.europa.eu/resource/authority/country/IRL")],
        regions=[
            pb.Region(
                uri="http://publications.europa.eu/resource/authority/atu/IRL_CTH_DUB",
                name=lang("Dublin city"),
            )
        ],
        awarding_bodies=[organisation()],
        issued_at=timestamp(ISSUED_AT),
        learning_outcomes=[
            pb.LearningOutcome(
                id="urn:epass:learningOutcome:1",
                text=lang("Develop digital content for micro-credentials", es="Contenido digital"),
                esco_skill_uris=["http://data.europa.eu/esco/skill/b7ebc0b5-9c38-4c1f-a6b0-2fe8a4ab5c5b"],
            ),
            pb.LearningOutcome(text=lang("Explain the EU standard elements of a micro-credential")),
        ],
        workload=pb.Workload(credit_system=pb.CREDIT_SYSTEM_ECTS, credit_points="5", hours=125),
        level=pb.Level(
            eqf_level=pb.EQF_LEVEL_6,
            nqf_level_uri="http://data.europa.eu/snb/qdr/c_c392e7a2",
            qf_ehea_cycle=pb.QF_EHEA_CYCLE_FIRST,
        ),
        assessment=pb.Assessment(
            type=pb.ASSESSMENT_TYPE_WRITTEN_EXAMINATION, description=lang("Two-hour written examination")
        ),
        participation=pb.Participation(mode=pb.LEARNING_MODE_BLENDED, setting=pb.LEARNING_SETTING_NON_FORMAL),
        quality_assurance=pb.QualityAssurance(
            type=pb.ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE,
            qa_body=organisation("Quality and Qualifications Ireland"),
            framework_name="ESG 2015",
            decision_reference="QQI-2024-0042",
            report_url="https://qqi.example/reports/2024-0042",
            description=lang("Programme validated by the national QA agency"),
        ),
        prerequisites=lang("Basic digital skills (DigComp level 3)"),
        supervision=pb.Supervision(
            verification=pb.SUPERVISION_VERIFICATION_SUPERVISED_WITH_ID_VERIFICATION,
            mode=pb.LEARNING_MODE_ONLINE,
        ),
        grade=pb.Grade(
            value="Pass",
            scheme=pb.GradingScheme(id="urn:uniz:grading:pass-fail", title=lang("Pass/Fail")),
            status=pb.GRADE_STATUS_PASSED,
        ),
        integration=pb.Integration(
            kind=pb.INTEGRATION_KIND_STACKABLE,
            related_credential_ids=["https://uniz.example/achievements/digital-education-certificate"],
            description=lang("Counts towards the Certificate in Digital Education"),
        ),
        further_information=pb.FurtherInformation(
            text=lang("Offered in the Research Alliance network"),
            links=[pb.Link(url="https://uniz.example/mc/digital", title=lang("Course page"))],
        ),
        valid_from=timestamp(ISSUED_AT),
        valid_until=timestamp(VALID_UNTIL),
        achievement_id="https://uniz.example/achievements/digital-mc-creation",
        description=lang("Short learning programme on creating digital micro-credentials"),
        criteria_narrative=lang("Pass the written examination"),
        language="en",
    )


def minimal_micro_credential() -> pb.MicroCredential:
    """A valid micro-credential with only the mandatory elements."""
    mc = valid_micro_credential()
    for name in (
        "regions", "prerequisites", "supervision", "grade", "integration", "further_information",
        "valid_from", "valid_until", "achievement_id", "description", "criteria_narrative", "language",
    ):  # fmt: skip
        mc.ClearField(name)
    return mc
