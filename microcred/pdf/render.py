"""The PDF of a credential (issue 23): pure, no I/O but reading the DejaVu fonts once.

reportlab lays the page out (pure Python; DejaVu Sans registered as TrueType, subset-embedded, covers every EU
language's letters), segno makes the QR code, drawn as vector squares so it stays sharp at any zoom, and pikepdf
attaches the signed credential (:mod:`microcred.pdf.embedded`). Every Annex I element the credential carries is
shown, named from the translation catalogue (:data:`microcred.i18n.ELEMENT_LABELS`), values read by
:func:`microcred.verification.summary.summarize`; the title and description come from the credential's own language
map when it has one for the chosen language.

The result is PDF/A-3b: :mod:`microcred.pdf.pdfa` adds the XMP identification, the sRGB output intent and the
attachments (``/AFRelationship /Source`` in ``/AF``); veraPDF validates it in the tests (docs/pdf.md). The issuer's
logo, when given, is the trust registry's (:attr:`CredentialPdf.logo`), shown beside the issuer's name.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Image

from microcred.i18n import ELEMENT_LABELS, element_value
from microcred.pdf.labels import LANGUAGES, PDF_LABELS
from microcred.pdf.pdfa import to_pdfa3b
from microcred.registry.logo import pdf_ready_png
from microcred.verification.summary import summarize

__all__ = ["PAPERS", "CredentialPdf", "render_pdf"]

PAPERS = {"a4": A4, "letter": LETTER}
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class CredentialPdf:
    """What goes into one PDF. ``attachments``: ``(name, bytes)`` per :mod:`microcred.pdf.embedded`.

    ``logo``: the issuer's logo *from the trust registry* (PNG or JPEG bytes that passed
    :func:`microcred.registry.logo.check_logo`), given only when the registry vouches for the issuer
    (:func:`microcred.registry.logo.shown_logo`); never an image the credential carries itself."""

    document: Mapping[str, Any]
    credential_id: str
    verification_url: str
    issuer_name: str = ""
    logo: bytes | None = None
    linkedin_url: str = ""
    attachments: Sequence[tuple[str, bytes]] = field(default_factory=tuple)


@cache
def _fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular, bold) once per process."""
    for name, file in (("DejaVuSans", "DejaVuSans.ttf"), ("DejaVuSans-Bold", "DejaVuSans-Bold.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold")
    return "DejaVuSans", "DejaVuSans-Bold"


class _Qr(Flowable):
    """A QR code drawn module by module (vector, 4-module quiet zone)."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.matrix = segno.make(data, error="m", micro=False).matrix
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        n = len(self.matrix) + 8
        cell = self.size / n
        canvas = self.canv
        canvas.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    canvas.rect((x + 4) * cell, self.size - (y + 5) * cell, cell, cell, stroke=0, fill=1)


def _localized(value: Any, lang: str) -> str:
    """A text from a language map (``{"pl": ..}``, JSON-LD value objects, or a plain string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if "@value" in value:
            return str(value["@value"])
        for key in (lang, "en", *value.keys()):
            if isinstance(value.get(key), str):
                return str(value[key])
    if isinstance(value, list):
        texts = {v.get("@language", ""): v.get("@value") for v in value if isinstance(v, Mapping)}
        for key in (lang, "en", *texts.keys()):
            if isinstance(texts.get(key), str):
                return str(texts[key])
    return ""


def _achievement(document: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    return achievement if isinstance(achievement, Mapping) else {}


def _text(value: Any) -> str:
    return escape(", ".join(value) if isinstance(value, list) else str(value))


_MARGIN = 18 * mm
_QR_COLUMN = 45 * mm
_CELL_PADDING = 12  # a Table cell's default left + right padding, points
_MIN_URL_SIZE = 6.5


def _url_paragraph(url: str, style: ParagraphStyle, width: float) -> Paragraph:
    """The verification link as a reader can type it: on one line, in a smaller size when it is long; when even
    the smallest size is too wide, broken after a ``/`` (never inside the unguessable token, and never at a
    hyphen, which a reader would take for a line-end hyphen and drop, as text extraction does)."""
    natural = pdfmetrics.stringWidth(url, style.fontName, 1)
    size = min(style.fontSize, width / natural) if natural else style.fontSize
    shown = escape(url)
    if size < _MIN_URL_SIZE:
        size = _MIN_URL_SIZE
        head, _, token = url.rpartition("/")
        shown = f"{escape(head)}/<br/>{escape(token)}" if head else shown
    fitted = ParagraphStyle("url", parent=style, fontSize=size, leading=size * 1.3, splitLongWords=0)
    return Paragraph(f'<link href="{escape(url)}">{shown}</link>', fitted)


def render_pdf(data: CredentialPdf, lang: str = "en", paper: str = "a4") -> bytes:
    """The credential as a PDF in ``lang`` (en, pl, de, fr) on ``paper`` (a4, letter), the signed credential
    attached. Raises ValueError naming the parameter for an unknown language or paper size."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang: one of {', '.join(LANGUAGES)}")
    if paper not in PAPERS:
        raise ValueError(f"paper: one of {', '.join(PAPERS)}")
    regular, bold = _fonts()
    labels, names = PDF_LABELS[lang], ELEMENT_LABELS.get(lang, ELEMENT_LABELS["en"])
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10.5, textColor=colors.HexColor("#333333"))
    label = ParagraphStyle("label", parent=body, fontName=bold)
    title_style = ParagraphStyle("title", parent=body, fontName=bold, fontSize=18, leading=22, spaceAfter=4)
    heading = ParagraphStyle("heading", parent=body, fontName=bold, fontSize=11, leading=14, spaceBefore=6,
                             spaceAfter=4)

    summary = summarize(data.document)
    achievement = _achievement(data.document)
    title = _localized(achievement.get("name"), lang) or str(summary.get("title") or "")
    if title:
        summary["title"] = title
    issuer = data.issuer_name or str(summary.get("issuer") or "")

    story: list[Flowable] = []
    story += [Paragraph(escape(labels["heading"]), small), Paragraph(escape(title or data.credential_id), title_style)]
    issued_by = Paragraph(f"{escape(labels['issued_by'])}: {escape(issuer)}", body) if issuer else None
    if data.logo:
        # the registry's logo beside the issuer's name, at most 36 x 18 mm, its aspect ratio kept
        logo = Image(io.BytesIO(pdf_ready_png(data.logo)), width=36 * mm, height=18 * mm, kind="proportional")
        header = Table([[logo, issued_by or ""]], colWidths=[40 * mm, None], hAlign="LEFT")
        header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
        story.append(header)
    elif issued_by is not None:
        story.append(issued_by)
    description = _localized(achievement.get("description"), lang)
    if description:
        story += [Spacer(1, 3 * mm), Paragraph(escape(description), body)]
    story += [Spacer(1, 4 * mm), Paragraph(escape(labels["elements"]), heading)]
    rows = []
    for key, value in summary.items():
        shown = element_value(key, value, lang)
        if isinstance(shown, list):
            cell: Any = [Paragraph(f"• {_text(v)}", body) for v in shown]
        else:
            cell = Paragraph(_text(shown), body)
        rows.append([Paragraph(escape(names.get(key, key)), label), cell])
    if rows:
        table = Table(rows, colWidths=[50 * mm, None], hAlign="LEFT")
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 4), ("TOPPADDING", (0, 0), (-1, -1), 4)]))
        story.append(table)

    verify = [Paragraph(escape(labels["verify"]), heading), Paragraph(escape(labels["verify_text"]), small),
              Spacer(1, 2 * mm), _url_paragraph(data.verification_url, body,
                                                PAPERS[paper][0] - 2 * _MARGIN - _QR_COLUMN - _CELL_PADDING),
              Spacer(1, 2 * mm),
              Paragraph(f"{escape(labels['credential_id'])}: {escape(data.credential_id)}", small)]
    if data.linkedin_url:
        verify.append(Paragraph(f'<link href="{escape(data.linkedin_url)}">{escape(labels["linkedin"])}</link>',
                                small))
    block = Table([[_Qr(data.verification_url, 40 * mm), verify]], colWidths=[_QR_COLUMN, None], hAlign="LEFT")
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Spacer(1, 6 * mm), block]

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=PAPERS[paper], leftMargin=_MARGIN, rightMargin=_MARGIN,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=title, author=issuer,
                            subject=labels["heading"], lang=lang, creator="microcred")
    doc.build(story)
    return to_pdfa3b(out.getvalue(), data.attachments)
