"""Cohorts: one achievement template (YAML) plus one row per learner make one micro-credential per row.

The template is a partial ``microcred.v1.MicroCredential`` in protobuf JSON form (snake_case or camelCase
field names, enum names or numbers), with two conveniences: a LangString may be written as a plain string
(English) or as a mapping of language tags, and a timestamp as an ISO date or date-time. Everything shared
by the cohort goes there: title, awarding bodies, countries, outcomes, workload, level, assessment,
participation, quality assurance and the optional elements.

Each row adds the learner and what differs per learner (:data:`COLUMN_HELP` describes every column; the
user-facing description is ``docs/cohort-format.md``). Besides the learner, a row may override what varies in
real cohorts: ``title`` (and ``title_<lang>``), ``ects``, ``eqf_level``, ``grade``/``grade_status`` and the
dates; the issuer service validates the result (including the issuer's accreditation for the EQF level) like
any other value. An override replaces what depends on it: a row's title replaces the template's title in
every language, and a row's other EQF level drops the template's national level and Bologna cycle. Other
columns are refused with the allowed ones and a did-you-mean, so a typo never goes unnoticed.
:func:`template_problems` tells template errors (the same for every row) from row errors before anything is
sent.

The idempotency key of a row is ``csv:<template digest>:<key column>`` (or a digest of the row when there is
no ``key`` column): re-running the same file with the same template issues nothing twice, and the same
learner row under another template is another credential.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

import yaml
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model.errors import FieldViolation
from microcred.model.validation import validate_micro_credential

__all__ = ["COLUMNS", "COLUMN_HELP", "CohortRow", "TemplateError", "cohort_rows", "header_problems",
           "load_template", "template_digest", "template_problems"]

#: Every column a cohort file may have, with what it holds (``docs/cohort-format.md`` says the same).
COLUMN_HELP: dict[str, str] = {
    "key": "your stable id for the row (e.g. the student number); re-runs use it to issue nothing twice",
    "full_name": "the learner's full name (or given_name and family_name)",
    "given_name": "the learner's given name",
    "family_name": "the learner's family name",
    "email": "the learner's e-mail address (an identifier)",
    "did": "the learner's DID (an identifier), e.g. did:web:learner.example",
    "date_of_birth": "YYYY-MM-DD",
    "national_id": "a national identifier (an identifier)",
    "national_id_country": "the ISO 3166 country of national_id, e.g. IE",
    "issued_at": "ISO date or date-time (default: now)",
    "valid_from": "ISO date or date-time",
    "valid_until": "ISO date or date-time",
    "grade": "the learner's grade as printed, e.g. Pass or 72%",
    "grade_status": "passed or failed",
    "title": "this row's title in English, replacing the template's title",
    "title_<lang>": "this row's title in another language (e.g. title_ga), replacing the template's title",
    "ects": "this row's ECTS credit points (positive, e.g. 5 or 2.5), replacing the template's workload points",
    "eqf_level": "this row's EQF level, 1 to 8, replacing the template's level",
}
COLUMNS = frozenset(name for name in COLUMN_HELP if "<" not in name)
_TITLE_IN = re.compile(r"title_([a-z]{2,3}(?:-[a-z0-9]{2,8})?)")
#: Where a row column writes: violations under these paths come from the row, every other from the template.
_WRITES: dict[str, tuple[str, ...]] = {
    "title": ("title",), "ects": ("workload",), "eqf_level": ("level",), "grade": ("grade",),
    "grade_status": ("grade",), "issued_at": ("issued_at",), "valid_from": ("valid_from", "validity"),
    "valid_until": ("valid_until", "validity"),
}
_GRADE_STATUS = {"passed": pb.GRADE_STATUS_PASSED, "pass": pb.GRADE_STATUS_PASSED,
                 "failed": pb.GRADE_STATUS_FAILED, "fail": pb.GRADE_STATUS_FAILED}
_EQF_LEVELS: dict[int, pb.EqfLevel] = {n: getattr(pb, f"EQF_LEVEL_{n}") for n in range(1, 9)}
_LANG_STRING = pb.LangString.DESCRIPTOR.full_name
_TIMESTAMP = "google.protobuf.Timestamp"


class TemplateError(ValueError):
    """The achievement template cannot be read as a MicroCredential."""


def _known(column: str) -> bool:
    return column in COLUMNS or bool(_TITLE_IN.fullmatch(column))


def header_problems(columns: Iterable[str]) -> list[str]:
    """What is wrong with a cohort file's header ([] when nothing): unknown, repeated or missing columns."""
    names = [c.strip() for c in columns]
    problems: list[str] = []
    unknown = [c for c in names if not _known(c)]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name.lower(), sorted(COLUMN_HELP), n=1, cutoff=0.7)
            if close:
                hints.append(f"did you mean {close[0]!r} for {name!r}?")
        problems.append(f"unknown columns {sorted(unknown)}" + (f" ({'; '.join(hints)})" if hints else "")
                        + f"; allowed columns are {', '.join(COLUMN_HELP)}")
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        problems.append(f"columns appear more than once: {repeated}")
    if not any(c in names for c in ("full_name", "given_name", "family_name")):
        problems.append("no name column: give full_name, or given_name and family_name")
    return problems


@dataclass
class CohortRow:
    """One CSV row: its 1-based number, idempotency key, and the credential or why it could not be built."""

    number: int
    key: str
    credential: pb.MicroCredential | None
    errors: list[str] = field(default_factory=list)


def _timestamp_text(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        moment = _parse_moment(str(value))
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_moment(text: str) -> datetime:
    """An ISO date (midnight UTC) or date-time (UTC when no offset is given)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _normalise(value: Any, descriptor: Descriptor, path: str) -> Any:
    """Expand the template conveniences, guided by the message descriptor."""
    if not isinstance(value, Mapping):
        raise TemplateError(f"{path or 'template'}: expected a mapping")
    out: dict[str, Any] = {}
    fields = {**descriptor.fields_by_name, **descriptor.fields_by_camelcase_name}
    for key, item in value.items():
        fd = fields.get(str(key))
        if fd is None:
            raise TemplateError(f"{path}{key}: no such field in {descriptor.name}")
        out[str(key)] = _normalise_field(item, fd, f"{path}{key}")
    return out


def _normalise_field(item: Any, fd: FieldDescriptor, path: str) -> Any:
    if (fd.is_repeated and fd.message_type is None) or (
            fd.message_type is not None and fd.message_type.GetOptions().map_entry):
        return item
    if fd.is_repeated:
        if not isinstance(item, list):
            raise TemplateError(f"{path}: expected a list")
        return [_normalise_single(v, fd, f"{path}[{i}].") for i, v in enumerate(item)]
    return _normalise_single(item, fd, f"{path}.")


def _normalise_single(item: Any, fd: FieldDescriptor, path: str) -> Any:
    if fd.message_type is None:
        return item
    name = fd.message_type.full_name
    if name == _LANG_STRING:
        if isinstance(item, str):
            return {"values": {"en": item}}
        if isinstance(item, Mapping) and "values" not in item:
            return {"values": dict(item)}
        return item
    if name == _TIMESTAMP:
        try:
            return _timestamp_text(item)
        except ValueError as exc:
            raise TemplateError(f"{path.rstrip('.')}: {exc}") from None
    if name == "google.type.Date":
        return item
    return _normalise(item, fd.message_type, path)


def load_template(text: str) -> pb.MicroCredential:
    """Parse an achievement template (YAML or JSON text)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateError(f"not YAML: {exc}") from None
    normalised = _normalise(data or {}, cast("Descriptor", pb.MicroCredential.DESCRIPTOR), "")
    try:
        return json_format.ParseDict(normalised, pb.MicroCredential())
    except json_format.ParseError as exc:
        raise TemplateError(str(exc)) from None


def template_digest(template: pb.MicroCredential) -> str:
    """A short, stable digest of a template (part of every row's idempotency key)."""
    canonical = json.dumps(json_format.MessageToDict(template), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _row_key(digest: str, row: Mapping[str, str]) -> str:
    own = (row.get("key") or "").strip()
    if not own:
        own = hashlib.sha256(json.dumps(dict(sorted(row.items())), separators=(",", ":")).encode()).hexdigest()[:32]
    return f"csv:{digest}:{own}"


def _apply_row(mc: pb.MicroCredential, row: Mapping[str, str], default_issued_at: datetime) -> list[str]:
    """Fill the learner and per-row fields of ``mc`` from ``row``; return the row's format errors."""
    errors: list[str] = []
    person = mc.learner
    for column in ("full_name", "given_name", "family_name", "email", "did"):
        if row.get(column):
            setattr(person, column, row[column].strip())
    if row.get("national_id"):
        person.national_id.value = row["national_id"].strip()
        person.national_id.country_code = (row.get("national_id_country") or "").strip().upper()
    if row.get("date_of_birth"):
        try:
            born = date.fromisoformat(row["date_of_birth"].strip())
            person.date_of_birth.year, person.date_of_birth.month, person.date_of_birth.day = (
                born.year, born.month, born.day)
        except ValueError:
            errors.append(f"date_of_birth: {row['date_of_birth']!r} is not a date (YYYY-MM-DD)")
    for column in ("issued_at", "valid_from", "valid_until"):
        if row.get(column):
            try:
                getattr(mc, column).FromDatetime(_parse_moment(row[column]))
            except ValueError:
                errors.append(f"{column}: {row[column]!r} is not an ISO date or date-time")
    if not mc.HasField("issued_at"):
        mc.issued_at.FromDatetime(default_issued_at)
    titles = {"en" if column == "title" else column.split("_", 1)[1]: value.strip()
              for column, value in row.items() if (column == "title" or _TITLE_IN.fullmatch(column)) and value}
    if titles:  # a row's title replaces the template's in every language (the others would be stale)
        mc.title.values.clear()
        mc.title.values.update(titles)
    if row.get("ects"):
        mc.workload.credit_points = row["ects"].strip()
        mc.workload.credit_system = pb.CREDIT_SYSTEM_ECTS
    if row.get("eqf_level"):
        level = row["eqf_level"].strip()
        if level.isascii() and level.isdigit() and 1 <= int(level) <= 8:
            if mc.level.WhichOneof("eqf") != "eqf_level" or mc.level.eqf_level != _EQF_LEVELS[int(level)]:
                # The template's national level and Bologna cycle describe its own EQF level, not this one.
                mc.level.ClearField("nqf_level_uri")
                mc.level.ClearField("qf_ehea_cycle")
            mc.level.eqf_level = _EQF_LEVELS[int(level)]
        else:
            errors.append(f"eqf_level: {row['eqf_level']!r} is not an EQF level (a whole number from 1 to 8)")
    if row.get("grade"):
        mc.grade.value = row["grade"].strip()
    if row.get("grade_status"):
        status = _GRADE_STATUS.get(row["grade_status"].strip().lower())
        if status is None:
            errors.append(f"grade_status: {row['grade_status']!r} is not passed or failed")
        else:
            mc.grade.status = status
    return errors


def cohort_rows(template: pb.MicroCredential, rows: Iterable[Mapping[str | None, Any]],
                now: datetime | None = None) -> Iterator[CohortRow]:
    """One :class:`CohortRow` per CSV row (``rows`` as ``csv.DictReader`` yields them)."""
    digest = template_digest(template)
    issued_default = (now or datetime.now(UTC)).replace(microsecond=0)
    for number, raw in enumerate(rows, start=1):
        row = {str(k): str(v or "") for k, v in raw.items() if k is not None}
        unknown = sorted(c for c in row if not _known(c))
        key = _row_key(digest, row)
        if unknown or None in raw:
            what = header_problems(row)[0] if unknown else "more values than columns"
            yield CohortRow(number, key, None, [f"row: {what}"])
            continue
        mc = pb.MicroCredential()
        mc.CopyFrom(template)
        errors = _apply_row(mc, row, issued_default)
        yield CohortRow(number, key, None if errors else mc, errors)


def template_problems(template: pb.MicroCredential, columns: Iterable[str],
                      now: datetime | None = None) -> list[FieldViolation]:
    """The violations every row would share: those of the template with a stand-in learner, except on fields
    that the file's ``columns`` fill in per row. Found before anything is sent, they stop the whole run
    (the same error on every row would say nothing more)."""
    names = {c.strip() for c in columns}
    from_rows = {path for column in names for path in _WRITES.get("title" if _TITLE_IN.fullmatch(column)
                                                                     else column, ())}
    mc = pb.MicroCredential()
    mc.CopyFrom(template)
    mc.learner.full_name, mc.learner.email = "Stand-in Learner", "stand-in@example.org"
    if not mc.HasField("issued_at"):
        mc.issued_at.FromDatetime((now or datetime.now(UTC)).replace(microsecond=0))
    return [v for v in validate_micro_credential(mc, now=now)
            if not v.field.startswith("learner") and v.field.split(".")[0].split("[")[0] not in from_rows]
