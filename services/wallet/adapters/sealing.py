"""Sealing what the wallet publishes about learners: their verified e-mail addresses, and the deferred OpenID4VCI
issuances it waits for (each holds an access token and a DPoP private key).

The wallet's own Kafka topic is the source of truth of its accounts, so it must carry what a rebuild needs,
and Kafka (its replicas, backups, anyone with read access to the topic) must not learn personal data from it.
E-mail addresses are therefore published sealed: ``nonce (12 bytes) || AES-256-GCM ciphertext || tag``, under
a key derived from the wallet's key-encryption key (KEK: ``MICROCRED_KEK``/``MICROCRED_KEK_FILE``, the one that
already encrypts the key store) with HKDF-SHA256 for this one purpose. The associated data binds each sealed
value to its account id, so a value copied into another record does not open. (Holder private keys are not
published at all: they stay in the encrypted key store, see ``holder_keys.py``.)

Rotating the KEK therefore needs the old KEK to open what was sealed before (not supported yet: see
``services/wallet/README.md``).
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12
_EMAIL_INFO = b"microcred wallet v1: account e-mail addresses"
_DEFERRED_INFO = b"microcred wallet v1: deferred OpenID4VCI issuances"


class SealError(Exception):
    """A sealed value does not open (another KEK, tampered, or bound to something else); never retriable."""

    retriable = False


def _subkey(kek: bytes, info: bytes) -> AESGCM:
    if len(kek) != 32:
        raise ValueError("the key-encryption key must be 32 bytes")
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(kek))


def _seal(aead: AESGCM, plaintext: bytes, bound_to: str) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return nonce + aead.encrypt(nonce, plaintext, bound_to.encode("utf-8"))


def _open(aead: AESGCM, sealed: bytes, bound_to: str) -> bytes:
    try:
        return aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], bound_to.encode("utf-8"))
    except (InvalidTag, ValueError):
        raise SealError("sealed value does not open with this KEK for this owner") from None


class Sealer:
    """Seals and opens e-mail addresses and deferred issuances (one key each, derived from the KEK; the KEK is not
    kept)."""

    def __init__(self, kek: bytes) -> None:
        self._emails = _subkey(kek, _EMAIL_INFO)
        self._deferred = _subkey(kek, _DEFERRED_INFO)

    def __repr__(self) -> str:
        return "Sealer()"

    def seal_email(self, account_id: str, email: str) -> bytes:
        """``email`` sealed and bound to ``account_id``."""
        return _seal(self._emails, email.encode("utf-8"), account_id)

    def open_email(self, account_id: str, sealed: bytes) -> str:
        """The e-mail :meth:`seal_email` sealed for ``account_id``; :class:`SealError` otherwise."""
        return _open(self._emails, sealed, account_id).decode("utf-8")

    def seal_deferred(self, account_id: str, ref: str, document: bytes) -> bytes:
        """A deferred issuance's ``document`` sealed and bound to ``account_id`` and its ``ref``."""
        return _seal(self._deferred, document, f"{account_id}/{ref}")

    def open_deferred(self, account_id: str, ref: str, sealed: bytes) -> bytes:
        """What :meth:`seal_deferred` sealed for ``account_id`` and ``ref``; :class:`SealError` otherwise."""
        return _open(self._deferred, sealed, f"{account_id}/{ref}")
