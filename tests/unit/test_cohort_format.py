"""The cohort file format of ``mcred issue`` (docs/cohort-format.md): separators, BOM, XLSX, the header,
per-row overrides, template errors found up front, and ``--dry-run``."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from microcred.cli.issue import default_results_path, prepare_cohort
from microcred.cli.main import app
from microcred.credential.cohort import COLUMNS, header_problems, load_template, template_problems
from microcred.credential.cohort_files import CohortFileError, read_cohort_file
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model.validation import validate_micro_credential

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issuer"
TEMPLATE = FIXTURES / "achievement.yaml"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
runner = CliRunner()


def cohort_lines() -> list[list[str]]:
    with (FIXTURES / "cohort.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_csv(path: Path, lines: list[list[str]], delimiter: str = ",", bom: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(lines)
    return path


def write_xlsx(path: Path, lines: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in lines:
        sheet.append(line)
    book.save(path)
    return path


def built(path: Path) -> list[tuple[str, bytes | None, list[str]]]:
    prepared = prepare_cohort(path, TEMPLATE, NOW)
    return [(r.key, r.credential.SerializeToString(deterministic=True) if r.credential else None, r.errors)
            for r in prepared.rows]


def test_semicolons_tabs_a_bom_and_xlsx_issue_what_the_comma_csv_issues(tmp_path: Path) -> None:
    lines = cohort_lines()
    comma = built(write_csv(tmp_path / "comma.csv", lines))
    assert len(comma) == 3 and all(credential for _, credential, _ in comma)
    assert built(write_csv(tmp_path / "semicolon.csv", lines, ";", bom=True)) == comma
    assert built(write_csv(tmp_path / "tab.csv", lines, "\t")) == comma
    # A spreadsheet holds dates as dates and a lone number as a number: read as the CSV's text.
    typed: list[list[object]] = [lines[0]] + [
        [date.fromisoformat(v) if h == "date_of_birth" and v else v for h, v in zip(lines[0], line, strict=True)]
        for line in lines[1:]]
    assert built(write_xlsx(tmp_path / "cohort.xlsx", typed)) == comma
    assert read_cohort_file(tmp_path / "semicolon.csv").form == "CSV (semicolon-separated)"


def test_a_semicolon_file_with_a_comma_in_a_name_is_still_read_by_its_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["key", "full_name", "email", "grade"],
                                          ["s-1", "Smith, Ana", "a@example.org", "Pass"]], ";")
    [row] = prepare_cohort(path, TEMPLATE, NOW).rows
    assert row.credential is not None and row.credential.learner.full_name == "Smith, Ana"


def test_unknown_columns_list_the_allowed_ones_and_guess_the_intended_one() -> None:
    [problem] = header_problems(["full_name", "emial"])
    assert problem.startswith("unknown columns ['emial'] (did you mean 'email' for 'emial'?)")
    assert "allowed columns are key, full_name" in problem and all(c in problem for c in COLUMNS)
    assert header_problems(["email", "did"]) == ["no name column: give full_name, or given_name and family_name"]
    assert header_problems(["full_name", "email", "email"]) == ["columns appear more than once: ['email']"]
    assert header_problems(["full_name", "title_ga", "title"]) == []


def test_rows_override_title_ects_eqf_grade_and_dates(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [
        ["key", "full_name", "email", "title", "title_ga", "ects", "eqf_level", "grade", "valid_until"],
        ["s-1", "Ana", "a@example.org", "Data literacy", "Litearthacht sonraí", "2.5", "5", "72%", "2030-01-31"],
        ["s-2", "Bo", "b@example.org", "", "", "", "", "", ""],
        ["s-3", "Cy", "c@example.org", "", "", "-5", "9", "", ""],
    ])
    ana, bo, cy = prepare_cohort(path, TEMPLATE, NOW).rows
    assert ana.credential is not None and bo.credential is not None
    assert dict(ana.credential.title.values) == {"en": "Data literacy", "ga": "Litearthacht sonraí"}
    assert ana.credential.workload.credit_points == "2.5"
    assert ana.credential.workload.credit_system == pb.CREDIT_SYSTEM_ECTS
    assert ana.credential.level.eqf_level == pb.EQF_LEVEL_5 and ana.credential.grade.value == "72%"
    assert not ana.credential.level.nqf_level_uri and not ana.credential.level.qf_ehea_cycle  # were for EQF 6
    assert ana.credential.valid_until.ToDatetime(tzinfo=UTC) == datetime(2030, 1, 31, tzinfo=UTC)
    assert validate_micro_credential(ana.credential, now=NOW) == []
    template = load_template(TEMPLATE.read_text())
    assert bo.credential.title == template.title and bo.credential.level == template.level  # empty: template's
    assert cy.credential is None and cy.errors == ["eqf_level: '9' is not an EQF level (a whole number from 1 to 8)"]


def test_template_errors_are_found_before_any_row_unless_the_rows_fill_the_field(tmp_path: Path) -> None:
    template = load_template(TEMPLATE.read_text() + "\nworkload: {credit_system: CREDIT_SYSTEM_ECTS, "
                                                   "credit_points: '-5'}\n")
    [problem] = template_problems(template, ["full_name", "email", "grade"], NOW)
    assert problem.field == "workload.credit_points" and "must be positive" in problem.description
    assert template_problems(template, ["full_name", "email", "grade", "ects"], NOW) == []
    # The fixture's template gives a grading scheme and leaves the grade to the rows: a file without a grade
    # column would fail on every row, so it is a template error.
    assert [p.field for p in template_problems(template, ["full_name", "email", "ects"], NOW)] == ["grade.value"]
    untitled = load_template("\n".join(line for line in TEMPLATE.read_text().splitlines()
                                       if not line.startswith("title:")))
    assert [p.field for p in template_problems(untitled, ["full_name", "grade"], NOW)] == ["title"]
    assert template_problems(untitled, ["full_name", "grade", "title_ga"], NOW) == []


def test_dry_run_with_a_template_error_stops_before_anything(tmp_path: Path) -> None:
    bad_template = tmp_path / "bad.yaml"
    bad_template.write_text(TEMPLATE.read_text().replace('credit_points: "5"', 'credit_points: "-5"'))
    cohort = write_csv(tmp_path / "c.csv", cohort_lines())
    result = runner.invoke(app, ["issue", "--file", str(cohort), "--template", str(bad_template), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "workload.credit_points: credit points must be positive (got -5)" in result.output
    assert not list(tmp_path.glob("*.results-*"))  # nothing written, nothing sent


def test_dry_run_checks_every_row_and_issues_nothing(tmp_path: Path) -> None:
    cohort = write_csv(tmp_path / "c.csv", cohort_lines())
    result = runner.invoke(app, ["issue", "--file", str(cohort), "--template", str(TEMPLATE), "--dry-run",
                                 "--json"])
    assert result.exit_code == 1, result.output  # the fixture's third row has no name
    import json
    summary = json.loads(result.stdout)
    assert (summary["dry_run"], summary["rows"], summary["ready"], summary["invalid"]) == (True, 3, 2, 1)
    with Path(summary["results"]).open(newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [line["status"] for line in lines] == ["ready", "ready", "invalid"]
    assert "learner" in lines[2]["errors"]


def test_each_run_gets_its_own_results_file(tmp_path: Path) -> None:
    first = default_results_path(tmp_path / "cohort.csv", NOW)
    assert first.name == "cohort.results-20261201T093000000000Z.csv"
    assert default_results_path(tmp_path / "cohort.csv", NOW.replace(microsecond=1)) != first


@pytest.mark.parametrize("content", [b"", b"\xff\xfe not utf-8 \x00"])
def test_unreadable_files_are_refused_with_the_reason(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(CohortFileError):
        read_cohort_file(path)


def test_a_service_that_is_down_is_retried_then_reported_as_retryable(tmp_path: Path) -> None:
    import socket

    from microcred import pki

    ca = pki.create_ca("test")
    ca.write(tmp_path / "tls", "ca")
    pki.create_client_cert(ca, "uni-a", "ie", pki.ROLE_ISSUER).write(tmp_path / "tls", "uni-a")
    with socket.socket() as held:  # a port with nothing listening (bound, never listened on)
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        cohort = write_csv(tmp_path / "c.csv", cohort_lines())
        result = runner.invoke(app, ["issue", "--file", str(cohort), "--template", str(TEMPLATE), "--server",
                                     f"127.0.0.1:{port}", "--tls-dir", str(tmp_path / "tls"), "--attempts", "2",
                                     "--quiet"])
    assert result.exit_code == 1, result.output
    assert "could not be reached; nothing was sent; run again later" in result.output
    assert not list(tmp_path.glob("c.results-*"))


def test_the_documented_columns_are_the_columns() -> None:
    from microcred.credential.cohort import COLUMN_HELP

    doc = (Path(__file__).resolve().parents[2] / "docs" / "cohort-format.md").read_text()
    assert all(f"| `{name}` | {text} |" in doc for name, text in COLUMN_HELP.items())
