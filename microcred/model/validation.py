"""Validation of the EU micro-credential elements (Council Recommendation 2022/C 243/02, Annex I).

:func:`validate_micro_credential` is pure: it reads a ``microcred.v1.MicroCredential`` and returns every
violation it finds (never only the first), each naming the offending field by path. An empty list means
the credential may be issued. Rules, by element:

1. learner: a name (full name, or given and family name) and at least one identifier (DID, e-mail,
   national id, hashed id); each identifier well-formed; date of birth a real past date.
2. title: LangString with ``en``.  3. countries: >= 1 ISO 3166-1 alpha-2 code (URI, if given, matching);
   regions are URIs.  4. awarding bodies: >= 1, each with a legal name.  5. issued_at: set, not in the
   future (one day of clock skew allowed).  6. learning outcomes: >= 1, each with text; ESCO URIs.
7. workload: ECTS/ECVET points in (0, 60] with at most two decimals and a credit system, and/or hours > 0.
8. level: an EQF level 1..8 or an explicit ``not_applicable``; NQF URI from the qdr register; QF-EHEA
   cycle matching the EQF level.  9. assessment type, 10. learning mode and 11. QA type + QA body set and
   known.  12-16 and the other fields are checked when present.

Every LangString present must have an ``en`` entry, non-empty values and keys whose primary language
subtag is an accepted EU/EEA language (:data:`microcred.model.vocab.LANGUAGES`). Enum values outside
the vocabulary tables are UNKNOWN_VOCABULARY violations.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from google.protobuf import timestamp_pb2
from google.type import date_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model import vocab
from microcred.model.errors import (
    INCONSISTENT,
    INVALID_FORMAT,
    OUT_OF_RANGE,
    REQUIRED,
    UNKNOWN_VOCABULARY,
    FieldViolation,
)

__all__ = [
    "MANDATORY_FIELDS",
    "MAX_CLOCK_SKEW",
    "MAX_CREDIT_POINTS",
    "PER_LEARNER_FIELDS",
    "FieldViolation",
    "check_timestamp",
    "validate_micro_credential",
    "validate_per_learner",
]

#: Top-level MicroCredential fields holding the 11 mandatory Annex I elements.
MANDATORY_FIELDS: tuple[str, ...] = (
    "learner",
    "title",
    "countries",
    "awarding_bodies",
    "issued_at",
    "learning_outcomes",
    "workload",
    "level",
    "assessment",
    "participation",
    "quality_assurance",
)
#: Top-level fields that usually differ between the credentials of one cohort (see :func:`validate_per_learner`).
PER_LEARNER_FIELDS: tuple[str, ...] = ("learner", "issued_at", "valid_from", "valid_until", "grade")
#: How far in the future an issue date may lie (clock skew between issuer systems and us).
MAX_CLOCK_SKEW = timedelta(days=1)
#: Upper bound of the credit points of one micro-credential (one academic year).
MAX_CREDIT_POINTS = Decimal(60)

# All patterns are used with fullmatch (no "$ before a trailing newline" surprises).
# DID Core §3.1: idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded (a did:jwk is base64url: "_" and "-").
_DID = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%_-]+(?:[/?#]\S*)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_HASH = re.compile(r"sha256\$[0-9a-f]{64}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_NQF_URI = re.compile(re.escape(vocab.NQF_PREFIX) + r"[A-Za-z0-9_]+")
_LANG_TAG = re.compile(r"([a-z]{2})(?:-[A-Za-z0-9]{2,8})*")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_MIN_TS, _MAX_TS = -62135596800, 253402300799  # 0001-01-01 .. 9999-12-31T23:59:59Z


def check_timestamp(path: str, ts: timestamp_pb2.Timestamp) -> list[FieldViolation]:
    """[] when ``ts`` names an instant, else the violation naming ``path``. A Timestamp's fields can hold any
    int64/int32; outside years 1-9999 (or with nanos outside 0..999,999,999) ``ToDatetime`` raises ValueError, so
    every Timestamp a caller sends is checked here before it is read."""
    if _MIN_TS <= ts.seconds <= _MAX_TS and 0 <= ts.nanos < 1_000_000_000:
        return []
    return [FieldViolation(path, "is not a valid timestamp (years 1-9999)", INVALID_FORMAT)]


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(ch.isspace() for ch in url)


class _Checker:
    """Collects violations while walking one MicroCredential."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.violations: list[FieldViolation] = []

    def add(self, field: str, description: str, reason: str) -> None:
        self.violations.append(FieldViolation(field, description, reason))

    # --- generic helpers -------------------------------------------------------------------------

    def lang_string(self, path: str, ls: pb.LangString, *, required: bool) -> None:
        """Check a LangString; an empty one counts as absent."""
        if not ls.values:
            if required:
                self.add(path, "is required (a LangString with an 'en' entry)", REQUIRED)
            return
        if "en" not in ls.values:
            self.add(path, "must have an 'en' (English) entry", REQUIRED)
        for key in sorted(ls.values):
            self.language_tag(f"{path}.values[{key}]", key)
            if not ls.values[key].strip():
                self.add(f"{path}.values[{key}]", "must not be blank", REQUIRED)

    def language_tag(self, path: str, tag: str) -> None:
        m = _LANG_TAG.fullmatch(tag)
        if m is None:
            self.add(path, f"'{tag}' is not a BCP-47 language tag like 'en' or 'de-AT'", INVALID_FORMAT)
        elif m.group(1) not in vocab.LANGUAGES:
            self.add(path, f"'{m.group(1)}' is not an accepted EU/EEA language code", UNKNOWN_VOCABULARY)

    def enum(self, path: str, value: int, known: Iterable[int], *, required: bool, what: str) -> None:
        if value == 0:
            if required:
                self.add(path, f"{what} is required", REQUIRED)
        elif value not in set(known):
            self.add(path, f"{value} is not a known {what} value", UNKNOWN_VOCABULARY)

    def http_url(self, path: str, url: str) -> None:
        if url and not _is_http_url(url):
            self.add(path, f"'{url}' is not an http(s) URL", INVALID_FORMAT)

    def uri(self, path: str, value: str) -> None:
        if not _URI.fullmatch(value):
            self.add(path, f"'{value}' is not an absolute URI", INVALID_FORMAT)

    def email(self, path: str, value: str) -> None:
        if value and not _EMAIL.fullmatch(value):
            self.add(path, f"'{value}' is not an e-mail address", INVALID_FORMAT)

    def country_code(self, path: str, code: str) -> bool:
        if vocab.is_country_code(code):
            return True
        if code in vocab.EU_PROTOCOL_CODES:
            hint = f"use the ISO code '{vocab.EU_PROTOCOL_CODES[code]}', not the EU protocol code '{code}'"
            self.add(path, hint, INVALID_FORMAT)
        elif not code:
            self.add(path, "ISO 3166-1 alpha-2 country code is required", REQUIRED)
        else:
            self.add(path, f"'{code}' is not an ISO 3166-1 alpha-2 country code", INVALID_FORMAT)
        return False

    def timestamp(self, path: str, ts: timestamp_pb2.Timestamp) -> datetime | None:
        problems = check_timestamp(path, ts)
        if problems:
            self.violations.extend(problems)
            return None
        return ts.ToDatetime(tzinfo=UTC)

    def organisation(self, path: str, org: pb.Organisation) -> None:
        self.lang_string(f"{path}.legal_name", org.legal_name, required=True)
        if org.id:
            self.uri(f"{path}.id", org.id)
        for i, ident in enumerate(org.identifiers):
            if not ident.scheme.strip():
                self.add(f"{path}.identifiers[{i}].scheme", "is required", REQUIRED)
            if not ident.value.strip():
                self.add(f"{path}.identifiers[{i}].value", "is required", REQUIRED)
        if org.HasField("country"):
            self.country(f"{path}.country", org.country)
        self.http_url(f"{path}.homepage", org.homepage)
        self.email(f"{path}.email", org.email)

    def country(self, path: str, country: pb.Country) -> None:
        if self.country_code(f"{path}.code", country.code) and country.uri:
            expected = vocab.country_uri(country.code)
            if country.uri != expected:
                message = f"does not match code '{country.code}' (expected {expected})"
                self.add(f"{path}.uri", message, INCONSISTENT)

    # --- Annex I elements ----------------------------------------------------------------------

    def learner(self, p: pb.Person) -> None:
        if not (p.full_name.strip() or (p.given_name.strip() and p.family_name.strip())):
            self.add("learner.full_name", "a full name, or a given and a family name, is required", REQUIRED)
        has_national = p.HasField("national_id") and bool(p.national_id.value.strip())
        has_hash = p.HasField("hashed_id") and bool(p.hashed_id.identity_hash)
        if not (p.did or p.email or has_national or has_hash):
            self.add("learner", "at least one of did, email, national_id or hashed_id is required", REQUIRED)
        if p.did and not _DID.fullmatch(p.did):
            self.add("learner.did", f"'{p.did}' is not a DID (did:<method>:<id>)", INVALID_FORMAT)
        self.email("learner.email", p.email)
        if p.HasField("national_id"):
            if not p.national_id.value.strip():
                self.add("learner.national_id.value", "is required", REQUIRED)
            self.country_code("learner.national_id.country_code", p.national_id.country_code)
        if p.HasField("hashed_id"):
            if not p.hashed_id.identity_type.strip():
                self.add("learner.hashed_id.identity_type", "is required", REQUIRED)
            if not _HASH.fullmatch(p.hashed_id.identity_hash):
                message = "must be 'sha256$' + 64 lowercase hex digits"
                self.add("learner.hashed_id.identity_hash", message, INVALID_FORMAT)
        if p.HasField("date_of_birth"):
            self.date_of_birth("learner.date_of_birth", p.date_of_birth)

    def date_of_birth(self, path: str, d: date_pb2.Date) -> None:
        try:
            born = date(d.year, d.month, d.day)
        except ValueError:
            self.add(path, "must be a complete, real calendar date", INVALID_FORMAT)
            return
        if born > self.now.date() or born.year < 1900:
            self.add(path, f"{born.isoformat()} is not a plausible date of birth", OUT_OF_RANGE)

    def countries(self, mc: pb.MicroCredential) -> None:
        if not mc.countries:
            self.add("countries", "at least one country is required", REQUIRED)
        seen: set[str] = set()
        for i, c in enumerate(mc.countries):
            self.country(f"countries[{i}]", c)
            if c.code in seen:
                self.add(f"countries[{i}].code", f"duplicate country '{c.code}'", INCONSISTENT)
            seen.add(c.code)
        for i, r in enumerate(mc.regions):
            self.uri(f"regions[{i}].uri", r.uri)
            self.lang_string(f"regions[{i}].name", r.name, required=False)

    def issued_at(self, mc: pb.MicroCredential) -> datetime | None:
        if not mc.HasField("issued_at"):
            self.add("issued_at", "the date of issuing is required", REQUIRED)
            return None
        issued = self.timestamp("issued_at", mc.issued_at)
        if issued is not None and issued > self.now + MAX_CLOCK_SKEW:
            self.add("issued_at", f"{issued.isoformat()} is in the future", OUT_OF_RANGE)
        return issued

    def learning_outcomes(self, mc: pb.MicroCredential) -> None:
        if not mc.learning_outcomes:
            self.add("learning_outcomes", "at least one learning outcome is required", REQUIRED)
        for i, lo in enumerate(mc.learning_outcomes):
            self.lang_string(f"learning_outcomes[{i}].text", lo.text, required=True)
            for j, uri in enumerate(lo.esco_skill_uris):
                if not uri.startswith(vocab.ESCO_PREFIX) or not _URI.fullmatch(uri):
                    path = f"learning_outcomes[{i}].esco_skill_uris[{j}]"
                    self.add(path, f"'{uri}' is not an ESCO URI ({vocab.ESCO_PREFIX}...)", INVALID_FORMAT)

    def workload(self, w: pb.Workload) -> None:
        if not w.credit_points and w.hours == 0:
            self.add("workload", "credit points (ECTS wherever possible) and/or hours are required", REQUIRED)
        if w.credit_points:
            self.credit_points("workload.credit_points", w.credit_points)
            self.enum(
                "workload.credit_system", w.credit_system, vocab.CREDIT_SYSTEMS.concepts,
                required=True, what="credit system",
            )
        elif w.credit_system:
            message = "credit_system is set but credit_points is empty"
            self.add("workload.credit_points", message, INCONSISTENT)
        if w.hours != 0 and not (math.isfinite(w.hours) and w.hours > 0):
            self.add("workload.hours", f"{w.hours} is not a positive number of hours", OUT_OF_RANGE)

    def credit_points(self, path: str, points: str) -> None:
        text = points.strip()
        if text.startswith("-") and _DECIMAL.fullmatch(text[1:]):  # a number, just not one that can be credits
            self.add(path, f"credit points must be positive (got {text})", OUT_OF_RANGE)
            return
        if not _DECIMAL.fullmatch(points):
            self.add(path, f"'{points}' is not a decimal number like '5' or '2.5'", INVALID_FORMAT)
            return
        value = Decimal(points)
        if value == 0:
            self.add(path, "credit points must be positive (got 0); leave them out and give hours instead",
                     OUT_OF_RANGE)
        elif value > MAX_CREDIT_POINTS:
            self.add(path, f"credit points must be at most {MAX_CREDIT_POINTS} (got {points})", OUT_OF_RANGE)
        if "." in points and len(points.split(".")[1].rstrip("0")) > 2:
            self.add(path, f"{points} has more than two decimals", INVALID_FORMAT)

    def level(self, lv: pb.Level) -> None:
        which = lv.WhichOneof("eqf")
        if which is None:
            self.add("level.eqf_level", "an EQF level (1-8), or not_applicable, is required", REQUIRED)
        elif which == "eqf_level":
            levels = vocab.EQF_LEVELS.concepts
            self.enum("level.eqf_level", lv.eqf_level, levels, required=True, what="EQF level")
        else:
            self.lang_string("level.not_applicable.reason", lv.not_applicable.reason, required=False)
        if lv.nqf_level_uri and not _NQF_URI.fullmatch(lv.nqf_level_uri):
            self.add("level.nqf_level_uri", f"must be a {vocab.NQF_PREFIX}... concept URI", INVALID_FORMAT)
        cycle = lv.qf_ehea_cycle
        self.enum("level.qf_ehea_cycle", cycle, vocab.QF_EHEA_CYCLES, required=False, what="QF-EHEA cycle")
        if cycle in vocab.QF_EHEA_CYCLES and which == "eqf_level" and lv.eqf_level in vocab.EQF_LEVELS:
            expected = vocab.QF_EHEA_CYCLES[cycle].eqf_level
            if lv.eqf_level != expected:
                label = vocab.QF_EHEA_CYCLES[cycle].label
                self.add("level.qf_ehea_cycle", f"{label} corresponds to EQF level {expected}", INCONSISTENT)

    def quality_assurance(self, qa: pb.QualityAssurance) -> None:
        self.enum(
            "quality_assurance.type", qa.type, vocab.ACCREDITATION_TYPES.concepts,
            required=True, what="quality assurance type",
        )
        if qa.HasField("qa_body"):
            self.organisation("quality_assurance.qa_body", qa.qa_body)
        else:
            self.add("quality_assurance.qa_body", "the QA / accrediting body is required", REQUIRED)
        self.http_url("quality_assurance.report_url", qa.report_url)
        self.lang_string("quality_assurance.description", qa.description, required=False)

    # --- optional elements ---------------------------------------------------------------------

    def grade(self, g: pb.Grade) -> None:
        if not g.value.strip():
            self.add("grade.value", "is required when a grade is given", REQUIRED)
        if not g.HasField("scheme") or not (g.scheme.id or g.scheme.title.values):
            self.add("grade.scheme", "a grading scheme (title or id) is required with a grade", REQUIRED)
        else:
            if g.scheme.id:
                self.uri("grade.scheme.id", g.scheme.id)
            self.lang_string("grade.scheme.title", g.scheme.title, required=False)
            self.lang_string("grade.scheme.description", g.scheme.description, required=False)
        self.enum("grade.status", g.status, pb.GradeStatus.values(), required=False, what="grade status")
        self.lang_string("grade.distribution", g.distribution, required=False)

    def integration(self, it: pb.Integration) -> None:
        kinds = pb.IntegrationKind.values()
        self.enum("integration.kind", it.kind, kinds, required=True, what="integration kind")
        named = bool(it.related_credential_ids) or bool(it.description.values)
        if it.kind == pb.INTEGRATION_KIND_STACKABLE and not named:
            self.add(
                "integration.related_credential_ids",
                "a stackable credential names what it stacks towards (ids or description)", REQUIRED,
            )
        for i, rid in enumerate(it.related_credential_ids):
            self.uri(f"integration.related_credential_ids[{i}]", rid)
        self.lang_string("integration.description", it.description, required=False)

    def further_information(self, fi: pb.FurtherInformation) -> None:
        self.lang_string("further_information.text", fi.text, required=False)
        for i, link in enumerate(fi.links):
            if not link.url:
                self.add(f"further_information.links[{i}].url", "is required", REQUIRED)
            self.http_url(f"further_information.links[{i}].url", link.url)
            self.lang_string(f"further_information.links[{i}].title", link.title, required=False)

    def validity(self, mc: pb.MicroCredential, issued: datetime | None) -> None:
        start = self.timestamp("valid_from", mc.valid_from) if mc.HasField("valid_from") else issued
        if mc.HasField("valid_until"):
            end = self.timestamp("valid_until", mc.valid_until)
            if start is not None and end is not None and end <= start:
                what = "valid_from" if mc.HasField("valid_from") else "issued_at"
                self.add("valid_until", f"must be after {what}", INCONSISTENT)


def validate_micro_credential(mc: pb.MicroCredential, *, now: datetime | None = None) -> list[FieldViolation]:
    """Return every Annex I rule violation of ``mc`` (empty list: valid).

    ``now`` (timezone-aware) is the reference time for "not in the future" checks; default: current UTC.
    """
    c = _Checker(now or datetime.now(UTC))
    if mc.HasField("learner"):
        c.learner(mc.learner)
    else:
        c.add("learner", "identification of the learner is required", REQUIRED)
    c.lang_string("title", mc.title, required=True)
    c.countries(mc)
    if not mc.awarding_bodies:
        c.add("awarding_bodies", "at least one awarding body is required", REQUIRED)
    for i, org in enumerate(mc.awarding_bodies):
        c.organisation(f"awarding_bodies[{i}]", org)
    issued = c.issued_at(mc)
    c.learning_outcomes(mc)
    if mc.HasField("workload"):
        c.workload(mc.workload)
    else:
        c.add("workload", "the notional workload is required", REQUIRED)
    if mc.HasField("level"):
        c.level(mc.level)
    else:
        c.add("level", "the level (EQF level, or explicitly not applicable) is required", REQUIRED)
    if mc.HasField("assessment"):
        c.enum("assessment.type", mc.assessment.type, vocab.ASSESSMENT_TYPES.concepts, required=True,
               what="assessment type")
        c.lang_string("assessment.description", mc.assessment.description, required=False)
    else:
        c.add("assessment", "the type of assessment is required", REQUIRED)
    if mc.HasField("participation"):
        c.enum("participation.mode", mc.participation.mode, vocab.LEARNING_MODES.concepts, required=True,
               what="learning mode")
        c.enum("participation.setting", mc.participation.setting, vocab.LEARNING_SETTINGS.concepts,
               required=False, what="learning setting")
    else:
        c.add("participation", "the form of participation is required", REQUIRED)
    if mc.HasField("quality_assurance"):
        c.quality_assurance(mc.quality_assurance)
    else:
        c.add("quality_assurance", "the type of quality assurance is required", REQUIRED)

    c.lang_string("prerequisites", mc.prerequisites, required=False)
    if mc.HasField("supervision"):
        supervision = vocab.SUPERVISION_VERIFICATION.concepts
        c.enum("supervision.verification", mc.supervision.verification, supervision,
               required=True, what="supervision / ID verification")
        c.enum("supervision.mode", mc.supervision.mode, vocab.LEARNING_MODES.concepts, required=False,
               what="learning mode")
    if mc.HasField("grade"):
        c.grade(mc.grade)
    if mc.HasField("integration"):
        c.integration(mc.integration)
    if mc.HasField("further_information"):
        c.further_information(mc.further_information)
    c.validity(mc, issued)
    if mc.achievement_id:
        c.uri("achievement_id", mc.achievement_id)
    c.lang_string("description", mc.description, required=False)
    c.lang_string("criteria_narrative", mc.criteria_narrative, required=False)
    if mc.language:
        c.language_tag("language", mc.language)
    return c.violations


def validate_per_learner(mc: pb.MicroCredential, *, now: datetime | None = None) -> list[FieldViolation]:
    """The violations :func:`validate_micro_credential` reports about :data:`PER_LEARNER_FIELDS`, in its order.

    No rule on the other fields reads these, and no rule on these reads the others, so for a credential whose
    other fields pass, this is the whole of :func:`validate_micro_credential` (a batch of one cohort can check
    the cohort's shared fields once).
    """
    c = _Checker(now or datetime.now(UTC))
    if mc.HasField("learner"):
        c.learner(mc.learner)
    else:
        c.add("learner", "identification of the learner is required", REQUIRED)
    issued = c.issued_at(mc)
    if mc.HasField("grade"):
        c.grade(mc.grade)
    c.validity(mc, issued)
    return c.violations
