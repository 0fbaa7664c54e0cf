"""The issuer's logo in the credential PDF: an image XObject on page 1, beside the issuer's name, in RGB
(pikepdf reads the PDF; pdftotext the text)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from microcred.pdf.render import CredentialPdf, render_pdf
from tests.harness.wallet.credentials import TestIssuer

URL = "https://verify.example/s/" + "Zq9-" * 10 + "abc"


def logo(fmt: str = "PNG", mode: str = "RGB", size: tuple[int, int] = (240, 80)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 51, 153) if mode == "RGB" else None).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def credential() -> tuple[dict[str, object], str]:
    issued = TestIssuer.new("issuer-uw").issue(email="a@example.org", title="Analiza danych")
    return issued.document, issued.credential_id


def images_on_page_one(pdf: bytes) -> list[pikepdf.Object]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        resources = doc.pages[0].obj.Resources
        xobjects = resources.get("/XObject", {})
        return [(int(x.Width), int(x.Height), str(x.get("/ColorSpace")), "/SMask" in x)
                for x in xobjects.values() if x.get("/Subtype") == "/Image"]


def test_the_registered_logo_is_an_image_on_page_one_beside_the_issuer(
        credential: tuple[dict[str, object], str], tmp_path: Path) -> None:
    document, cid = credential
    pdf = render_pdf(CredentialPdf(document, cid, URL, issuer_name="Uniwersytet Łódzki", logo=logo()), "pl")
    assert images_on_page_one(pdf) == [(240, 80, "/DeviceRGB", False)]
    (tmp_path / "c.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "Uniwersytet Łódzki" in text


def test_without_a_logo_there_is_no_image(credential: tuple[dict[str, object], str]) -> None:
    document, cid = credential
    assert images_on_page_one(render_pdf(CredentialPdf(document, cid, URL, issuer_name="Uni"))) == []


@pytest.mark.parametrize(("fmt", "mode", "alpha"), [("JPEG", "CMYK", False), ("PNG", "RGBA", True),
                                                    ("PNG", "L", False)])
def test_any_accepted_logo_is_embedded_as_rgb(credential: tuple[dict[str, object], str], fmt: str, mode: str,
                                              alpha: bool) -> None:
    document, cid = credential
    pdf = render_pdf(CredentialPdf(document, cid, URL, issuer_name="Uni", logo=logo(fmt, mode, (90, 30))))
    assert images_on_page_one(pdf) == [(90, 30, "/DeviceRGB", alpha)]
