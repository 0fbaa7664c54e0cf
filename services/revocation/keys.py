"""The status-list signing key: opening the encrypted key store and holding the did:key signer.

The revocation service signs every status-list credential with its own Ed25519 key, identified as a
``did:key``. The key lives in :class:`~microcred.crypto.keystore.EncryptedFileKeyStore` (AES-256-GCM under a
key-encryption key from ``MICROCRED_KEK`` or ``MICROCRED_KEK_FILE``). Only ``dev`` and ``test`` environments
may generate a KEK file on first start; in ``prod`` a missing KEK stops the service at once.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.crypto.keystore import (
    KEK_ENV,
    KEK_FILE_ENV,
    EncryptedFileKeyStore,
    KeyNotFoundError,
    KeyStore,
    load_kek,
)
from services.revocation.config import Settings

log = logging.getLogger(__name__)

DEV_ENVIRONMENTS = frozenset({"dev", "test"})


class MissingKekError(RuntimeError):
    """No key-encryption key was configured where one is required."""


def open_keystore(settings: Settings, env: Mapping[str, str] | None = None) -> KeyStore:
    """Open the encrypted key store named by ``settings``; generate a dev KEK file when allowed."""
    env = os.environ if env is None else env
    if settings.kek_file is not None:
        return EncryptedFileKeyStore(settings.resolved_keystore_dir, load_kek(env, settings.kek_file))
    if env.get(KEK_ENV) or env.get(KEK_FILE_ENV):
        return EncryptedFileKeyStore(settings.resolved_keystore_dir, load_kek(env))
    if settings.environment not in DEV_ENVIRONMENTS:
        raise MissingKekError(f"environment {settings.environment!r} needs a key-encryption key: set {KEK_ENV} "
                              f"(base64 of 32 bytes) or {KEK_FILE_ENV}")
    kek_path = settings.data_dir / "kek"
    if not kek_path.exists():
        _write_dev_kek(kek_path)
        log.warning("generated a development key-encryption key", extra={"path": str(kek_path)})
    return EncryptedFileKeyStore(settings.resolved_keystore_dir, load_kek(env, kek_path))


def _write_dev_kek(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(secrets.token_bytes(32)) + b"\n")


@dataclass(frozen=True)
class StatusListSigner:
    """The service's did:key signer for status-list credentials (the key never leaves this object)."""

    did: str
    verification_method: str
    _key: Ed25519PrivateKey

    def __repr__(self) -> str:
        return f"StatusListSigner(did={self.did!r})"

    def sign(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``document`` secured with an ``eddsa-rdfc-2022`` proof (``assertionMethod``)."""
        return sign_eddsa_rdfc_2022(document, self._key, self.verification_method)


def load_signer(keystore: KeyStore, key_id: str) -> StatusListSigner:
    """The signer for ``key_id``, creating the key on first use."""
    try:
        key = keystore.get_signing_key(key_id)
    except KeyNotFoundError:
        keystore.create_key(key_id)
        key = keystore.get_signing_key(key_id)
        log.info("created the status-list signing key", extra={"key_id": key_id})
    did = did_key_from_public_key(key.public_key())
    return StatusListSigner(did, verification_method_id(did), key)
