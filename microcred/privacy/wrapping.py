"""The privacy key-encryption key (KEK): it wraps every learner's data key and keys the learner pseudonym.

A data key is wrapped as microcred/crypto's key store wraps a signing key: ``nonce (12 bytes) || AES-256-GCM
ciphertext+tag`` with the key's name (here the pseudonym) as additional authenticated data, so a wrapped key
copied under another pseudonym does not open. Two sub-keys are derived from the one KEK with HKDF-SHA256 (one for
wrapping, one for pseudonyms), so a single secret is distributed to the services that need it.

The KEK comes from ``MICROCRED_PRIVACY_KEK`` (base64 of 32 bytes) or the file ``MICROCRED_PRIVACY_KEK_FILE``;
in ``dev``/``test`` without either, one is generated once into ``<data dir>/../privacy-kek`` (mode 0600). Every
service that seals or opens personal data (issuer, wallet) must be given the same KEK. In production the KEK
sits behind this same :class:`KeyWrapper` port in an HSM/KMS.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microcred.crypto.keystore import DEV_ENVIRONMENTS, MissingKekError, load_kek
from microcred.privacy.pseudonym import Pseudonymizer

__all__ = ["PRIVACY_KEK_ENV", "PRIVACY_KEK_FILE_ENV", "AesGcmKeyWrapper", "KeyWrapper", "UnwrapError",
           "privacy_kek", "pseudonymizer_for"]

PRIVACY_KEK_ENV = "MICROCRED_PRIVACY_KEK"
PRIVACY_KEK_FILE_ENV = "MICROCRED_PRIVACY_KEK_FILE"
_NONCE_LEN = 12
DATA_KEY_LEN = 32


class UnwrapError(Exception):
    """A wrapped data key did not open (wrong KEK, wrong pseudonym, or altered bytes)."""


class KeyWrapper(Protocol):
    """Port: wraps and unwraps data keys under the KEK (software AES-GCM here, an HSM/KMS in production)."""

    def wrap(self, data_key: bytes, name: str) -> bytes:
        """The wrapped form of ``data_key``, bound to ``name``."""
        ...

    def unwrap(self, wrapped: bytes, name: str) -> bytes:
        """The data key, or :class:`UnwrapError`."""
        ...


def _derive(kek: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(kek)


class AesGcmKeyWrapper:
    """Wraps data keys with AES-256-GCM under a sub-key of the privacy KEK (never in a repr)."""

    def __init__(self, kek: bytes) -> None:
        if len(kek) != 32:
            raise ValueError("the privacy KEK must be 32 bytes")
        self._aead = AESGCM(_derive(kek, b"microcred privacy v1 wrap"))

    def __repr__(self) -> str:
        return "AesGcmKeyWrapper()"

    def wrap(self, data_key: bytes, name: str) -> bytes:
        """``nonce || AES-GCM(data_key)``, authenticated with ``name``."""
        nonce = secrets.token_bytes(_NONCE_LEN)
        return nonce + self._aead.encrypt(nonce, data_key, name.encode("utf-8"))

    def unwrap(self, wrapped: bytes, name: str) -> bytes:
        """The data key wrapped under ``name``; :class:`UnwrapError` otherwise."""
        if len(wrapped) != _NONCE_LEN + DATA_KEY_LEN + 16:
            raise UnwrapError("a wrapped data key has the wrong length")
        try:
            return self._aead.decrypt(wrapped[:_NONCE_LEN], wrapped[_NONCE_LEN:], name.encode("utf-8"))
        except InvalidTag:
            raise UnwrapError("the wrapped data key does not open under this KEK and pseudonym") from None


def pseudonymizer_for(kek: bytes) -> Pseudonymizer:
    """The pseudonymizer keyed by the privacy KEK's pseudonym sub-key."""
    return Pseudonymizer(_derive(kek, b"microcred privacy v1 pseudonym"))


def privacy_kek(data_dir: Path, environment: str, env: Mapping[str, str] | None = None) -> bytes:
    """The privacy KEK: ``MICROCRED_PRIVACY_KEK`` / ``MICROCRED_PRIVACY_KEK_FILE``, else (dev/test only) one
    generated once into ``<data_dir>/../privacy-kek``; elsewhere :class:`MissingKekError`."""
    env = os.environ if env is None else env
    if env.get(PRIVACY_KEK_ENV):
        return load_kek({"MICROCRED_KEK": env[PRIVACY_KEK_ENV]})
    if env.get(PRIVACY_KEK_FILE_ENV):
        return load_kek({}, env[PRIVACY_KEK_FILE_ENV])
    if environment not in DEV_ENVIRONMENTS:
        raise MissingKekError(f"environment {environment!r} needs a privacy key-encryption key: set "
                              f"{PRIVACY_KEK_ENV} (base64 of 32 bytes) or {PRIVACY_KEK_FILE_ENV}")
    # Next to the services' own data directories (``<run dir>/<service>``), so the services of one development
    # run share it: the wallet must open what the issuer sealed.
    path = data_dir.parent / "privacy-kek"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this data dir made it first
            return load_kek({}, path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)) + b"\n")
    return load_kek({}, path)
