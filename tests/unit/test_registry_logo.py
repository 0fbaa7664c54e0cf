"""An issuer's logo (microcred.registry.logo): what the registry accepts, and when a logo may be shown."""

from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from microcred.gen.microcred.v1 import registry_pb2
from microcred.model.errors import INCONSISTENT, INVALID_FORMAT, OUT_OF_RANGE, REQUIRED
from microcred.registry.domain import SUSPENDED, timestamp
from microcred.registry.logo import MAX_LOGO_BYTES, check_logo, pdf_ready_png, shown_logo
from microcred.registry.ports import Logo

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def image(fmt: str = "PNG", size: tuple[int, int] = (64, 32), mode: str = "RGB", noise: bool = False) -> bytes:
    """A real image made by Pillow."""
    picture = Image.frombytes(mode, size, __import__("os").urandom(size[0] * size[1] * len(mode))) if noise \
        else Image.new(mode, size, (0, 51, 153) if mode == "RGB" else None)
    out = io.BytesIO()
    picture.save(out, format=fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and an IHDR chunk (valid CRC) claiming ``width`` x ``height``, then one tiny IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) \
        + chunk(b"IEND", b"")


def reasons(data: bytes, media_type: str) -> list[tuple[str, str]]:
    return [(v.field, v.reason) for v in check_logo(data, media_type)]


def test_a_png_and_a_jpeg_are_accepted() -> None:
    assert check_logo(image("PNG"), "image/png") == []
    assert check_logo(image("JPEG"), "image/jpeg") == []
    assert check_logo(image("PNG", (1024, 1024), "RGBA"), "image/png") == []


def test_no_logo_is_fine_but_a_media_type_alone_is_not() -> None:
    assert check_logo(b"", "") == []
    assert reasons(b"", "image/png") == [("logo", REQUIRED)]


def test_only_png_and_jpeg_are_taken() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert reasons(svg, "image/svg+xml") == [("logo_media_type", INVALID_FORMAT)]
    assert reasons(image("PNG"), "") == [("logo_media_type", REQUIRED)]
    assert reasons(image("GIF", mode="P"), "image/gif") == [("logo_media_type", INVALID_FORMAT)]


def test_not_an_image_is_refused_by_name() -> None:
    [violation] = check_logo(b"<html>hello</html>", "image/png")
    assert (violation.field, violation.reason) == ("logo", INVALID_FORMAT)
    assert "not a PNG image" in violation.description


def test_a_declared_type_that_is_not_the_image_is_inconsistent() -> None:
    [violation] = check_logo(image("PNG"), "image/jpeg")
    assert (violation.field, violation.reason) == ("logo_media_type", INCONSISTENT)
    assert "image/png" in violation.description


def test_an_oversized_file_is_refused_before_decoding() -> None:
    big = image("PNG", (700, 700), noise=True)
    assert len(big) > MAX_LOGO_BYTES
    [violation] = check_logo(big, "image/png")
    assert (violation.field, violation.reason) == ("logo", OUT_OF_RANGE) and "262144" in violation.description


def test_huge_dimensions_are_refused_from_the_header_without_decoding() -> None:
    bomb = png_header_only(100_000, 100_000)  # 10^10 pixels claimed in ~100 bytes
    started = time.process_time()
    [violation] = check_logo(bomb, "image/png")
    assert time.process_time() - started < 1.0
    assert (violation.field, violation.reason) == ("logo", OUT_OF_RANGE)
    assert "at most 1024 pixels a side" in violation.description
    [violation] = check_logo(png_header_only(5000, 20), "image/png")  # under Pillow's guard: our own bound
    assert (violation.reason, violation.description) == (OUT_OF_RANGE, "is 5000 x 20 pixels; at most 1024 pixels "
                                                                        "a side")
    wide = image("JPEG", (2000, 10))
    assert reasons(wide, "image/jpeg") == [("logo", OUT_OF_RANGE)]


def test_a_truncated_or_corrupt_image_is_refused_at_registration() -> None:
    whole = image("PNG", (200, 200), noise=True)
    assert reasons(whole[: len(whole) // 2], "image/png") == [("logo", INVALID_FORMAT)]
    assert reasons(png_header_only(64, 64), "image/png") == [("logo", INVALID_FORMAT)]  # IDAT far too short
    jpeg = image("JPEG", (64, 64), noise=True)
    assert reasons(jpeg[:40], "image/jpeg") == [("logo", INVALID_FORMAT)]


def _issuer(*accreditation_statuses: int, did: str = "did:web:trust.example:issuers:uni-a") -> registry_pb2.Issuer:
    issuer = registry_pb2.Issuer(issuer_id="uni-a", did=did)
    for i, status in enumerate(accreditation_statuses):
        issuer.accreditations.add(accreditation_id=f"acc-{i}", status=status,
                                  valid_from=timestamp(NOW - timedelta(days=30)))
    return issuer


LOGO = Logo(b"\x89PNG...", "image/png")
DID = "did:web:trust.example:issuers:uni-a"


def test_a_logo_is_shown_only_for_an_accredited_issuer_that_signed_the_credential() -> None:
    active = registry_pb2.ACCREDITATION_STATUS_ACTIVE
    assert shown_logo(_issuer(active), LOGO, DID, NOW) is LOGO
    assert shown_logo(_issuer(active), LOGO, "did:web:impostor.example", NOW) is None  # another signer
    assert shown_logo(_issuer(active), LOGO, None, NOW) is None
    assert shown_logo(_issuer(), LOGO, DID, NOW) is None  # registered, not accredited
    assert shown_logo(_issuer(SUSPENDED), LOGO, DID, NOW) is None
    assert shown_logo(_issuer(active), LOGO, DID, NOW - timedelta(days=60)) is None  # not yet in force
    assert shown_logo(None, LOGO, DID, NOW) is None
    assert shown_logo(_issuer(active), None, DID, NOW) is None


@pytest.mark.parametrize(("fmt", "mode", "expected"), [("JPEG", "CMYK", "RGB"), ("PNG", "RGBA", "RGBA"),
                                                      ("PNG", "L", "RGB"), ("PNG", "P", "RGB")])
def test_the_pdf_gets_an_8_bit_rgb_png(fmt: str, mode: str, expected: str) -> None:
    picture = Image.new(mode, (40, 20))
    out = io.BytesIO()
    picture.save(out, format=fmt)
    ready = pdf_ready_png(out.getvalue())
    with Image.open(io.BytesIO(ready)) as again:
        assert (again.format, again.mode, again.size) == ("PNG", expected, (40, 20))
