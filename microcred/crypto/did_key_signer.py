"""A did:key identity with its private key: what signs a document (``eddsa-rdfc-2022``) outside the issuer's
key store: an operator's offline key (``mcred keys``) and the revocation service's status-list key.

The private key is a field of the object but never part of its ``repr`` (nor, therefore, of a log line or a
traceback's locals rendering).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id

__all__ = ["DidKeySigner"]


@dataclass(frozen=True)
class DidKeySigner:
    """A did:key, its verification method, and the Ed25519 private key behind them."""

    did: str
    verification_method: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def of(cls, key: Ed25519PrivateKey) -> DidKeySigner:
        """The signer of ``key``: its did:key and that DID's (only) verification method."""
        did = did_key_from_public_key(key.public_key())
        return cls(did, verification_method_id(did), key)

    def sign(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``document`` secured with an ``eddsa-rdfc-2022`` proof (``assertionMethod``)."""
        return sign_eddsa_rdfc_2022(document, self.private_key, self.verification_method)
