"""Tests of microcred.model.validation: a failing and a passing case for every rule, plus properties."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model import vocab
from microcred.model.errors import (
    INCONSISTENT,
    INVALID_FORMAT,
    OUT_OF_RANGE,
    REQUIRED,
    UNKNOWN_VOCABULARY,
    FieldViolation,
    from_bad_request,
    to_bad_request,
)
from microcred.model.validation import MANDATORY_FIELDS, validate_micro_credential
from tests.harness.factories import (
    LEARNER_DID,
    NOW,
    identity_hash,
    lang,
    minimal_micro_credential,
    timestamp,
    valid_micro_credential,
)

Mutation = Callable[[pb.MicroCredential], object]


def _validate(mc: pb.MicroCredential) -> list[FieldViolation]:
    return validate_micro_credential(mc, now=NOW)


def _clear(*path: str) -> Mutation:
    """Mutation clearing the field at a dotted path, e.g. _clear("learner", "did")."""

    def mutate(mc: pb.MicroCredential) -> None:
        target = mc
        for name in path[:-1]:
            target = getattr(target, name)
        target.ClearField(path[-1])

    return mutate


def _set(path: str, value: object) -> Mutation:
    """Mutation assigning a scalar at a dotted path; "a.b[0].c" indexes repeated fields."""

    def mutate(mc: pb.MicroCredential) -> None:
        target: object = mc
        *parents, last = path.split(".")
        for part in parents:
            name, _, index = part.partition("[")
            target = getattr(target, name)
            if index:
                target = target[int(index.rstrip("]"))]  # type: ignore[index]
        setattr(target, last, value)

    return mutate


def _all(*mutations: Mutation) -> Mutation:
    def mutate(mc: pb.MicroCredential) -> None:
        for m in mutations:
            m(mc)

    return mutate


def _title(values: dict[str, str]) -> Mutation:
    def mutate(mc: pb.MicroCredential) -> None:
        mc.title.values.clear()
        mc.title.values.update(values)

    return mutate


def _german_only(*path: str) -> Mutation:
    """Mutation replacing the LangString at ``path`` by a German-only one (no 'en')."""

    def mutate(mc: pb.MicroCredential) -> None:
        target: object = mc
        for name in path:
            target = getattr(target, name)
        assert isinstance(target, pb.LangString)
        target.values.clear()
        target.values["de"] = "Nur Deutsch"

    return mutate


def _no_identifiers(mc: pb.MicroCredential) -> None:
    for name in ("did", "email", "national_id", "hashed_id"):
        mc.learner.ClearField(name)


def _keep_only_identifier(name: str) -> Mutation:
    def mutate(mc: pb.MicroCredential) -> None:
        for other in ("did", "email", "national_id", "hashed_id"):
            if other != name:
                mc.learner.ClearField(other)

    return mutate


def _dob(year: int, month: int, day: int) -> Mutation:
    def mutate(mc: pb.MicroCredential) -> None:
        mc.learner.date_of_birth.year, mc.learner.date_of_birth.month, mc.learner.date_of_birth.day = (
            year,
            month,
            day,
        )

    return mutate


def _not_applicable(mc: pb.MicroCredential) -> None:
    mc.level.not_applicable.reason.values["en"] = "Not referenced to a qualifications framework"
    mc.level.ClearField("qf_ehea_cycle")


def _issued_in(delta: timedelta) -> Mutation:
    def mutate(mc: pb.MicroCredential) -> None:
        mc.issued_at.CopyFrom(timestamp(NOW + delta))
        mc.valid_from.CopyFrom(timestamp(NOW + delta))

    return mutate


# (id, mutation, the one expected violation: field path and reason)
FAILING: list[tuple[str, Mutation, str, str]] = [
    # 1 learner
    ("learner-missing", _clear("learner"), "learner", REQUIRED),
    (
        "learner-no-name",
        _all(_clear("learner", "full_name"), _clear("learner", "family_name")),
        "learner.full_name",
        REQUIRED,
    ),
    ("learner-no-identifier", _no_identifiers, "learner", REQUIRED),
    ("learner-did-malformed", _set("learner.did", "key:z6Mk"), "learner.did", INVALID_FORMAT),
    ("learner-email-malformed", _set("learner.email", "ana@"), "learner.email", INVALID_FORMAT),
    (
        "learner-national-id-empty",
        _set("learner.national_id.value", " "),
        "learner.national_id.value",
        REQUIRED,
    ),
    (
        "learner-national-id-country",
        _set("learner.national_id.country_code", "ITA"),
        "learner.national_id.country_code",
        INVALID_FORMAT,
    ),
    (
        "learner-hash-malformed",
        _set("learner.hashed_id.identity_hash", "md5$abc"),
        "learner.hashed_id.identity_hash",
        INVALID_FORMAT,
    ),
    (
        "learner-hash-type-missing",
        _clear("learner", "hashed_id", "identity_type"),
        "learner.hashed_id.identity_type",
        REQUIRED,
    ),
    ("learner-dob-future", _dob(2030, 1, 1), "learner.date_of_birth", OUT_OF_RANGE),
    ("learner-dob-not-a-date", _dob(2000, 2, 30), "learner.date_of_birth", INVALID_FORMAT),
    # 2 title
    ("title-missing", _clear("title"), "title", REQUIRED),
    ("title-no-en", _title({"fr": "Titre"}), "title", REQUIRED),
    ("title-blank", _title({"en": "  "}), "title.values[en]", REQUIRED),
    (
        "title-unknown-language",
        _title({"en": "Title", "xx": "?"}),
        "title.values[xx]",
        UNKNOWN_VOCABULARY,
    ),
    ("title-malformed-tag", _title({"en": "Title", "EN_gb": "?"}), "title.values[EN_gb]", INVALID_FORMAT),
    # 3 countries and regions
    ("countries-missing", _clear("countries"), "countries", REQUIRED),
    ("country-unknown", _set("countries[0].code", "XX"), "countries[0].code", INVALID_FORMAT),
    (
        "country-lowercase",
        _all(_set("countries[0].code", "ie"), _set("countries[0].uri", "")),
        "countries[0].code",
        INVALID_FORMAT,
    ),
    (
        "country-eu-protocol-code",
        _all(_set("countries[0].code", "EL"), _set("countries[0].uri", "")),
        "countries[0].code",
        INVALID_FORMAT,
    ),
    (
        "country-uri-mismatch",
        _set("countries[0].uri", "http://publications.europa.eu/resource/authority/country/FRA"),
        "countries[0].uri",
        INCONSISTENT,
    ),
    ("country-duplicate", lambda mc: mc.countries.add(code="IE"), "countries[1].code", INCONSISTENT),
    ("region-not-uri", _set("regions[0].uri", "Dublin"), "regions[0].uri", INVALID_FORMAT),
    # 4 awarding bodies
    ("awarding-bodies-missing", _clear("awarding_bodies"), "awarding_bodies", REQUIRED),
    (
        "awarding-body-no-legal-name",
        lambda mc: mc.awarding_bodies[0].ClearField("legal_name"),
        "awarding_bodies[0].legal_name",
        REQUIRED,
    ),
    (
        "awarding-body-homepage",
        _set("awarding_bodies[0].homepage", "ftp://uniz.example"),
        "awarding_bodies[0].homepage",
        INVALID_FORMAT,
    ),
    (
        "awarding-body-email",
        _set("awarding_bodies[0].email", "registry"),
        "awarding_bodies[0].email",
        INVALID_FORMAT,
    ),
    (
        "awarding-body-identifier",
        _set("awarding_bodies[0].identifiers[0].value", ""),
        "awarding_bodies[0].identifiers[0].value",
        REQUIRED,
    ),
    (
        "awarding-body-country",
        _set("awarding_bodies[0].country.code", "IRL"),
        "awarding_bodies[0].country.code",
        INVALID_FORMAT,
    ),
    ("awarding-body-id", _set("awarding_bodies[0].id", "uni z"), "awarding_bodies[0].id", INVALID_FORMAT),
    # 5 issue date
    ("issued-at-missing", _clear("issued_at"), "issued_at", REQUIRED),
    ("issued-at-future", _issued_in(timedelta(days=2)), "issued_at", OUT_OF_RANGE),
    ("issued-at-invalid", _set("issued_at.nanos", -1), "issued_at", INVALID_FORMAT),
    # 6 learning outcomes
    ("outcomes-missing", _clear("learning_outcomes"), "learning_outcomes", REQUIRED),
    (
        "outcome-no-text",
        lambda mc: mc.learning_outcomes[1].ClearField("text"),
        "learning_outcomes[1].text",
        REQUIRED,
    ),
    (
        "outcome-esco-prefix",
        lambda mc: mc.learning_outcomes[0].esco_skill_uris.append("https://esco.example/s/1"),
        "learning_outcomes[0].esco_skill_uris[1]",
        INVALID_FORMAT,
    ),
    # 7 workload
    ("workload-missing", _clear("workload"), "workload", REQUIRED),
    (
        "workload-empty",
        _all(
            _clear("workload", "credit_points"),
            _clear("workload", "hours"),
            _clear("workload", "credit_system"),
        ),
        "workload",
        REQUIRED,
    ),
    ("ects-zero", _set("workload.credit_points", "0"), "workload.credit_points", OUT_OF_RANGE),
    ("ects-above-60", _set("workload.credit_points", "60.5"), "workload.credit_points", OUT_OF_RANGE),
    (
        "ects-three-decimals",
        _set("workload.credit_points", "1.125"),
        "workload.credit_points",
        INVALID_FORMAT,
    ),
    (
        "ects-not-a-number",
        _set("workload.credit_points", "five"),
        "workload.credit_points",
        INVALID_FORMAT,
    ),
    ("ects-negative", _set("workload.credit_points", "-1"), "workload.credit_points", OUT_OF_RANGE),
    ("ects-without-system", _clear("workload", "credit_system"), "workload.credit_system", REQUIRED),
    (
        "system-without-points",
        _clear("workload", "credit_points"),
        "workload.credit_points",
        INCONSISTENT,
    ),
    (
        "credit-system-unknown",
        _set("workload.credit_system", 99),
        "workload.credit_system",
        UNKNOWN_VOCABULARY,
    ),
    ("hours-negative", _set("workload.hours", -3.0), "workload.hours", OUT_OF_RANGE),
    ("hours-nan", _set("workload.hours", math.nan), "workload.hours", OUT_OF_RANGE),
    # 8 level
    ("level-missing", _clear("level"), "level", REQUIRED),
    ("level-no-eqf", _clear("level", "eqf_level"), "level.eqf_level", REQUIRED),
    (
        "eqf-explicitly-unspecified",
        _all(_set("level.eqf_level", 0), _clear("level", "qf_ehea_cycle")),
        "level.eqf_level",
        REQUIRED,
    ),
    (
        "eqf-unknown",
        _all(_set("level.eqf_level", 9), _clear("level", "qf_ehea_cycle")),
        "level.eqf_level",
        UNKNOWN_VOCABULARY,
    ),
    (
        "nqf-uri-malformed",
        _set("level.nqf_level_uri", "https://nqf.example/level/6"),
        "level.nqf_level_uri",
        INVALID_FORMAT,
    ),
    (
        "cycle-mismatch",
        _set("level.qf_ehea_cycle", pb.QF_EHEA_CYCLE_SECOND),
        "level.qf_ehea_cycle",
        INCONSISTENT,
    ),
    ("cycle-unknown", _set("level.qf_ehea_cycle", 42), "level.qf_ehea_cycle", UNKNOWN_VOCABULARY),
    (
        "not-applicable-reason-no-en",
        lambda mc: mc.level.not_applicable.reason.values.update({"de": "Keins"}),
        "level.not_applicable.reason",
        REQUIRED,
    ),
    # 9 assessment
    ("assessment-missing", _clear("assessment"), "assessment", REQUIRED),
    ("assessment-type-missing", _clear("assessment", "type"), "assessment.type", REQUIRED),
    ("assessment-type-unknown", _set("assessment.type", 99), "assessment.type", UNKNOWN_VOCABULARY),
    (
        "assessment-description-no-en",
        _german_only("assessment", "description"),
        "assessment.description",
        REQUIRED,
    ),
    # 10 participation
    ("participation-missing", _clear("participation"), "participation", REQUIRED),
    ("mode-missing", _clear("participation", "mode"), "participation.mode", REQUIRED),
    ("mode-unknown", _set("participation.mode", 77), "participation.mode", UNKNOWN_VOCABULARY),
    ("setting-unknown", _set("participation.setting", 5), "participation.setting", UNKNOWN_VOCABULARY),
    # 11 quality assurance
    ("qa-missing", _clear("quality_assurance"), "quality_assurance", REQUIRED),
    ("qa-type-missing", _clear("quality_assurance", "type"), "quality_assurance.type", REQUIRED),
    ("qa-type-unknown", _set("quality_assurance.type", 12), "quality_assurance.type", UNKNOWN_VOCABULARY),
    ("qa-body-missing", _clear("quality_assurance", "qa_body"), "quality_assurance.qa_body", REQUIRED),
    (
        "qa-body-no-name",
        _clear("quality_assurance", "qa_body", "legal_name"),
        "quality_assurance.qa_body.legal_name",
        REQUIRED,
    ),
    (
        "qa-report-url",
        _set("quality_assurance.report_url", "report.pdf"),
        "quality_assurance.report_url",
        INVALID_FORMAT,
    ),
    # 12 prerequisites
    (
        "prerequisites-no-en",
        lambda mc: mc.prerequisites.values.update({"en": ""}),
        "prerequisites.values[en]",
        REQUIRED,
    ),
    # 13 supervision
    (
        "supervision-unspecified",
        _clear("supervision", "verification"),
        "supervision.verification",
        REQUIRED,
    ),
    (
        "supervision-unknown",
        _set("supervision.verification", 8),
        "supervision.verification",
        UNKNOWN_VOCABULARY,
    ),
    ("supervision-mode-unknown", _set("supervision.mode", 9), "supervision.mode", UNKNOWN_VOCABULARY),
    # 14 grade
    ("grade-no-value", _clear("grade", "value"), "grade.value", REQUIRED),
    ("grade-no-scheme", _clear("grade", "scheme"), "grade.scheme", REQUIRED),
    ("grade-scheme-id", _set("grade.scheme.id", "pass fail"), "grade.scheme.id", INVALID_FORMAT),
    ("grade-status-unknown", _set("grade.status", 3), "grade.status", UNKNOWN_VOCABULARY),
    # 15 integration
    ("integration-kind-missing", _clear("integration", "kind"), "integration.kind", REQUIRED),
    ("integration-kind-unknown", _set("integration.kind", 3), "integration.kind", UNKNOWN_VOCABULARY),
    (
        "stackable-without-target",
        _all(_clear("integration", "related_credential_ids"), _clear("integration", "description")),
        "integration.related_credential_ids",
        REQUIRED,
    ),
    (
        "integration-related-not-uri",
        lambda mc: mc.integration.related_credential_ids.append("certificate"),
        "integration.related_credential_ids[1]",
        INVALID_FORMAT,
    ),
    # 16 further information
    (
        "link-not-http",
        _set("further_information.links[0].url", "mailto:info@uniz.example"),
        "further_information.links[0].url",
        INVALID_FORMAT,
    ),
    (
        "link-missing-url",
        _set("further_information.links[0].url", ""),
        "further_information.links[0].url",
        REQUIRED,
    ),
    (
        "further-text-unknown-language",
        lambda mc: mc.further_information.text.values.update({"en": "x", "zz": "y"}),
        "further_information.text.values[zz]",
        UNKNOWN_VOCABULARY,
    ),
    # other fields
    (
        "valid-until-before-from",
        lambda mc: mc.valid_until.CopyFrom(mc.valid_from),
        "valid_until",
        INCONSISTENT,
    ),
    (
        "valid-until-before-issued",
        _all(_clear("valid_from"), lambda mc: mc.valid_until.CopyFrom(timestamp(NOW - timedelta(days=365)))),
        "valid_until",
        INCONSISTENT,
    ),
    ("valid-from-invalid", _set("valid_from.nanos", 2_000_000_000), "valid_from", INVALID_FORMAT),
    ("achievement-id-not-uri", _set("achievement_id", "digital mc"), "achievement_id", INVALID_FORMAT),
    ("language-unknown", _set("language", "xx"), "language", UNKNOWN_VOCABULARY),
    ("description-no-en", _german_only("description"), "description", REQUIRED),
    (
        "criteria-no-en",
        lambda mc: mc.criteria_narrative.values.update({"en": ""}),
        "criteria_narrative.values[en]",
        REQUIRED,
    ),
]

# (id, mutation) that keep the credential valid
PASSING: list[tuple[str, Mutation]] = [
    ("complete", lambda mc: None),
    ("minimal", lambda mc: mc.CopyFrom(minimal_micro_credential())),
    ("learner-only-did", _keep_only_identifier("did")),
    ("learner-only-email", _keep_only_identifier("email")),
    ("learner-only-national-id", _keep_only_identifier("national_id")),
    ("learner-only-hashed-id", _keep_only_identifier("hashed_id")),
    ("learner-given-and-family-name", _clear("learner", "full_name")),
    ("learner-only-full-name", _all(_clear("learner", "given_name"), _clear("learner", "family_name"))),
    ("learner-no-date-of-birth", _clear("learner", "date_of_birth")),
    ("learner-did-web-with-fragment", _set("learner.did", "did:web:wallet.example:u:ana#key-1")),
    ("title-many-languages", _title({"en": "Title", "de-AT": "Titel", "ga": "Teideal", "lb": "Titel"})),
    ("country-uri-derived", _set("countries[0].uri", "")),
    ("country-outside-eu", _all(_set("countries[0].code", "US"), _set("countries[0].uri", ""))),
    ("two-countries", lambda mc: mc.countries.add(code="GR")),
    ("no-regions", _clear("regions")),
    ("two-awarding-bodies", lambda mc: mc.awarding_bodies.add().legal_name.values.update({"en": "Uni B"})),
    ("issued-within-clock-skew", _issued_in(timedelta(hours=20))),
    ("outcome-without-esco", lambda mc: mc.learning_outcomes[0].ClearField("esco_skill_uris")),
    ("hours-only", _all(_clear("workload", "credit_points"), _clear("workload", "credit_system"))),
    ("ects-only", _clear("workload", "hours")),
    ("ects-60", _set("workload.credit_points", "60")),
    ("ects-quarter", _set("workload.credit_points", "0.25")),
    ("ects-trailing-zero", _set("workload.credit_points", "2.50")),
    ("ecvet", _set("workload.credit_system", pb.CREDIT_SYSTEM_ECVET)),
    ("fractional-hours", _set("workload.hours", 7.5)),
    ("level-not-applicable", _not_applicable),
    (
        "level-not-applicable-no-reason",
        _all(_clear("level", "qf_ehea_cycle"), lambda mc: mc.level.not_applicable.SetInParent()),
    ),
    ("level-without-nqf-and-cycle", _all(_clear("level", "nqf_level_uri"), _clear("level", "qf_ehea_cycle"))),
    ("assessment-without-description", _clear("assessment", "description")),
    ("participation-without-setting", _clear("participation", "setting")),
    (
        "qa-minimal",
        lambda mc: mc.quality_assurance.CopyFrom(
            pb.QualityAssurance(
                type=pb.ACCREDITATION_TYPE_INSTITUTIONAL_LICENSE,
                qa_body=pb.Organisation(legal_name=lang("QQI")),
            )
        ),
    ),
    ("supervision-without-mode", _clear("supervision", "mode")),
    ("grade-scheme-title-only", _clear("grade", "scheme", "id")),
    ("grade-without-status", _clear("grade", "status")),
    ("stand-alone", lambda mc: mc.integration.CopyFrom(pb.Integration(kind=pb.INTEGRATION_KIND_STAND_ALONE))),
    ("stackable-description-only", _clear("integration", "related_credential_ids")),
    ("link-http", _set("further_information.links[0].url", "http://uniz.example/mc")),
    ("no-valid-until", _clear("valid_until")),
    ("valid-until-after-issued", _clear("valid_from")),
    ("language-with-region", _set("language", "pt-BR")),
    # DID Core idchar includes "_" (a did:jwk is base64url): the did:jwk method specification's P-256 example
    ("learner-did-jwk", _set("learner.did", "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pF"
                                            "akoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y"
                                            "3NEk1TEtncmwyR3pIM25TRSJ9")),
]


@pytest.mark.parametrize(
    ("mutation", "field", "reason"), [pytest.param(m, f, r, id=i) for i, m, f, r in FAILING]
)
def test_rule_fails(mutation: Mutation, field: str, reason: str) -> None:
    mc = valid_micro_credential()
    mutation(mc)
    assert [(v.field, v.reason) for v in _validate(mc)] == [(field, reason)]


@pytest.mark.parametrize("mutation", [pytest.param(m, id=i) for i, m in PASSING])
def test_rule_passes(mutation: Mutation) -> None:
    mc = valid_micro_credential()
    mutation(mc)
    assert _validate(mc) == []


@pytest.mark.parametrize("level", range(1, 9))
def test_every_eqf_level_is_valid(level: int) -> None:
    mc = valid_micro_credential()
    mc.level.eqf_level = level  # type: ignore[assignment]
    mc.level.ClearField("qf_ehea_cycle")
    assert _validate(mc) == []


@pytest.mark.parametrize(
    ("vocabulary", "path"),
    [
        (vocab.ASSESSMENT_TYPES, "assessment.type"),
        (vocab.LEARNING_MODES, "participation.mode"),
        (vocab.LEARNING_SETTINGS, "participation.setting"),
        (vocab.ACCREDITATION_TYPES, "quality_assurance.type"),
        (vocab.SUPERVISION_VERIFICATION, "supervision.verification"),
        (vocab.CREDIT_SYSTEMS, "workload.credit_system"),
    ],
)
def test_every_vocabulary_value_is_valid(vocabulary: vocab.Vocabulary, path: str) -> None:
    for value in vocabulary.concepts:
        mc = valid_micro_credential()
        _set(path, value)(mc)
        assert _validate(mc) == [], vocabulary.label(value)


def test_all_violations_are_reported() -> None:
    mc = valid_micro_credential()
    mc.ClearField("title")
    mc.learner.did = "nope"
    mc.workload.credit_points = "61"
    mc.assessment.type = 99  # type: ignore[assignment]
    fields = [v.field for v in _validate(mc)]
    assert fields == ["learner.did", "title", "workload.credit_points", "assessment.type"]


def test_empty_credential_names_every_mandatory_element() -> None:
    fields = {v.field for v in _validate(pb.MicroCredential())}
    assert fields == set(MANDATORY_FIELDS)


def test_default_now_is_the_wall_clock() -> None:
    assert validate_micro_credential(valid_micro_credential()) == []


def test_bad_request_round_trip() -> None:
    violations = _validate(pb.MicroCredential())
    bad_request = to_bad_request(violations)
    assert [v.field for v in bad_request.field_violations] == list(MANDATORY_FIELDS)
    assert all(v.reason == REQUIRED and v.description for v in bad_request.field_violations)
    assert from_bad_request(bad_request) == violations


# --- properties ------------------------------------------------------------------------------------

_texts = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")


@st.composite
def valid_credentials(draw: st.DrawFn) -> pb.MicroCredential:
    """Valid credentials varying the elements that have many valid values."""
    mc = valid_micro_credential()
    languages = draw(st.lists(st.sampled_from(sorted(vocab.LANGUAGES)), max_size=4, unique=True))
    mc.title.values.clear()
    mc.title.values.update({"en": draw(_texts), **{code: draw(_texts) for code in languages}})
    codes = draw(st.lists(st.sampled_from(sorted(vocab.ISO3166_ALPHA3)), min_size=1, max_size=3, unique=True))
    mc.ClearField("countries")
    for code in codes:
        mc.countries.add(code=code, uri=draw(st.sampled_from(["", vocab.country_uri(code)])))
    points = draw(st.none() | st.decimals(Decimal("0.01"), Decimal(60), places=2))
    hours = draw(st.none() | st.floats(min_value=0.5, max_value=2000, allow_nan=False))
    if points is None and hours is None:
        hours = 1.0
    mc.workload.CopyFrom(
        pb.Workload(
            credit_system=pb.CREDIT_SYSTEM_ECTS if points is not None else pb.CREDIT_SYSTEM_UNSPECIFIED,
            credit_points=str(points) if points is not None else "",
            hours=hours or 0.0,
        )
    )
    level = draw(st.sampled_from(sorted(vocab.EQF_LEVELS.concepts)))
    mc.level.CopyFrom(pb.Level(eqf_level=level))  # type: ignore[arg-type]
    mc.assessment.type = draw(st.sampled_from(sorted(vocab.ASSESSMENT_TYPES.concepts)))  # type: ignore[assignment]
    mc.participation.mode = draw(st.sampled_from(sorted(vocab.LEARNING_MODES.concepts)))  # type: ignore[assignment]
    mc.learner.email = draw(st.from_regex(r"[a-z0-9.]{1,12}@[a-z]{1,10}\.[a-z]{2,4}", fullmatch=True))
    mc.learner.hashed_id.identity_hash = identity_hash(mc.learner.email)
    return mc


@settings(max_examples=60, deadline=None)
@given(valid_credentials())
def test_valid_credential_survives_serialization(mc: pb.MicroCredential) -> None:
    assert _validate(mc) == []
    binary = pb.MicroCredential.FromString(mc.SerializeToString(deterministic=True))
    assert binary == mc
    assert _validate(binary) == []
    parsed = json_format.Parse(json_format.MessageToJson(mc), pb.MicroCredential())
    assert parsed == mc
    assert _validate(parsed) == []


@settings(max_examples=60, deadline=None)
@given(valid_credentials(), st.sampled_from(MANDATORY_FIELDS))
def test_clearing_a_mandatory_element_is_reported(mc: pb.MicroCredential, field: str) -> None:
    mc.ClearField(field)
    violations = _validate(mc)
    assert any(v.field == field or v.field.startswith((field + ".", field + "[")) for v in violations)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("learner.did", LEARNER_DID + "\n"),
        ("learner.email", "ana@example.org\n"),
        ("workload.credit_points", "5\n"),
        ("workload.credit_points", "٥"),
        ("language", "en\n"),
        ("achievement_id", "urn:x:1\n"),
    ],
)
def test_trailing_newlines_and_non_ascii_digits_are_rejected(path: str, value: str) -> None:
    mc = valid_micro_credential()
    _set(path, value)(mc)
    assert [v.field for v in _validate(mc)] == [path]


@pytest.mark.parametrize(("points", "message"), [
    ("-5", "credit points must be positive (got -5)"),
    ("0", "credit points must be positive (got 0)"),
    ("60.5", "credit points must be at most 60 (got 60.5)"),
    ("five", "'five' is not a decimal number like '5' or '2.5'"),
])
def test_credit_point_errors_say_what_is_wrong(points: str, message: str) -> None:
    mc = valid_micro_credential()
    mc.workload.credit_points = points
    [violation] = [v for v in _validate(mc) if v.field == "workload.credit_points"]
    assert violation.description.startswith(message), violation
