"""JAdES B-B sealing round trip (issue 22): a rendered EDC credential sealed with a key certified by the platform
PKI verifies (signature valid, trusted with the platform CA as anchor), its payload still passes SHACL, and any
change to the payload breaks the signature."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.elm.jades import verify_jades
from microcred.elm.render import ElmIssuer, render_edc
from microcred.elm.seal import seal_edc
from microcred.elm.shacl import validate_edc
from tests.harness.factories import organisation, valid_micro_credential

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _material() -> tuple[pki.CertifiedKey, ec.EllipticCurvePrivateKey, x509.Certificate]:
    # valid from a day before NOW (the module's import time): a long run reaches this test well after NOW
    ca = pki.create_ca("Platform Test CA", not_before=NOW - dt.timedelta(days=1))
    sealing = pki.create_signing_cert(ca, issuer_uri="https://issuer.example", common_name="Issuer seal",
                                      organisation="Issuing Platform", not_before=NOW - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(sealing.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return ca, key, x509.load_pem_x509_certificate(sealing.cert_pem)


def _credential() -> dict[str, object]:
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "did:web:qqi.example"
    issuer_org = organisation("Issuing Platform", "BE")
    issuer_org.id = "https://issuer.example"
    issuer = ElmIssuer(id="https://issuer.example", organisation=issuer_org, eidas_identifier="VATBE-0123456789",
                       eidas_country="BE")
    return render_edc(mc, issuer=issuer, credential_id="urn:uuid:3f9a1f0e-6c8b-4a4e-9d7e-0a1b2c3d4e5f",
                      issued_at=NOW)


def test_sealed_credential_verifies_with_the_platform_ca_as_anchor() -> None:
    ca, key, cert = _material()
    credential = _credential()
    sealed = seal_edc(credential, key=key, chain=[cert], signing_time=NOW)
    verdict = verify_jades(json.dumps(sealed), anchors=[x509.load_pem_x509_certificate(ca.cert_pem)])
    assert (verdict.signature, verdict.trust) == ("valid", "trusted")
    assert verdict.signing_time == NOW
    assert json.loads(verdict.payload) == credential
    assert validate_edc(json.loads(verdict.payload)).violations == ()


def test_sealed_credential_offline_and_under_another_ca() -> None:
    _ca, key, cert = _material()
    sealed = seal_edc(_credential(), key=key, chain=[cert], signing_time=NOW)
    assert (verify_jades(sealed).signature, verify_jades(sealed).trust) == ("valid", "unknown")
    other = x509.load_pem_x509_certificate(pki.create_ca("Some Other CA").cert_pem)
    assert verify_jades(sealed, anchors=[other]).trust == "untrusted"


def test_a_changed_payload_breaks_the_seal() -> None:
    ca, key, cert = _material()
    sealed = seal_edc(_credential(), key=key, chain=[cert], signing_time=NOW)
    assert '"Ana Andromeda"' in sealed["payload"]
    sealed["payload"] = sealed["payload"].replace('"Ana Andromeda"', '"Ana Andromedo"', 1)
    verdict = verify_jades(sealed, anchors=[x509.load_pem_x509_certificate(ca.cert_pem)])
    assert verdict.signature == "invalid"


def test_a_certificate_for_another_key_is_refused() -> None:
    _ca, _key, cert = _material()
    with pytest.raises(ValueError, match="does not certify"):
        seal_edc(_credential(), key=ec.generate_private_key(ec.SECP256R1()), chain=[cert], signing_time=NOW)
