"""The PDF/A-3b structure of the credential PDF (pikepdf reads it back; pdffonts lists the fonts): XMP metadata with
the PDF/A identification, the sRGB output intent, the credential attached as the source (AF, AFRelationship, MIME
subtype, modification date), printable annotations, every font used embedded. An independent validator judges
conformance itself in tests/interop/test_pdfa_verapdf.py."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from microcred.pdf.pdfa import SRGB_PROFILE
from microcred.pdf.render import CredentialPdf, render_pdf
from tests.harness.wallet.credentials import TestIssuer

URL = "https://verify.example/s/" + "Zq9-" * 10 + "abc"


@pytest.fixture(scope="module")
def pdf() -> bytes:
    issued = TestIssuer.new("issuer-uw").issue(email="a@example.org", title="Analiza danych: źródła")
    logo = io.BytesIO()
    Image.new("RGBA", (120, 40), (0, 51, 153, 128)).save(logo, format="PNG")
    return render_pdf(CredentialPdf(issued.document, issued.credential_id, URL, issuer_name="Uniwersytet Łódzki",
                                    logo=logo.getvalue(), linkedin_url="https://www.linkedin.com/profile/add?x=1",
                                    attachments=[("credential.json", json.dumps(issued.document).encode())]), "pl")


def test_xmp_identifies_pdfa_3b_and_matches_the_document_information(pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        meta = doc.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("3", "B")
        assert meta["dc:title"] == "Analiza danych: źródła" == str(doc.docinfo["/Title"])
        assert "/Metadata" in doc.Root and "/Filter" not in doc.Root.Metadata  # PDF/A: metadata not compressed
        assert "/Trapped" not in doc.docinfo and "/ID" in doc.trailer


def test_the_output_intent_is_srgb(pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        [intent] = doc.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1 and str(intent.OutputConditionIdentifier) == "sRGB IEC61966-2.1"
        assert int(intent.DestOutputProfile.N) == 3
        assert intent.DestOutputProfile.read_bytes() == SRGB_PROFILE.read_bytes()


def test_the_signed_credential_is_attached_as_the_source(pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        [spec] = doc.Root.AF
        assert spec.AFRelationship == pikepdf.Name.Source and str(spec.UF) == str(spec.F) == "credential.json"
        stream = spec.EF.F
        assert str(stream.Subtype) == "/application/ld+json"
        assert "/ModDate" in stream.Params


def test_annotations_print_and_fonts_are_embedded(pdf: bytes, tmp_path: Path) -> None:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        annotations = [a for page in doc.pages for a in page.obj.get("/Annots", [])]
        assert annotations and all(int(a.F) & 4 for a in annotations)
    (tmp_path / "c.pdf").write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(tmp_path / "c.pdf")], check=True, capture_output=True,
                             text=True).stdout.splitlines()[2:]
    dejavu = [line.split() for line in listing if "DejaVuSans" in line]
    assert len(dejavu) == 2 and all(fields[-5] == "yes" for fields in dejavu)  # emb column
