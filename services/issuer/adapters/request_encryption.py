"""The issuer's key for encrypted credential requests (OpenID4VCI 1.0 §10, :mod:`microcred.oid4vci.encryption`).

Wallets encrypt their credential requests to the public key the Credential Issuer Metadata lists
(``credential_request_encryption.jwks``); any replica must decrypt what a wallet encrypted after reading another
replica's metadata, so every replica holds the same key. It is derived, as the SD-JWT VC keys are
(:mod:`.document_signing`), from an Ed25519 seed in the key store (encrypted at rest under the service's KEK):
the key ``oid4vci-request-encryption``, made by whichever replica starts first (the key store never overwrites
a key, so a race leaves one) and read by the others. Its ``kid`` is its RFC 7638 thumbprint. It is not rotated.
"""

from __future__ import annotations

import contextlib

from microcred.crypto.keystore import KeyExistsError, KeyNotFoundError, KeyStore
from microcred.oid4vci.encryption import EncryptionKey
from services.issuer.adapters.document_signing import derive_p256_key

__all__ = ["KEY_ID", "request_encryption_key"]

KEY_ID = "oid4vci-request-encryption"
_LABEL = b"microcred/oid4vci/credential-request-encryption/ecdh-es/v1"


def request_encryption_key(keystore: KeyStore) -> EncryptionKey:
    """The shared key (made in ``keystore`` if no replica made it yet)."""
    try:
        seed_key = keystore.get_signing_key(KEY_ID)
    except KeyNotFoundError:
        with contextlib.suppress(KeyExistsError):  # another replica made it meanwhile
            keystore.create_key(KEY_ID)
        seed_key = keystore.get_signing_key(KEY_ID)
    return EncryptionKey.of(derive_p256_key(seed_key.private_bytes_raw(), _LABEL))
