"""An issuer's logo in the trust registry (issue 23): what is accepted, and when it may be shown.

An agency gives the logo when it registers an issuer (``RegisterIssuerRequest.logo`` and ``logo_media_type``).
Only raster images are taken -- PNG and JPEG: SVG is a document format (scripts, external references, entity
expansion) that a PDF or a page would have to sanitise, rasters are only pixels. A logo is refused, naming the
field, unless

* its media type is ``image/png`` or ``image/jpeg`` and the bytes start with that format's signature;
* it is at most :data:`MAX_LOGO_BYTES` long and at most :data:`MAX_LOGO_SIDE` pixels a side, read from the header
  *before* any pixel is decoded (a tiny file claiming 100,000 x 100,000 pixels costs nothing);
* Pillow, restricted to the declared format, decodes it whole (a truncated or corrupt image fails here, once, at
  registration, never later in a renderer).

Decoding is then bounded: at most 1024 x 1024 pixels of at most 8 bytes each.

Showing: a logo is the registry's, never the credential's. :func:`shown_logo` gives it only for an issuer the
registry vouches for at that moment (registered, with an accreditation in force) and whose DID is the one that
signed the credential; a logo or image a credential carries itself is never shown as the issuer's.
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime
from functools import lru_cache

from PIL import Image

from microcred.gen.microcred.v1 import registry_pb2
from microcred.model.errors import INCONSISTENT, INVALID_FORMAT, OUT_OF_RANGE, REQUIRED, FieldViolation
from microcred.registry import domain
from microcred.registry.ports import Logo

__all__ = ["MAX_LOGO_BYTES", "MAX_LOGO_SIDE", "MEDIA_TYPES", "Logo", "check_logo", "pdf_ready_png", "shown_logo"]

MAX_LOGO_BYTES = 256 * 1024
MAX_LOGO_SIDE = 1024
#: Accepted media types -> Pillow format name and the file signature the bytes must start with.
MEDIA_TYPES: dict[str, tuple[str, bytes]] = {
    "image/png": ("PNG", b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": ("JPEG", b"\xff\xd8\xff"),
}


def check_logo(data: bytes, media_type: str, *, path: str = "logo",
               type_path: str = "logo_media_type") -> list[FieldViolation]:
    """Every reason ``data`` is not an acceptable logo of ``media_type`` (empty ``data``: no logo, fine)."""
    if not data:
        if media_type:
            return [FieldViolation(path, f"a logo is required with {type_path}", REQUIRED)]
        return []
    if media_type not in MEDIA_TYPES:
        return [FieldViolation(type_path, f"must be one of {', '.join(MEDIA_TYPES)} (PNG or JPEG), got "
                                          f"{media_type[:40]!r}", REQUIRED if not media_type else INVALID_FORMAT)]
    if len(data) > MAX_LOGO_BYTES:
        return [FieldViolation(path, f"is {len(data)} bytes; at most {MAX_LOGO_BYTES} bytes (256 kB)", OUT_OF_RANGE)]
    fmt, signature = MEDIA_TYPES[media_type]
    if not data.startswith(signature):
        other = next((t for t, (_, sig) in MEDIA_TYPES.items() if data.startswith(sig)), None)
        if other:
            return [FieldViolation(type_path, f"the logo is {other}, not {media_type}", INCONSISTENT)]
        return [FieldViolation(path, f"is not a {fmt} image (no {fmt} signature)", INVALID_FORMAT)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])  # reads the header only
            width, height = image.size
            if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                return [FieldViolation(path, f"is {width} x {height} pixels; at most {MAX_LOGO_SIDE} pixels a side",
                                       OUT_OF_RANGE)]
            if width < 1 or height < 1:
                return [FieldViolation(path, "has no pixels", INVALID_FORMAT)]
            image.load()  # decodes every pixel: a truncated or corrupt image fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own guard, at open
        return [FieldViolation(path, f"claims far more pixels than {MAX_LOGO_SIDE} x {MAX_LOGO_SIDE}; at most "
                                     f"{MAX_LOGO_SIDE} pixels a side", OUT_OF_RANGE)]
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        return [FieldViolation(path, f"is not a readable {fmt} image ({type(exc).__name__})", INVALID_FORMAT)]
    return []


def shown_logo(issuer: registry_pb2.Issuer | None, logo: Logo | None, signer_did: str | None,
               at: datetime) -> Logo | None:
    """The registry's logo of ``issuer`` when it may be shown next to a credential signed by ``signer_did``:
    the issuer is registered under that DID and holds an accreditation in force at ``at``; otherwise None."""
    if issuer is None or logo is None or not signer_did or issuer.did != signer_did:
        return None
    if not any(domain.standing(acc, at) is None for acc in issuer.accreditations):
        return None
    return logo


@lru_cache(maxsize=16)  # a JPEG logo re-encoded may reach a few MB: keep few
def pdf_ready_png(data: bytes) -> bytes:
    """A registered logo re-encoded as an 8-bit RGB or RGBA PNG, what the PDF embeds: PDF/A with an sRGB output
    intent allows RGB images (a CMYK or 16-bit image would not conform), and reportlab then never sees the
    original encoding. ``data`` must have passed :func:`check_logo`."""
    with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        converted = image.convert("RGBA" if has_alpha else "RGB")
        out = io.BytesIO()
        converted.save(out, format="PNG")
        return out.getvalue()
