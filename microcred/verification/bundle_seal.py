"""The seal of a trust bundle: the exporting operator's signature, checkable against the platform CA.

The platform has no key of its own for bundles, but whoever exports one holds a client certificate issued by
the platform CA (an agency operator's, an issuer's). ``mcred trust export`` signs the bundle's canonical content
(RFC 8785 JSON without ``digest`` and ``seal``) with that certificate's key (ECDSA P-256 with SHA-256, the
platform's client keys) and embeds the certificate. ``mcred verify --trust-bundle FILE --trust-ca ca.crt`` then
refuses a bundle unless the certificate was issued by that CA, was valid when the bundle was created, is a client
certificate, and its key signed exactly this content: a forger who edits the bundle and recomputes its digest
cannot recompute the seal. Without ``--trust-ca`` the seal is not checked (the report says so), and the bundle's
origin is the operator's responsibility.

Certificate checks use ``cryptography``'s ``verify_directly_issued_by`` (issuer name and signature) and the
certificate's own fields; its RFC 5280 path validator asks for extensions (authority key identifier) that the
platform's certificates do not carry, and a platform client certificate is issued directly by the CA.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from microcred.pki import certificate_sha256, identity_from_pem

__all__ = ["ALGORITHM", "Seal", "SealError", "canonical_content", "check_seal", "seal_of"]

ALGORITHM = "ES256"
_UNSEALED = ("digest", "seal")


class SealError(ValueError):
    """The seal is missing or does not hold; ``reason`` is NOT_SEALED, SEAL_UNTRUSTED or SEAL_INVALID."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Seal:
    """Who sealed a bundle (``role:subject@agency`` from the certificate) and whether that was checked."""

    sealed_by: str
    certificate_sha256: str
    checked: bool


def canonical_content(content: Mapping[str, Any]) -> bytes:
    """The RFC 8785 canonical JSON of the bundle without ``digest`` and ``seal`` (what both cover)."""
    return rfc8785.dumps({k: v for k, v in content.items() if k not in _UNSEALED})


def seal_of(content: Mapping[str, Any], cert_pem: bytes, key_pem: bytes) -> dict[str, str]:
    """The ``seal`` member for ``content``, signed with a platform client key (EC P-256)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the client key is not an EC key; the platform's client certificates use P-256")
    signature = key.sign(canonical_content(content), ec.ECDSA(hashes.SHA256()))
    return {"alg": ALGORITHM, "certificate": cert_pem.decode("ascii"),
            "signature": base64.urlsafe_b64encode(signature).decode("ascii").rstrip("=")}


def _certificate(seal: Mapping[str, Any]) -> tuple[x509.Certificate, bytes]:
    pem = seal.get("certificate")
    if not isinstance(pem, str) or len(pem) > 16_384:
        raise SealError("SEAL_INVALID", "seal.certificate is missing or not a PEM certificate")
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii")), pem.encode("ascii")
    except (ValueError, UnicodeEncodeError):
        raise SealError("SEAL_INVALID", "seal.certificate is not a PEM certificate") from None


def check_seal(content: Mapping[str, Any], created_at: datetime, trusted_ca: bytes | None) -> Seal | None:
    """The bundle's seal; with ``trusted_ca`` (PEM) it must exist and hold, else :class:`SealError`.
    Without, None when there is no seal and an unchecked :class:`Seal` when there is one."""
    seal = content.get("seal")
    if seal is None and trusted_ca is None:
        return None
    if not isinstance(seal, Mapping):
        raise SealError("NOT_SEALED", "the bundle carries no seal, and --trust-ca asks for one")
    certificate, pem = _certificate(seal)
    try:
        sealed_by = identity_from_pem(pem).actor
    except ValueError:
        sealed_by = "?"
    fingerprint = certificate_sha256(pem)
    if trusted_ca is None:
        return Seal(sealed_by, fingerprint, checked=False)
    try:
        ca = x509.load_pem_x509_certificate(trusted_ca)
    except ValueError:
        raise SealError("SEAL_UNTRUSTED", "the --trust-ca file is not a PEM certificate") from None
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise SealError("SEAL_UNTRUSTED", f"the sealing certificate ({sealed_by}) was not issued by the given CA "
                                          f"({ca.subject.rfc4514_string()})") from None
    if not certificate.not_valid_before_utc <= created_at <= certificate.not_valid_after_utc:
        raise SealError("SEAL_UNTRUSTED", f"the sealing certificate ({sealed_by}) was not valid when the bundle "
                                          f"was created ({created_at.isoformat()})")
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise SealError("SEAL_UNTRUSTED", f"the sealing certificate ({sealed_by}) is not a client certificate")
    public_key = certificate.public_key()
    signature = seal.get("signature")
    if seal.get("alg") != ALGORITHM or not isinstance(public_key, ec.EllipticCurvePublicKey) \
            or not isinstance(signature, str):
        raise SealError("SEAL_INVALID", f"the seal is not an {ALGORITHM} signature by an EC certificate")
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        public_key.verify(raw, canonical_content(content), ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise SealError("SEAL_INVALID", f"the seal by {sealed_by} does not match the content: the bundle was "
                                        "changed after it was sealed") from None
    return Seal(sealed_by, fingerprint, checked=True)
