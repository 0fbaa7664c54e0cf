"""The status-list signing key: opening the encrypted key store and holding the did:key signer.

The revocation service signs every status-list credential with its own Ed25519 key, identified as a
``did:key``. The key lives in :class:`~microcred.crypto.keystore.EncryptedFileKeyStore` (AES-256-GCM under a
key-encryption key from ``MICROCRED_KEK`` or ``MICROCRED_KEK_FILE``). Only ``dev`` and ``test`` environments
may generate a KEK file on first start; in ``prod`` a missing KEK stops the service at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from microcred.crypto.did_key_signer import DidKeySigner
from microcred.crypto.keystore import (
    KeyNotFoundError,
    KeyStore,
    open_service_keystore,
)
from microcred.crypto.keystore import MissingKekError as MissingKekError  # re-exported for callers
from services.revocation.config import Settings

log = logging.getLogger(__name__)

def open_keystore(settings: Settings, env: Mapping[str, str] | None = None) -> KeyStore:
    """Open the encrypted key store named by ``settings``; generate a dev KEK file when allowed."""
    return open_service_keystore(settings.resolved_keystore_dir, settings.data_dir, settings.environment,
                                 settings.kek_file, env)


#: The service's did:key signer for status-list credentials (the key never appears in its repr).
StatusListSigner = DidKeySigner


def load_signer(keystore: KeyStore, key_id: str) -> StatusListSigner:
    """The signer for ``key_id``, creating the key on first use."""
    try:
        key = keystore.get_signing_key(key_id)
    except KeyNotFoundError:
        keystore.create_key(key_id)
        key = keystore.get_signing_key(key_id)
        log.info("created the status-list signing key", extra={"key_id": key_id})
    return DidKeySigner.of(key)
