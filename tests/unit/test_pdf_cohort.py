"""``mcred credential pdf``: a folder of signed credentials becomes one PDF each, credential attached, QR URL filled
in; a file that is not a credential is named in the error."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.pdf.embedded import extract_embedded_credentials
from tests.verifier_support import World


def test_cohort_rendered_one_pdf_per_credential(tmp_path: Path) -> None:
    world = World()
    src = tmp_path / "in"
    src.mkdir()
    docs = [world.credential(500 + i) for i in range(3)]
    for i, doc in enumerate(docs):
        (src / f"{i}.json").write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["credential", "pdf", str(src), str(tmp_path / "out"), "--url-template",
                                      "https://verify.example/c/{credential_id}", "--lang", "pl"])
    assert result.exit_code == 0, result.output
    pdfs = sorted((tmp_path / "out").glob("*.pdf"))
    assert len(pdfs) == 3
    attached = [json.loads(dict(extract_embedded_credentials(p.read_bytes()))["credential.json"]) for p in pdfs]
    assert sorted(d["id"] for d in attached) == sorted(d["id"] for d in docs)


def test_not_a_credential_is_named(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad.json").write_text("[1, 2]")
    result = CliRunner().invoke(app, ["credential", "pdf", str(src), str(tmp_path / "out"), "--url-template",
                                      "https://v.example/{credential_id}"], env={"COLUMNS": "300"})
    assert result.exit_code != 0 and "bad.json: not a credential" in result.output
