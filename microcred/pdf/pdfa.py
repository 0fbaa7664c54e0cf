"""PDF/A-3b for the credential PDF (issue 23): what reportlab does not write, added with pikepdf.

reportlab lays the page out (fonts embedded as TrueType subsets); this module then, in one pikepdf pass:

* attaches the signed credential(s) (:func:`microcred.pdf.embedded.attach`: ``/AFRelationship /Source`` on each
  file specification, each listed in the catalogue's ``/AF``, MIME subtype and modification date on the stream),
  as PDF/A-3 asks of embedded files;
* adds the output intent PDF/A needs for DeviceRGB: ``/GTS_PDFA1`` with the sRGB IEC 61966-2.1 ICC profile
  of Debian's ``icc-profiles-free`` (``/usr/share/color/icc/sRGB.icc``, Zlib licence; installed by
  ``scripts/install-system-deps.sh``, read once per process like the fonts);
* sets the Print flag (``/F 4``) on every annotation (the links), which PDF/A requires and reportlab omits;
* writes XMP metadata from the document information (title, author, subject, dates, producer) with the PDF/A
  identification ``pdfaid:part=3``, ``pdfaid:conformance=B``;
* saves through qpdf, which also gives the file an ``/ID`` and well-formed stream keywords.

Conformance is checked by an independent validator, veraPDF (its library from Maven Central, run only in the
tests: ``tests/unit/test_pdf_pdfa.py``), against the PDF/A-3B profile; the claim rests on that test.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pikepdf

from microcred.pdf.embedded import attach

__all__ = ["SRGB_PROFILE", "to_pdfa3b"]

SRGB_PROFILE = Path("/usr/share/color/icc/sRGB.icc")
_PRINT = 4  # annotation flag bit 3: print the annotation (ISO 32000-1, 12.5.3)


@cache
def _srgb() -> bytes:
    """The sRGB ICC profile, read once per process (FileNotFoundError names the file when it is missing)."""
    return SRGB_PROFILE.read_bytes()


def _output_intent(doc: pikepdf.Pdf) -> pikepdf.Dictionary:
    profile = pikepdf.Stream(doc, _srgb())
    profile.N = 3  # RGB
    return pikepdf.Dictionary(Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
                              OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"),
                              Info=pikepdf.String("sRGB IEC61966-2.1"), DestOutputProfile=doc.make_indirect(profile))


def to_pdfa3b(pdf: bytes, attachments: Sequence[tuple[str, bytes]] = (), *,
              now: datetime | None = None) -> bytes:
    """Return reportlab's ``pdf`` as PDF/A-3b with ``attachments`` (``(name, bytes)`` per
    :mod:`microcred.pdf.embedded`) embedded."""
    moment = now or datetime.now(UTC)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        if attachments:
            attach(doc, attachments, moment)
        doc.Root.OutputIntents = pikepdf.Array([_output_intent(doc)])
        for page in doc.pages:
            for annotation in page.obj.get("/Annots", pikepdf.Array()):
                annotation.F = int(annotation.get("/F", 0)) | _PRINT
        if "/Trapped" in doc.docinfo:  # reportlab's "/Trapped /False" says nothing; XMP would need pdf:Trapped
            del doc.docinfo["/Trapped"]
        with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.load_from_docinfo(doc.docinfo)
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()
