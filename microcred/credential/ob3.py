"""Open Badges 3.0 ``AchievementCredential`` rendering of an EU micro-credential (STANDARDS.md §2.2, §2.4, §6).

:func:`render_achievement_credential` turns a ``microcred.v1.MicroCredential`` into an unsigned W3C VC 2.0 /
OB 3.0 credential. It uses only the two standard contexts (VC 2.0 and the *published* OB 3.0.3 context), and
every property is defined by them, so any OB 3.0 verifier can canonicalise it in JSON-LD safe mode.

Where each Annex I element goes:

==================  =====================================================================================
1 learner           ``credentialSubject.id`` (learner DID) and ``credentialSubject.identifier[]``
                    IdentityObjects: ``name`` (plain), e-mail / national id / date of birth (salted
                    SHA-256, ``identityHash = "sha256$" + hex(sha256(value + salt))``), the model's hashed id
2 title             ``name`` and ``achievement.name``
3 countries         ``issuer.address.addressCountryCode``; each country and region as an alignment
4 awarding bodies   ``achievement.creator`` (first body); further bodies as alignments
5 date of issuing   ``awardedDate`` (``validFrom`` is the start of validity)
6 outcomes          ``achievement.criteria.narrative`` (a Markdown list) and ESCO alignments
7 workload          alignments to the credit system concept (points in ``targetCode``) and to ELM
                    ``volumeOfLearning`` (hours as an ``xsd:duration`` in ``targetCode``)
8 level             alignments to the EQF concept (QF-EHEA cycle in ``targetDescription``) and NQF concept
9 assessment        alignment to the assessment-type concept
10 participation    alignments to the learning-mode and learning-setting concepts
11 QA               alignments to the accreditation-type concept, the QA body and the QA report
12 prerequisites    ``achievement.criteria.narrative`` (a Markdown section)
13 supervision      alignments to the supervision-verification concept and the supervision mode
14 grade            ``achievement.resultDescription[]`` + ``credentialSubject.result[]``
15 stackability     ``achievement.related[]`` and an alignment to ELM ``isPartialQualification``
16 further info     the credential's ``description`` (text, then a Markdown list of links)
==================  =====================================================================================

Every alignment has ``type: ["Alignment"]``, a ``targetType`` (``ext:…`` values, the OB 3.0 extension
pattern; ``ceasn:Competency`` for ESCO skills) that says which element it carries, and a
``targetFramework`` naming the vocabulary. Multilingual texts are rendered in English only (OB 3.0 strings
are plain); the full model travels in the ``CredentialIssued`` event. :mod:`microcred.credential.eu_elements`
reads all of this back.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from microcred.credential.eu_elements import EUElements, missing_mandatory_elements, read_eu_elements
from microcred.credential.identifiers import identity_hash, normalise_email
from microcred.credential.jsontext import compact
from microcred.credential.layout import (
    ACHIEVEMENT_TYPE,
    AWARDING_BODY_FRAMEWORK,
    CONTEXTS,
    COUNTRY_FRAMEWORK,
    CREDENTIAL_TYPES,
    ELM,
    ELM_FRAMEWORK,
    ESCO_FRAMEWORK,
    LINKS_HEADING,
    NQF_FRAMEWORK,
    OB_CONTEXT,
    OUTCOMES_HEADING,
    PREREQUISITES_HEADING,
    QA_BODY_FRAMEWORK,
    QF_EHEA_PREFIX,
    REGION_FRAMEWORK,
    VC_V2_CONTEXT,
    Target,
)
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model import vocab
from microcred.status.build import xsd_datetime

__all__ = [
    "CONTEXTS",
    "OB_CONTEXT",
    "VC_V2_CONTEXT",
    "EUElements",
    "Target",
    "achievement_key",
    "identity_hash",
    "issuer_profile",
    "missing_mandatory_elements",
    "organisation_profile",
    "read_eu_elements",
    "render_achievement",
    "render_achievement_credential",
]

_ORG_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://microcred.eu/ns/organisation")
_ACHIEVEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://microcred.eu/ns/achievement")
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_EXT_SAFE = re.compile(r"[A-Za-z0-9._-]+")
_WHITESPACE = re.compile(r"\s+")
# C0 controls other than LF and CR, and DEL: RDF canonicalisers disagree on how to escape them (pyld writes
# "\t" where RDFC-1.0 wants a raw tab), so a credential containing one might not verify elsewhere.
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")


# --------------------------------------------------------------------------------------------- helpers


def _clean(node: Any) -> Any:
    """Replace control characters (see ``_CONTROL``) in every string of a JSON tree by spaces."""
    if isinstance(node, str):
        return _CONTROL.sub(" ", node) if _CONTROL.search(node) else node
    if isinstance(node, dict):
        return {key: _clean(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_clean(item) for item in node]
    return node


def _without_controls(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with control characters replaced; the C JSON encoder finds them (escaped) quickly."""
    text = compact(document)  # escapes exactly the C0 controls, as \\uXXXX or \\t...
    if "\\u00" in text or "\\t" in text or "\\b" in text or "\\f" in text or "\x7f" in text:
        cleaned: dict[str, Any] = _clean(document)
        return cleaned
    return document


def _en(ls: pb.LangString) -> str:
    """The English text of a LangString ('' when absent)."""
    return ls.values.get("en", "")


def _one_line(text: str) -> str:
    """Collapse whitespace, so text can sit in a Markdown list item without breaking the structure."""
    return _WHITESPACE.sub(" ", text).strip()


def _markdown_text(text: str) -> str:
    """Free text inside our Markdown: a line that would read as one of our ``## `` headings is escaped."""
    return "\n".join("\\" + line if line.startswith("## ") else line for line in text.strip().splitlines())


def _identity(identity_type: str, value: str, *, hashed: bool, salt: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "IdentityObject", "identityHash": value, "identityType": identity_type,
                           "hashed": hashed}
    if salt is not None:
        obj["salt"] = salt
    return obj


def _alignment(target: Target, url: str, name: str, framework: str, *, code: str = "",
               description: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"type": ["Alignment"], "targetType": target.value, "targetUrl": url,
                             "targetName": name, "targetFramework": framework}
    if code:
        entry["targetCode"] = code
    if description:
        entry["targetDescription"] = description
    return entry


def _organisation_id(org: pb.Organisation) -> str:
    """The organisation's own id, or a stable ``urn:uuid`` derived from its legal name."""
    if org.id:
        return org.id
    return f"urn:uuid:{uuid.uuid5(_ORG_NAMESPACE, _en(org.legal_name))}"


def organisation_profile(org: pb.Organisation, *, profile_id: str | None = None) -> dict[str, Any]:
    """An OB 3.0 ``Profile`` for an ELM organisation (legal name, homepage, e-mail, country, identifiers)."""
    profile: dict[str, Any] = {"id": profile_id or _organisation_id(org), "type": ["Profile"],
                               "name": _en(org.legal_name)}
    if org.homepage:
        profile["url"] = org.homepage
    if org.email:
        profile["email"] = org.email
    if org.HasField("country") and org.country.code:
        profile["address"] = {"type": ["Address"], "addressCountryCode": org.country.code}
    if org.identifiers:
        profile["otherIdentifier"] = [
            {"type": "IdentifierEntry", "identifier": ident.value,
             "identifierType": f"ext:{ident.scheme}" if _EXT_SAFE.fullmatch(ident.scheme) else "identifier"}
            for ident in org.identifiers
        ]
    return profile


def issuer_profile(did: str, org: pb.Organisation) -> dict[str, Any]:
    """The credential's ``issuer``: the issuer's DID as id, with its registry organisation's details."""
    return organisation_profile(org, profile_id=did)


# --------------------------------------------------------------------------------------------- elements


def _learner(p: pb.Person, salt: str) -> dict[str, Any]:
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if p.did:
        subject["id"] = p.did
    name = p.full_name.strip() or f"{p.given_name.strip()} {p.family_name.strip()}".strip()
    identifiers = [_identity("name", name, hashed=False)] if name else []
    if p.email:
        email = normalise_email(p.email)
        identifiers.append(_identity("emailAddress", identity_hash(email, salt), hashed=True, salt=salt))
    if p.HasField("national_id") and p.national_id.value.strip():
        value = p.national_id.value.strip()
        identifiers.append(_identity("nationalIdentityNumber", identity_hash(value, salt), hashed=True, salt=salt))
    if p.HasField("date_of_birth") and p.date_of_birth.year:
        d = p.date_of_birth
        born = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
        identifiers.append(_identity("ext:dateOfBirth", identity_hash(born, salt), hashed=True, salt=salt))
    if p.HasField("hashed_id") and p.hashed_id.identity_hash:
        h = p.hashed_id
        identifiers.append(_identity(h.identity_type, h.identity_hash, hashed=True, salt=h.salt))
    subject["identifier"] = identifiers
    return subject


def _place_alignments(mc: pb.MicroCredential) -> list[dict[str, Any]]:
    out = [
        _alignment(Target.COUNTRY, c.uri or vocab.country_uri(c.code), c.code, COUNTRY_FRAMEWORK, code=c.code)
        for c in mc.countries
    ]
    out.extend(
        _alignment(Target.REGION, r.uri, _en(r.name) or r.uri, REGION_FRAMEWORK) for r in mc.regions
    )
    for org in mc.awarding_bodies[1:]:
        code = org.country.code if org.HasField("country") else ""
        out.append(_alignment(Target.AWARDING_BODY, _organisation_id(org), _en(org.legal_name),
                              AWARDING_BODY_FRAMEWORK, code=code))
    return out


def _workload_alignments(w: pb.Workload) -> list[dict[str, Any]]:
    out = []
    if w.credit_points and w.credit_system in vocab.CREDIT_SYSTEMS:
        concept = vocab.CREDIT_SYSTEMS.concepts[w.credit_system]
        short = "ECTS" if w.credit_system == pb.CREDIT_SYSTEM_ECTS else "ECVET"
        out.append(_alignment(Target.CREDIT_POINTS, concept.uri, f"{w.credit_points} {short} credits",
                              vocab.CREDIT_SYSTEMS.name, code=w.credit_points, description=concept.label))
    if w.hours > 0:
        hours = f"{w.hours:g}"
        out.append(_alignment(Target.WORKLOAD_HOURS, ELM + "volumeOfLearning", f"{hours} hours of learning",
                              ELM_FRAMEWORK, code=f"PT{hours}H"))
    return out


def _level_alignments(lv: pb.Level) -> list[dict[str, Any]]:
    out = []
    if lv.WhichOneof("eqf") == "eqf_level" and lv.eqf_level in vocab.EQF_LEVELS:
        cycle = vocab.QF_EHEA_CYCLES.get(lv.qf_ehea_cycle)
        description = QF_EHEA_PREFIX + cycle.label if cycle else ""
        out.append(_alignment(Target.EQF_LEVEL, vocab.EQF_LEVELS.uri(lv.eqf_level), f"EQF level {lv.eqf_level}",
                              vocab.EQF_LEVELS.name, code=str(lv.eqf_level), description=description))
    elif lv.WhichOneof("eqf") == "not_applicable":
        out.append(_alignment(Target.LEVEL_NOT_APPLICABLE, vocab.EQF_LEVELS.scheme_uri, "No EQF level applies",
                              vocab.EQF_LEVELS.name, description=_en(lv.not_applicable.reason)))
    if lv.nqf_level_uri:
        out.append(_alignment(Target.NQF_LEVEL, lv.nqf_level_uri, "NQF level", NQF_FRAMEWORK))
    return out


def _concept_alignment(target: Target, voc: vocab.Vocabulary, value: int,
                       description: str = "") -> list[dict[str, Any]]:
    if value not in voc:
        return []
    concept = voc.concepts[value]
    return [_alignment(target, concept.uri, concept.label, voc.name, description=description)]


def _quality_alignments(qa: pb.QualityAssurance) -> list[dict[str, Any]]:
    out = _concept_alignment(Target.QUALITY_ASSURANCE, vocab.ACCREDITATION_TYPES, qa.type, _en(qa.description))
    if out and qa.decision_reference:
        out[0]["targetCode"] = qa.decision_reference
    if qa.HasField("qa_body"):
        out.append(_alignment(Target.QA_BODY, _organisation_id(qa.qa_body), _en(qa.qa_body.legal_name),
                              QA_BODY_FRAMEWORK, description=qa.framework_name))
    if qa.report_url:
        out.append(_alignment(Target.QA_REPORT, qa.report_url, "Quality assurance report", QA_BODY_FRAMEWORK))
    return out


def _outcome_alignments(mc: pb.MicroCredential) -> list[dict[str, Any]]:
    return [
        _alignment(Target.SKILL, uri, _one_line(_en(lo.text)), ESCO_FRAMEWORK)
        for lo in mc.learning_outcomes for uri in lo.esco_skill_uris
    ]


def _alignments(mc: pb.MicroCredential) -> list[dict[str, Any]]:
    out = _place_alignments(mc) + _outcome_alignments(mc) + _workload_alignments(mc.workload)
    out += _level_alignments(mc.level)
    out += _concept_alignment(Target.ASSESSMENT_TYPE, vocab.ASSESSMENT_TYPES, mc.assessment.type,
                              _en(mc.assessment.description))
    out += _concept_alignment(Target.LEARNING_MODE, vocab.LEARNING_MODES, mc.participation.mode)
    out += _concept_alignment(Target.LEARNING_SETTING, vocab.LEARNING_SETTINGS, mc.participation.setting)
    out += _quality_alignments(mc.quality_assurance)
    if mc.HasField("supervision"):
        out += _concept_alignment(Target.SUPERVISION, vocab.SUPERVISION_VERIFICATION, mc.supervision.verification)
        out += _concept_alignment(Target.SUPERVISION_MODE, vocab.LEARNING_MODES, mc.supervision.mode)
    if mc.HasField("integration") and mc.integration.kind:
        stackable = mc.integration.kind == pb.INTEGRATION_KIND_STACKABLE
        name = "Stackable micro-credential" if stackable else "Stand-alone micro-credential"
        out.append(_alignment(Target.STACKABILITY, ELM + "isPartialQualification", name, ELM_FRAMEWORK,
                              code="true" if stackable else "false",
                              description=_en(mc.integration.description)))
    return out


def _criteria_narrative(mc: pb.MicroCredential) -> str:
    parts = [_markdown_text(_en(mc.criteria_narrative))] if _en(mc.criteria_narrative).strip() else []
    outcomes = "\n".join(f"- {_one_line(_en(lo.text))}" for lo in mc.learning_outcomes)
    parts.append(f"{OUTCOMES_HEADING}\n\n{outcomes}")
    if _en(mc.prerequisites).strip():
        parts.append(f"{PREREQUISITES_HEADING}\n\n{_one_line(_en(mc.prerequisites))}")
    return "\n\n".join(parts)


def _grade(mc: pb.MicroCredential, achievement_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(achievement.resultDescription, credentialSubject.result) for the grade, or two empty lists."""
    if not mc.HasField("grade") or not mc.grade.value:
        return [], []
    g = mc.grade
    rd_id = g.scheme.id if _ABSOLUTE_URI.fullmatch(g.scheme.id) else f"{achievement_id}#grade"
    description = "\n\n".join(
        text for text in (_en(g.scheme.description), _en(g.distribution) and "Grade distribution: "
                          + _en(g.distribution)) if text
    )
    rd: dict[str, Any] = {"id": rd_id, "type": ["ResultDescription"], "name": _en(g.scheme.title) or "Grade",
                          "resultType": "Result"}
    if description:
        rd["description"] = description
    result: dict[str, Any] = {"type": ["Result"], "resultDescription": rd_id, "value": g.value}
    if g.status == pb.GRADE_STATUS_PASSED:
        result["status"] = "Completed"
    elif g.status == pb.GRADE_STATUS_FAILED:
        result["status"] = "Failed"
    return [rd], [result]


def _further_information(fi: pb.FurtherInformation) -> str:
    parts = [_markdown_text(_en(fi.text))] if _en(fi.text).strip() else []
    if fi.links:
        links = "\n".join(f"- {_one_line(_en(link.title)) or link.url}: {link.url}" for link in fi.links)
        parts.append(f"{LINKS_HEADING}\n\n{links}")
    return "\n\n".join(parts)


def _achievement(mc: pb.MicroCredential, issuer_id: str) -> dict[str, Any]:
    title = _en(mc.title)
    achievement_id = mc.achievement_id or f"urn:uuid:{uuid.uuid5(_ACHIEVEMENT_NAMESPACE, issuer_id + '|' + title)}"
    outcomes = "; ".join(_one_line(_en(lo.text)) for lo in mc.learning_outcomes)
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": title,
        "description": _en(mc.description) or f"Learning outcomes: {outcomes}",
        "criteria": {"narrative": _criteria_narrative(mc)},
    }
    if mc.awarding_bodies:
        achievement["creator"] = organisation_profile(mc.awarding_bodies[0])
    achievement["alignment"] = _alignments(mc)
    if mc.language:
        achievement["inLanguage"] = mc.language
    result_descriptions, _ = _grade(mc, achievement_id)
    if result_descriptions:
        achievement["resultDescription"] = result_descriptions
    if mc.HasField("integration") and mc.integration.related_credential_ids:
        achievement["related"] = [{"id": rid, "type": ["Related"]} for rid in mc.integration.related_credential_ids]
    return achievement


# --------------------------------------------------------------------------------------------- render


def render_achievement(mc: pb.MicroCredential, issuer_id: str) -> dict[str, Any]:
    """The ``achievement`` of the credential (what a cohort's credentials share), control characters replaced.

    It depends on everything but the learner, the dates and the grade's value and status (see
    :func:`achievement_key`), so one rendering can serve a whole cohort.
    """
    return _without_controls(_achievement(mc, issuer_id))


def achievement_key(mc: pb.MicroCredential, issuer_id: str) -> bytes:
    """Equal for two credentials exactly when :func:`render_achievement` gives the same achievement."""
    probe = pb.MicroCredential()
    probe.CopyFrom(mc)
    for name in ("learner", "issued_at", "valid_from", "valid_until"):
        probe.ClearField(name)
    graded = bool(mc.grade.value)
    probe.grade.ClearField("value")
    probe.grade.ClearField("status")
    return b"%s\x00%d\x00%s" % (issuer_id.encode(), graded, probe.SerializeToString(deterministic=True))


def render_achievement_credential(mc: pb.MicroCredential, *, credential_id: str, issuer: Mapping[str, Any],
                                  status_entries: Sequence[Mapping[str, Any]], valid_from: datetime,
                                  salt: str | None = None, achievement: dict[str, Any] | None = None
                                  ) -> dict[str, Any]:
    """The unsigned OB 3.0 ``AchievementCredential`` for a *validated* micro-credential.

    ``issuer`` is the issuer's Profile (``id`` = its did:web or did:key; see :func:`issuer_profile`);
    ``status_entries`` the ``BitstringStatusListEntry`` objects (revocation and suspension);
    ``valid_from`` the start of validity. ``salt`` salts the learner's hashed identifiers; by default
    it is derived from the credential id (it is published next to the hashes either way). ``achievement``
    may pass in :func:`render_achievement` of ``mc`` rendered earlier (it is then shared, not copied). The
    function is pure: the same arguments always give the same document. Control characters other than line
    breaks are replaced by spaces (canonicalisers disagree on escaping them, which would break verification
    elsewhere).
    """
    if salt is None:
        salt = hashlib.sha256(("salt:" + credential_id).encode()).hexdigest()[:22]
    if achievement is None:
        achievement = render_achievement(mc, str(issuer["id"]))
    _, results = _grade(mc, achievement["id"])
    credential: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": credential_id,
        "type": list(CREDENTIAL_TYPES),
        "name": _en(mc.title),
    }
    if mc.HasField("further_information"):
        further = _further_information(mc.further_information)
        if further:
            credential["description"] = further
    credential["issuer"] = dict(issuer)
    credential["validFrom"] = xsd_datetime(valid_from)
    if mc.HasField("valid_until"):
        credential["validUntil"] = xsd_datetime(mc.valid_until.ToDatetime(tzinfo=UTC))
    credential["awardedDate"] = xsd_datetime(mc.issued_at.ToDatetime(tzinfo=UTC))
    credential["credentialSubject"] = _learner(mc.learner, salt)
    if results:
        credential["credentialSubject"]["result"] = results
    if status_entries:
        credential["credentialStatus"] = [dict(entry) for entry in status_entries]
    credential = _without_controls(credential)  # the achievement was checked when it was rendered
    subject = credential["credentialSubject"]
    result = subject.pop("result", None)
    subject["achievement"] = achievement
    if result is not None:
        subject["result"] = result
    return credential
