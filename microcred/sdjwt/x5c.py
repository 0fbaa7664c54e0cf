"""X.509 issuer keys for SD-JWT VC and Status List Tokens (HAIP: ``x5c`` chains to the agency's CA).

Path validation is ``cryptography``'s RFC 5280 verifier (``cryptography.x509.verification``): CA certificates
must meet the Web PKI CA profile (basic constraints, key usage), the end-entity certificate may carry any
extensions. The end-entity certificate of an issuer must additionally allow digital signatures and name the
issuer: SD-JWT VC §2.5 makes the subject of that certificate the issuer, and we bind it to ``iss`` through a
``uniformResourceIdentifier`` SAN equal to ``iss`` (or a ``dNSName`` SAN equal to its host).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from microcred.pki import CertifiedKey
from microcred.sdjwt.jose import PublicKey

__all__ = [
    "MAX_CHAIN_LENGTH",
    "ChainError",
    "issue_signing_certificate",
    "issuer_named_by",
    "load_certificates",
    "validate_x5c",
    "x5c_header",
]

#: Most certificates accepted in an ``x5c`` header.
MAX_CHAIN_LENGTH = 5
_MAX_CERT_BYTES = 16_384


class ChainError(ValueError):
    """An ``x5c`` chain that is malformed or does not lead to a trust anchor; ``reason`` names why."""

    def __init__(self, reason: str, problem: str) -> None:
        super().__init__(problem)
        self.reason = reason
        self.problem = problem


def issue_signing_certificate(ca: CertifiedKey, *, issuer_uri: str, common_name: str, organisation: str = "",
                              days: int = 365, key: ec.EllipticCurvePrivateKey | None = None,
                              not_before: dt.datetime | None = None) -> CertifiedKey:
    """An EC P-256 document-signing certificate under ``ca`` naming ``issuer_uri`` in its SAN.

    Used for SD-JWT VC issuer keys and Status List Token keys (key usage: digital signature only).
    """
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be an EC key")
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(issuer_uri)]
    host = urlsplit(issuer_uri).hostname
    if host:
        sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name(attributes)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return CertifiedKey(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (trust anchors, a chain)."""
    return x509.load_pem_x509_certificates(pem)


def x5c_header(chain_pem: Sequence[bytes]) -> list[str]:
    """The ``x5c`` value for a chain given leaf first (RFC 7515 §4.1.6: standard base64 of DER, no trust anchor)."""
    out: list[str] = []
    for pem in chain_pem:
        for cert in x509.load_pem_x509_certificates(pem):
            out.append(base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii"))
    return out


def _decode_chain(x5c: object) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(item, str) for item in x5c):
        raise ChainError("MALFORMED_X5C", "x5c must be a non-empty array of base64 strings")
    if len(x5c) > MAX_CHAIN_LENGTH:
        raise ChainError("MALFORMED_X5C", f"x5c holds more than {MAX_CHAIN_LENGTH} certificates")
    certs = []
    for index, item in enumerate(x5c):
        if len(item) > _MAX_CERT_BYTES * 4 // 3 + 4:
            raise ChainError("MALFORMED_X5C", f"x5c[{index}] is too large")
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode(item, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise ChainError("MALFORMED_X5C", f"x5c[{index}] is not a DER certificate") from exc
    return certs


def validate_x5c(x5c: object, trust_anchors: Sequence[x509.Certificate], at: dt.datetime
                 ) -> tuple[x509.Certificate, PublicKey]:
    """Validate an ``x5c`` header chain at time ``at``; return the end-entity certificate and its public key.

    Raises :class:`ChainError` with reason ``MALFORMED_X5C``, ``NO_TRUST_ANCHORS``, ``CHAIN_UNTRUSTED``
    (no path to an anchor, a certificate outside its validity, a constraint broken) or
    ``KEY_USAGE_MISMATCH`` (the end-entity certificate may not sign).
    """
    certs = _decode_chain(x5c)
    if not trust_anchors:
        raise ChainError("NO_TRUST_ANCHORS", "no trust anchors are configured")
    leaf, intermediates = certs[0], certs[1:]
    builder = (
        verification.PolicyBuilder().store(verification.Store(list(trust_anchors))).time(at)
        .max_chain_depth(MAX_CHAIN_LENGTH)
        .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                            ee_policy=verification.ExtensionPolicy.permit_all())
    )
    try:
        builder.build_client_verifier().verify(leaf, intermediates)
    except verification.VerificationError as exc:
        raise ChainError("CHAIN_UNTRUSTED", str(exc)) from exc
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            raise ChainError("KEY_USAGE_MISMATCH", "the end-entity certificate does not allow digital signatures")
    except x509.ExtensionNotFound:
        pass  # no key usage extension: every usage is allowed (RFC 5280 §4.2.1.3)
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ChainError("KEY_USAGE_MISMATCH", "the end-entity certificate does not hold an EC key")
    return leaf, key


def issuer_named_by(iss: str, leaf: x509.Certificate) -> bool:
    """Whether the end-entity certificate names ``iss``: a URI SAN equal to it, or a DNS SAN equal to its host."""
    try:
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if iss in sans.get_values_for_type(x509.UniformResourceIdentifier):
        return True
    parts = urlsplit(iss)
    host = parts.hostname if parts.scheme == "https" else None
    return bool(host) and host in [name.lower() for name in sans.get_values_for_type(x509.DNSName)]
