"""``mcred agency ...`` / ``mcred issuer ...``: the platform CA and client certificates, on disk."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from typer.testing import CliRunner

from microcred import pki
from microcred.cli.main import app
from microcred.cli.registry import fingerprint

runner = CliRunner()


def test_init_ca_creates_the_platform_material_once(tmp_path: Path) -> None:
    out = tmp_path / "pki"
    first = runner.invoke(app, ["agency", "init-ca", "--out", str(out), "--host", "localhost", "--host", "10.0.0.5"])
    assert first.exit_code == 0, first.output
    assert "created ca, server, platform-operator" in first.output
    ca = (out / "ca.crt").read_bytes()
    assert stat.S_IMODE((out / "ca.key").stat().st_mode) == 0o600
    operator = pki.identity_from_pem((out / "platform-operator.crt").read_bytes())
    assert operator == pki.Identity("platform-operator", "platform", "service")
    server = x509.load_pem_x509_certificate((out / "server.crt").read_bytes())
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    again = runner.invoke(app, ["agency", "init-ca", "--out", str(out)])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert (out / "ca.crt").read_bytes() == ca


def test_agency_and_issuer_certificates(tmp_path: Path) -> None:
    ca_dir = tmp_path / "pki"
    assert runner.invoke(app, ["agency", "init-ca", "--out", str(ca_dir)]).exit_code == 0
    result = runner.invoke(app, ["agency", "cert", "ie-qqi", "--ca-dir", str(ca_dir), "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    identity = pki.identity_from_pem((tmp_path / "a" / "ie-qqi.crt").read_bytes())
    assert identity == pki.Identity("ie-qqi-operator", "ie-qqi", "agency")
    assert (tmp_path / "a" / "ca.crt").read_bytes() == (ca_dir / "ca.crt").read_bytes()

    result = runner.invoke(app, ["issuer", "cert", "uni-a", "--agency", "ie-qqi", "--ca-dir", str(ca_dir),
                                 "--out", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    cert_pem = (tmp_path / "i" / "uni-a.crt").read_bytes()
    assert pki.identity_from_pem(cert_pem) == pki.Identity("uni-a", "ie-qqi", "issuer")
    assert fingerprint(cert_pem) in result.output.replace("\n", "")
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    x509.load_pem_x509_certificate(cert_pem).verify_directly_issued_by(ca_cert)

    again = runner.invoke(app, ["issuer", "cert", "uni-a", "--agency", "ie-qqi", "--ca-dir", str(ca_dir),
                                "--out", str(tmp_path / "i")])
    assert again.exit_code == 1 and "refusing to overwrite" in again.output


def test_cert_commands_need_a_ca_and_valid_ids(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["agency", "cert", "ie-qqi", "--ca-dir", str(tmp_path / "none"),
                                  "--out", str(tmp_path / "a")])
    assert missing.exit_code == 1 and "init-ca" in missing.output
    bad = runner.invoke(app, ["issuer", "cert", "../x", "--agency", "ie-qqi", "--ca-dir", str(tmp_path),
                              "--out", str(tmp_path / "i")])
    assert bad.exit_code != 0 and "not a valid issuer id" in bad.output
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "ca.crt").write_text("x")
    half = runner.invoke(app, ["agency", "init-ca", "--out", str(tmp_path / "half")])
    assert half.exit_code == 1 and "half of a CA" in half.output
