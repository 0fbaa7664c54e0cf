"""X.509 issuer keys for SD-JWT VC and Status List Tokens (HAIP: ``x5c`` chains to the agency's CA).

The certificates themselves are made by :func:`microcred.pki.create_signing_cert`; this module carries them in
``x5c`` headers and validates such chains.

Path validation is ``cryptography``'s RFC 5280 verifier (``cryptography.x509.verification``): CA certificates
must meet the Web PKI CA profile (basic constraints, key usage), the end-entity certificate may carry any
extensions. The end-entity certificate of an issuer must additionally allow digital signatures and name the
issuer: SD-JWT VC §2.5 makes the subject of that certificate the issuer, and we bind it to ``iss`` through a
``uniformResourceIdentifier`` SAN equal to ``iss`` (or, in a certificate without URI SANs and for an ``iss``
that is an https origin alone, a ``dNSName`` SAN equal to its host).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import verification

from microcred.sdjwt.jose import PublicKey

__all__ = [
    "MAX_CHAIN_LENGTH",
    "ChainError",
    "authority_key_ids",
    "certificate_names",
    "issuer_named_by",
    "load_certificates",
    "validate_x5c",
    "x5c_header",
]

#: Most certificates accepted in an ``x5c`` header.
MAX_CHAIN_LENGTH = 5
#: Chains validated against a set of anchors: (leaf, its key, start, end of the window all certificates share).
_VALIDATED: OrderedDict[tuple[tuple[str, ...], tuple[x509.Certificate, ...]],
                        tuple[x509.Certificate, PublicKey, dt.datetime, dt.datetime]] = OrderedDict()
_MAX_VALIDATED = 256
_MAX_CERT_BYTES = 16_384


class ChainError(ValueError):
    """An ``x5c`` chain that is malformed or does not lead to a trust anchor; ``reason`` names why."""

    def __init__(self, reason: str, problem: str) -> None:
        super().__init__(problem)
        self.reason = reason
        self.problem = problem


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


def authority_key_ids(x5c: object) -> tuple[bytes, ...]:
    """The ``keyIdentifier`` of the Authority Key Identifier of every certificate in an ``x5c`` header that has
    one (what DCQL's ``aki`` trusted authority matches, OpenID4VP 1.0 §6.1.1.1); :class:`ChainError` for a
    malformed header. Says nothing of trust: callers use it only for a chain :func:`validate_x5c` accepted."""
    found = []
    for cert in _decode_chain(x5c):
        try:
            identifier = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        except x509.ExtensionNotFound:
            continue
        if identifier:
            found.append(identifier)
    return tuple(found)


def validate_x5c(x5c: object, trust_anchors: Sequence[x509.Certificate], at: dt.datetime
                 ) -> tuple[x509.Certificate, PublicKey]:
    """Validate an ``x5c`` header chain at time ``at``; return the end-entity certificate and its public key.

    Raises :class:`ChainError` with reason ``MALFORMED_X5C``, ``NO_TRUST_ANCHORS``, ``CHAIN_UNTRUSTED``
    (no path to an anchor, a certificate outside its validity, a constraint broken, a self-issued or anchor
    end-entity certificate) or
    ``KEY_USAGE_MISMATCH`` (the end-entity certificate may not sign).
    """
    if not trust_anchors:
        raise ChainError("NO_TRUST_ANCHORS", "no trust anchors are configured")
    memo_key = (tuple(x5c), tuple(trust_anchors)) if isinstance(x5c, list) and len(x5c) <= MAX_CHAIN_LENGTH \
        and all(isinstance(item, str) for item in x5c) else None
    kept = _VALIDATED.get(memo_key) if memo_key is not None else None
    if memo_key is not None and kept is not None and kept[2] <= at <= kept[3]:
        _VALIDATED.move_to_end(memo_key)
        return kept[0], kept[1]
    certs = _decode_chain(x5c)
    leaf, intermediates = certs[0], certs[1:]
    try:
        self_issued = leaf.subject == leaf.issuer  # names are parsed lazily: a malformed one raises here
    except ValueError as exc:
        raise ChainError("MALFORMED_X5C", f"x5c[0] has a malformed name: {exc}") from exc
    if self_issued or leaf in trust_anchors:
        # HAIP 1.0 (x5c): the signer's certificate MUST NOT be self-signed, and the trust anchor is not in x5c;
        # an anchor (or any self-issued certificate) signing documents itself is refused, not trusted by fiat
        raise ChainError("CHAIN_UNTRUSTED", "the end-entity certificate is self-issued or a trust anchor")
    builder = (
        verification.PolicyBuilder().store(verification.Store(list(trust_anchors))).time(at)
        .max_chain_depth(MAX_CHAIN_LENGTH)
        .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                            ee_policy=verification.ExtensionPolicy.permit_all())
    )
    try:
        chain = builder.build_client_verifier().verify(leaf, intermediates).chain
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
    if memo_key is not None:
        # Path validation depends on the time only through the certificates' validity periods: the same path is
        # valid at any moment inside all of them, so the outcome is kept for that window (and no longer).
        window = (max(c.not_valid_before_utc for c in chain), min(c.not_valid_after_utc for c in chain))
        _VALIDATED[memo_key] = (leaf, key, *window)
        while len(_VALIDATED) > _MAX_VALIDATED:
            _VALIDATED.popitem(last=False)
    return leaf, key


@functools.lru_cache(maxsize=256)
def certificate_names(cert: x509.Certificate) -> tuple[str, str]:
    """``(subject, issuer)`` of ``cert`` as RFC 4514 strings. Remembered per certificate (equal DER, equal
    answer): every SD-JWT VC of an issuer carries the same end-entity certificate, and writing the two names cost
    about as much as the rest of the chain check once the chain is remembered."""
    return cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()


@functools.lru_cache(maxsize=1024)
def issuer_named_by(iss: str, leaf: x509.Certificate) -> bool:
    """Whether the end-entity certificate names ``iss``: a URI SAN equal to it, or, in a certificate without URI
    SANs and for an ``iss`` that is an https origin alone (no path, query or fragment), a DNS SAN equal to its
    host. A pure function of the two
    (remembered, as :func:`certificate_names`).

    Why a DNS SAN never names an ``iss`` with a path: the issuers of one host (this platform's tenants,
    ``https://<host>/issuers/<id>``) would all be named by any of their certificates, so one tenant's key could
    sign as another (SD-JWT VC, issuer key validation: a key that cannot be shown to belong to the issuer is
    refused)."""
    try:
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    uris = sans.get_values_for_type(x509.UniformResourceIdentifier)
    if uris:  # a certificate that names its issuer by URI names no other (not the origin its DNS SAN holds)
        return iss in uris
    try:
        parts = urlsplit(iss)
    except ValueError:  # e.g. an unclosed IPv6 literal: a signed iss is the issuer's text, not ours
        return False
    origin_only = parts.scheme == "https" and parts.path in ("", "/") and not parts.query and not parts.fragment
    host = parts.hostname if origin_only else None
    return bool(host) and host in [name.lower() for name in sans.get_values_for_type(x509.DNSName)]
