"""The status-list signing key: opening the encrypted key store and holding the did:key signer.

The revocation service signs every status-list credential with its own Ed25519 key, identified as a
``did:key``. The key lives in :class:`~microcred.crypto.keystore.EncryptedFileKeyStore` (AES-256-GCM under a
key-encryption key from ``MICROCRED_KEK`` or ``MICROCRED_KEK_FILE``). Only ``dev`` and ``test`` environments
may generate a KEK file on first start; in ``prod`` a missing KEK stops the service at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
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
