"""EU controlled vocabularies used by the micro-credential model, as typed Python data.

Each protobuf enum in ``microcred/v1/elements.proto`` that stands for an EU controlled vocabulary has a
:class:`Vocabulary` here mapping enum values to the concept URI and English label.

Sources:

* EQF, credit systems, learning modes, learning settings, assessment types and accreditation types come
  from the ELM controlled-vocabulary XSDs (``shared/reference/elm-edc/xsd/loq/cv/*.xsd``) and were
  checked against them (``tests/unit/test_vocab.py`` re-reads the XSDs).
* Supervision and ID verification (scheme ``supervision-verification/25831c2``) ships no XSD. Concept
  ``c598449d64`` is confirmed by the official EDC sample ``Sample-MC-Annex1-*.jsonld``; the other three
  URIs come from a table generated from the EU Vocabularies SPARQL endpoint (MyNextID/credentials,
  ``resources/vocabularies/supervision.json``), two of them also seen in other public EDC code.
* QF-EHEA cycles have no EU concept URIs; the table gives their label and corresponding EQF level.
* Countries: ISO 3166-1 alpha-2 codes and the EU country authority table
  (``http://publications.europa.eu/resource/authority/country/<alpha-3>``).
* Languages: ISO 639-1 codes and the EU language authority table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from microcred.gen.microcred.v1 import elements_pb2 as pb

SNB = "http://data.europa.eu/snb/"
ESCO_PREFIX = "http://data.europa.eu/esco/"
NQF_PREFIX = SNB + "qdr/"
COUNTRY_AUTHORITY = "http://publications.europa.eu/resource/authority/country/"
LANGUAGE_AUTHORITY = "http://publications.europa.eu/resource/authority/language/"


@dataclass(frozen=True, slots=True)
class Concept:
    """One concept of a controlled vocabulary: its URI and English preferred label."""

    uri: str
    label: str


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """A controlled vocabulary: protobuf enum value -> :class:`Concept`, plus the scheme URI."""

    name: str
    scheme_uri: str
    concepts: Mapping[int, Concept]

    def __contains__(self, value: object) -> bool:
        return value in self.concepts

    def uri(self, value: int) -> str:
        """Concept URI of an enum value; KeyError if the value is unspecified or unknown."""
        return self.concepts[value].uri

    def label(self, value: int) -> str:
        """English label of an enum value; KeyError if the value is unspecified or unknown."""
        return self.concepts[value].label

    def value_for_uri(self, uri: str) -> int | None:
        """Enum value whose concept URI is ``uri``, or None if the URI is not in this vocabulary."""
        for value, concept in self.concepts.items():
            if concept.uri == uri:
                return value
        return None


def _vocab(name: str, scheme: str, concepts: Mapping[int, tuple[str, str]]) -> Vocabulary:
    base = SNB + scheme + "/"
    return Vocabulary(
        name=name,
        scheme_uri=base + "25831c2",
        concepts=MappingProxyType({k: Concept(base + code, label) for k, (code, label) in concepts.items()}),
    )


EQF_LEVELS = _vocab(
    "European Qualifications Framework",
    "eqf",
    {getattr(pb, f"EQF_LEVEL_{n}"): (str(n), f"Level {n}") for n in range(1, 9)},
)

CREDIT_SYSTEMS = _vocab(
    "European credit systems",
    "education-credit",
    {
        pb.CREDIT_SYSTEM_ECTS: ("6fcec5c5af", "European Credit Transfer System"),
        pb.CREDIT_SYSTEM_ECVET: (
            "60b314e826",
            "European credit system for vocational education and training",
        ),
    },
)
ECTS_URI = CREDIT_SYSTEMS.uri(pb.CREDIT_SYSTEM_ECTS)

LEARNING_MODES = _vocab(
    "Learning modes",
    "learning-assessment",
    {
        pb.LEARNING_MODE_ONLINE: ("920fbb3cbe", "Online"),
        pb.LEARNING_MODE_ONSITE: ("9191af2ed9", "Presential"),
        pb.LEARNING_MODE_BLENDED: ("e92d221e4d", "Blended"),
        pb.LEARNING_MODE_WORK_BASED: ("729f3bed4b", "Workbased"),
        pb.LEARNING_MODE_PROJECT_BASED: ("7813801c77", "Project based"),
        pb.LEARNING_MODE_RESEARCH_LAB_BASED: ("ed4c557045", "Research-Lab based"),
    },
)

LEARNING_SETTINGS = _vocab(
    "Learning settings",
    "learning-setting",
    {
        pb.LEARNING_SETTING_FORMAL: ("6fd4685715", "formal learning"),
        pb.LEARNING_SETTING_NON_FORMAL: ("e207a81fc7", "non-formal learning"),
    },
)

ASSESSMENT_TYPES = _vocab(
    "Assessment types",
    "assessment",
    {
        pb.ASSESSMENT_TYPE_PEER_ASSESSMENT: ("19a2e5e671", "peer assessment"),
        pb.ASSESSMENT_TYPE_MARKED_ASSIGNMENT: ("2939dae15f", "marked assignment"),
        pb.ASSESSMENT_TYPE_CONTINUOUS_EVALUATION: ("3484bd7e51", "continuous evaluation"),
        pb.ASSESSMENT_TYPE_PORTFOLIO: ("4f03b91c0e", "portfolio"),
        pb.ASSESSMENT_TYPE_GROUP_PERFORMANCE: ("56539a6507", "group performance"),
        pb.ASSESSMENT_TYPE_PRACTICAL_ASSESSMENT: ("6a4db9f11d", "practical assessment"),
        pb.ASSESSMENT_TYPE_WRITTEN_EXAMINATION: ("6e6cb2cc78", "written examination"),
        pb.ASSESSMENT_TYPE_LEVEL_OF_ATTENDANCE: ("7331eb4762", "level of attendance"),
        pb.ASSESSMENT_TYPE_PROJECT_WORK: ("795dac4096", "project work"),
        pb.ASSESSMENT_TYPE_PEER_REVIEW: ("812e3b0ae1", "peer review"),
        pb.ASSESSMENT_TYPE_QUIZ: ("b1b68f6735", "quiz"),
        pb.ASSESSMENT_TYPE_PROBLEM_BASED_LEARNING: ("c4256a2726", "problem based learning"),
        pb.ASSESSMENT_TYPE_ORAL_EXAMINATION: ("d30284d7df", "oral examination"),
        pb.ASSESSMENT_TYPE_ARTEFACT_ASSESSMENT: ("de4d165a6c", "artefact assessment"),
    },
)

ACCREDITATION_TYPES = _vocab(
    "Accreditation types",
    "accreditation",
    {
        pb.ACCREDITATION_TYPE_INSTITUTIONAL_LICENSE: ("003293d2ce", "Institutional License"),
        pb.ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE: ("820101cba6", "Program Quality Assurance"),
        pb.ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE: (
            "bb4618238e",
            "Institutional Quality Assurance",
        ),
        pb.ACCREDITATION_TYPE_PROGRAM_LICENSE: ("e57dddfcf3", "Program License"),
    },
)

SUPERVISION_VERIFICATION = _vocab(
    "Supervision and verification",
    "supervision-verification",
    {
        pb.SUPERVISION_VERIFICATION_UNSUPERVISED_NO_ID_VERIFICATION: (
            "c598449d64",
            "Unsupervised without ID Verification",
        ),
        pb.SUPERVISION_VERIFICATION_UNSUPERVISED_WITH_ID_VERIFICATION: (
            "df2880c5cb",
            "Unsupervised with ID Verification",
        ),
        pb.SUPERVISION_VERIFICATION_SUPERVISED_NO_ID_VERIFICATION: (
            "44314532f9",
            "Supervised without ID Verification",
        ),
        pb.SUPERVISION_VERIFICATION_SUPERVISED_WITH_ID_VERIFICATION: (
            "70be69aaf9",
            "Supervised with ID Verification",
        ),
    },
)

#: Every vocabulary with concept URIs, by a short key (used e.g. as OB 3.0 alignment targetFramework).
VOCABULARIES: Mapping[str, Vocabulary] = MappingProxyType(
    {
        "eqf": EQF_LEVELS,
        "credit_system": CREDIT_SYSTEMS,
        "learning_mode": LEARNING_MODES,
        "learning_setting": LEARNING_SETTINGS,
        "assessment_type": ASSESSMENT_TYPES,
        "accreditation_type": ACCREDITATION_TYPES,
        "supervision_verification": SUPERVISION_VERIFICATION,
    }
)


@dataclass(frozen=True, slots=True)
class Cycle:
    """A QF-EHEA cycle: English label and the EQF level it corresponds to."""

    label: str
    eqf_level: int


QF_EHEA_CYCLES: Mapping[int, Cycle] = MappingProxyType(
    {
        pb.QF_EHEA_CYCLE_SHORT: Cycle("Short cycle", 5),
        pb.QF_EHEA_CYCLE_FIRST: Cycle("First cycle", 6),
        pb.QF_EHEA_CYCLE_SECOND: Cycle("Second cycle", 7),
        pb.QF_EHEA_CYCLE_THIRD: Cycle("Third cycle", 8),
    }
)


def eqf_level_uri(level: int) -> str:
    """Concept URI of EQF level 1..8, e.g. ``http://data.europa.eu/snb/eqf/6``."""
    return EQF_LEVELS.uri(level)


# ISO 3166-1 alpha-2 -> alpha-3, all 249 officially assigned codes.
_ISO3166_TEXT = """
AD AND AE ARE AF AFG AG ATG AI AIA AL ALB AM ARM AO AGO AQ ATA AR ARG AS ASM AT AUT AU AUS AW ABW AX ALA
AZ AZE BA BIH BB BRB BD BGD BE BEL BF BFA BG BGR BH BHR BI BDI BJ BEN BL BLM BM BMU BN BRN BO BOL BQ BES
BR BRA BS BHS BT BTN BV BVT BW BWA BY BLR BZ BLZ CA CAN CC CCK CD COD CF CAF CG COG CH CHE CI CIV CK COK
CL CHL CM CMR CN CHN CO COL CR CRI CU CUB CV CPV CW CUW CX CXR CY CYP CZ CZE DE DEU DJ DJI DK DNK DM DMA
DO DOM DZ DZA EC ECU EE EST EG EGY EH ESH ER ERI ES ESP ET ETH FI FIN FJ FJI FK FLK FM FSM FO FRO FR FRA
GA GAB GB GBR GD GRD GE GEO GF GUF GG GGY GH GHA GI GIB GL GRL GM GMB GN GIN GP GLP GQ GNQ GR GRC GS SGS
GT GTM GU GUM GW GNB GY GUY HK HKG HM HMD HN HND HR HRV HT HTI HU HUN ID IDN IE IRL IL ISR IM IMN IN IND
IO IOT IQ IRQ IR IRN IS ISL IT ITA JE JEY JM JAM JO JOR JP JPN KE KEN KG KGZ KH KHM KI KIR KM COM KN KNA
KP PRK KR KOR KW KWT KY CYM KZ KAZ LA LAO LB LBN LC LCA LI LIE LK LKA LR LBR LS LSO LT LTU LU LUX LV LVA
LY LBY MA MAR MC MCO MD MDA ME MNE MF MAF MG MDG MH MHL MK MKD ML MLI MM MMR MN MNG MO MAC MP MNP MQ MTQ
MR MRT MS MSR MT MLT MU MUS MV MDV MW MWI MX MEX MY MYS MZ MOZ NA NAM NC NCL NE NER NF NFK NG NGA NI NIC
NL NLD NO NOR NP NPL NR NRU NU NIU NZ NZL OM OMN PA PAN PE PER PF PYF PG PNG PH PHL PK PAK PL POL PM SPM
PN PCN PR PRI PS PSE PT PRT PW PLW PY PRY QA QAT RE REU RO ROU RS SRB RU RUS RW RWA SA SAU SB SLB SC SYC
SD SDN SE SWE SG SGP SH SHN SI SVN SJ SJM SK SVK SL SLE SM SMR SN SEN SO SOM SR SUR SS SSD ST STP SV SLV
SX SXM SY SYR SZ SWZ TC TCA TD TCD TF ATF TG TGO TH THA TJ TJK TK TKL TL TLS TM TKM TN TUN TO TON TR TUR
TT TTO TV TUV TW TWN TZ TZA UA UKR UG UGA UM UMI US USA UY URY UZ UZB VA VAT VC VCT VE VEN VG VGB VI VIR
VN VNM VU VUT WF WLF WS WSM YE YEM YT MYT ZA ZAF ZM ZMB ZW ZWE
"""
_ISO3166 = _ISO3166_TEXT.split()

#: ISO 3166-1 alpha-2 -> alpha-3.
ISO3166_ALPHA3: Mapping[str, str] = MappingProxyType(dict(zip(_ISO3166[::2], _ISO3166[1::2], strict=True)))

#: The 27 EU member states (ISO alpha-2; Greece is GR).
_EU27 = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
EU_MEMBER_STATES: frozenset[str] = frozenset(_EU27.split())
#: EU member states plus the EEA EFTA states.
EEA_COUNTRIES: frozenset[str] = EU_MEMBER_STATES | {"IS", "LI", "NO"}

#: EU inter-institutional codes that differ from ISO 3166-1 (a common input mistake).
EU_PROTOCOL_CODES: Mapping[str, str] = MappingProxyType({"EL": "GR", "UK": "GB"})


def is_country_code(code: str) -> bool:
    """True if ``code`` is an ISO 3166-1 alpha-2 code (upper case)."""
    return code in ISO3166_ALPHA3


def country_uri(code: str) -> str:
    """EU country-table URI of an ISO alpha-2 code, e.g. ``IE`` -> ``.../authority/country/IRL``."""
    return COUNTRY_AUTHORITY + ISO3166_ALPHA3[code]


#: The 24 official EU languages: ISO 639-1 -> (EU language-table code, English label).
EU_OFFICIAL_LANGUAGES: Mapping[str, Concept] = MappingProxyType(
    {
        code: Concept(LANGUAGE_AUTHORITY + iso3, label)
        for code, iso3, label in (
            ("bg", "BUL", "Bulgarian"), ("cs", "CES", "Czech"), ("da", "DAN", "Danish"),
            ("de", "DEU", "German"), ("el", "ELL", "Greek"), ("en", "ENG", "English"),
            ("es", "SPA", "Spanish"), ("et", "EST", "Estonian"), ("fi", "FIN", "Finnish"),
            ("fr", "FRA", "French"), ("ga", "GLE", "Irish"), ("hr", "HRV", "Croatian"),
            ("hu", "HUN", "Hungarian"), ("it", "ITA", "Italian"), ("lt", "LIT", "Lithuanian"),
            ("lv", "LAV", "Latvian"), ("mt", "MLT", "Maltese"), ("nl", "NLD", "Dutch"),
            ("pl", "POL", "Polish"), ("pt", "POR", "Portuguese"), ("ro", "RON", "Romanian"),
            ("sk", "SLK", "Slovak"), ("sl", "SLV", "Slovenian"), ("sv", "SWE", "Swedish"),
        )
    }
)  # fmt: skip

#: Other languages accepted in LangString keys: national/co-official languages in EU and EEA states
#: and languages of EU candidate countries (all in the EU language authority table).
OTHER_ACCEPTED_LANGUAGES: Mapping[str, Concept] = MappingProxyType(
    {
        code: Concept(LANGUAGE_AUTHORITY + iso3, label)
        for code, iso3, label in (
            ("lb", "LTZ", "Luxembourgish"), ("ca", "CAT", "Catalan"), ("eu", "EUS", "Basque"),
            ("gl", "GLG", "Galician"), ("is", "ISL", "Icelandic"), ("no", "NOR", "Norwegian"),
            ("nb", "NOB", "Norwegian Bokmål"), ("nn", "NNO", "Norwegian Nynorsk"),
            ("sq", "SQI", "Albanian"), ("mk", "MKD", "Macedonian"), ("sr", "SRP", "Serbian"),
            ("bs", "BOS", "Bosnian"), ("tr", "TUR", "Turkish"), ("uk", "UKR", "Ukrainian"),
        )
    }
)  # fmt: skip

#: Every language accepted as the primary subtag of a LangString key.
LANGUAGES: Mapping[str, Concept] = MappingProxyType({**EU_OFFICIAL_LANGUAGES, **OTHER_ACCEPTED_LANGUAGES})
