"""Which ``iss`` an issuer's end-entity certificate names (SD-JWT VC issuer key validation through ``x5c``).

The platform's tenants share one host (``https://<host>/issuers/<id>``), and every tenant's certificate also
carries that host as a DNS SAN: a DNS SAN must therefore never name an ``iss`` with a path, or one tenant's key
would sign as another.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from microcred import pki
from microcred.sdjwt.jose import sign_jws
from microcred.sdjwt.verify import VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import ChainError, issuer_named_by, load_certificates, validate_x5c, x5c_header


def _leaf_with(*names: x509.GeneralName) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + dt.timedelta(days=1)))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(key, hashes.SHA256())


def _tenant(iss: str) -> x509.Certificate:
    ca = pki.create_ca("Agency CA")
    return load_certificates(pki.create_signing_cert(ca, issuer_uri=iss, common_name="Tenant").cert_pem)[0]


def test_a_tenant_certificate_names_its_own_iss_only() -> None:
    leaf = _tenant("https://platform.example/issuers/a")
    assert issuer_named_by("https://platform.example/issuers/a", leaf)
    assert not issuer_named_by("https://platform.example/issuers/b", leaf)
    assert not issuer_named_by("https://platform.example/", leaf)  # the host alone is no tenant's identifier


@pytest.mark.parametrize("iss", ["https://issuer.example", "https://issuer.example/", "https://ISSUER.example"])
def test_a_dns_san_names_an_https_origin(iss: str) -> None:
    assert issuer_named_by(iss, _leaf_with(x509.DNSName("issuer.example")))


@pytest.mark.parametrize("iss", ["https://issuer.example/tenant", "https://issuer.example/?t=1",
                                 "https://issuer.example/#a", "http://issuer.example", "https://other.example"])
def test_a_dns_san_does_not_name_a_path_another_scheme_or_host(iss: str) -> None:
    assert not issuer_named_by(iss, _leaf_with(x509.DNSName("issuer.example")))


def test_a_uri_san_must_equal_iss_exactly() -> None:
    leaf = _leaf_with(x509.UniformResourceIdentifier("https://issuer.example/tenant"))
    assert issuer_named_by("https://issuer.example/tenant", leaf)
    assert not issuer_named_by("https://issuer.example/tenant/", leaf)
    assert not issuer_named_by("https://issuer.example", leaf)


def test_no_san_names_nothing() -> None:
    assert not issuer_named_by("https://issuer.example", _leaf_with())


def test_a_certificate_naming_a_uri_does_not_name_its_dns_origin_too() -> None:
    leaf = _leaf_with(x509.UniformResourceIdentifier("https://issuer.example/a"), x509.DNSName("issuer.example"))
    assert not issuer_named_by("https://issuer.example", leaf)


def test_a_trust_anchor_or_a_self_signed_certificate_never_signs_as_an_issuer() -> None:
    """HAIP 1.0: the signer's certificate MUST NOT be self-signed, and the anchor is not carried in x5c."""
    ca = pki.create_ca("Agency CA")
    ca_key = serialization.load_pem_private_key(ca.key_pem, None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    anchors = load_certificates(ca.cert_pem)
    now = dt.datetime.now(dt.UTC)
    jwt = sign_jws({"typ": "dc+sd-jwt", "x5c": x5c_header([ca.cert_pem])},
                   {"iss": "https://issuer.example", "iat": int(now.timestamp()), "vct": "urn:x"}, ca_key)
    result = verify_sd_jwt_vc(jwt + "~", VerifierPolicy(trust_anchors=anchors, require_type_metadata=False), now)
    identity = {c.id: (c.status.value, c.reason_code) for c in result.checks}["issuer_identity"]
    assert identity == ("invalid", "CHAIN_UNTRUSTED")
    with pytest.raises(ChainError, match="self-issued"):
        validate_x5c(x5c_header([ca.cert_pem]), anchors, now)
