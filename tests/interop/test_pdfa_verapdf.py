"""PDF/A-3b conformance of the credential PDF, judged by an independent validator: veraPDF (the PDF Association's
reference validator), its library from Maven Central (tests/interop/verapdf/pom.xml, resolved by the machine's Maven
into ~/.m2 like the Kafka libraries), run by tests/interop/verapdf/Validate.java under the machine's JDK.

Several documents (languages, paper sizes, with and without a logo, RGBA and CMYK-JPEG logos, JSON and SD-JWT
attachments) must be compliant with the PDF/A-3B profile; reportlab's own output before microcred.pdf.pdfa adds what
PDF/A needs must not be (the validator can tell the difference, so a pass means something)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from microcred.pdf import render as render_module
from microcred.pdf.render import CredentialPdf, render_pdf
from tests.harness.wallet.credentials import TestIssuer

HERE = Path(__file__).parent / "verapdf"
URL = "https://verify.example/s/" + "Zq9-" * 10 + "abc"


@pytest.fixture(scope="module")
def classpath(tmp_path_factory: pytest.TempPathFactory) -> str:
    """veraPDF's classpath (Maven resolves and caches it; the first run downloads ~15 MB from Maven Central)."""
    out = tmp_path_factory.mktemp("verapdf") / "classpath.txt"
    subprocess.run(["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:build-classpath",
                    f"-Dmdep.outputFile={out}"], check=True, timeout=600)
    return out.read_text().strip()


def validate(classpath: str, files: list[Path]) -> tuple[int, str]:
    run = subprocess.run(["java", "-cp", classpath, str(HERE / "Validate.java"), "3b", *map(str, files)],
                         capture_output=True, text=True, timeout=600)
    return run.returncode, run.stdout + run.stderr


def image(fmt: str, mode: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (150, 50)).save(out, format=fmt)
    return out.getvalue()


def test_credential_pdfs_are_pdfa_3b(classpath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    issued = TestIssuer.new("issuer-uw").issue(email="a@example.org", title="Analiza danych: źródła i łączenie")
    signed = json.dumps(issued.document).encode()
    cases = {
        "en-a4-logo": (CredentialPdf(issued.document, issued.credential_id, URL, issuer_name="Uniwersytet Łódzki",
                                     logo=image("PNG", "RGBA"), linkedin_url="https://www.linkedin.com/profile/add",
                                     attachments=[("credential.json", signed)]), "en", "a4"),
        "pl-letter": (CredentialPdf(issued.document, issued.credential_id, URL,
                                    attachments=[("credential.json", signed)]), "pl", "letter"),
        "de-cmyk-sdjwt": (CredentialPdf(issued.document, issued.credential_id, URL, issuer_name="Uni",
                                        logo=image("JPEG", "CMYK"),
                                        attachments=[("credential.sd-jwt", b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln~")]),
                          "de", "a4"),
        "fr-bare": (CredentialPdf(issued.document, issued.credential_id, URL), "fr", "a4"),
    }
    files = []
    for name, (data, lang, paper) in cases.items():
        files.append(tmp_path / f"{name}.pdf")
        files[-1].write_bytes(render_pdf(data, lang, paper))
    code, report = validate(classpath, files)
    assert code == 0, report
    assert report.count("\tcompliant") == len(files), report

    # the control: reportlab's output as it was before PDF/A finishing is refused, naming what is missing
    monkeypatch.setattr(render_module, "to_pdfa3b", lambda pdf, attachments: pdf)
    control = tmp_path / "reportlab-only.pdf"
    control.write_bytes(render_pdf(cases["en-a4-logo"][0], "en", "a4"))
    code, report = validate(classpath, [control])
    assert code == 1 and "not compliant" in report and "6.6.2.1" in report, report  # no XMP metadata
