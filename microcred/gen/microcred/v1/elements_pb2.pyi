import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreditSystem(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_SYSTEM_UNSPECIFIED: _ClassVar[CreditSystem]
    CREDIT_SYSTEM_ECTS: _ClassVar[CreditSystem]
    CREDIT_SYSTEM_ECVET: _ClassVar[CreditSystem]

class EqfLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EQF_LEVEL_UNSPECIFIED: _ClassVar[EqfLevel]
    EQF_LEVEL_1: _ClassVar[EqfLevel]
    EQF_LEVEL_2: _ClassVar[EqfLevel]
    EQF_LEVEL_3: _ClassVar[EqfLevel]
    EQF_LEVEL_4: _ClassVar[EqfLevel]
    EQF_LEVEL_5: _ClassVar[EqfLevel]
    EQF_LEVEL_6: _ClassVar[EqfLevel]
    EQF_LEVEL_7: _ClassVar[EqfLevel]
    EQF_LEVEL_8: _ClassVar[EqfLevel]

class QfEheaCycle(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QF_EHEA_CYCLE_UNSPECIFIED: _ClassVar[QfEheaCycle]
    QF_EHEA_CYCLE_SHORT: _ClassVar[QfEheaCycle]
    QF_EHEA_CYCLE_FIRST: _ClassVar[QfEheaCycle]
    QF_EHEA_CYCLE_SECOND: _ClassVar[QfEheaCycle]
    QF_EHEA_CYCLE_THIRD: _ClassVar[QfEheaCycle]

class AssessmentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSESSMENT_TYPE_UNSPECIFIED: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_PEER_ASSESSMENT: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_MARKED_ASSIGNMENT: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_CONTINUOUS_EVALUATION: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_PORTFOLIO: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_GROUP_PERFORMANCE: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_PRACTICAL_ASSESSMENT: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_WRITTEN_EXAMINATION: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_LEVEL_OF_ATTENDANCE: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_PROJECT_WORK: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_PEER_REVIEW: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_QUIZ: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_PROBLEM_BASED_LEARNING: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_ORAL_EXAMINATION: _ClassVar[AssessmentType]
    ASSESSMENT_TYPE_ARTEFACT_ASSESSMENT: _ClassVar[AssessmentType]

class LearningMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEARNING_MODE_UNSPECIFIED: _ClassVar[LearningMode]
    LEARNING_MODE_ONLINE: _ClassVar[LearningMode]
    LEARNING_MODE_ONSITE: _ClassVar[LearningMode]
    LEARNING_MODE_BLENDED: _ClassVar[LearningMode]
    LEARNING_MODE_WORK_BASED: _ClassVar[LearningMode]
    LEARNING_MODE_PROJECT_BASED: _ClassVar[LearningMode]
    LEARNING_MODE_RESEARCH_LAB_BASED: _ClassVar[LearningMode]

class LearningSetting(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEARNING_SETTING_UNSPECIFIED: _ClassVar[LearningSetting]
    LEARNING_SETTING_FORMAL: _ClassVar[LearningSetting]
    LEARNING_SETTING_NON_FORMAL: _ClassVar[LearningSetting]

class AccreditationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCREDITATION_TYPE_UNSPECIFIED: _ClassVar[AccreditationType]
    ACCREDITATION_TYPE_INSTITUTIONAL_LICENSE: _ClassVar[AccreditationType]
    ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE: _ClassVar[AccreditationType]
    ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE: _ClassVar[AccreditationType]
    ACCREDITATION_TYPE_PROGRAM_LICENSE: _ClassVar[AccreditationType]

class SupervisionVerification(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUPERVISION_VERIFICATION_UNSPECIFIED: _ClassVar[SupervisionVerification]
    SUPERVISION_VERIFICATION_UNSUPERVISED_NO_ID_VERIFICATION: _ClassVar[SupervisionVerification]
    SUPERVISION_VERIFICATION_UNSUPERVISED_WITH_ID_VERIFICATION: _ClassVar[SupervisionVerification]
    SUPERVISION_VERIFICATION_SUPERVISED_NO_ID_VERIFICATION: _ClassVar[SupervisionVerification]
    SUPERVISION_VERIFICATION_SUPERVISED_WITH_ID_VERIFICATION: _ClassVar[SupervisionVerification]

class GradeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRADE_STATUS_UNSPECIFIED: _ClassVar[GradeStatus]
    GRADE_STATUS_PASSED: _ClassVar[GradeStatus]
    GRADE_STATUS_FAILED: _ClassVar[GradeStatus]

class IntegrationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTEGRATION_KIND_UNSPECIFIED: _ClassVar[IntegrationKind]
    INTEGRATION_KIND_STAND_ALONE: _ClassVar[IntegrationKind]
    INTEGRATION_KIND_STACKABLE: _ClassVar[IntegrationKind]
CREDIT_SYSTEM_UNSPECIFIED: CreditSystem
CREDIT_SYSTEM_ECTS: CreditSystem
CREDIT_SYSTEM_ECVET: CreditSystem
EQF_LEVEL_UNSPECIFIED: EqfLevel
EQF_LEVEL_1: EqfLevel
EQF_LEVEL_2: EqfLevel
EQF_LEVEL_3: EqfLevel
EQF_LEVEL_4: EqfLevel
EQF_LEVEL_5: EqfLevel
EQF_LEVEL_6: EqfLevel
EQF_LEVEL_7: EqfLevel
EQF_LEVEL_8: EqfLevel
QF_EHEA_CYCLE_UNSPECIFIED: QfEheaCycle
QF_EHEA_CYCLE_SHORT: QfEheaCycle
QF_EHEA_CYCLE_FIRST: QfEheaCycle
QF_EHEA_CYCLE_SECOND: QfEheaCycle
QF_EHEA_CYCLE_THIRD: QfEheaCycle
ASSESSMENT_TYPE_UNSPECIFIED: AssessmentType
ASSESSMENT_TYPE_PEER_ASSESSMENT: AssessmentType
ASSESSMENT_TYPE_MARKED_ASSIGNMENT: AssessmentType
ASSESSMENT_TYPE_CONTINUOUS_EVALUATION: AssessmentType
ASSESSMENT_TYPE_PORTFOLIO: AssessmentType
ASSESSMENT_TYPE_GROUP_PERFORMANCE: AssessmentType
ASSESSMENT_TYPE_PRACTICAL_ASSESSMENT: AssessmentType
ASSESSMENT_TYPE_WRITTEN_EXAMINATION: AssessmentType
ASSESSMENT_TYPE_LEVEL_OF_ATTENDANCE: AssessmentType
ASSESSMENT_TYPE_PROJECT_WORK: AssessmentType
ASSESSMENT_TYPE_PEER_REVIEW: AssessmentType
ASSESSMENT_TYPE_QUIZ: AssessmentType
ASSESSMENT_TYPE_PROBLEM_BASED_LEARNING: AssessmentType
ASSESSMENT_TYPE_ORAL_EXAMINATION: AssessmentType
ASSESSMENT_TYPE_ARTEFACT_ASSESSMENT: AssessmentType
LEARNING_MODE_UNSPECIFIED: LearningMode
LEARNING_MODE_ONLINE: LearningMode
LEARNING_MODE_ONSITE: LearningMode
LEARNING_MODE_BLENDED: LearningMode
LEARNING_MODE_WORK_BASED: LearningMode
LEARNING_MODE_PROJECT_BASED: LearningMode
LEARNING_MODE_RESEARCH_LAB_BASED: LearningMode
LEARNING_SETTING_UNSPECIFIED: LearningSetting
LEARNING_SETTING_FORMAL: LearningSetting
LEARNING_SETTING_NON_FORMAL: LearningSetting
ACCREDITATION_TYPE_UNSPECIFIED: AccreditationType
ACCREDITATION_TYPE_INSTITUTIONAL_LICENSE: AccreditationType
ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE: AccreditationType
ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE: AccreditationType
ACCREDITATION_TYPE_PROGRAM_LICENSE: AccreditationType
SUPERVISION_VERIFICATION_UNSPECIFIED: SupervisionVerification
SUPERVISION_VERIFICATION_UNSUPERVISED_NO_ID_VERIFICATION: SupervisionVerification
SUPERVISION_VERIFICATION_UNSUPERVISED_WITH_ID_VERIFICATION: SupervisionVerification
SUPERVISION_VERIFICATION_SUPERVISED_NO_ID_VERIFICATION: SupervisionVerification
SUPERVISION_VERIFICATION_SUPERVISED_WITH_ID_VERIFICATION: SupervisionVerification
GRADE_STATUS_UNSPECIFIED: GradeStatus
GRADE_STATUS_PASSED: GradeStatus
GRADE_STATUS_FAILED: GradeStatus
INTEGRATION_KIND_UNSPECIFIED: IntegrationKind
INTEGRATION_KIND_STAND_ALONE: IntegrationKind
INTEGRATION_KIND_STACKABLE: IntegrationKind

class LangString(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.ScalarMap[str, str]
    def __init__(self, values: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Identifier(_message.Message):
    __slots__ = ("scheme", "value")
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    scheme: str
    value: str
    def __init__(self, scheme: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class NationalIdentifier(_message.Message):
    __slots__ = ("value", "country_code")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    value: str
    country_code: str
    def __init__(self, value: _Optional[str] = ..., country_code: _Optional[str] = ...) -> None: ...

class HashedIdentifier(_message.Message):
    __slots__ = ("identity_type", "identity_hash", "salt")
    IDENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_HASH_FIELD_NUMBER: _ClassVar[int]
    SALT_FIELD_NUMBER: _ClassVar[int]
    identity_type: str
    identity_hash: str
    salt: str
    def __init__(self, identity_type: _Optional[str] = ..., identity_hash: _Optional[str] = ..., salt: _Optional[str] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("given_name", "family_name", "full_name", "date_of_birth", "national_id", "email", "did", "hashed_id")
    GIVEN_NAME_FIELD_NUMBER: _ClassVar[int]
    FAMILY_NAME_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    NATIONAL_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DID_FIELD_NUMBER: _ClassVar[int]
    HASHED_ID_FIELD_NUMBER: _ClassVar[int]
    given_name: str
    family_name: str
    full_name: str
    date_of_birth: _date_pb2.Date
    national_id: NationalIdentifier
    email: str
    did: str
    hashed_id: HashedIdentifier
    def __init__(self, given_name: _Optional[str] = ..., family_name: _Optional[str] = ..., full_name: _Optional[str] = ..., date_of_birth: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., national_id: _Optional[_Union[NationalIdentifier, _Mapping]] = ..., email: _Optional[str] = ..., did: _Optional[str] = ..., hashed_id: _Optional[_Union[HashedIdentifier, _Mapping]] = ...) -> None: ...

class Country(_message.Message):
    __slots__ = ("code", "uri")
    CODE_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    code: str
    uri: str
    def __init__(self, code: _Optional[str] = ..., uri: _Optional[str] = ...) -> None: ...

class Region(_message.Message):
    __slots__ = ("uri", "name")
    URI_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    uri: str
    name: LangString
    def __init__(self, uri: _Optional[str] = ..., name: _Optional[_Union[LangString, _Mapping]] = ...) -> None: ...

class Organisation(_message.Message):
    __slots__ = ("id", "legal_name", "identifiers", "country", "homepage", "email")
    ID_FIELD_NUMBER: _ClassVar[int]
    LEGAL_NAME_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    HOMEPAGE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    id: str
    legal_name: LangString
    identifiers: _containers.RepeatedCompositeFieldContainer[Identifier]
    country: Country
    homepage: str
    email: str
    def __init__(self, id: _Optional[str] = ..., legal_name: _Optional[_Union[LangString, _Mapping]] = ..., identifiers: _Optional[_Iterable[_Union[Identifier, _Mapping]]] = ..., country: _Optional[_Union[Country, _Mapping]] = ..., homepage: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class LearningOutcome(_message.Message):
    __slots__ = ("id", "text", "esco_skill_uris")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ESCO_SKILL_URIS_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: LangString
    esco_skill_uris: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., text: _Optional[_Union[LangString, _Mapping]] = ..., esco_skill_uris: _Optional[_Iterable[str]] = ...) -> None: ...

class Workload(_message.Message):
    __slots__ = ("credit_system", "credit_points", "hours")
    CREDIT_SYSTEM_FIELD_NUMBER: _ClassVar[int]
    CREDIT_POINTS_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    credit_system: CreditSystem
    credit_points: str
    hours: float
    def __init__(self, credit_system: _Optional[_Union[CreditSystem, str]] = ..., credit_points: _Optional[str] = ..., hours: _Optional[float] = ...) -> None: ...

class LevelNotApplicable(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: LangString
    def __init__(self, reason: _Optional[_Union[LangString, _Mapping]] = ...) -> None: ...

class Level(_message.Message):
    __slots__ = ("eqf_level", "not_applicable", "nqf_level_uri", "qf_ehea_cycle")
    EQF_LEVEL_FIELD_NUMBER: _ClassVar[int]
    NOT_APPLICABLE_FIELD_NUMBER: _ClassVar[int]
    NQF_LEVEL_URI_FIELD_NUMBER: _ClassVar[int]
    QF_EHEA_CYCLE_FIELD_NUMBER: _ClassVar[int]
    eqf_level: EqfLevel
    not_applicable: LevelNotApplicable
    nqf_level_uri: str
    qf_ehea_cycle: QfEheaCycle
    def __init__(self, eqf_level: _Optional[_Union[EqfLevel, str]] = ..., not_applicable: _Optional[_Union[LevelNotApplicable, _Mapping]] = ..., nqf_level_uri: _Optional[str] = ..., qf_ehea_cycle: _Optional[_Union[QfEheaCycle, str]] = ...) -> None: ...

class Assessment(_message.Message):
    __slots__ = ("type", "description")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    type: AssessmentType
    description: LangString
    def __init__(self, type: _Optional[_Union[AssessmentType, str]] = ..., description: _Optional[_Union[LangString, _Mapping]] = ...) -> None: ...

class Participation(_message.Message):
    __slots__ = ("mode", "setting")
    MODE_FIELD_NUMBER: _ClassVar[int]
    SETTING_FIELD_NUMBER: _ClassVar[int]
    mode: LearningMode
    setting: LearningSetting
    def __init__(self, mode: _Optional[_Union[LearningMode, str]] = ..., setting: _Optional[_Union[LearningSetting, str]] = ...) -> None: ...

class QualityAssurance(_message.Message):
    __slots__ = ("type", "qa_body", "framework_name", "decision_reference", "report_url", "description", "accreditation_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    QA_BODY_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_NAME_FIELD_NUMBER: _ClassVar[int]
    DECISION_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REPORT_URL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATION_ID_FIELD_NUMBER: _ClassVar[int]
    type: AccreditationType
    qa_body: Organisation
    framework_name: str
    decision_reference: str
    report_url: str
    description: LangString
    accreditation_id: str
    def __init__(self, type: _Optional[_Union[AccreditationType, str]] = ..., qa_body: _Optional[_Union[Organisation, _Mapping]] = ..., framework_name: _Optional[str] = ..., decision_reference: _Optional[str] = ..., report_url: _Optional[str] = ..., description: _Optional[_Union[LangString, _Mapping]] = ..., accreditation_id: _Optional[str] = ...) -> None: ...

class Supervision(_message.Message):
    __slots__ = ("verification", "mode")
    VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    verification: SupervisionVerification
    mode: LearningMode
    def __init__(self, verification: _Optional[_Union[SupervisionVerification, str]] = ..., mode: _Optional[_Union[LearningMode, str]] = ...) -> None: ...

class GradingScheme(_message.Message):
    __slots__ = ("id", "title", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: LangString
    description: LangString
    def __init__(self, id: _Optional[str] = ..., title: _Optional[_Union[LangString, _Mapping]] = ..., description: _Optional[_Union[LangString, _Mapping]] = ...) -> None: ...

class Grade(_message.Message):
    __slots__ = ("value", "scheme", "status", "distribution")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    value: str
    scheme: GradingScheme
    status: GradeStatus
    distribution: LangString
    def __init__(self, value: _Optional[str] = ..., scheme: _Optional[_Union[GradingScheme, _Mapping]] = ..., status: _Optional[_Union[GradeStatus, str]] = ..., distribution: _Optional[_Union[LangString, _Mapping]] = ...) -> None: ...

class Integration(_message.Message):
    __slots__ = ("kind", "related_credential_ids", "description")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RELATED_CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    kind: IntegrationKind
    related_credential_ids: _containers.RepeatedScalarFieldContainer[str]
    description: LangString
    def __init__(self, kind: _Optional[_Union[IntegrationKind, str]] = ..., related_credential_ids: _Optional[_Iterable[str]] = ..., description: _Optional[_Union[LangString, _Mapping]] = ...) -> None: ...

class Link(_message.Message):
    __slots__ = ("url", "title")
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    url: str
    title: LangString
    def __init__(self, url: _Optional[str] = ..., title: _Optional[_Union[LangString, _Mapping]] = ...) -> None: ...

class FurtherInformation(_message.Message):
    __slots__ = ("text", "links")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    text: LangString
    links: _containers.RepeatedCompositeFieldContainer[Link]
    def __init__(self, text: _Optional[_Union[LangString, _Mapping]] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ...) -> None: ...

class MicroCredential(_message.Message):
    __slots__ = ("learner", "title", "countries", "awarding_bodies", "issued_at", "learning_outcomes", "workload", "level", "assessment", "participation", "quality_assurance", "prerequisites", "supervision", "grade", "integration", "further_information", "regions", "valid_from", "valid_until", "achievement_id", "description", "criteria_narrative", "language")
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    AWARDING_BODIES_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    LEARNING_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    QUALITY_ASSURANCE_FIELD_NUMBER: _ClassVar[int]
    PREREQUISITES_FIELD_NUMBER: _ClassVar[int]
    SUPERVISION_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    FURTHER_INFORMATION_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    ACHIEVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_NARRATIVE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    learner: Person
    title: LangString
    countries: _containers.RepeatedCompositeFieldContainer[Country]
    awarding_bodies: _containers.RepeatedCompositeFieldContainer[Organisation]
    issued_at: _timestamp_pb2.Timestamp
    learning_outcomes: _containers.RepeatedCompositeFieldContainer[LearningOutcome]
    workload: Workload
    level: Level
    assessment: Assessment
    participation: Participation
    quality_assurance: QualityAssurance
    prerequisites: LangString
    supervision: Supervision
    grade: Grade
    integration: Integration
    further_information: FurtherInformation
    regions: _containers.RepeatedCompositeFieldContainer[Region]
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    achievement_id: str
    description: LangString
    criteria_narrative: LangString
    language: str
    def __init__(self, learner: _Optional[_Union[Person, _Mapping]] = ..., title: _Optional[_Union[LangString, _Mapping]] = ..., countries: _Optional[_Iterable[_Union[Country, _Mapping]]] = ..., awarding_bodies: _Optional[_Iterable[_Union[Organisation, _Mapping]]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., learning_outcomes: _Optional[_Iterable[_Union[LearningOutcome, _Mapping]]] = ..., workload: _Optional[_Union[Workload, _Mapping]] = ..., level: _Optional[_Union[Level, _Mapping]] = ..., assessment: _Optional[_Union[Assessment, _Mapping]] = ..., participation: _Optional[_Union[Participation, _Mapping]] = ..., quality_assurance: _Optional[_Union[QualityAssurance, _Mapping]] = ..., prerequisites: _Optional[_Union[LangString, _Mapping]] = ..., supervision: _Optional[_Union[Supervision, _Mapping]] = ..., grade: _Optional[_Union[Grade, _Mapping]] = ..., integration: _Optional[_Union[Integration, _Mapping]] = ..., further_information: _Optional[_Union[FurtherInformation, _Mapping]] = ..., regions: _Optional[_Iterable[_Union[Region, _Mapping]]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., achievement_id: _Optional[str] = ..., description: _Optional[_Union[LangString, _Mapping]] = ..., criteria_narrative: _Optional[_Union[LangString, _Mapping]] = ..., language: _Optional[str] = ...) -> None: ...
