"""Credentials embedded in / extracted from a PDF, with bounds and clear errors on bad input."""

from __future__ import annotations

import io
import tracemalloc
import zlib

import pikepdf
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


def _with_stream(raw: bytes, filters: list[pikepdf.Name], parms: pikepdf.Dictionary | None = None) -> bytes:
    """A PDF whose ``credential.json`` stream holds ``raw`` as is, declared encoded with ``filters``."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.attachments["credential.json"] = pikepdf.AttachedFileSpec(pdf, b"x", filename="credential.json")
    stream = pdf.attachments["credential.json"].get_file().obj
    stream.write(raw, filter=filters, decode_parms=parms)
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def _deflated_zeros(n: int, times: int) -> bytes:
    data = b"\0" * n
    for _ in range(times):
        data = zlib.compress(data, 9)
    return data


def test_stacked_filter_bomb_is_refused_before_decoding() -> None:
    """/Length is the encoded length: two FlateDecode passes made 2.7 KB of PDF decode to 1.9 GB before the check."""
    pdf = _with_stream(_deflated_zeros(64 * 1024 * 1024, 2), [pikepdf.Name.FlateDecode] * 2)
    assert len(pdf) < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(PdfInputError, match=r"encoded with /FlateDecode /FlateDecode; only none or a single"):
            extract_embedded_credentials(pdf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_single_flate_bomb_stops_at_the_limit() -> None:
    pdf = _with_stream(_deflated_zeros(64 * 1024 * 1024, 1), [pikepdf.Name.FlateDecode])
    tracemalloc.start()
    try:
        with pytest.raises(PdfInputError, match="larger than 2097152 bytes"):
            extract_embedded_credentials(pdf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * embedded.MAX_ATTACHMENT_BYTES + len(pdf)


@pytest.mark.parametrize(("filters", "message"), [
    ([pikepdf.Name.ASCIIHexDecode], "encoded with /ASCIIHexDecode"),
    ([pikepdf.Name.FlateDecode], "bad /FlateDecode data"),
])
def test_other_encodings_are_refused_by_name(filters: list[pikepdf.Name], message: str) -> None:
    with pytest.raises(PdfInputError, match=message):
        extract_embedded_credentials(_with_stream(b"7b7d", filters))


def test_flate_predictor_is_refused() -> None:
    pdf = _with_stream(zlib.compress(b"{}"), [pikepdf.Name.FlateDecode],
                       pikepdf.Dictionary(Predictor=12, Columns=1))
    with pytest.raises(PdfInputError, match="predictor"):
        extract_embedded_credentials(pdf)


@pytest.mark.parametrize("compressed", [True, False])
def test_plain_and_single_flate_streams_are_read(compressed: bool) -> None:
    body = b'{"type": ["VerifiableCredential"]}'
    pdf = _with_stream(zlib.compress(body) if compressed else body, [pikepdf.Name.FlateDecode] if compressed else [])
    assert extract_embedded_credentials(pdf) == [("credential.json", body)]
