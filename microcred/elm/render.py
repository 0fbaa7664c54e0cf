"""ELM v3 ``EuropeanDigitalCredential`` (EDC application profile) rendering of an EU micro-credential.

The ELM sibling of :mod:`microcred.credential.ob3` and :mod:`microcred.sdjwt.claims`: the same protobuf
``MicroCredential`` becomes an unsigned EDC JSON-LD document shaped like the EC's Annex I sample
(``Sample-MC-Annex1``), with the W3C VC v1 context and the EDC application-profile context, both pinned in
:mod:`microcred.jsonld`. It is what :mod:`microcred.elm.jades` seals and :mod:`microcred.elm.shacl` validates.

Where each Annex I element goes (``claim`` = ``credentialSubject.hasClaim``, a ``LearningAchievement``;
``spec`` = ``claim.specifiedBy``, a ``Qualification`` as in the EC sample):

==================  =====================================================================================
1 learner           ``credentialSubject`` (``Person``): names, ``dateOfBirth``, ``nationalID``, e-mail
2 title             ``claim.title`` and ``spec.title`` (every language); display title
3 countries/region  each awarding body's ``location`` (``address.countryCode``, ``spatialCode`` = region)
4 awarding bodies   ``claim.awardedBy`` (``AwardingProcess.awardingBody``)
5 date of issuing   ``claim.awardedBy.awardingDate`` and ``issued``/``issuanceDate``
6 outcomes          ``spec.learningOutcome[]`` with ``relatedESCOSkill`` concepts
7 workload          ``spec.creditPoint`` (framework concept + ``point``), ``spec.volumeOfLearning``
8 level             ``spec.eqfLevel``, ``spec.nqfLevel``; QF-EHEA cycle / "not applicable" as notes
9 assessment        ``spec.provenBy`` (``LearningAssessmentSpecification``: ``dcType``, description)
10 participation    ``spec.mode``, ``spec.learningSetting``
11 QA               ``spec.accreditation`` (type, accrediting agent, report, decision reference)
12 prerequisites    ``spec.entryRequirement``
13 supervision      ``claim.provenBy.idVerification``; supervision mode = the assessment spec's ``mode``
14 grade            ``claim.provenBy.grade``, grading scheme on the assessment specification
15 stackability     ``spec.isPartialQualification`` and an ``additionalNote`` (options, related ids)
16 further info     ``spec.additionalNote`` and ``spec.supplementaryDocument[]``
==================  =====================================================================================

When the QA is an accreditation held in the trust registry (``accreditation_id``), ``evidence.accreditation``
names it too, as the EDC accredited profile (``EDC-accredited.ttl``) requires.

``credentialStatus`` (when the caller gives the credential's status entry) is one ``xsd:anyURI`` naming the
credential's Token Status List entry (revocation and suspension), see :mod:`microcred.elm.status`.

Texts keep every language of the model (ELM language maps). Ids of inner nodes are ``urn:uuid``s derived
from the credential id, so rendering is deterministic. The learner's salted hashed id (an OB 3.0 notion) has no
ELM home and is left out.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from microcred.elm.status import credential_status
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model import vocab
from microcred.sdjwt.issue import StatusReference

__all__ = ["EDC_CONTEXTS", "EDC_SCHEMA", "ElmIssuer", "render_edc"]

EDC_CONTEXTS = ["https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap"]
EDC_SCHEMA = "http://data.europa.eu/snb/model/ap/edc-generic-no-cv"
_GENERIC_PROFILE = ("http://data.europa.eu/snb/credential/e34929035b", "Generic",
                    "http://data.europa.eu/snb/credential/25831c2")
_MANDATE = ("http://data.europa.eu/snb/evidence-type/c_18016257", "Mandate",
            "http://data.europa.eu/snb/evidence-type/25831c2")
# The EC builder's statement for credentials sealed by an organisation on behalf of awarding bodies.
_MANDATE_STATEMENT = (
    "Every claim inside this credential is to be construed as having been made by the indicated awarding body, "
    "who maintains sole responsibility for said claim. By applying its electronic seal, the signing organisation "
    "certifies the correctness of origin of each claim, as having been made by the indicated awarding body.")
_BASE64 = ("http://data.europa.eu/snb/encoding/6146cde7dd", "base64", "http://data.europa.eu/snb/encoding/25831c2")
_PNG = ("http://publications.europa.eu/resource/authority/file-type/PNG", "PNG",
        "http://publications.europa.eu/resource/authority/file-type")
_COUNTRY_SCHEME = "http://publications.europa.eu/resource/authority/country"
_LANGUAGE_SCHEME = "http://publications.europa.eu/resource/authority/language"
_ATU_SCHEME = "http://publications.europa.eu/resource/authority/atu"
_ESCO_SKILLS = "http://data.europa.eu/esco/concept-scheme/skills"
_NQF_SCHEME = "http://data.europa.eu/snb/qdr/25831c2"
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://microcred.eu/ns/elm")
_QF_EHEA = {pb.QF_EHEA_CYCLE_SHORT: "QF-EHEA short cycle", pb.QF_EHEA_CYCLE_FIRST: "QF-EHEA first cycle",
            pb.QF_EHEA_CYCLE_SECOND: "QF-EHEA second cycle", pb.QF_EHEA_CYCLE_THIRD: "QF-EHEA third cycle"}
_LEGAL_SCHEMES = {"registration": "registration", "vat": "vatIdentifier", "eidas": "eIDASIdentifier",
                  "tax": "taxIdentifier"}


@dataclass(frozen=True)
class ElmIssuer:
    """The sealing organisation: its id (URI), registry details and the eIDAS identifier of its seal."""

    id: str
    organisation: pb.Organisation
    # organizationIdentifier of the seal certificate (ETSI EN 319 412-1), e.g. "VATES-A00000000".
    eidas_identifier: str
    # ISO 3166-1 alpha-2 country of the eIDAS identifier.
    eidas_country: str


class _Ids:
    """Deterministic ``urn:uuid`` ids for the inner nodes of one credential."""

    def __init__(self, credential_id: str) -> None:
        self._base = credential_id
        self._count = 0
        # Organisations by id: one id must render as one node, or the RDF merges two (duplicate values).
        self.organisations: dict[str, tuple[bytes, dict[str, Any]]] = {}

    def __call__(self, kind: str) -> str:
        self._count += 1
        return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{self._base}/{kind}/{self._count}')}"


def _texts(ls: pb.LangString) -> dict[str, str]:
    return {lang: ls.values[lang] for lang in sorted(ls.values)}


def _concept(uri: str, label: str | None, scheme: str, notation: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": uri, "type": "Concept", "inScheme": {"id": scheme, "type": "ConceptScheme"}}
    if notation:
        node["notation"] = notation
    if label:
        node["prefLabel"] = {"en": label}
    return node


def _vocab_concept(vocabulary: vocab.Vocabulary, value: int) -> dict[str, Any]:
    return _concept(vocabulary.uri(value), vocabulary.label(value), vocabulary.scheme_uri)


def _country(code: str) -> dict[str, Any]:
    return _concept(vocab.country_uri(code), code, _COUNTRY_SCHEME, "country")


def _language(tag: str) -> dict[str, Any] | None:
    concept = vocab.LANGUAGES.get(tag.split("-")[0].lower())
    return None if concept is None else _concept(concept.uri, concept.label, _LANGUAGE_SCHEME, "language")


def _note(ids: _Ids, texts: Mapping[str, str]) -> dict[str, Any]:
    return {"id": ids("note"), "type": "Note", "noteLiteral": dict(texts)}


def _web(ids: _Ids, url: str, title: Mapping[str, str] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": ids("webResource"), "type": "WebResource", "contentURL": url}
    if title:
        node["title"] = dict(title)
    return node


def _xsd(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _location(ids: _Ids, code: str, regions: Iterable[pb.Region]) -> dict[str, Any]:
    location: dict[str, Any] = {"id": ids("location"), "type": "Location",
                                "address": {"id": ids("address"), "type": "Address", "countryCode": _country(code)}}
    spatial = [_concept(r.uri, r.name.values.get("en"), _ATU_SCHEME, "atu") for r in regions]
    if spatial:
        location["spatialCode"] = spatial if len(spatial) > 1 else spatial[0]
    return location


def _organisation(ids: _Ids, org: pb.Organisation, fallback_country: str, *, org_id: str = "",
                  regions: Iterable[pb.Region] = ()) -> dict[str, Any]:
    """An ELM ``Organisation``: legal name, location (mandatory in EDC), identifiers, homepage, e-mail."""
    fingerprint = org.SerializeToString(deterministic=True)
    known = ids.organisations.get(org_id or org.id)
    if known is not None:
        if known[0] != fingerprint:
            raise ValueError(f"organisation id {org_id or org.id!r} names two different organisations")
        return known[1]
    country = org.country.code if org.HasField("country") and org.country.code else fallback_country
    node: dict[str, Any] = {"id": org_id or org.id or ids("org"), "type": "Organisation",
                            "legalName": _texts(org.legal_name), "location": _location(ids, country, regions)}
    others = []
    for ident in org.identifiers:
        key = _LEGAL_SCHEMES.get(ident.scheme.lower())
        if key and key not in node:
            node[key] = {"id": ids("legalIdentifier"), "type": "LegalIdentifier", "notation": ident.value,
                         "spatial": _country(country)}
        else:
            others.append({"id": ids("identifier"), "type": "Identifier", "schemeName": ident.scheme,
                           "notation": ident.value})
    if others:
        node["identifier"] = others if len(others) > 1 else others[0]
    if org.homepage:
        node["homepage"] = _web(ids, org.homepage)
    if org.email:
        node["contactPoint"] = {"id": ids("contactPoint"), "type": "ContactPoint",
                                "emailAddress": {"id": f"mailto:{org.email}", "type": "Mailbox"}}
    if node["id"] == (org_id or org.id):
        ids.organisations[node["id"]] = (fingerprint, node)
    return node


def _person(ids: _Ids, p: pb.Person, lang: str) -> dict[str, Any]:
    node: dict[str, Any] = {"id": p.did or ids("person"), "type": "Person"}
    full = p.full_name.strip() or f"{p.given_name.strip()} {p.family_name.strip()}".strip()
    for key, value in (("givenName", p.given_name.strip()), ("familyName", p.family_name.strip()),
                       ("fullName", full)):
        if value:
            node[key] = {lang: value}
    if p.HasField("date_of_birth"):
        d = p.date_of_birth
        node["dateOfBirth"] = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T00:00:00Z"
    if p.HasField("national_id") and p.national_id.value:
        node["nationalID"] = {"id": ids("legalIdentifier"), "type": "LegalIdentifier",
                              "notation": p.national_id.value, "spatial": _country(p.national_id.country_code)}
    if p.email:
        node["contactPoint"] = {"id": ids("contactPoint"), "type": "ContactPoint",
                                "emailAddress": {"id": f"mailto:{p.email}", "type": "Mailbox"}}
    return node


def _duration_hours(hours: float) -> str:
    return f"PT{int(hours)}H" if float(hours).is_integer() else f"PT{hours:g}H"


def _notes_for_level(level: pb.Level, lang_default: str) -> list[dict[str, str]]:
    notes: list[dict[str, str]] = []
    if level.WhichOneof("eqf") == "not_applicable":
        reason = _texts(level.not_applicable.reason)
        notes.append({k: f"EQF level: not applicable. {v}".strip() for k, v in reason.items()}
                     or {lang_default: "EQF level: not applicable."})
    if level.qf_ehea_cycle in _QF_EHEA:
        notes.append({"en": _QF_EHEA[level.qf_ehea_cycle]})
    return notes


def _accreditation(ids: _Ids, qa: pb.QualityAssurance, country: str) -> dict[str, Any]:
    label = vocab.ACCREDITATION_TYPES.label(qa.type)
    node: dict[str, Any] = {"id": ids("accreditation"), "type": "Accreditation",
                            "dcType": _vocab_concept(vocab.ACCREDITATION_TYPES, qa.type),
                            "title": {"en": qa.framework_name or label},
                            "accreditingAgent": _organisation(ids, qa.qa_body, country)}
    if qa.description.values:
        node["description"] = _texts(qa.description)
    if qa.report_url:
        node["report"] = _web(ids, qa.report_url)
    identifiers = [{"id": ids("identifier"), "type": "Identifier", "schemeName": scheme, "notation": value}
                   for scheme, value in (("QA decision", qa.decision_reference),
                                         ("Registry accreditation", qa.accreditation_id)) if value]
    if identifiers:
        node["identifier"] = identifiers if len(identifiers) > 1 else identifiers[0]
    return node


def _assessment_spec(ids: _Ids, mc: pb.MicroCredential, title: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": ids("learningAssessmentSpec"), "type": "LearningAssessmentSpecification"}
    a = mc.assessment
    spec["title"] = ({"en": vocab.ASSESSMENT_TYPES.label(a.type)} if a.type in vocab.ASSESSMENT_TYPES
                     else dict(title))
    if a.type in vocab.ASSESSMENT_TYPES:
        spec["dcType"] = _vocab_concept(vocab.ASSESSMENT_TYPES, a.type)
    if a.description.values:
        spec["description"] = _texts(a.description)
    if mc.HasField("supervision") and mc.supervision.mode in vocab.LEARNING_MODES:
        spec["mode"] = _vocab_concept(vocab.LEARNING_MODES, mc.supervision.mode)
    if mc.HasField("grade") and mc.grade.HasField("scheme"):
        scheme = mc.grade.scheme
        grading: dict[str, Any] = {"id": scheme.id or ids("gradingScheme"), "type": "GradingScheme",
                                   "title": _texts(scheme.title) or {"en": "Grading scheme"}}
        if scheme.description.values:
            grading["description"] = _texts(scheme.description)
        spec["gradingScheme"] = grading
    return spec


def _assessment(ids: _Ids, mc: pb.MicroCredential, spec: dict[str, Any],
                awarding: dict[str, Any]) -> dict[str, Any]:
    """The learner's ``LearningAssessment`` (grade, supervision), when the model has either."""
    node: dict[str, Any] = {"id": ids("learningAssessment"), "type": "LearningAssessment",
                            "title": dict(spec["title"]), "assessedBy": awarding["awardingBody"],
                            "awardedBy": awarding, "specifiedBy": spec}
    if mc.HasField("grade") and mc.grade.value:
        node["grade"] = _note(ids, {"en": mc.grade.value})
    else:
        # EDC requires a grade on an assessment; the model has none, so say exactly that.
        node["grade"] = _note(ids, {"en": "No grade awarded"})
    notes = []
    if mc.HasField("grade") and mc.grade.status != pb.GRADE_STATUS_UNSPECIFIED:
        notes.append({"en": "Passed" if mc.grade.status == pb.GRADE_STATUS_PASSED else "Failed"})
    if mc.HasField("grade") and mc.grade.distribution.values:
        notes.append(_texts(mc.grade.distribution))
    if notes:
        node["additionalNote"] = [_note(ids, n) for n in notes]
    if mc.HasField("supervision") and mc.supervision.verification in vocab.SUPERVISION_VERIFICATION:
        node["idVerification"] = _vocab_concept(vocab.SUPERVISION_VERIFICATION, mc.supervision.verification)
    return node


def _qualification(ids: _Ids, mc: pb.MicroCredential, assessment_spec: dict[str, Any], country: str,
                   lang: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": mc.achievement_id or ids("qualification"), "type": "Qualification",
                            "title": _texts(mc.title)}
    if mc.description.values:
        spec["description"] = _texts(mc.description)
    level = mc.level
    if level.WhichOneof("eqf") == "eqf_level":
        spec["eqfLevel"] = _vocab_concept(vocab.EQF_LEVELS, level.eqf_level)
    if level.nqf_level_uri:
        spec["nqfLevel"] = _concept(level.nqf_level_uri, None, _NQF_SCHEME)
    w = mc.workload
    if w.credit_points:
        spec["creditPoint"] = {"id": ids("creditPoint"), "type": "CreditPoint", "point": w.credit_points,
                               "framework": _vocab_concept(vocab.CREDIT_SYSTEMS, w.credit_system)}
    if w.hours > 0:
        spec["volumeOfLearning"] = _duration_hours(w.hours)
    if mc.participation.mode in vocab.LEARNING_MODES:
        spec["mode"] = _vocab_concept(vocab.LEARNING_MODES, mc.participation.mode)
    if mc.participation.setting in vocab.LEARNING_SETTINGS:
        spec["learningSetting"] = _vocab_concept(vocab.LEARNING_SETTINGS, mc.participation.setting)
    language = _language(lang)
    if language is not None:
        spec["language"] = language
    outcomes = []
    for outcome in mc.learning_outcomes:
        node: dict[str, Any] = {"id": outcome.id or ids("learningOutcome"), "type": "LearningOutcome",
                                "title": _texts(outcome.text)}
        skills = [_concept(uri, None, _ESCO_SKILLS, "Skill") for uri in outcome.esco_skill_uris]
        if skills:
            node["relatedESCOSkill"] = skills
        outcomes.append(node)
    spec["learningOutcome"] = outcomes
    spec["provenBy"] = assessment_spec
    if mc.criteria_narrative.values:
        spec["learningOutcomeSummary"] = _note(ids, _texts(mc.criteria_narrative))
    if mc.prerequisites.values:
        spec["entryRequirement"] = _note(ids, _texts(mc.prerequisites))
    if mc.HasField("quality_assurance"):
        spec["accreditation"] = _accreditation(ids, mc.quality_assurance, country)
    notes = _notes_for_level(level, lang)
    if mc.HasField("integration") and mc.integration.kind != pb.INTEGRATION_KIND_UNSPECIFIED:
        integ = mc.integration
        spec["isPartialQualification"] = integ.kind == pb.INTEGRATION_KIND_STACKABLE
        kind = "Stackable towards: " if integ.kind == pb.INTEGRATION_KIND_STACKABLE else "Stand-alone. "
        related = ", ".join(integ.related_credential_ids)
        texts = _texts(integ.description) or {"en": ""}
        notes.append({k: f"{kind}{related + '. ' if related else ''}{v}".strip() for k, v in texts.items()})
    if mc.HasField("further_information"):
        info = mc.further_information
        if info.text.values:
            notes.append(_texts(info.text))
        if info.links:
            spec["supplementaryDocument"] = [_web(ids, link.url, _texts(link.title) or None)
                                             for link in info.links]
    if notes:
        spec["additionalNote"] = [_note(ids, n) for n in notes]
    return spec


def _display(ids: _Ids, mc: pb.MicroCredential, languages: list[str], image_png: bytes) -> dict[str, Any]:
    concepts = [c for c in (_language(tag) for tag in languages) if c is not None]
    primary = concepts[0]
    return {
        "id": ids("displayParameter"), "type": "DisplayParameter", "title": _texts(mc.title),
        "language": concepts if len(concepts) > 1 else primary, "primaryLanguage": primary,
        "individualDisplay": {
            "id": ids("individualDisplay"), "type": "IndividualDisplay", "language": primary,
            "displayDetail": {
                "id": ids("displayDetail"), "type": "DisplayDetail", "page": 1,
                "image": {"id": ids("mediaObject"), "type": "MediaObject",
                          "content": base64.b64encode(image_png).decode("ascii"),
                          "contentEncoding": _concept(*_BASE64),
                          "contentType": _concept(_PNG[0], _PNG[1], _PNG[2], "file-type")}}}}


def _default_image() -> bytes:
    return resources.files("microcred.elm.data").joinpath("display.png").read_bytes()


def render_edc(mc: pb.MicroCredential, *, issuer: ElmIssuer, credential_id: str, issued_at: datetime,
               valid_from: datetime | None = None, valid_until: datetime | None = None,
               display_image_png: bytes | None = None, status: StatusReference | None = None) -> dict[str, Any]:
    """The unsigned EDC JSON-LD document of ``mc``, issued by ``issuer`` as ``credential_id`` at ``issued_at``.

    ``mc`` must have passed :mod:`microcred.model.validation` (mandatory elements present, vocabularies known).
    One organisation id naming two different organisations (they would merge in RDF) is a ``ValueError``.
    ``display_image_png`` is the page image the EDC viewer shows; a neutral default is used when absent.
    ``status`` is the credential's Token Status List entry, rendered as its ``credentialStatus``
    (:mod:`microcred.elm.status`: one ``xsd:anyURI``, sealed with the rest).
    """
    ids = _Ids(credential_id)
    lang = mc.language or "en"
    languages = [lang, *sorted({tag for tag in mc.title.values if tag != lang})]
    country = mc.countries[0].code if mc.countries else issuer.eidas_country
    bodies = [_organisation(ids, org, country, regions=mc.regions if i == 0 else ())
              for i, org in enumerate(mc.awarding_bodies)]
    assessment_spec = _assessment_spec(ids, mc, _texts(mc.title))
    awarded_at = mc.issued_at.ToDatetime(tzinfo=UTC) if mc.HasField("issued_at") else issued_at
    awarding = {"id": ids("awardingProcess"), "type": "AwardingProcess", "awardingBody": bodies,
                "awardingDate": _xsd(awarded_at)}
    claim: dict[str, Any] = {
        "id": ids("learningAchievement"), "type": "LearningAchievement", "title": _texts(mc.title),
        "awardedBy": awarding,
        "specifiedBy": _qualification(ids, mc, assessment_spec, country, lang),
    }
    if mc.description.values:
        claim["description"] = _texts(mc.description)
    if mc.HasField("grade") or mc.HasField("supervision"):
        claim["provenBy"] = _assessment(ids, mc, assessment_spec, awarding)
    subject = _person(ids, mc.learner, lang)
    subject["hasClaim"] = claim
    issuer_node = _organisation(ids, issuer.organisation, country, org_id=issuer.id)
    issuer_node["eIDASIdentifier"] = {"id": ids("legalIdentifier"), "type": "LegalIdentifier",
                                      "notation": issuer.eidas_identifier, "spatial": _country(issuer.eidas_country)}
    start = valid_from or (mc.valid_from.ToDatetime(tzinfo=UTC) if mc.HasField("valid_from") else issued_at)
    document: dict[str, Any] = {
        "@context": list(EDC_CONTEXTS),
        "id": credential_id,
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": _concept(*_GENERIC_PROFILE),
        "credentialSchema": {"id": EDC_SCHEMA, "type": "ShaclValidator2017"},
        "displayParameter": _display(ids, mc, languages, display_image_png or _default_image()),
        "credentialSubject": subject,
        "evidence": {"id": ids("evidence"), "type": "Evidence", "evidenceStatement": _MANDATE_STATEMENT,
                     "dcType": _concept(*_MANDATE)},
        "issuer": issuer_node,
        "issuanceDate": _xsd(issued_at),
        "issued": _xsd(issued_at),
        "validFrom": _xsd(start),
    }
    accreditation = claim["specifiedBy"].get("accreditation")
    if accreditation is not None and mc.quality_assurance.accreditation_id:
        # EDC "accredited" profile: the evidence names the accreditation (held in the platform's trust registry)
        # under which the credential is issued; the same node as the qualification's, shared by id.
        document["evidence"]["accreditation"] = accreditation
    if status is not None:  # inside the sealed payload: a verifier reads its status reference from what was signed
        document["credentialStatus"] = credential_status(status)
    end = valid_until or (mc.valid_until.ToDatetime(tzinfo=UTC) if mc.HasField("valid_until") else None)
    if end is not None:
        document["expirationDate"] = _xsd(end)
    return document
