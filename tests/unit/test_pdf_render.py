"""The credential PDF: every element named in the chosen language, the QR code decodes to the verification link,
the signed credential is attached, both paper sizes, bad parameters refused (pdftotext/pdftoppm/zbarimg from
Debian, installed by scripts/install-system-deps.sh)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pikepdf
import pytest

from microcred.i18n import ELEMENT_LABELS
from microcred.pdf.embedded import extract_embedded_credentials
from microcred.pdf.render import CredentialPdf, render_pdf
from microcred.verification.summary import summarize
from tests.harness.wallet.credentials import TestIssuer

URL = "https://verify.example/s/" + "Zq9-" * 10 + "abc"


@pytest.fixture(scope="module")
def data() -> CredentialPdf:
    issued = TestIssuer.new("issuer-uw").issue(email="a@example.org", title="Analiza danych: źródła i łączenie")
    return CredentialPdf(issued.document, issued.credential_id, URL, issuer_name="Uniwersytet Łódzki",
                         attachments=[("credential.json", json.dumps(issued.document).encode())])


def _text(pdf: bytes, tmp: Path) -> str:
    (tmp / "c.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(tmp / "c.pdf"), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("lang", ["en", "pl", "de", "fr"])
def test_every_element_is_labelled_in_the_language(data: CredentialPdf, lang: str, tmp_path: Path) -> None:
    text = " ".join(_text(render_pdf(data, lang), tmp_path).split())
    for key in summarize(data.document):
        assert ELEMENT_LABELS[lang][key] in text, key
    assert "Analiza danych: źródła i łączenie" in text and "Uniwersytet Łódzki" in text


def test_polish_diacritics_survive_extraction(data: CredentialPdf, tmp_path: Path) -> None:
    text = _text(render_pdf(data, "pl"), tmp_path)
    for word in ("Mikropoświadczenie", "Wystawione przez", "Efekty uczenia się", "Zapewnienie jakości"):
        assert word in text


@pytest.mark.parametrize(("paper", "size"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_paper_sizes(data: CredentialPdf, paper: str, size: tuple[int, int]) -> None:
    with pikepdf.open(__import__("io").BytesIO(render_pdf(data, "en", paper))) as doc:
        box = [round(float(v)) for v in doc.pages[0].mediabox]
        assert (box[2], box[3]) == size


def test_qr_code_decodes_to_the_link_and_credential_is_attached(data: CredentialPdf, tmp_path: Path) -> None:
    pdf = render_pdf(data, "en")
    (tmp_path / "c.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "c.pdf"), str(tmp_path / "c")],
                   check=True)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "c.png")], capture_output=True,
                             text=True).stdout.split()
    assert decoded == [URL]
    assert extract_embedded_credentials(pdf) == list(data.attachments)


def test_bad_parameters(data: CredentialPdf) -> None:
    with pytest.raises(ValueError, match="lang"):
        render_pdf(data, "xx")
    with pytest.raises(ValueError, match="paper"):
        render_pdf(data, "en", "a5")


def test_title_and_description_from_the_credentials_language_map(data: CredentialPdf, tmp_path: Path) -> None:
    document = json.loads(json.dumps(data.document))
    achievement = document["credentialSubject"]["achievement"]
    achievement["name"] = {"en": "Data analysis", "pl": "Analiza danych (wersja polska)"}
    achievement["description"] = [{"@language": "en", "@value": "In English"},
                                  {"@language": "fr", "@value": "Description en français"}]
    localized = CredentialPdf(document, data.credential_id, URL)
    polish = " ".join(_text(render_pdf(localized, "pl"), tmp_path).split())
    assert "Analiza danych (wersja polska)" in polish and "In English" in polish  # no Polish description: English
    french = " ".join(_text(render_pdf(localized, "fr"), tmp_path).split())
    assert "Data analysis" in french and "Description en français" in french


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:44321/shares/wnVWRBdD8fuIwrV5o6BsbnEVeDPZ-wZ5MJ-FsFU426g",  # a CI run lost the hyphen in MJ-Fs
    "https://verify.agency.example.eu/shares/" + "-a-b" * 11,
    "https://a-very-long-verification-host-name.national-agency.example.eu/shares/" + "x-" * 21 + "y",
])
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_printed_link_reads_back_exactly(data: CredentialPdf, url: str, paper: str, tmp_path: Path) -> None:
    """The link a reader types from the page: never wrapped at a hyphen (text extraction, like a reader, takes a
    line-end hyphen for a break and drops it); a link too long for one line breaks after a '/' only."""
    pdf = render_pdf(CredentialPdf(data.document, data.credential_id, url, issuer_name=data.issuer_name), "en", paper)
    lines = _text(pdf, tmp_path).splitlines()
    assert url in "".join("".join(lines).split())
    assert not any(line.rstrip().endswith("-") for line in lines if line.strip() and line.strip() in url)
