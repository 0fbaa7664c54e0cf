"""EDC credentials (JAdES-sealed ELM) through the verification report (issue 22): the EC's own sealed sample at
the gateway over a real socket and with ``mcred verify``: signature valid and issuer identity unknown offline
(verdict undetermined, never valid), identity valid with the sample's chain top as an anchor (a PEM file or an EU
trusted list XML), one changed literal -> signature invalid; a platform-sealed credential is valid with the
platform CA as anchor and its SHACL FORMAT check passes; a non-seal is a named FORMAT failure. SHACL runs only for
a seal chaining to an anchor, and a request waits a bounded time for the SHACL slot (FORMAT unknown, never
valid, either way)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from microcred import pki
from microcred.cli.main import app
from microcred.elm.issue import elm_issuer, sealed_edc
from microcred.elm.trusted_list import TrustedListError, anchors_from_trusted_list
from microcred.gen.microcred.v1 import registry_pb2
from microcred.sdjwt.x5c import x5c_header
from microcred.verification import edc, verify
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.harness.factories import valid_micro_credential
from tests.verifier_support import Limits, RunningServer, World

SAMPLE = Path(__file__).parent.parent / "fixtures" / "elm" / "Sample-MC-Annex1-signed.jsonld"


def _sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SAMPLE.read_text("utf-8"))
    return loaded


def _tampered() -> dict[str, Any]:
    sample = _sample()
    payload = sample["payload"]
    assert '"VATES-A00000000"' in payload
    sample["payload"] = payload.replace('"VATES-A00000000"', '"VATES-A00000001"', 1)
    return sample


def _chain_top() -> x509.Certificate:
    """'ANF AC Qualified Certificates for eSeal': the issuing CA the sample carries in etsiU xVals."""
    for item in _sample()["signatures"][0]["header"]["etsiU"]:
        values = json.loads(base64.urlsafe_b64decode(item + "=" * (-len(item) % 4)))
        for x in values.get("xVals", []):
            cert = x509.load_der_x509_certificate(base64.b64decode(x["x509Cert"]["val"]))
            if cert.subject.rfc4514_string().startswith("CN=ANF AC Qualified Certificates for eSeal,"):
                return cert
    raise AssertionError("the sample's issuing CA is missing")


def _trusted_list(certs: list[x509.Certificate]) -> bytes:
    """A minimal ETSI TS 119 612 list naming ``certs`` as service digital identities."""
    services = "".join(
        "<tsl:TSPService><tsl:ServiceInformation><tsl:ServiceDigitalIdentity><tsl:DigitalId><tsl:X509Certificate>"
        + base64.b64encode(c.public_bytes(Encoding.DER)).decode() +
        "</tsl:X509Certificate></tsl:DigitalId></tsl:ServiceDigitalIdentity></tsl:ServiceInformation></tsl:TSPService>"
        for c in certs)
    return (b'<?xml version="1.0" encoding="UTF-8"?><tsl:TrustServiceStatusList '
            b'xmlns:tsl="http://uri.etsi.org/02231/v2#"><tsl:TrustServiceProviderList><tsl:TrustServiceProvider>'
            b"<tsl:TSPServices>" + services.encode() +
            b"</tsl:TSPServices></tsl:TrustServiceProvider></tsl:TrustServiceProviderList></tsl:TrustServiceStatusList>")


def _checks(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["status"], c["reason_code"]) for c in report["checks"]}


async def test_the_ec_sample_at_the_gateway_over_a_socket() -> None:
    world = World()
    offline = create_gateway_app(Limits())
    offline.state.gateway = Gateway(world.ports())
    anchored = create_gateway_app(Limits())
    anchored.state.gateway = Gateway(world.ports(x509_anchors=(_chain_top(),)))
    async with RunningServer(offline) as plain, RunningServer(anchored) as trusting, \
            httpx.AsyncClient(timeout=120) as http:
        report = (await http.post(plain.url + "/v1/verify", json=_sample())).json()
        checks = _checks(report)
        assert checks["signature"] == ("valid", "SIGNATURE_VALID")
        assert checks["issuer_identity"] == ("unknown", "NO_TRUST_ANCHORS")
        # SHACL runs only for a seal chaining to a trusted anchor (anyone can seal with a self-signed certificate)
        assert checks["format"] == ("unknown", "DATA_MODEL_UNCHECKED")
        assert report["verdict"] == "undetermined"
        report = (await http.post(trusting.url + "/v1/verify", json={"credential": _sample()})).json()
        assert _checks(report)["issuer_identity"] == ("valid", "ISSUER_CERTIFICATE_VALID"), report["checks"]
        assert _checks(report)["signature"][0] == "valid"
        assert _checks(report)["format"] == ("valid", "FORMAT_OK")  # SHACL, EDC-generic-no-cv
        # the sample lacks Annex I quality assurance: not claiming to be an EU micro-credential (advisory)
        assert _checks(report)["eu_elements"] == ("unknown", "NOT_A_MICRO_CREDENTIAL")
        # authentic and in force; the issuer is not in this platform's registry (advisory for a non-micro EDC)
        assert _checks(report)["accreditation"][0] == "unknown" and report["verdict"] == "valid"
        report = (await http.post(trusting.url + "/v1/verify", json=_tampered())).json()
        assert _checks(report)["signature"] == ("invalid", "INVALID_SIGNATURE")
        assert report["verdict"] == "invalid"


def test_the_ec_sample_with_mcred_verify(tmp_path: Path) -> None:
    sample, tampered = tmp_path / "sample.jsonld", tmp_path / "tampered.jsonld"
    sample.write_text(json.dumps(_sample()))
    tampered.write_text(json.dumps(_tampered()))
    anchors, listed = tmp_path / "anchors.pem", tmp_path / "TL.xml"
    anchors.write_bytes(_chain_top().public_bytes(Encoding.PEM))
    listed.write_bytes(_trusted_list([_chain_top()]))
    runner = CliRunner()
    done = runner.invoke(app, ["verify", "--offline", str(sample)])
    assert done.exit_code == 3, done.output  # undetermined
    checks = _checks(json.loads(done.stdout))
    assert checks["signature"][0] == "valid" and checks["issuer_identity"][0] == "unknown"
    for option in (["--x509-anchors", str(anchors)], ["--eu-trusted-list", str(listed)]):
        done = runner.invoke(app, ["verify", "--offline", *option, str(sample)])
        assert _checks(json.loads(done.stdout))["issuer_identity"] == ("valid", "ISSUER_CERTIFICATE_VALID"), option
    done = runner.invoke(app, ["verify", "--offline", "--x509-anchors", str(anchors), str(tampered)])
    assert done.exit_code == 1 and _checks(json.loads(done.stdout))["signature"][0] == "invalid"


async def test_a_platform_sealed_edc_is_valid_with_the_platform_ca_as_anchor() -> None:
    world = World()
    document, anchor = _platform_sealed(world)
    report = (await verify(document, world.ports(x509_anchors=(anchor,)))).to_dict()
    checks = _checks(report)
    assert checks["format"] == ("valid", "FORMAT_OK")
    assert checks["signature"][0] == "valid" and checks["issuer_identity"] == ("valid", "ISSUER_CERTIFICATE_VALID")
    assert checks["eu_elements"] == ("valid", "EU_ELEMENTS_PRESENT") and report["micro_credential"]
    other = x509.load_pem_x509_certificate(pki.create_ca("Another CA").cert_pem)
    report = (await verify(document, world.ports(x509_anchors=(other,)))).to_dict()
    assert _checks(report)["issuer_identity"][0] == "unknown" and report["verdict"] == "undetermined"


async def test_a_document_that_is_not_a_seal_is_a_named_format_failure() -> None:
    broken = _sample()
    broken["signatures"][0]["protected"] = "bm90IGpzb24"
    report = (await verify(broken, World().ports())).to_dict()
    assert _checks(report)["format"][0] == "invalid" and report["verdict"] == "invalid"


def test_a_trusted_list_reads_its_service_identities_and_refuses_other_xml() -> None:
    top = _chain_top()
    assert anchors_from_trusted_list(_trusted_list([top, top])) == [top]
    with pytest.raises(TrustedListError):
        anchors_from_trusted_list(b"<html/>")
    with pytest.raises(TrustedListError):
        anchors_from_trusted_list(b"not xml")


async def test_an_oversized_sealed_payload_is_not_run_through_shacl() -> None:
    from microcred.elm.seal import seal_edc
    from microcred.verification.edc import MAX_OBJECTS

    ca = pki.create_ca("Some CA")
    certified = pki.create_signing_cert(ca, issuer_uri="https://x.example", common_name="X")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(certified.key_pem, password=None)
    chain = [x509.load_pem_x509_certificate(certified.cert_pem)]
    document = {"@context": ["https://www.w3.org/2018/credentials/v1"], "id": "urn:x",
                "credentialSubject": [{"id": f"urn:s:{n}"} for n in range(MAX_OBJECTS + 1)]}
    sealed = seal_edc(document, key=key, chain=chain, signing_time=datetime.now(UTC))  # type: ignore[arg-type]
    report = (await verify(sealed, World().ports())).to_dict()
    assert _checks(report)["format"] == ("unknown", "TOO_COMPLEX") and report["verdict"] != "valid"


def _platform_sealed(world: World) -> tuple[dict[str, Any], x509.Certificate]:
    """A micro-credential EDC sealed under a fresh CA, and that CA."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    ca = pki.create_ca("Platform CA")
    issuer_uri = f"https://{world.host}/issuers/{world.issuer_id}"
    certified = pki.create_signing_cert(ca, issuer_uri=issuer_uri, common_name="University of Zed")
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "https://qqi.example"
    issuer = registry_pb2.Issuer(issuer_id=world.issuer_id, organisation=mc.awarding_bodies[0])
    text = sealed_edc(mc, issuer=elm_issuer(issuer, issuer_uri), credential_id="urn:uuid:1b1c9e0e-2f4e-4d67-9a52-"
                      "0c7d8c6f3a11", issued_at=datetime.now(UTC),
                      key=load_pem_private_key(certified.key_pem, password=None),  # type: ignore[arg-type]
                      x5c=x5c_header([certified.cert_pem]))
    return json.loads(text), x509.load_pem_x509_certificate(ca.cert_pem)


async def test_a_self_sealed_edc_costs_no_shacl(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seal verifies with x5c[0], which anyone can self-sign: SHACL (0.6 s of GIL-holding CPU for 157 KB)
    runs only when that certificate chains to a trusted anchor; otherwise FORMAT is unknown, never valid."""
    world = World()
    document, anchor = _platform_sealed(world)
    runs: list[Any] = []
    real = edc.validate_edc
    monkeypatch.setattr(edc, "validate_edc", lambda payload: runs.append(payload) or real(payload))
    other = x509.load_pem_x509_certificate(pki.create_ca("Another CA").cert_pem)
    for anchors in ((), (other,)):
        report = (await verify(document, world.ports(x509_anchors=anchors))).to_dict()
        [check] = [c for c in report["checks"] if c["id"] == "format"]
        assert (check["status"], check["reason_code"], check["details"]["cause"]) == (
            "unknown", "DATA_MODEL_UNCHECKED", "untrusted-seal")
        assert "trusted anchor" in check["message"] and report["verdict"] == "undetermined"
        assert _checks(report)["signature"] == ("valid", "SIGNATURE_VALID")
    assert runs == []
    report = (await verify(document, world.ports(x509_anchors=(anchor,)))).to_dict()
    assert _checks(report)["format"] == ("valid", "FORMAT_OK") and len(runs) == 1


async def test_a_busy_shacl_slot_is_unknown_busy_not_a_wait_without_end(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    document, anchor = _platform_sealed(world)
    monkeypatch.setattr(edc, "SHACL_WAIT_SECONDS", 0.01)
    slot = edc._slot()
    await slot.acquire()  # another request's validation holds the process's one slot
    try:
        report = (await asyncio.wait_for(verify(document, world.ports(x509_anchors=(anchor,))), 60)).to_dict()
    finally:
        slot.release()
    [check] = [c for c in report["checks"] if c["id"] == "format"]
    assert (check["status"], check["reason_code"], check["details"]["cause"]) == (
        "unknown", "DATA_MODEL_UNCHECKED", "busy")
    assert check["message"].endswith("busy: the SHACL validator stayed taken for 0.01 s; retry later.")
    assert report["verdict"] == "undetermined"
    report = (await verify(document, world.ports(x509_anchors=(anchor,)))).to_dict()
    assert _checks(report)["format"] == ("valid", "FORMAT_OK")  # the slot free again: validated
