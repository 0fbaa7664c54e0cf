"""Sealing personal bytes under a learner's data key (AES-256-GCM), bound to where they travel.

``seal(key, plaintext, context)`` is ``version (1 byte) || nonce (12) || ciphertext+tag``. Two versions:

* ``0x01``: the ciphertext is of the plaintext itself; the additional authenticated data is
  ``microcred/privacy/v1`` + the pseudonym + the context (an event id, a wallet record key), so sealed bytes
  copied into another event or under another learner do not open.
* ``0x02`` (written since issue 24): the ciphertext is of one zstd frame of the plaintext (level
  :data:`LEVEL`, content size in the frame header, no checksum: GCM authenticates it); the associated data
  starts ``microcred/privacy/v2``, so a record's version byte cannot be swapped. The sealed records are ~10 kB
  credentials, ~0.33 of that once compressed (docs/privacy.md, "Compression"): compressing *after* sealing
  gains nothing, ciphertext does not compress. A zstd frame names its dictionary (dictionary id 0: none);
  a dictionary trained per credential shape would be a new id the opener looks up, with no new version byte.
  Plaintexts the frame does not make smaller (a lone DID) and plaintexts above :data:`MAX_OPENED` stay ``0x01``.

:func:`open_sealed` opens both versions (records on Kafka and in Redis sealed before issue 24 keep opening).
Opening is bounded: a frame declaring more than :data:`MAX_OPENED` bytes, not declaring its size, naming a
dictionary, or followed by extra bytes is refused before anything is allocated for it (only the key holder can
make one, but a decompression bomb costs nothing to bound).

The nonce is synthetic (as in SIV modes): the first 12 bytes of HMAC-SHA256, under a sub-key of the data key, of
the associated data and *the bytes encrypted* (for ``0x02`` the frame, so a nonce repeats only with the very same
frame: a zstd build compressing differently can change the record, never reuse a nonce for other bytes).
Sealing the same event twice therefore gives the same bytes (zstd at a fixed level and library version is
deterministic), which the issuer relies on (a retried publish republishes the very same record), and a nonce
repeats only for the same plaintext in the same place, which then repeats the same ciphertext and reveals
nothing more than that equality.
"""

from __future__ import annotations

import hmac

from cryptography.exceptions import InvalidTag

from microcred.privacy.datakeys import DataKey
from microcred.storage.frames import LEVEL as FRAME_LEVEL
from microcred.storage.frames import FrameError, compressor, open_frame

__all__ = ["LEVEL", "MAX_OPENED", "SealError", "associated_data", "open_sealed", "seal"]

_V1, _V2 = 1, 2
_NONCE_LEN = 12
_TAG_LEN = 16
#: zstd level of ``0x02`` records (:mod:`microcred.storage.frames`, the project's one compressor setup).
LEVEL = FRAME_LEVEL
#: The most a ``0x02`` record may open to (4 MiB); larger plaintexts are sealed as ``0x01``, never compressed.
MAX_OPENED = 4 << 20


class SealError(Exception):
    """Sealed bytes that do not open under the given key and context (altered, or another learner's)."""


def associated_data(pseudonym: str, context: str, version: int = _V1) -> bytes:
    """What binds sealed bytes to one learner and one place (event id, record key), and to their version."""
    return (f"microcred/privacy/v{version}\x00".encode() + pseudonym.encode("utf-8") + b"\x00"
            + context.encode("utf-8"))


def _encrypt(key: DataKey, version: int, body: bytes, context: str) -> bytes:
    aad = associated_data(key.pseudonym, context, version)
    # hmac.digest: the one-shot C path (same MAC as hmac.new(...).digest(), no HMAC object per seal)
    nonce = hmac.digest(key.nonce_key, b"".join((len(aad).to_bytes(4, "big"), aad, body)), "sha256")[:_NONCE_LEN]
    return bytes((version,)) + nonce + key.aead.encrypt(nonce, body, aad)


def seal(key: DataKey, plaintext: bytes, context: str) -> bytes:
    """``plaintext`` sealed under ``key`` for ``context`` (compressed, ``0x02``, when that makes it smaller)."""
    if len(plaintext) <= MAX_OPENED:
        frame = compressor().compress(plaintext)
        if len(frame) < len(plaintext):
            return _encrypt(key, _V2, frame, context)
    return _encrypt(key, _V1, plaintext, context)


def _decompress(frame: bytes) -> bytes:
    """The plaintext of a ``0x02`` record's frame, within :data:`MAX_OPENED`."""
    try:
        return open_frame(frame, MAX_OPENED)
    except FrameError as e:
        raise SealError(f"sealed personal data {e}") from None


def open_sealed(key: DataKey, sealed: bytes, context: str) -> bytes:
    """The plaintext of ``sealed`` (made by :func:`seal` with this key and context), else :class:`SealError`."""
    version = sealed[0] if sealed else 0
    if len(sealed) < 1 + _NONCE_LEN + _TAG_LEN or version not in (_V1, _V2):
        raise SealError("not sealed personal data of a known version")
    try:
        body = key.aead.decrypt(sealed[1:1 + _NONCE_LEN], sealed[1 + _NONCE_LEN:],
                                associated_data(key.pseudonym, context, version))
    except InvalidTag:
        raise SealError("sealed personal data does not open under this learner's key and context") from None
    return body if version == _V1 else _decompress(body)
