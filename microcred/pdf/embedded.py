"""Credentials embedded in a PDF as file attachments (issue 23).

A PDF of a credential carries the signed credential itself, so the file alone can be verified. Attachment names
follow one convention:

- ``credential.json``: an Open Badges 3.0 / W3C VC with a Data Integrity proof (JSON-LD), served as
  ``application/ld+json``;
- ``credential.sd-jwt``: an SD-JWT VC (compact serialisation), ``application/dc+sd-jwt``;
- ``credential-edc.jsonld``: a European Digital Credential (ELM 3.x, JAdES/JSON-LD), ``application/ld+json``.

Reading is bounded: the PDF, each attachment and their count have limits, so a hostile file costs bounded memory.
An attachment is read only when stored plainly or with a single ``/FlateDecode`` (no predictor), which is what
pikepdf and every PDF writer we know produce; this module inflates it itself and stops at the limit, because the
``/Length`` of a stream is its encoded length and qpdf's decoder would inflate a stacked-filter bomb (2.7 KB of
PDF, 1.9 GB decoded) completely before any check.
pikepdf (qpdf) does the PDF parsing; nothing here is hand-written PDF syntax.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

import pikepdf
from pikepdf.models.metadata import encode_pdf_date

#: Names of the attachments a credential PDF may carry, and their MIME types.
CREDENTIAL_ATTACHMENTS: dict[str, str] = {
    "credential.json": "application/ld+json",
    "credential.sd-jwt": "application/dc+sd-jwt",
    "credential-edc.jsonld": "application/ld+json",
}

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 16
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024


class PdfInputError(ValueError):
    """The input is not a readable PDF, or it exceeds a bound. The message names what is wrong."""


def _open(pdf: bytes) -> pikepdf.Pdf:
    if len(pdf) > MAX_PDF_BYTES:
        raise PdfInputError(f"pdf: larger than {MAX_PDF_BYTES} bytes")
    # A PDF header may follow a little junk (ISO 32000 tolerates it); anything without one is not a PDF.
    if b"%PDF-" not in pdf[:1024]:
        raise PdfInputError("pdf: not a PDF (no %PDF- header)")
    try:
        return pikepdf.open(io.BytesIO(pdf))
    except (pikepdf.PdfError, ValueError) as exc:
        raise PdfInputError(f"pdf: not a readable PDF ({type(exc).__name__})") from exc


def extract_embedded_credentials(pdf: bytes) -> list[tuple[str, bytes]]:
    """Return ``(attachment name, bytes)`` of every file attached to ``pdf``, in name order.

    Names following the convention of this module (``credential.json``, ``credential.sd-jwt``,
    ``credential-edc.jsonld``) are credentials; callers decide what to do with other names. Raises
    :class:`PdfInputError` for a non-PDF, an unreadable PDF, more than ``MAX_ATTACHMENTS`` attachments or an
    attachment larger than ``MAX_ATTACHMENT_BYTES``.
    """
    with _open(pdf) as doc:
        attachments = doc.attachments
        names = sorted(attachments.keys())
        if len(names) > MAX_ATTACHMENTS:
            raise PdfInputError(f"pdf: more than {MAX_ATTACHMENTS} attachments")
        out: list[tuple[str, bytes]] = []
        for name in names:
            stream = attachments[name].get_file().obj
            out.append((name, _attachment_bytes(name, stream)))
        return out


def _attachment_bytes(name: str, stream: pikepdf.Object) -> bytes:
    """The decoded bytes of one embedded file stream, never more than ``MAX_ATTACHMENT_BYTES`` of them in memory.

    Only no filter or one ``/FlateDecode`` without a predictor is accepted (anything else is a
    :class:`PdfInputError` naming the filter); the raw stream is inflated here with an output bound.
    """
    too_big = f"pdf: attachment {name!r} larger than {MAX_ATTACHMENT_BYTES} bytes"
    declared = stream.get("/Length")
    if isinstance(declared, int) and declared > MAX_ATTACHMENT_BYTES:
        raise PdfInputError(too_big)
    filters = _one_level(stream.get("/Filter"))
    if filters not in ([], [pikepdf.Name.FlateDecode]):
        raise PdfInputError(f"pdf: attachment {name!r} is encoded with {' '.join(str(f) for f in filters)}; only "
                            "none or a single /FlateDecode is read")
    parms = _one_level(stream.get("/DecodeParms"))
    if any(isinstance(p, pikepdf.Dictionary) and p.get("/Predictor", 1) != 1 for p in parms):
        raise PdfInputError(f"pdf: attachment {name!r} uses a /FlateDecode predictor, which is not read")
    try:
        raw = stream.read_raw_bytes()
    except pikepdf.PdfError as exc:
        raise PdfInputError(f"pdf: attachment {name!r} unreadable ({type(exc).__name__})") from exc
    if filters:
        try:
            raw = zlib.decompressobj().decompress(raw, MAX_ATTACHMENT_BYTES + 1)
        except zlib.error as exc:
            raise PdfInputError(f"pdf: attachment {name!r} unreadable (bad /FlateDecode data)") from exc
    if len(raw) > MAX_ATTACHMENT_BYTES:
        raise PdfInputError(too_big)
    return raw


def _one_level(value: pikepdf.Object | None) -> list[pikepdf.Object]:
    """A ``/Filter`` or ``/DecodeParms`` entry as a list: absent or null is empty, one name or dictionary is one."""
    if value is None:  # pikepdf gives PDF null as None
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def attach(doc: pikepdf.Pdf, files: Sequence[tuple[str, bytes]], at: datetime) -> None:
    """Attach each ``(name, bytes)`` to the open ``doc`` (MIME type from :data:`CREDENTIAL_ATTACHMENTS`,
    creation and modification date ``at``).

    The attachments are also listed in the catalogue's ``/AF`` array with ``/AFRelationship /Source``, as PDF/A-3
    asks for embedded files (the signed credential is the source of the printed content).
    """
    when = encode_pdf_date(at)
    af = pikepdf.Array()
    for name, data in files:
        spec = pikepdf.AttachedFileSpec(
            doc, data, filename=name, mime_type=CREDENTIAL_ATTACHMENTS.get(name, "application/octet-stream"),
            description="The signed credential this document shows", relationship=pikepdf.Name.Source,
            creation_date=when, mod_date=when,
        )
        doc.attachments[name] = spec
        af.append(spec.obj)
    doc.Root.AF = af


def embed_credentials(pdf: bytes, files: list[tuple[str, bytes]]) -> bytes:
    """Return ``pdf`` with each ``(name, bytes)`` attached, as :func:`attach` does."""
    with _open(pdf) as doc:
        attach(doc, files, datetime.now(UTC))
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()
