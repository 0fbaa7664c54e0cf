"""Reading a cohort file: CSV (comma, semicolon or tab; UTF-8 with or without a BOM) or an XLSX workbook.

Spreadsheet programs write CSV with the separator of the user's locale (a semicolon wherever the decimal mark
is a comma) and often a byte-order mark; people also send the workbook itself. All three give the same
rows: a header of column names (trimmed, lower-cased) and one mapping per line, as ``csv.DictReader``
yields them (``None`` under the key ``None`` for surplus values, so :func:`~.cohort.cohort_rows` can refuse
the row).

The separator is taken from the header line alone, by counting: column names never contain a comma,
semicolon or tab, so the most frequent of the three is the separator (``csv.Sniffer`` guesses from the data
rows too, where commas inside quoted names and semicolons in free text mislead it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

__all__ = ["CohortFile", "CohortFileError", "read_cohort_file"]

_SEPARATORS = (",", ";", "\t")
#: Rows a cohort file may have (a generous bound on one run; larger cohorts are split into several files).
MAX_ROWS = 200_000


class CohortFileError(ValueError):
    """The file cannot be read as a cohort (not UTF-8, no header, not a workbook, too many rows)."""


@dataclass(frozen=True)
class CohortFile:
    """The header and the rows of a cohort file, and how it was read (for the run's summary)."""

    columns: list[str]
    rows: list[Mapping[str | None, Any]]
    form: str


def _column(name: Any) -> str:
    return str(name if name is not None else "").strip().lower()


def _read_csv(path: Path) -> CohortFile:
    try:
        text = path.read_text(encoding="utf-8-sig")  # utf-8-sig drops a byte-order mark when there is one
    except UnicodeDecodeError as exc:
        raise CohortFileError(f"{path}: not UTF-8 text (save the CSV as UTF-8): {exc}") from None
    header_line = text.split("\n", 1)[0]
    separator = max(_SEPARATORS, key=header_line.count)  # ties (a one-column file) fall to the comma
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        header = next(reader)
    except StopIteration:
        raise CohortFileError(f"{path}: empty file (the first line names the columns)") from None
    columns = [_column(c) for c in header]
    rows = list(csv.DictReader(io.StringIO(text, newline=""), fieldnames=columns, delimiter=separator))[1:]
    name = {",": "comma", ";": "semicolon", "\t": "tab"}[separator]
    return CohortFile(columns, _bounded(path, [r for r in rows if any(v for v in r.values())]),
                      f"CSV ({name}-separated)")


def _cell(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold: dates as ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(path: Path) -> CohortFile:
    # openpyxl is imported here: only XLSX runs need it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise CohortFileError(f"{path}: not an XLSX workbook: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = next(lines, None)
        if header is None:
            raise CohortFileError(f"{path}: the first sheet is empty (its first row names the columns)")
        while header and header[-1] is None:  # trailing empty header cells are formatting, not columns
            header = header[:-1]
        columns = [_column(c) for c in header]
        rows: list[Mapping[str | None, Any]] = []
        for line in lines:
            cells = [_cell(v) for v in line]
            if not any(cells):
                continue
            row: dict[str | None, Any] = dict(zip(columns, cells[:len(columns)] + [""] * (len(columns) - len(cells)),
                                                  strict=True))
            surplus = [c for c in cells[len(columns):] if c]
            if surplus:
                row[None] = surplus
            rows.append(row)
            _bounded(path, rows)
    finally:
        workbook.close()
    return CohortFile(columns, rows, f"XLSX (sheet {sheet.title!r})")


def _bounded(path: Path, rows: list[Mapping[str | None, Any]]) -> list[Mapping[str | None, Any]]:
    if len(rows) > MAX_ROWS:
        raise CohortFileError(f"{path}: more than {MAX_ROWS} rows; split the cohort into several files")
    return rows


def read_cohort_file(path: Path) -> CohortFile:
    """The header and rows of a CSV or XLSX cohort file (chosen by the file's suffix)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    return _read_csv(path)
