"""``mcred keys``, ``mcred credential sign`` and the cohort side of ``mcred issue`` (template, rows, keys)."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microcred import pki
from microcred.cli.issue import tls_from_dir
from microcred.cli.keys import load_key_file
from microcred.cli.main import app
from microcred.credential.cohort import TemplateError, cohort_rows, load_template, template_digest
from microcred.crypto import did_key
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.model.validation import validate_micro_credential
from tests.harness.factories import valid_micro_credential
from tests.unit.test_ob3_render import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issuer"
runner = CliRunner()


def test_keys_generate_prints_the_did_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "key.json"
    result = runner.invoke(app, ["keys", "generate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    did = result.stdout.strip()
    assert did.startswith("did:key:z6Mk")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert load_key_file(out).did == did and "secretKeyMultibase" in json.loads(out.read_text())
    assert "z3u2" not in repr(load_key_file(out))
    again = runner.invoke(app, ["keys", "generate", "--out", str(out)])
    assert again.exit_code == 1


def test_credential_sign_sets_the_issuer_and_verifies(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    runner.invoke(app, ["keys", "generate", "--out", str(key)])
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(render(valid_micro_credential())))
    result = runner.invoke(app, ["credential", "sign", "--key", str(key), str(unsigned)])
    assert result.exit_code == 0, result.output
    signed = json.loads(result.stdout)
    did = load_key_file(key).did
    assert signed["issuer"]["id"] == did and signed["issuer"]["name"] == "University A"
    assert signed["proof"]["verificationMethod"] == did_key.verification_method_id(did)
    assert verify_data_integrity(signed, did_key.resolve_key).verified is True


@pytest.mark.parametrize("document", [
    {"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.com/remote"], "type": "x"},
    {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "undefinedTerm": 1},
    ["not", "an", "object"],
])
def test_credential_sign_refuses_what_it_cannot_sign_safely(tmp_path: Path, document: object) -> None:
    key = tmp_path / "key.json"
    runner.invoke(app, ["keys", "generate", "--out", str(key)])
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(app, ["credential", "sign", "--key", str(key), str(path)])
    assert result.exit_code == 2 and not result.stdout


def test_the_template_fixture_builds_the_factory_achievement() -> None:
    template = load_template((FIXTURES / "achievement.yaml").read_text())
    factory = valid_micro_credential()
    for name in ("title", "countries", "regions", "learning_outcomes", "workload", "level", "assessment",
                 "participation", "supervision", "integration", "further_information", "prerequisites",
                 "achievement_id", "description", "criteria_narrative", "language"):
        assert getattr(template, name) == getattr(factory, name), name
    assert template.quality_assurance.qa_body.legal_name.values["en"] == "Quality and Qualifications Ireland"


@pytest.mark.parametrize(("text", "message"), [
    ("titel: x", "titel: no such field"),
    ("level: {eqf_level: EQF_LEVEL_9}", "EQF_LEVEL_9"),
    ("countries: {code: IE}", "countries: expected a list"),
    ("issued_at: yesterday", "issued_at"),
    ("- a list", "expected a mapping"),
])
def test_template_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_template(text)


def test_template_conveniences() -> None:
    template = load_template("title: {en: A, de: B}\ndescription: plain\nissued_at: 2025-03-14\n"
                             "level: {eqf_level: 4}\n")
    assert dict(template.title.values) == {"en": "A", "de": "B"}
    assert dict(template.description.values) == {"en": "plain"}
    assert template.issued_at.seconds == 1741910400 and template.level.eqf_level == pb.EQF_LEVEL_4


def rows(text: str, template: pb.MicroCredential | None = None) -> list:  # type: ignore[type-arg]
    import csv

    template = template or load_template((FIXTURES / "achievement.yaml").read_text())
    return list(cohort_rows(template, csv.DictReader(io.StringIO(text))))


def test_rows_become_valid_credentials_with_stable_keys() -> None:
    [ana, bo, nameless] = rows((FIXTURES / "cohort.csv").read_text())
    assert ana.credential is not None and validate_micro_credential(ana.credential) == []
    assert ana.credential.learner.did.startswith("did:key:") and ana.credential.learner.date_of_birth.year == 2000
    assert ana.credential.grade.status == pb.GRADE_STATUS_PASSED and ana.credential.grade.value == "Pass"
    assert bo.credential is not None and not bo.credential.learner.did
    assert nameless.credential is not None and validate_micro_credential(nameless.credential)  # the server refuses
    template = load_template((FIXTURES / "achievement.yaml").read_text())
    assert ana.key == f"csv:{template_digest(template)}:s-0001"
    assert [r.key for r in rows((FIXTURES / "cohort.csv").read_text())] == [ana.key, bo.key, nameless.key]
    other = load_template((FIXTURES / "achievement.yaml").read_text() + "\nlanguage: ga\n")
    assert rows((FIXTURES / "cohort.csv").read_text(), other)[0].key != ana.key  # another achievement


def test_rows_without_a_key_column_get_a_content_key() -> None:
    text = "full_name,email\nAna,a@example.org\nBo,b@example.org\n"
    first, second = rows(text)
    assert first.key != second.key and first.key == rows(text)[0].key


@pytest.mark.parametrize(("text", "error"), [
    ("full_name,emial\nAna,a@example.org\n", "unknown columns ['emial']"),
    ("full_name,date_of_birth\nAna,17/05/2000\n", "date_of_birth"),
    ("full_name,grade_status\nAna,maybe\n", "grade_status"),
    ("full_name,issued_at\nAna,soon\n", "issued_at"),
    ("full_name\nAna,extra\n", "more values than columns"),
])
def test_malformed_rows_are_reported_not_sent(text: str, error: str) -> None:
    [row] = rows(text)
    assert row.credential is None and error in row.errors[0]


def test_tls_from_dir_finds_the_single_client_certificate(tmp_path: Path) -> None:
    ca = pki.create_ca("test")
    ca.write(tmp_path, "ca")
    pki.create_client_cert(ca, "uni-a", "ie", pki.ROLE_ISSUER).write(tmp_path, "uni-a")
    assert tls_from_dir(tmp_path).cert == (tmp_path / "uni-a.crt").read_bytes()
    pki.create_client_cert(ca, "uni-b", "ie", pki.ROLE_ISSUER).write(tmp_path, "uni-b")
    with pytest.raises(ValueError, match="--cert-name"):
        tls_from_dir(tmp_path)
    assert tls_from_dir(tmp_path, "uni-b").key == (tmp_path / "uni-b.key").read_bytes()
