"""OpenID4VCI 1.0's Credential Issuer Metadata examples (§12.2.4, Appendix A) read by our wallet: what it can hold
and, for what it cannot, the refusal it names before any code is spent. The long metadata's encryption is
test_wallet_credential_encryption.py's; here its endpoints, display and configuration. Fixtures:
tests/fixtures/spec_examples/README.md."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from microcred.oid4vci.signed_metadata import SignedMetadataError, read_signed_issuer_metadata
from microcred.sdjwt.jose import parse_jws, verify_jws_signature
from services.wallet.domain.issuer_metadata import display_name, parse_issuer_metadata
from services.wallet.domain.offers import KEY_ATTESTATION_REQUIRED, KEY_UNSUPPORTED, UNSUPPORTED
from tests.spec_examples import example_json, example_text

ISSUER = "https://credential-issuer.example.com"
#: Appendix A's examples show credential_configurations_supported alone; the two REQUIRED members around it
#: (§12.2.4) are added, nothing else.
AROUND = {"credential_issuer": ISSUER, "credential_endpoint": f"{ISSUER}/credential"}
LONG = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "oid4vci"
                   / "credential_issuer_metadata_sd_jwt_long.json").read_text())


def configuration(name: str, spec: str = "openid4vci") -> Any:
    read = parse_issuer_metadata({**AROUND, **example_json(spec, name)}, ISSUER)
    (only,) = read.configurations.values()
    return only


def test_the_long_metadata_gives_endpoints_servers_and_names_in_each_language() -> None:
    read = parse_issuer_metadata(LONG, ISSUER)
    assert read.credential_endpoint == f"{ISSUER}/credential" and read.nonce_endpoint == f"{ISSUER}/nonce"
    assert read.notification_endpoint == f"{ISSUER}/notification"
    assert read.authorization_servers == ("https://server.example.com",)
    assert display_name(read.display, "fr") == "Example Université"
    assert display_name(read.display, "en") == "Example University"
    sd_jwt = read.configurations["SD_JWT_VC_example_in_OpenID4VCI"]
    assert sd_jwt.format == "dc+sd-jwt" and sd_jwt.binding == ("jwk",) and sd_jwt.proof_algs == ("ES256",)
    assert display_name(sd_jwt.display, "en") == "IdentityCredential"
    # it requires key attestations (Appendix D), which no wallet provider gives this wallet: refused by name
    assert sd_jwt.attestations_required
    refusal = sd_jwt.refusal()
    assert refusal is not None and refusal.code == KEY_ATTESTATION_REQUIRED


def test_the_sd_jwt_vc_configuration_example() -> None:
    sd_jwt = configuration("credential_metadata_sd_jwt_vc.json")
    assert (sd_jwt.configuration_id, sd_jwt.format, sd_jwt.scope) == (
        "SD_JWT_VC_example_in_OpenID4VCI", "dc+sd-jwt", "SD_JWT_VC_example_in_OpenID4VCI")
    assert sd_jwt.display[0]["background_color"] == "#12107c"  # from credential_metadata.display
    refusal = sd_jwt.refusal()
    assert refusal is not None and refusal.code == KEY_ATTESTATION_REQUIRED


def test_the_ldp_vc_configuration_example_binds_to_a_did_method_this_wallet_does_not_hold() -> None:
    ldp = configuration("credential_metadata_ldp_vc.json")
    assert ldp.format == "ldp_vc" and ldp.binding == ("did:example",) and ldp.proof_algs is None
    assert display_name(ldp.display, "en") == "University Credential"
    refusal = ldp.refusal()
    assert refusal is not None and refusal.code == KEY_UNSUPPORTED and "did:key" in refusal.detail
    # the same configuration bound to did:key (the one change) is one this wallet holds
    changed = {**AROUND, **example_json("openid4vci", "credential_metadata_ldp_vc.json")}
    changed["credential_configurations_supported"]["UniversityDegree_LDP_VC"][
        "cryptographic_binding_methods_supported"] = ["did:key"]
    held = parse_issuer_metadata(changed, ISSUER).configurations["UniversityDegree_LDP_VC"]
    assert held.supported and held.names_key_by_did


@pytest.mark.parametrize(("name", "configuration_id", "shown"), [
    ("credential_metadata_jwt_vc_json.json", "UniversityDegreeCredential", "University Credential"),
    ("credential_metadata_mso_mdoc.json", "org.iso.18013.5.1.mDL", "Mobile Driving License"),
])
def test_formats_this_wallet_does_not_hold_are_read_and_refused_by_format(name: str, configuration_id: str,
                                                                          shown: str) -> None:
    other = configuration(name)
    assert other.configuration_id == configuration_id and display_name(other.display, "en") == shown
    refusal = other.refusal()
    assert refusal is not None and refusal.code == UNSUPPORTED and other.format in refusal.detail


def test_haips_stale_configuration_example_is_refused_by_its_binding_method() -> None:
    """HAIP 1.0's examples/ keeps a draft-era configuration (``vc+sd-jwt``, ``cryptographic_suites_supported``,
    claims as an object), not in the HAIP 1.0 text: read, then refused for its ``did:example`` binding."""
    read = parse_issuer_metadata({**AROUND, "credential_configurations_supported": {
        "IdentityCredential_SD-JWT-VC": example_json("haip", "credential_metadata_sd_jwt_vc.json")}}, ISSUER)
    haip = read.configurations["IdentityCredential_SD-JWT-VC"]
    assert haip.format == "vc+sd-jwt" and haip.binding == ("did:example",)
    assert display_name(haip.display, "en") == "IdentityCredential"
    refusal = haip.refusal()
    assert refusal is not None and refusal.code == KEY_UNSUPPORTED


def test_the_signed_metadata_example_verifies_but_its_self_signed_certificate_is_no_chain() -> None:
    """§12.2.3's signed metadata: its signature verifies with the key of its own x5c certificate, and its payload
    is the metadata; the certificate is self-signed (a CA certificate), which the wallet does not take as the
    signer even when told to trust it (HAIP 1.0: the trust anchor is not the signing certificate)."""
    token = example_text("openid4vci", "credential_issuer_metadata_sd_jwt_jwt.txt")
    parts = parse_jws(token, max_length=64 * 1024)
    assert parts.header["typ"] == "openidvci-issuer-metadata+jwt" and parts.payload["sub"] == ISSUER
    certificate = x509.load_der_x509_certificate(base64.b64decode(parts.header["x5c"][0]))
    assert verify_jws_signature(parts.compact, certificate.public_key(), ("ES256",))
    metadata = {k: v for k, v in parts.payload.items() if k not in ("sub", "iat")}
    read = parse_issuer_metadata(metadata, ISSUER)
    assert read.authorization_servers == ("https://server.example.com",)
    assert read.deferred_credential_endpoint == f"{ISSUER}/deferred_credential"
    assert display_name(read.display, "fr") == "Example Université"
    with pytest.raises(SignedMetadataError, match="self-issued or a trust anchor"):
        read_signed_issuer_metadata(token, ISSUER, [certificate], dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
