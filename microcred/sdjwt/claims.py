"""The EU micro-credential as SD-JWT VC claims, and back (docs/crosswalk.md lists every element).

:func:`micro_credential_claims` renders a ``microcred.v1.MicroCredential`` as the claims of our SD-JWT VC type
(:data:`microcred.sdjwt.type_metadata.VCT`), with :class:`~microcred.sdjwt.core.Sd` on what the learner may
withhold. :func:`read_micro_credential` reads processed claims back into the protobuf, so a round trip pins
that nothing is lost.

Names follow the European Commission's reference Learning Credential (vct
``urn:eu.europa.ec.eudi:learning:credential:1``) wherever it has one: ``issuing_authority``, ``issuing_country``,
``date_of_issuance``, ``date_of_expiry``, ``family_name``, ``given_name``, ``learner_identification``,
``achievement_title``, ``achievement_description``, ``learning_outcomes``, ``assessment_grade``,
``language_of_classes``, ``expected_study_time``, ``level_of_learning_experience``,
``types_of_quality_assurance``, ``prerequisites_to_enroll``, ``integration_stackability_options``. Elements
it lacks get snake_case names of the same style (``awarding_bodies``, ``type_of_assessment``,
``form_of_participation``, ``supervision_and_identity_verification``, ``further_information``...);
``birthdate`` is the registered JWT claim.

Disclosure: the learner's names, birth date and identifiers and the grade are selectively disclosable
(``learner_identification`` recursively: each identifier on its own); the issuer, the achievement and its
EU elements are always disclosed, because a verifier cannot judge a micro-credential without them.

Multilingual text: the claim holds the English text (every LangString has one) and, when other languages
exist, ``<claim>_i18n`` holds all of them by language tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf import timestamp_pb2

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model import vocab
from microcred.sdjwt.core import Sd

__all__ = ["PERSONAL_CLAIMS", "micro_credential_claims", "read_micro_credential"]

#: Top-level claims that are always selectively disclosable.
PERSONAL_CLAIMS: tuple[str, ...] = ("given_name", "family_name", "full_name", "birthdate", "learner_identification",
                                    "assessment_grade")

_GRADE_STATUS = {pb.GRADE_STATUS_PASSED: "passed", pb.GRADE_STATUS_FAILED: "failed"}
_INTEGRATION = {pb.INTEGRATION_KIND_STAND_ALONE: "stand_alone", pb.INTEGRATION_KIND_STACKABLE: "stackable"}
_CYCLES = {value: cycle.label for value, cycle in vocab.QF_EHEA_CYCLES.items()}
_CREDIT_SHORT = {pb.CREDIT_SYSTEM_ECTS: "ECTS", pb.CREDIT_SYSTEM_ECVET: "ECVET"}


# --------------------------------------------------------------------------------------------- rendering


def _text(out: dict[str, Any], name: str, ls: pb.LangString) -> None:
    """``name`` = the English text, ``name_i18n`` = every language when there is more than English."""
    if not ls.values:
        return
    out[name] = ls.values.get("en") or next(iter(sorted(ls.values.items())))[1]
    if set(ls.values) != {"en"}:
        out[name + "_i18n"] = dict(sorted(ls.values.items()))


def _date(ts: timestamp_pb2.Timestamp) -> str:
    return ts.ToDatetime(tzinfo=UTC).date().isoformat()


def _instant(ts: timestamp_pb2.Timestamp) -> str:
    return ts.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _concept(out: dict[str, Any], name: str, voc: vocab.Vocabulary, value: int) -> None:
    if value in voc:
        out[name] = voc.label(value)
        out[name + "_uri"] = voc.uri(value)


def _organisation(org: pb.Organisation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if org.id:
        out["id"] = org.id
    _text(out, "legal_name", org.legal_name)
    if org.HasField("country") and org.country.code:
        out["country"] = org.country.code
    if org.identifiers:
        out["identifiers"] = [{"scheme": i.scheme, "value": i.value} for i in org.identifiers]
    if org.homepage:
        out["homepage"] = org.homepage
    if org.email:
        out["email"] = org.email
    return out


def _learner(p: pb.Person) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (("given_name", p.given_name), ("family_name", p.family_name), ("full_name", p.full_name)):
        if value:
            out[name] = Sd(value)
    if p.HasField("date_of_birth") and p.date_of_birth.year:
        d = p.date_of_birth
        out["birthdate"] = Sd(f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
    ids: dict[str, Any] = {}
    if p.HasField("national_id") and p.national_id.value:
        ids["national_id"] = Sd({"value": p.national_id.value, "country": p.national_id.country_code})
    if p.email:
        ids["email"] = Sd(p.email)
    if p.did:
        ids["did"] = Sd(p.did)
    if p.HasField("hashed_id") and p.hashed_id.identity_hash:
        h = p.hashed_id
        ids["hashed_id"] = Sd({"identity_type": h.identity_type, "identity_hash": h.identity_hash, "salt": h.salt})
    if ids:
        out["learner_identification"] = Sd(ids)
    return out


def _issuer(mc: pb.MicroCredential) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if mc.awarding_bodies:
        first = mc.awarding_bodies[0].legal_name
        out["issuing_authority"] = first.values.get("en", "")
    if mc.countries:
        out["issuing_country"] = mc.countries[0].code
        out["issuing_countries"] = [{"code": c.code, **({"uri": c.uri} if c.uri else {})} for c in mc.countries]
    if mc.regions:
        regions = []
        for region in mc.regions:
            entry: dict[str, Any] = {"uri": region.uri}
            _text(entry, "name", region.name)
            regions.append(entry)
        out["issuing_regions"] = regions
    out["awarding_bodies"] = [_organisation(org) for org in mc.awarding_bodies]
    out["date_of_issuance"] = _date(mc.issued_at)
    out["issued_at"] = _instant(mc.issued_at)
    if mc.HasField("valid_until"):
        out["date_of_expiry"] = _date(mc.valid_until)
    return out


def _outcomes(mc: pb.MicroCredential) -> list[dict[str, Any]]:
    out = []
    for lo in mc.learning_outcomes:
        entry: dict[str, Any] = {}
        _text(entry, "text", lo.text)
        if lo.id:
            entry["id"] = lo.id
        if lo.esco_skill_uris:
            entry["esco_skills"] = list(lo.esco_skill_uris)
        out.append(entry)
    return out


def _workload(w: pb.Workload) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if w.credit_points:
        out["credit_points"] = w.credit_points
        if w.credit_system in vocab.CREDIT_SYSTEMS:
            out["credit_system"] = _CREDIT_SHORT[w.credit_system]
            out["credit_system_uri"] = vocab.CREDIT_SYSTEMS.uri(w.credit_system)
    if w.hours > 0:
        out["hours"] = w.hours
    return out


def _level(lv: pb.Level) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if lv.WhichOneof("eqf") == "eqf_level" and lv.eqf_level in vocab.EQF_LEVELS:
        out["eqf_level"] = int(lv.eqf_level)
        out["eqf_level_uri"] = vocab.EQF_LEVELS.uri(lv.eqf_level)
    elif lv.WhichOneof("eqf") == "not_applicable":
        _text(out, "not_applicable", lv.not_applicable.reason)
        out.setdefault("not_applicable", "")
    if lv.qf_ehea_cycle in _CYCLES:
        out["qf_ehea_cycle"] = _CYCLES[lv.qf_ehea_cycle]
    if lv.nqf_level_uri:
        out["nqf_level_uri"] = lv.nqf_level_uri
    return out


def _quality(qa: pb.QualityAssurance) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _concept(out, "type", vocab.ACCREDITATION_TYPES, qa.type)
    if qa.HasField("qa_body"):
        out["qa_body"] = _organisation(qa.qa_body)
    for name in ("framework_name", "decision_reference", "report_url", "accreditation_id"):
        if getattr(qa, name):
            out[name] = getattr(qa, name)
    _text(out, "description", qa.description)
    return out


def _grade(g: pb.Grade) -> dict[str, Any]:
    out: dict[str, Any] = {"value": g.value}
    if g.HasField("scheme"):
        scheme: dict[str, Any] = {}
        if g.scheme.id:
            scheme["id"] = g.scheme.id
        _text(scheme, "title", g.scheme.title)
        _text(scheme, "description", g.scheme.description)
        out["scheme"] = scheme
    if g.status in _GRADE_STATUS:
        out["status"] = _GRADE_STATUS[g.status]
    _text(out, "distribution", g.distribution)
    return out


def _optional(mc: pb.MicroCredential) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _text(out, "prerequisites_to_enroll", mc.prerequisites)
    if mc.HasField("supervision"):
        supervision: dict[str, Any] = {}
        _concept(supervision, "verification", vocab.SUPERVISION_VERIFICATION, mc.supervision.verification)
        _concept(supervision, "mode", vocab.LEARNING_MODES, mc.supervision.mode)
        out["supervision_and_identity_verification"] = supervision
    if mc.HasField("grade") and mc.grade.value:
        out["assessment_grade"] = Sd(_grade(mc.grade))
    if mc.HasField("integration") and mc.integration.kind in _INTEGRATION:
        integration: dict[str, Any] = {"kind": _INTEGRATION[mc.integration.kind]}
        if mc.integration.related_credential_ids:
            integration["related_credentials"] = list(mc.integration.related_credential_ids)
        _text(integration, "description", mc.integration.description)
        out["integration_stackability_options"] = integration
    if mc.HasField("further_information"):
        further: dict[str, Any] = {}
        _text(further, "text", mc.further_information.text)
        if mc.further_information.links:
            links = []
            for link in mc.further_information.links:
                entry: dict[str, Any] = {"url": link.url}
                _text(entry, "title", link.title)
                links.append(entry)
            further["links"] = links
        out["further_information"] = further
    return out


def micro_credential_claims(mc: pb.MicroCredential) -> dict[str, Any]:
    """The credential-specific claims of a *validated* micro-credential, with Sd markers (no JWT claims)."""
    claims: dict[str, Any] = {**_issuer(mc), **_learner(mc.learner)}
    _text(claims, "achievement_title", mc.title)
    _text(claims, "achievement_description", mc.description)
    if mc.achievement_id:
        claims["achievement_id"] = mc.achievement_id
    _text(claims, "criteria_narrative", mc.criteria_narrative)
    claims["learning_outcomes"] = _outcomes(mc)
    claims["expected_study_time"] = _workload(mc.workload)
    claims["level_of_learning_experience"] = _level(mc.level)
    assessment: dict[str, Any] = {}
    _concept(assessment, "type", vocab.ASSESSMENT_TYPES, mc.assessment.type)
    _text(assessment, "description", mc.assessment.description)
    claims["type_of_assessment"] = assessment
    participation: dict[str, Any] = {}
    _concept(participation, "mode", vocab.LEARNING_MODES, mc.participation.mode)
    _concept(participation, "setting", vocab.LEARNING_SETTINGS, mc.participation.setting)
    claims["form_of_participation"] = participation
    claims["types_of_quality_assurance"] = [_quality(mc.quality_assurance)]
    if mc.language:
        claims["language_of_classes"] = mc.language
    claims.update(_optional(mc))
    return claims


# --------------------------------------------------------------------------------------------- reading back


# The exact type tests first: parsed claims are plain dicts and strs, and these two run about a hundred times per
# credential read (an ``isinstance`` against the Mapping ABC is several times slower than a type test).
def _obj(value: Any) -> Mapping[str, Any]:
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    """``value`` if it is a string protobuf can hold (UTF-8: no lone surrogate), else ''."""
    if type(value) is str and value.isascii():  # no surrogate in ASCII: nothing to encode to know it
        return value
    if not isinstance(value, str):
        return ""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return ""
    return value


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _read_text(node: Mapping[str, Any], name: str, target: pb.LangString) -> None:
    i18n = node.get(name + "_i18n")
    if isinstance(i18n, Mapping):
        for lang, text in i18n.items():
            if _str(lang) and _str(text):
                target.values[lang] = text
    elif _str(node.get(name)):
        target.values["en"] = node[name]


def _enum(voc: vocab.Vocabulary, uri: Any) -> int:
    return voc.value_for_uri(uri) or 0 if isinstance(uri, str) else 0


def _read_org(node: Mapping[str, Any], org: pb.Organisation) -> None:
    org.id = _str(node.get("id"))
    _read_text(node, "legal_name", org.legal_name)
    if node.get("country"):
        org.country.code = _str(node.get("country"))
    for ident in _list(node.get("identifiers")):
        org.identifiers.add(scheme=_str(_obj(ident).get("scheme")), value=_str(_obj(ident).get("value")))
    org.homepage = _str(node.get("homepage"))
    org.email = _str(node.get("email"))


def _timestamp(text: Any, target: timestamp_pb2.Timestamp) -> None:
    if isinstance(text, str) and text:
        try:
            target.FromDatetime(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except (ValueError, OverflowError):
            target.Clear()  # not an RFC 3339 instant: left unset rather than guessed


def _read_learner(claims: Mapping[str, Any], p: pb.Person) -> None:
    p.given_name = _str(claims.get("given_name"))
    p.family_name = _str(claims.get("family_name"))
    p.full_name = _str(claims.get("full_name"))
    try:
        born = date.fromisoformat(_str(claims.get("birthdate")))
    except ValueError:
        born = None  # absent, or not a full date: left unset rather than guessed
    if born is not None:
        p.date_of_birth.year, p.date_of_birth.month, p.date_of_birth.day = born.year, born.month, born.day
    ids = _obj(claims.get("learner_identification"))
    national = _obj(ids.get("national_id"))
    if national:
        p.national_id.value = _str(national.get("value"))
        p.national_id.country_code = _str(national.get("country"))
    p.email = _str(ids.get("email"))
    p.did = _str(ids.get("did"))
    hashed = _obj(ids.get("hashed_id"))
    if hashed:
        p.hashed_id.identity_type = _str(hashed.get("identity_type"))
        p.hashed_id.identity_hash = _str(hashed.get("identity_hash"))
        p.hashed_id.salt = _str(hashed.get("salt"))


def _read_level(node: Mapping[str, Any], lv: pb.Level) -> None:
    if "eqf_level_uri" in node:
        lv.eqf_level = _enum(vocab.EQF_LEVELS, node["eqf_level_uri"])  # type: ignore[assignment]
    elif "not_applicable" in node:
        lv.not_applicable.SetInParent()
        _read_text(node, "not_applicable", lv.not_applicable.reason)
    cycles = {label: value for value, label in _CYCLES.items()}
    lv.qf_ehea_cycle = cycles.get(_str(node.get("qf_ehea_cycle")), 0)  # type: ignore[assignment]
    lv.nqf_level_uri = _str(node.get("nqf_level_uri"))


def _read_quality(node: Mapping[str, Any], qa: pb.QualityAssurance) -> None:
    qa.type = _enum(vocab.ACCREDITATION_TYPES, node.get("type_uri"))  # type: ignore[assignment]
    if "qa_body" in node:
        _read_org(_obj(node["qa_body"]), qa.qa_body)
    for name in ("framework_name", "decision_reference", "report_url", "accreditation_id"):
        setattr(qa, name, _str(node.get(name)))
    _read_text(node, "description", qa.description)


def _read_optional(claims: Mapping[str, Any], mc: pb.MicroCredential) -> None:
    _read_text(claims, "prerequisites_to_enroll", mc.prerequisites)
    if "supervision_and_identity_verification" in claims:
        node = _obj(claims["supervision_and_identity_verification"])
        mc.supervision.verification = _enum(vocab.SUPERVISION_VERIFICATION,  # type: ignore[assignment]
                                            node.get("verification_uri"))
        mc.supervision.mode = _enum(vocab.LEARNING_MODES, node.get("mode_uri"))  # type: ignore[assignment]
    if "assessment_grade" in claims:
        node = _obj(claims["assessment_grade"])
        mc.grade.value = _str(node.get("value"))
        scheme = _obj(node.get("scheme"))
        if "scheme" in node:
            mc.grade.scheme.id = _str(scheme.get("id"))
            _read_text(scheme, "title", mc.grade.scheme.title)
            _read_text(scheme, "description", mc.grade.scheme.description)
        statuses = {name: value for value, name in _GRADE_STATUS.items()}
        mc.grade.status = statuses.get(_str(node.get("status")), pb.GRADE_STATUS_UNSPECIFIED)
        _read_text(node, "distribution", mc.grade.distribution)
    if "integration_stackability_options" in claims:
        node = _obj(claims["integration_stackability_options"])
        kinds = {name: value for value, name in _INTEGRATION.items()}
        mc.integration.kind = kinds.get(_str(node.get("kind")), pb.INTEGRATION_KIND_UNSPECIFIED)
        mc.integration.related_credential_ids.extend(_str(r) for r in _list(node.get("related_credentials")))
        _read_text(node, "description", mc.integration.description)
    if "further_information" in claims:
        node = _obj(claims["further_information"])
        mc.further_information.SetInParent()
        _read_text(node, "text", mc.further_information.text)
        for link in _list(node.get("links")):
            entry = mc.further_information.links.add(url=_str(_obj(link).get("url")))
            _read_text(_obj(link), "title", entry.title)


def read_micro_credential(claims: Mapping[str, Any]) -> pb.MicroCredential:
    """The micro-credential that processed SD-JWT VC claims describe (undisclosed claims stay unset).

    Never raises on content: a claim of the wrong type or an unreadable date is left unset (a verifier or wallet
    shows what is there; whether it conforms is the type metadata check's business).

    ``valid_from``/``valid_until`` come from the JWT's ``nbf``/``exp`` (``iat`` when there is no ``nbf``).
    """
    mc = pb.MicroCredential()
    _read_learner(claims, mc.learner)
    _read_text(claims, "achievement_title", mc.title)
    for country in _list(claims.get("issuing_countries")) or [{"code": claims.get("issuing_country")}]:
        if _str(_obj(country).get("code")):
            mc.countries.add(code=_obj(country)["code"], uri=_str(_obj(country).get("uri")))
    for region in _list(claims.get("issuing_regions")):
        entry = mc.regions.add(uri=_str(_obj(region).get("uri")))
        _read_text(_obj(region), "name", entry.name)
    for body in _list(claims.get("awarding_bodies")):
        _read_org(_obj(body), mc.awarding_bodies.add())
    _timestamp(claims.get("issued_at"), mc.issued_at)
    for lo in _list(claims.get("learning_outcomes")):
        entry_lo = mc.learning_outcomes.add(id=_str(_obj(lo).get("id")))
        _read_text(_obj(lo), "text", entry_lo.text)
        entry_lo.esco_skill_uris.extend(_str(u) for u in _list(_obj(lo).get("esco_skills")))
    work = _obj(claims.get("expected_study_time"))
    mc.workload.credit_points = _str(work.get("credit_points"))
    mc.workload.credit_system = _enum(vocab.CREDIT_SYSTEMS, work.get("credit_system_uri"))  # type: ignore[assignment]
    hours = work.get("hours")
    mc.workload.hours = float(hours) if isinstance(hours, float) or (
        isinstance(hours, int) and not isinstance(hours, bool) and abs(hours) < 1 << 53) else 0.0
    _read_level(_obj(claims.get("level_of_learning_experience")), mc.level)
    assessment = _obj(claims.get("type_of_assessment"))
    mc.assessment.type = _enum(vocab.ASSESSMENT_TYPES, assessment.get("type_uri"))  # type: ignore[assignment]
    _read_text(assessment, "description", mc.assessment.description)
    participation = _obj(claims.get("form_of_participation"))
    mc.participation.mode = _enum(vocab.LEARNING_MODES, participation.get("mode_uri"))  # type: ignore[assignment]
    mc.participation.setting = _enum(vocab.LEARNING_SETTINGS,  # type: ignore[assignment]
                                     participation.get("setting_uri"))
    for qa in _list(claims.get("types_of_quality_assurance"))[:1]:
        _read_quality(_obj(qa), mc.quality_assurance)
    _read_optional(claims, mc)
    _read_text(claims, "achievement_description", mc.description)
    mc.achievement_id = _str(claims.get("achievement_id"))
    _read_text(claims, "criteria_narrative", mc.criteria_narrative)
    mc.language = _str(claims.get("language_of_classes"))
    for claim, field_name in (("nbf", "valid_from"), ("exp", "valid_until")):
        value = claims.get(claim)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                getattr(mc, field_name).FromDatetime(datetime.fromtimestamp(value, UTC))
            except (ValueError, OverflowError, OSError):
                getattr(mc, field_name).Clear()
    return mc
