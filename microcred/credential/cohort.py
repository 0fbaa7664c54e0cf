"""Cohorts: one achievement template (YAML) plus one CSV row per learner make one micro-credential per row.

The template is a partial ``microcred.v1.MicroCredential`` in protobuf JSON form (snake_case or camelCase
field names, enum names or numbers), with two conveniences: a LangString may be written as a plain string
(English) or as a mapping of language tags, and a timestamp as an ISO date or date-time. Everything shared
by the cohort goes there: title, awarding bodies, countries, outcomes, workload, level, assessment,
participation, quality assurance and the optional elements.

Each CSV row adds the learner and what differs per learner. Recognised columns (all optional except a
name and one identifier, as the validation requires): ``key``, ``full_name``, ``given_name``,
``family_name``, ``email``, ``did``, ``date_of_birth`` (YYYY-MM-DD), ``national_id``,
``national_id_country``, ``issued_at``, ``valid_from``, ``valid_until`` (ISO dates or date-times), ``grade``,
``grade_status`` (passed/failed). Other columns are refused, so a typo never goes unnoticed.

The idempotency key of a row is ``csv:<template digest>:<key column>`` (or a digest of the row when there is
no ``key`` column): re-running the same CSV with the same template issues nothing twice, and the same
learner row under another template is another credential.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

import yaml
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from microcred.gen.microcred.v1 import elements_pb2 as pb

__all__ = ["COLUMNS", "CohortRow", "TemplateError", "cohort_rows", "load_template", "template_digest"]

COLUMNS = frozenset({"key", "full_name", "given_name", "family_name", "email", "did", "date_of_birth",
                     "national_id", "national_id_country", "issued_at", "valid_from", "valid_until", "grade",
                     "grade_status"})
_GRADE_STATUS = {"passed": pb.GRADE_STATUS_PASSED, "pass": pb.GRADE_STATUS_PASSED,
                 "failed": pb.GRADE_STATUS_FAILED, "fail": pb.GRADE_STATUS_FAILED}
_LANG_STRING = pb.LangString.DESCRIPTOR.full_name
_TIMESTAMP = "google.protobuf.Timestamp"


class TemplateError(ValueError):
    """The achievement template cannot be read as a MicroCredential."""


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
    if row.get("grade"):
        mc.grade.value = row["grade"].strip()
    if row.get("grade_status"):
        status = _GRADE_STATUS.get(row["grade_status"].strip().lower())
        if status is None:
            errors.append(f"grade_status: {row['grade_status']!r} is not passed or failed")
        else:
            mc.grade.status = status
    return errors


def cohort_rows(template: pb.MicroCredential, rows: Iterable[Mapping[str, str | None]],
                now: datetime | None = None) -> Iterator[CohortRow]:
    """One :class:`CohortRow` per CSV row (``rows`` as ``csv.DictReader`` yields them)."""
    digest = template_digest(template)
    issued_default = (now or datetime.now(UTC)).replace(microsecond=0)
    for number, raw in enumerate(rows, start=1):
        row = {str(k): (v or "") for k, v in raw.items() if k is not None}
        unknown = sorted(set(row) - COLUMNS)
        key = _row_key(digest, row)
        if unknown or None in raw:
            what = f"unknown columns {unknown}" if unknown else "more values than columns"
            yield CohortRow(number, key, None, [f"row: {what}"])
            continue
        mc = pb.MicroCredential()
        mc.CopyFrom(template)
        errors = _apply_row(mc, row, issued_default)
        yield CohortRow(number, key, None if errors else mc, errors)
