"""``mcred credential sign``: an invalid issuer is refused, never replaced; malformed credentials are refused
with the data-model rule; a VC 1.1 credential gets the Data Integrity context and verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from microcred.cli.keys import load_key_file
from microcred.cli.main import app
from microcred.crypto import did_key
from microcred.crypto.data_integrity import verify_data_integrity

runner = CliRunner()
V2 = "https://www.w3.org/ns/credentials/v2"


def key_file(tmp_path: Path) -> Path:
    key = tmp_path / "key.json"
    result = runner.invoke(app, ["keys", "generate", "--out", str(key)])
    assert result.exit_code == 0, result.output
    return key


def sign(tmp_path: Path, document: dict[str, Any]) -> Any:
    path = tmp_path / f"doc-{abs(hash(json.dumps(document, sort_keys=True)))}.json"
    path.write_text(json.dumps(document))
    return runner.invoke(app, ["credential", "sign", "--key", str(key_file(tmp_path)), str(path)])


def credential(**extra: Any) -> dict[str, Any]:
    return {"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:s"},
            **extra}


@pytest.mark.parametrize(("issuer", "rule"), [
    ("fake-issuer", "jsonld.undefined_term"),
    (None, "issuer.not_null"),
    ({"id": "fake-issuer"}, "jsonld.undefined_term"),
    ({"name": "No id"}, "issuer.url"),
])
def test_an_invalid_issuer_is_refused_not_replaced(tmp_path: Path, issuer: Any, rule: str) -> None:
    result = sign(tmp_path, credential(issuer=issuer))
    assert result.exit_code == 2
    assert "not signed" in result.output and rule in result.output.replace("\n", "")


def test_no_credential_subject_is_refused(tmp_path: Path) -> None:
    doc = credential()
    del doc["credentialSubject"]
    result = sign(tmp_path, doc)
    assert result.exit_code == 2 and "credential_subject.required" in result.output.replace("\n", "")


def test_a_missing_issuer_is_the_keys_and_vc11_gets_the_data_integrity_context(tmp_path: Path) -> None:
    key = key_file(tmp_path)
    path = tmp_path / "v11.json"
    path.write_text(json.dumps({"@context": ["https://www.w3.org/2018/credentials/v1"],
                                "type": ["VerifiableCredential"], "issuanceDate": "2024-01-01T00:00:00Z",
                                "credentialSubject": {"id": "did:example:s"}}))
    result = runner.invoke(app, ["credential", "sign", "--key", str(key), str(path)])
    assert result.exit_code == 0, result.output
    signed = json.loads(result.stdout)
    assert signed["issuer"] == load_key_file(key).did
    assert signed["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
    assert verify_data_integrity(signed, did_key.resolve_key).verified is True
