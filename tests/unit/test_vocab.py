"""microcred.model.vocab agrees with the ELM controlled-vocabulary XSDs and the EDC sample credential."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model import vocab

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "elm"  # copies of the ELM reference data
CV = FIXTURES
XS = "{http://www.w3.org/2001/XMLSchema}"


def _xsd_concepts(name: str) -> tuple[str, dict[str, str]]:
    root = ET.parse(CV / f"{name}.xsd").getroot()
    concepts = {
        e.attrib["value"]: " ".join((e.findtext(f"{XS}annotation/{XS}documentation") or "").split())
        for e in root.iter(f"{XS}enumeration")
    }
    return root.attrib["targetNamespace"], concepts


@pytest.mark.parametrize(
    ("xsd", "vocabulary"),
    [
        ("eqf", vocab.EQF_LEVELS),
        ("credit-points", vocab.CREDIT_SYSTEMS),
        ("europass-modes", vocab.LEARNING_MODES),
        ("europass-learning-setting-types", vocab.LEARNING_SETTINGS),
        ("europass-learning-assessment-types", vocab.ASSESSMENT_TYPES),
        ("europass-accreditation-types", vocab.ACCREDITATION_TYPES),
    ],
)
def test_vocabulary_matches_xsd(xsd: str, vocabulary: vocab.Vocabulary) -> None:
    scheme, concepts = _xsd_concepts(xsd)
    assert vocabulary.scheme_uri == scheme
    assert {c.uri: c.label for c in vocabulary.concepts.values()} == concepts


def test_supervision_concept_of_the_edc_sample() -> None:
    sample = FIXTURES / "Sample-MC-Annex1-unsigned.jsonld"
    text = sample.read_text(encoding="utf-8")
    uri = vocab.SUPERVISION_VERIFICATION.uri(pb.SUPERVISION_VERIFICATION_UNSUPERVISED_NO_ID_VERIFICATION)
    assert f'"idVerification":{{"id":"{uri}"' in text
    assert vocab.SUPERVISION_VERIFICATION.scheme_uri in text


def test_every_enum_value_has_a_concept() -> None:
    for enum, vocabulary in (
        (pb.EqfLevel, vocab.EQF_LEVELS),
        (pb.CreditSystem, vocab.CREDIT_SYSTEMS),
        (pb.LearningMode, vocab.LEARNING_MODES),
        (pb.LearningSetting, vocab.LEARNING_SETTINGS),
        (pb.AssessmentType, vocab.ASSESSMENT_TYPES),
        (pb.AccreditationType, vocab.ACCREDITATION_TYPES),
        (pb.SupervisionVerification, vocab.SUPERVISION_VERIFICATION),
    ):
        assert set(enum.values()) - {0} == set(vocabulary.concepts), vocabulary.name
    assert set(pb.QfEheaCycle.values()) - {0} == set(vocab.QF_EHEA_CYCLES)


def test_lookups() -> None:
    assert vocab.eqf_level_uri(6) == "http://data.europa.eu/snb/eqf/6"
    assert vocab.ECTS_URI == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert vocab.LEARNING_MODES.value_for_uri("http://data.europa.eu/snb/learning-assessment/e92d221e4d") == (
        pb.LEARNING_MODE_BLENDED
    )
    assert vocab.ASSESSMENT_TYPES.value_for_uri("http://example.org/x") is None
    assert vocab.country_uri("GR") == "http://publications.europa.eu/resource/authority/country/GRC"
    assert len(vocab.ISO3166_ALPHA3) == 249
    assert len(set(vocab.ISO3166_ALPHA3.values())) == 249
    assert len(vocab.EU_MEMBER_STATES) == 27
    assert vocab.EEA_COUNTRIES.issubset(vocab.ISO3166_ALPHA3)
    assert len(vocab.EU_OFFICIAL_LANGUAGES) == 24
    assert vocab.LANGUAGES["en"].uri == "http://publications.europa.eu/resource/authority/language/ENG"
