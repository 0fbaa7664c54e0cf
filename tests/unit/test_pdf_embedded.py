"""Credentials embedded in / extracted from a PDF, with bounds and clear errors on bad input."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfgen import canvas

from microcred.pdf import embedded
from microcred.pdf.embedded import PdfInputError, embed_credentials, extract_embedded_credentials


def _blank_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 72, "blank")
    c.save()
    return buf.getvalue()


def test_round_trip_in_name_order() -> None:
    files = [("credential.sd-jwt", b"eyJ.x.y~"), ("credential.json", b'{"type": ["VerifiableCredential"]}')]
    out = extract_embedded_credentials(embed_credentials(_blank_pdf(), files))
    assert out == sorted(files)


def test_plain_pdf_has_no_attachments() -> None:
    assert extract_embedded_credentials(_blank_pdf()) == []


@pytest.mark.parametrize("data", [b"", b"hello", b'{"a": 1}'])
def test_non_pdf_is_refused_clearly(data: bytes) -> None:
    with pytest.raises(PdfInputError, match="not a PDF"):
        extract_embedded_credentials(data)


def test_truncated_pdf_is_refused() -> None:
    with pytest.raises(PdfInputError, match="not a readable PDF"):
        extract_embedded_credentials(b"%PDF-1.7\n1 0 obj garbage")


def test_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = embed_credentials(_blank_pdf(), [("credential.json", b"x" * 100), ("b", b"y")])
    monkeypatch.setattr(embedded, "MAX_ATTACHMENT_BYTES", 50)
    with pytest.raises(PdfInputError, match="larger than 50"):
        extract_embedded_credentials(pdf)
    monkeypatch.setattr(embedded, "MAX_ATTACHMENT_BYTES", 1000)
    monkeypatch.setattr(embedded, "MAX_ATTACHMENTS", 1)
    with pytest.raises(PdfInputError, match="more than 1 attachments"):
        extract_embedded_credentials(pdf)
    monkeypatch.setattr(embedded, "MAX_PDF_BYTES", 10)
    with pytest.raises(PdfInputError, match="larger than 10 bytes"):
        extract_embedded_credentials(pdf)
