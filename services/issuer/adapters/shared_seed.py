"""A secret every replica of the issuer service shares, kept in the key store (encrypted at rest under the KEK).

Replicas must agree on some keys without talking to each other: the OpenID4VCI request-encryption keys
(:mod:`.request_encryption`) and the MAC key of the REST API's bearer tokens (:mod:`services.issuer.api.oauth`).
Each is derived from an Ed25519 seed stored under its own key id, made by whichever replica needs it first (the
key store never overwrites a key, so a race leaves one) and read by the others.
"""

from __future__ import annotations

import contextlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microcred.crypto.keystore import KeyExistsError, KeyNotFoundError, KeyStore

__all__ = ["shared_key", "shared_seed"]


def shared_seed(keystore: KeyStore, key_id: str) -> bytes:
    """The 32-byte seed stored under ``key_id``, made now if no replica made it yet."""
    try:
        seed_key = keystore.get_signing_key(key_id)
    except KeyNotFoundError:
        with contextlib.suppress(KeyExistsError):  # another replica made it meanwhile
            keystore.create_key(key_id)
        seed_key = keystore.get_signing_key(key_id)
    return seed_key.private_bytes_raw()


def shared_key(keystore: KeyStore, key_id: str, label: bytes) -> bytes:
    """A 32-byte key for one purpose (``label``), derived (HKDF-SHA256) from the seed under ``key_id``."""
    return HKDF(hashes.SHA256(), 32, salt=None, info=label).derive(shared_seed(keystore, key_id))
