"""Sealing personal bytes under a learner's data key (AES-256-GCM), bound to where they travel.

``seal(key, plaintext, context)`` is ``version (1 byte) || nonce (12) || ciphertext+tag``; the additional
authenticated data is ``microcred/privacy/v1`` + the pseudonym + the context (an event id, a wallet record
key), so sealed bytes copied into another event or under another learner do not open.

The nonce is synthetic (as in SIV modes): the first 12 bytes of HMAC-SHA256, under a sub-key of the data key, of
the associated data and the plaintext. Sealing the same event twice therefore gives the same bytes, which the
issuer relies on (a retried publish republishes the very same record), and a nonce repeats only for the same
plaintext in the same place, which then repeats the same ciphertext and reveals nothing more than that equality.
"""

from __future__ import annotations

import hmac

from cryptography.exceptions import InvalidTag

from microcred.privacy.datakeys import DataKey

__all__ = ["SealError", "associated_data", "open_sealed", "seal"]

_VERSION = b"\x01"
_NONCE_LEN = 12


class SealError(Exception):
    """Sealed bytes that do not open under the given key and context (altered, or another learner's)."""


def associated_data(pseudonym: str, context: str) -> bytes:
    """What binds sealed bytes to one learner and one place (event id, record key)."""
    return b"microcred/privacy/v1\x00" + pseudonym.encode("utf-8") + b"\x00" + context.encode("utf-8")


def seal(key: DataKey, plaintext: bytes, context: str) -> bytes:
    """``plaintext`` sealed under ``key`` for ``context``."""
    aad = associated_data(key.pseudonym, context)
    # hmac.digest: the one-shot C path (same MAC as hmac.new(...).digest(), no HMAC object per seal)
    nonce = hmac.digest(key.nonce_key, b"".join((len(aad).to_bytes(4, "big"), aad, plaintext)),
                        "sha256")[:_NONCE_LEN]
    return _VERSION + nonce + key.aead.encrypt(nonce, plaintext, aad)


def open_sealed(key: DataKey, sealed: bytes, context: str) -> bytes:
    """The plaintext of ``sealed`` (made by :func:`seal` with this key and context), else :class:`SealError`."""
    if len(sealed) < 1 + _NONCE_LEN + 16 or sealed[:1] != _VERSION:
        raise SealError("not sealed personal data of a known version")
    try:
        return key.aead.decrypt(sealed[1:1 + _NONCE_LEN], sealed[1 + _NONCE_LEN:],
                                associated_data(key.pseudonym, context))
    except InvalidTag:
        raise SealError("sealed personal data does not open under this learner's key and context") from None


