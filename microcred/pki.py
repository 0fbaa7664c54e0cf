"""X.509 material for mutual TLS: the platform CA, per-agency CAs, service and client certificates (and the
document-signing certificates of SD-JWT VC issuers and Token Status List tokens, :func:`create_signing_cert`).

Issuers and agency operators authenticate to the gRPC services with client certificates. The subject of a
client certificate carries the caller's identity: ``CN`` is the issuer or operator id, ``O`` the agency id
and ``OU`` the role (``issuer``, ``agency`` or ``service``). Servers read it back with :func:`identity_from_pem`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROLE_ISSUER = "issuer"
ROLE_AGENCY = "agency"
ROLE_SERVICE = "service"
ROLE_PLATFORM = "platform"


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate with its private key, both PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """Write ``name.crt`` and ``name.key`` (mode 0600) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
        cert_path.write_bytes(self.cert_pem)
        key_path.touch(mode=0o600, exist_ok=True)
        key_path.write_bytes(self.key_pem)
        return cert_path, key_path

    @classmethod
    def read(cls, directory: Path, name: str) -> CertifiedKey:
        """Read ``name.crt`` and ``name.key`` from ``directory``."""
        return cls((directory / f"{name}.crt").read_bytes(), (directory / f"{name}.key").read_bytes())


@dataclass(frozen=True)
class Identity:
    """Who a client certificate says the caller is."""

    subject_id: str
    agency_id: str
    role: str

    @property
    def actor(self) -> str:
        """How this identity is recorded as the actor of an event (audit trail): ``role:subject@agency``."""
        return actor_name(self.role, self.subject_id, self.agency_id)


def actor_name(role: str, subject_id: str, agency_id: str) -> str:
    """The actor of an event: ``role:subject@agency`` (one form for every service)."""
    return f"{role}:{subject_id}@{agency_id}"


def _name(common_name: str, agency: str | None = None, role: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if agency:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency))
    if role:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role))
    return x509.Name(attrs)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _validity(days: int, not_before: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    if not_before is not None:
        return not_before, not_before + dt.timedelta(days=days)
    now = dt.datetime.now(dt.UTC)
    return now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)


def create_ca(common_name: str, days: int = 3650, agency: str | None = None,
              not_before: dt.datetime | None = None) -> CertifiedKey:
    """A self-signed EC P-256 certificate authority, valid from ``not_before`` (default: a few minutes ago)
    for ``days`` days."""
    key = ec.generate_private_key(ec.SECP256R1())
    not_before, not_after = _validity(days, not_before)
    name = _name(common_name, agency, ROLE_PLATFORM if agency is None else ROLE_AGENCY)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertifiedKey(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def _load(ca: CertifiedKey) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(ca.cert_pem)
    key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("CA key must be an EC key")
    return cert, key


def _leaf(ca: CertifiedKey, subject: x509.Name, days: int, server: bool,
          hosts: list[str] | None = None) -> CertifiedKey:
    ca_cert, ca_key = _load(ca)
    key = ec.generate_private_key(ec.SECP256R1())
    not_before, not_after = _validity(days)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    if hosts:
        sans: list[x509.GeneralName] = []
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return CertifiedKey(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def create_server_cert(ca: CertifiedKey, common_name: str, hosts: list[str] | None = None,
                       days: int = 365) -> CertifiedKey:
    """A TLS server certificate for ``hosts`` (default localhost and 127.0.0.1)."""
    return _leaf(ca, _name(common_name, None, ROLE_SERVICE), days, server=True,
                 hosts=hosts or ["localhost", "127.0.0.1"])


def create_client_cert(ca: CertifiedKey, subject_id: str, agency_id: str, role: str,
                       days: int = 365) -> CertifiedKey:
    """A client certificate naming ``subject_id`` (CN), its agency (O) and its role (OU)."""
    if role not in (ROLE_ISSUER, ROLE_AGENCY, ROLE_SERVICE):
        raise ValueError(f"unknown role {role!r}")
    return _leaf(ca, _name(subject_id, agency_id, role), days, server=False)


def create_signing_cert(ca: CertifiedKey, *, issuer_uri: str, common_name: str, organisation: str = "",
                        days: int = 365, key: ec.EllipticCurvePrivateKey | None = None,
                        not_before: dt.datetime | None = None) -> CertifiedKey:
    """An EC P-256 document-signing certificate under ``ca`` naming ``issuer_uri`` in its SAN (and its host as a
    DNS name): the key of an SD-JWT VC issuer or of Token Status List tokens (key usage: digital signature only).
    ``key`` defaults to a new one; validity as for :func:`create_ca`."""
    ca_cert, ca_key = _load(ca)
    key = key or ec.generate_private_key(ec.SECP256R1())
    start, end = _validity(days, not_before)
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(issuer_uri)]
    host = urlsplit(issuer_uri).hostname
    if host:
        sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder().subject_name(_name(common_name, organisation)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return CertifiedKey(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def certificate_sha256(cert_pem: bytes) -> str:
    """The SHA-256 fingerprint (lower-case hex) of a PEM certificate: how the trust registry pins an issuer's
    client certificates (``client_certificate_sha256``)."""
    return x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256()).hex()


def identity_from_pem(cert_pem: bytes) -> Identity:
    """Read the caller's identity from a verified client certificate."""
    cert = x509.load_pem_x509_certificate(cert_pem)

    def attr(oid: x509.ObjectIdentifier) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return Identity(attr(NameOID.COMMON_NAME), attr(NameOID.ORGANIZATION_NAME),
                    attr(NameOID.ORGANIZATIONAL_UNIT_NAME))
