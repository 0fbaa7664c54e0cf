"""The bitstring behind a W3C Bitstring Status List, and its ``encodedList`` encoding.

Bit ordering follows the Recommendation: index 0 is the most significant (left-most) bit of byte 0, so
index ``i`` sits in byte ``i // 8`` at bit ``7 - i % 8`` (the same layout as Redis ``SETBIT``/``GETBIT``).
An entry ``n`` of ``statusSize`` ``s`` occupies bits ``[n*s, n*s + s)``, most significant bit first.

``encodedList`` is ``"u" + base64url_nopad(gzip(bitstring))`` (multibase base64url). Lists published before
the Recommendation (e.g. the W3C test-suite fixtures) omit the ``u`` prefix; :func:`decode_list` accepts
them only in lenient mode and reports them with ``legacy_encoding=True``.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from dataclasses import dataclass

from microcred.status.errors import MalformedValueError, RangeError

__all__ = [
    "MAX_DECODED_BYTES",
    "MIN_LIST_BITS",
    "Bitstring",
    "DecodedList",
    "decode_list",
    "encode_list",
]

MIN_LIST_BITS = 131_072
"""16 KiB: the smallest list the Recommendation allows (herd privacy)."""

MAX_DECODED_BYTES = 64 * 1024 * 1024
"""Refuse to inflate more than this, so a tiny gzip bomb cannot exhaust memory."""

_MULTIBASE_BASE64URL = "u"
_BASE64URL_NOPAD = re.compile(r"[A-Za-z0-9_-]*")
_LEGACY_BASE64 = re.compile(r"[A-Za-z0-9_\-+/]*={0,2}")


class Bitstring:
    """A mutable, bytearray-backed bitstring with MSB-first bit order."""

    __slots__ = ("_bytes", "_size")

    def __init__(self, size_bits: int = MIN_LIST_BITS, *, minimum: int = MIN_LIST_BITS) -> None:
        """Create an all-zero bitstring of ``size_bits`` bits; refuse sizes below ``minimum``."""
        if size_bits <= 0 or size_bits < minimum:
            raise ValueError(f"bitstring size {size_bits} is below the minimum of {max(minimum, 1)} bits")
        self._size = size_bits
        self._bytes = bytearray((size_bits + 7) // 8)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, size_bits: int | None = None) -> Bitstring:
        """Wrap a copy of ``data`` (e.g. an inflated ``encodedList``).

        The size is ``8 * len(data)`` unless ``size_bits`` is given, in which case ``data`` must be exactly
        ``ceil(size_bits / 8)`` bytes with the padding bits after ``size_bits`` clear.
        """
        bits = cls.__new__(cls)
        bits._bytes = bytearray(data)
        bits._size = 8 * len(bits._bytes)
        if size_bits is not None:
            if size_bits <= 0 or (size_bits + 7) // 8 != len(bits._bytes):
                raise ValueError(f"{len(bits._bytes)} bytes cannot hold exactly {size_bits} bits")
            if size_bits % 8 and bits._bytes[-1] & (0xFF >> (size_bits % 8)):
                raise ValueError(f"bits are set beyond the size of {size_bits} bits")
            bits._size = size_bits
        return bits

    @property
    def size(self) -> int:
        """Number of bits."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return self._size == other._size and self._bytes == other._bytes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Bitstring(size={self._size}, set={self.count()})"

    def to_bytes(self) -> bytes:
        """The raw bytes (the uncompressed list)."""
        return bytes(self._bytes)

    def count(self) -> int:
        """Number of bits set to 1."""
        return int.from_bytes(self._bytes, "big").bit_count()

    def _check(self, index: int) -> None:
        if not 0 <= index < self._size:
            raise RangeError(f"bit index {index} is outside the bitstring of {self._size} bits")

    def get(self, index: int) -> bool:
        """Return whether bit ``index`` is set."""
        self._check(index)
        return bool(self._bytes[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        """Set bit ``index`` to ``value`` (1 by default)."""
        self._check(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bytes[index >> 3] |= mask
        else:
            self._bytes[index >> 3] &= ~mask & 0xFF

    def clear(self, index: int) -> None:
        """Set bit ``index`` to 0."""
        self.set(index, False)

    def _entry_span(self, index: int, status_size: int) -> int:
        if status_size < 1:
            raise ValueError(f"statusSize must be a positive integer, got {status_size}")
        start = index * status_size
        if index < 0 or start + status_size > self._size:
            raise RangeError(
                f"status index {index} (statusSize {status_size}) is outside the list of {self._size} bits"
            )
        return start

    def get_status(self, index: int, status_size: int = 1) -> int:
        """Return the ``status_size``-bit value of entry ``index`` (bits read most significant first)."""
        start = self._entry_span(index, status_size)
        value = 0
        for bit in range(start, start + status_size):
            value = (value << 1) | (self._bytes[bit >> 3] >> (7 - (bit & 7))) & 1
        return value

    def set_status(self, index: int, value: int, status_size: int = 1) -> None:
        """Write ``value`` into entry ``index`` of ``status_size`` bits."""
        start = self._entry_span(index, status_size)
        if not 0 <= value < (1 << status_size):
            raise ValueError(f"status value {value} does not fit in {status_size} bits")
        for offset in range(status_size):
            self.set(start + offset, bool(value >> (status_size - 1 - offset) & 1))


@dataclass(frozen=True, slots=True)
class DecodedList:
    """An expanded ``encodedList`` and whether it used the pre-Recommendation (unprefixed) form."""

    bits: Bitstring
    legacy_encoding: bool


def encode_list(bits: Bitstring | bytes | bytearray) -> str:
    """Encode a bitstring as a multibase ``encodedList``; deterministic (gzip header ``mtime`` = 0)."""
    raw = bits.to_bytes() if isinstance(bits, Bitstring) else bytes(bits)
    # Level 6: level 9 costs ~19 ms on a sparse 16 KiB list for almost no gain; lists are re-signed often.
    compressed = gzip.compress(raw, compresslevel=6, mtime=0)
    return _MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str, lenient_legacy: bool = True, *,
                max_bytes: int = MAX_DECODED_BYTES) -> DecodedList:
    """Expand an ``encodedList`` into its bitstring.

    The Recommendation's form is ``u`` + base64url without padding. When ``lenient_legacy`` is true, a
    value without the prefix is also read as base64url or base64 (padding optional) and flagged
    ``legacy_encoding``. Raises :class:`MalformedValueError` on anything else, including bad gzip data and
    lists that inflate beyond ``max_bytes``. The length minimum is *not* checked here (see ``check``).
    """
    if not isinstance(encoded, str):
        raise MalformedValueError("encodedList must be a string")
    if encoded.startswith(_MULTIBASE_BASE64URL):
        return DecodedList(Bitstring.from_bytes(_inflate(_b64url_nopad(encoded[1:]), max_bytes)), False)
    if not lenient_legacy:
        raise MalformedValueError("encodedList must start with the multibase base64url prefix 'u'")
    return DecodedList(Bitstring.from_bytes(_inflate(_b64_legacy(encoded), max_bytes)), True)


def _b64url_nopad(text: str) -> bytes:
    if not _BASE64URL_NOPAD.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedValueError("encodedList is not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64_legacy(text: str) -> bytes:
    if not _LEGACY_BASE64.fullmatch(text):
        raise MalformedValueError("encodedList is neither multibase nor base64/base64url")
    body = text.rstrip("=").translate(str.maketrans("-_", "+/"))
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error as exc:
        raise MalformedValueError(f"encodedList is not valid base64: {exc}") from None


def _inflate(compressed: bytes, max_bytes: int) -> bytes:
    """Gunzip every member of ``compressed`` without ever producing more than ``max_bytes``."""
    if not compressed:
        raise MalformedValueError("encodedList is empty")
    out = bytearray()
    data = compressed
    try:
        while data:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out += inflater.decompress(data, max_bytes + 1 - len(out))
            if len(out) > max_bytes:
                raise MalformedValueError(f"encodedList inflates to more than {max_bytes} bytes")
            if not inflater.eof:
                raise MalformedValueError("encodedList holds a truncated gzip stream")
            data = inflater.unused_data
    except zlib.error as exc:
        raise MalformedValueError(f"encodedList is not gzip data: {exc}") from None
    return bytes(out)
