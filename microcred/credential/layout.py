"""The layout of our Open Badges 3.0 credentials: contexts, alignment target types and Markdown headings.

Shared by the renderer (:mod:`microcred.credential.ob3`) and the reader (:mod:`microcred.credential.eu_elements`).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACHIEVEMENT_TYPE",
    "AWARDING_BODY_FRAMEWORK",
    "CONTEXTS",
    "COUNTRY_FRAMEWORK",
    "CREDENTIAL_TYPES",
    "ELM",
    "ELM_FRAMEWORK",
    "ESCO_FRAMEWORK",
    "LINKS_HEADING",
    "NQF_FRAMEWORK",
    "OB_CONTEXT",
    "OUTCOMES_HEADING",
    "PREREQUISITES_HEADING",
    "QA_BODY_FRAMEWORK",
    "QF_EHEA_PREFIX",
    "REGION_FRAMEWORK",
    "VC_V2_CONTEXT",
    "Target",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: The published OB 3.0.3 context (never the patched validator copy; STANDARDS.md §6).
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXTS: tuple[str, str] = (VC_V2_CONTEXT, OB_CONTEXT)
CREDENTIAL_TYPES: tuple[str, str] = ("VerifiableCredential", "AchievementCredential")
ACHIEVEMENT_TYPE = "MicroCredential"
#: European Learning Model namespace (property IRIs used as alignment targets where no concept exists).
ELM = "http://data.europa.eu/snb/model/elm/"
ESCO_FRAMEWORK = "ESCO"
COUNTRY_FRAMEWORK = "EU country authority table"
REGION_FRAMEWORK = "EU territorial units"
ELM_FRAMEWORK = "European Learning Model"
QA_BODY_FRAMEWORK = "Quality assurance body"
AWARDING_BODY_FRAMEWORK = "Awarding body"
NQF_FRAMEWORK = "National Qualifications Framework"
QF_EHEA_PREFIX = "QF-EHEA: "
OUTCOMES_HEADING = "## Learning outcomes"
PREREQUISITES_HEADING = "## Prerequisites"
LINKS_HEADING = "## Links"

class Target(StrEnum):
    """``alignment.targetType`` values: which EU element an alignment carries."""

    SKILL = "ceasn:Competency"
    COUNTRY = "ext:Country"
    REGION = "ext:Region"
    AWARDING_BODY = "ext:AwardingBody"
    CREDIT_POINTS = "ext:CreditPoints"
    WORKLOAD_HOURS = "ext:NotionalWorkload"
    EQF_LEVEL = "ext:EQFLevel"
    LEVEL_NOT_APPLICABLE = "ext:LevelNotApplicable"
    NQF_LEVEL = "ext:NQFLevel"
    ASSESSMENT_TYPE = "ext:AssessmentType"
    LEARNING_MODE = "ext:LearningMode"
    LEARNING_SETTING = "ext:LearningSetting"
    QUALITY_ASSURANCE = "ext:QualityAssurance"
    QA_BODY = "ext:QualityAssuranceBody"
    QA_REPORT = "ext:QualityAssuranceReport"
    SUPERVISION = "ext:SupervisionVerification"
    SUPERVISION_MODE = "ext:SupervisionMode"
    STACKABILITY = "ext:Stackability"
