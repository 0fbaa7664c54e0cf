"""Secrets the wallet needs before it serves: the key-encryption key and the e-mail index key.

* The KEK (``MICROCRED_KEK``, ``MICROCRED_KEK_FILE`` or the settings) encrypts the learners' holder keys in
  :class:`~microcred.crypto.keystore.EncryptedFileKeyStore` and seals e-mail addresses in the wallet's Kafka
  events (:class:`~services.wallet.adapters.sealing.Sealer`); found as every service finds it
  (:func:`~microcred.crypto.keystore.resolve_service_kek`).
* The e-mail index key (``MICROCRED_EMAIL_INDEX_KEY``, base64 of at least 32 bytes) keys the HMAC under which
  credentials are filed by e-mail. It must stay the same for the life of the read model (changing it means
  rebuilding the read model by replay).

Without them, ``dev``/``test`` generate files under the data directory once (``kek``, ``email-index.key``);
``prod`` refuses to start (same rule as the revocation service).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from microcred.crypto.keystore import (
    KEK_ENV,
    EncryptedFileKeyStore,
    KeyStore,
    MissingKekError,
    load_kek,
    resolve_service_kek,
)
from services.wallet.adapters.sealing import Sealer
from services.wallet.config import Settings

log = logging.getLogger(__name__)

MIN_INDEX_KEY_BYTES = 32


class MissingSecretError(RuntimeError):
    """A secret the environment must provide is missing or malformed."""


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _dev_secret(settings: Settings, name: str, what: str) -> Path:
    if not settings.is_dev:
        raise MissingSecretError(f"environment {settings.environment!r} needs {what}")
    path = settings.data_dir / name
    if not path.exists():
        _write_secret(path, base64.b64encode(secrets.token_bytes(32)) + b"\n")
        log.warning("generated a development secret", extra={"path": str(path)})
    return path


def load_wallet_kek(settings: Settings, env: Mapping[str, str] | None = None) -> bytes:
    """The KEK from the settings (inline, for tests) or as every service finds it (:func:`resolve_service_kek`)."""
    if settings.kek is not None:
        return load_kek({KEK_ENV: settings.kek.get_secret_value()})
    try:
        return resolve_service_kek(settings.data_dir, settings.environment, settings.kek_file, env)
    except MissingKekError as exc:  # one error type for every secret the wallet lacks
        raise MissingSecretError(str(exc)) from None


def open_keystore(settings: Settings, env: Mapping[str, str] | None = None) -> KeyStore:
    """Open the encrypted store of the learners' holder keys (private keys never leave it)."""
    return EncryptedFileKeyStore(settings.resolved_keystore_dir, load_wallet_kek(settings, env))


def open_sealer(settings: Settings, env: Mapping[str, str] | None = None) -> Sealer:
    """The sealer of the e-mail addresses published on the wallet topic (its key derived from the KEK)."""
    return Sealer(load_wallet_kek(settings, env))


def load_email_index_key(settings: Settings) -> bytes:
    """The e-mail index key from the settings, or (dev/test) from a generated file."""
    if settings.email_index_key is not None:
        text = settings.email_index_key.get_secret_value().encode()
    else:
        text = _dev_secret(settings, "email-index.key", "MICROCRED_EMAIL_INDEX_KEY (base64, >= 32 bytes)").read_bytes()
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MissingSecretError("the e-mail index key is not valid base64") from None
    if len(key) < MIN_INDEX_KEY_BYTES:
        raise MissingSecretError(f"the e-mail index key must be at least {MIN_INDEX_KEY_BYTES} bytes")
    return key
