"""zstd frames: the one compressor setup of the project (sealed personal data, stored documents).

One frame per value, level :data:`LEVEL`, the content size in the frame header (so a reader can bound what a
frame opens to before opening it), no zstd checksum (sealed frames are authenticated by AES-GCM; a stored
document is parsed as JSON right after). zstd contexts are not safe to share between threads (the issuer seals
in worker threads), so each thread makes its own once (a new context per value would cost more than the
compression).

:func:`pack` / :func:`unpack` store a value compressed when that makes it smaller, and read both forms: a frame
begins with zstd's magic number, which no JSON or text value does.
"""

from __future__ import annotations

import threading

import zstandard

__all__ = ["LEVEL", "MAGIC", "FrameError", "compressor", "decompressor", "open_frame", "pack", "unpack"]

#: zstd level: chosen from the measured CPU and ratio (docs/privacy.md, "Compression").
LEVEL = 3
#: The first bytes of every zstd frame.
MAGIC = b"\x28\xb5\x2f\xfd"

_local = threading.local()


class FrameError(ValueError):
    """A frame that does not open within the limit (too large, unknown size or dictionary, corrupt)."""


def compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor (level :data:`LEVEL`, content size written, no checksum)."""
    made: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if made is None:
        made = _local.compressor = zstandard.ZstdCompressor(level=LEVEL, write_checksum=False,
                                                             write_content_size=True, write_dict_id=True)
    return made


def decompressor() -> zstandard.ZstdDecompressor:
    """This thread's decompressor."""
    made: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if made is None:
        made = _local.decompressor = zstandard.ZstdDecompressor()
    return made


def pack(value: bytes) -> bytes:
    """``value`` as one frame when that is smaller, else as it is (which must not begin with :data:`MAGIC`)."""
    if value.startswith(MAGIC):
        raise ValueError("a value beginning with the zstd magic number cannot be stored uncompressed")
    frame = compressor().compress(value)
    return frame if len(frame) < len(value) else value


def unpack(stored: bytes, limit: int) -> bytes:
    """The value :func:`pack` stored: a frame opened (:func:`open_frame`), anything else as it is."""
    return open_frame(stored, limit) if stored.startswith(MAGIC) else stored


def open_frame(frame: bytes, limit: int) -> bytes:
    """The content of one frame, at most ``limit`` bytes (its declared size); :class:`FrameError` for a frame that
    declares more or no size, needs a dictionary, or is corrupt (checked before anything is decompressed)."""
    try:
        params = zstandard.get_frame_parameters(frame)
        if params.content_size > limit:  # an unknown size reads as 2**64-1: refused as well
            raise FrameError(f"would open to more than {limit} bytes")
        if params.dict_id:
            raise FrameError(f"needs zstd dictionary {params.dict_id}, which is not known")
        # The output buffer is the declared size; zstd refuses a frame that decodes to more (or less).
        value = decompressor().decompress(frame, allow_extra_data=False)
    except zstandard.ZstdError as e:
        raise FrameError(f"is not a valid zstd frame: {e}") from None
    if len(value) != params.content_size:
        raise FrameError("does not open to its declared size")
    return value
