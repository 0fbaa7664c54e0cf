"""EDC status (issue 22): the platform's EDC names its Token Status List entry inside the sealed payload
(``credentialStatus``, one ``xsd:anyURI``, SHACL-conformant), and the verifier reads it from the signed payload
only, checks it against the signed list from a trusted source, and never says valid when it cannot tell."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from microcred import pki
from microcred.elm.issue import elm_issuer, sealed_edc
from microcred.elm.render import ElmIssuer, render_edc
from microcred.elm.seal import seal_edc
from microcred.elm.shacl import validate_edc
from microcred.elm.status import XSD_ANY_URI, EdcStatusError, read_status_reference, status_uri
from microcred.gen.microcred.v1 import registry_pb2
from microcred.sdjwt.issue import IssuerKey, StatusReference
from microcred.sdjwt.x5c import x5c_header
from microcred.status.token_status_list import INVALID, MIN_ENTRIES, SUSPENDED, TokenStatusList, status_list_token
from microcred.verification import verify
from services.verifier.adapters.sources import PlatformUrls
from services.verifier.adapters.token_status import TokenStatusHttpSource
from tests.harness.factories import valid_micro_credential
from tests.verifier_support import World

LIST_URI = "https://status.example/token-status/uni-a-revocation-1"
INDEX = 48_213
REFERENCE = StatusReference(LIST_URI, INDEX)
CREDENTIAL_ID = "urn:uuid:0d6f7a52-8a0e-4f4e-b0b4-5b0c6f1d2e33"


def _mc() -> Any:
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "https://qqi.example"  # the factory's QA body reuses the university's id
    return mc


class Platform:
    """A platform CA, an issuer's seal key under it, the revocation service's list signer, a token source."""

    def __init__(self) -> None:
        self.world = World()
        self.ca = pki.create_ca("Platform CA")
        self.issuer_uri = f"https://{self.world.host}/issuers/{self.world.issuer_id}"
        seal = pki.create_signing_cert(self.ca, issuer_uri=self.issuer_uri, common_name="University of Zed")
        key = load_pem_private_key(seal.key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self.key, self.x5c = key, x5c_header([seal.cert_pem])
        self.anchor = x509.load_pem_x509_certificate(self.ca.cert_pem)
        self.signer = self._signer(self.ca)
        self.tokens = TokenSource()

    @staticmethod
    def _signer(ca: pki.CertifiedKey) -> IssuerKey:
        cert = pki.create_signing_cert(ca, issuer_uri="https://status.example", common_name="Revocation service")
        key = load_pem_private_key(cert.key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return IssuerKey("https://status.example", key, tuple(x5c_header([cert.cert_pem])))

    def elm_issuer(self) -> ElmIssuer:
        mc = _mc()
        return elm_issuer(registry_pb2.Issuer(issuer_id=self.world.issuer_id, organisation=mc.awarding_bodies[0]),
                          self.issuer_uri)

    def sealed(self, status: StatusReference | None = REFERENCE) -> dict[str, Any]:
        text = sealed_edc(_mc(), issuer=self.elm_issuer(), credential_id=CREDENTIAL_ID, issued_at=datetime.now(UTC),
                          key=self.key, x5c=self.x5c, status=status)
        document: dict[str, Any] = json.loads(text)
        return document

    def sealed_with(self, credential_status: Any) -> dict[str, Any]:
        """A seal over a rendering whose ``credentialStatus`` is replaced by ``credential_status`` (signed)."""
        document = render_edc(_mc(), issuer=self.elm_issuer(), credential_id=CREDENTIAL_ID,
                              issued_at=datetime.now(UTC))
        document["credentialStatus"] = credential_status
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in self.x5c]
        return seal_edc(document, key=self.key, chain=chain, signing_time=datetime.now(UTC))

    def publish(self, value: int = 0, *, signer: IssuerKey | None = None, uri: str = LIST_URI) -> None:
        """Serve the list at ``uri`` with this credential's entry at ``value``, signed now."""
        status_list = TokenStatusList(MIN_ENTRIES, 2)
        status_list.set(INDEX, value)
        self.tokens.served[uri] = status_list_token(status_list, uri=uri, signer=signer or self.signer,
                                                    now=datetime.now(UTC), ttl=30, lifetime=600)

    async def report(self, document: dict[str, Any], **ports: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"x509_anchors": (self.anchor,), "token_status": self.tokens}
        options.update(ports)
        result: dict[str, Any] = (await verify(document, self.world.ports(**options))).to_dict()
        return result


class TokenSource:
    """In-memory :class:`~microcred.verification.ports.TokenStatusSource` (the gateway's is over HTTP)."""

    def __init__(self) -> None:
        self.served: dict[str, str] = {}
        self.asked: list[str] = []

    async def get(self, uri: str) -> tuple[str, datetime] | None:
        self.asked.append(uri)
        token = self.served.get(uri)
        return None if token is None else (token, datetime.now(UTC))


def _checks(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["status"], c["reason_code"]) for c in report["checks"]}


def _check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["id"] == check_id)
    return found


@pytest.fixture(scope="module")
def platform() -> Platform:
    return Platform()


# --- rendering ------------------------------------------------------------------------------------------------


def test_the_status_entry_is_rendered_as_one_any_uri_literal_that_shacl_accepts() -> None:
    issuer = ElmIssuer(id="https://uni.example", organisation=_mc().awarding_bodies[0],
                       eidas_identifier="VATIE-1234567X", eidas_country="IE")
    document = render_edc(_mc(), issuer=issuer, credential_id=CREDENTIAL_ID,
                          issued_at=datetime(2026, 3, 1, tzinfo=UTC), status=REFERENCE)
    assert document["credentialStatus"] == {"@value": f"{LIST_URI}#{INDEX}", "@type": XSD_ANY_URI}
    assert validate_edc(document).violations == ()
    # the shape is what decides the form: as a plain string the VC v1 context makes it an IRI node, and two
    # values break maxCount 1
    as_iri = {**document, "credentialStatus": f"{LIST_URI}#{INDEX}"}
    assert any("credentialStatus" in str(v) for v in validate_edc(as_iri).violations)
    twice = {**document, "credentialStatus": [document["credentialStatus"],
                                              {"@value": f"{LIST_URI}#7", "@type": XSD_ANY_URI}]}
    assert any("credentialStatus" in str(v) for v in validate_edc(twice).violations)
    assert read_status_reference(document) == REFERENCE


def test_status_uri_refuses_what_it_cannot_name() -> None:
    assert status_uri(StatusReference("http://127.0.0.1:8443/token-status/x-7", 0)) == (
        "http://127.0.0.1:8443/token-status/x-7#0")
    for bad in (StatusReference(LIST_URI, -1), StatusReference(LIST_URI + "#3", 1),
                StatusReference("ftp://status.example/l", 1), StatusReference(LIST_URI, True)):
        with pytest.raises(ValueError):
            status_uri(bad)


@pytest.mark.parametrize(("value", "unsupported"), [
    ([], False),
    ([{"@value": f"{LIST_URI}#1", "@type": XSD_ANY_URI}] * 2, False),
    ({"@value": f"{LIST_URI}#1", "@type": "http://www.w3.org/2001/XMLSchema#string"}, False),
    ({"id": f"{LIST_URI}#1", "type": "BitstringStatusListEntry"}, False),
    (42, False),
    ("", False),
    ("urn:uuid:0d6f7a52-8a0e-4f4e-b0b4-5b0c6f1d2e33", True),
    (LIST_URI, True),
    (f"{LIST_URI}#-1", True),
    (f"{LIST_URI}#1 ", True),
    (f"{LIST_URI}#١٢", True),  # Arabic-Indic digits are decimal to Python, not to a URI
    (f"{LIST_URI}#999999999", True),
    ("http://[::1/token-status/x#1", True),
])
def test_a_status_reference_that_is_not_the_documented_form_is_refused(value: Any, unsupported: bool) -> None:
    with pytest.raises(EdcStatusError) as refused:
        read_status_reference({"credentialStatus": value})
    assert refused.value.unsupported is unsupported


def test_the_reference_is_read_in_every_accepted_form() -> None:
    assert read_status_reference({}) is None
    assert read_status_reference({"credentialStatus": f"{LIST_URI}#{INDEX}"}) == REFERENCE
    assert read_status_reference({"credentialStatus": [{"@value": f"{LIST_URI}#{INDEX}"}]}) == REFERENCE


# --- verification ---------------------------------------------------------------------------------------------


async def test_revoked_and_suspended_are_read_from_the_sealed_reference(platform: Platform) -> None:
    document = platform.sealed()
    assert json.loads(document["payload"])["credentialStatus"]["@value"] == f"{LIST_URI}#{INDEX}"
    platform.publish(0)
    report = await platform.report(document)
    checks = _checks(report)
    assert checks["revocation"] == ("valid", "NOT_REVOKED") and checks["suspension"] == ("valid", "NOT_SUSPENDED")
    assert report["verdict"] == "valid", report["checks"]
    details = _check(report, "revocation")["details"]
    assert details["list_uri"] == LIST_URI and details["index"] == INDEX and details["read_from"] == "sealed payload"
    platform.publish(SUSPENDED)
    report = await platform.report(document)
    assert _checks(report)["suspension"] == ("invalid", "SUSPENDED") and report["verdict"] == "invalid"
    assert _checks(report)["revocation"] == ("valid", "NOT_REVOKED")
    platform.publish(INVALID)
    report = await platform.report(document)
    assert _checks(report)["revocation"] == ("invalid", "REVOKED") and report["verdict"] == "invalid"
    assert platform.tokens.asked[-1] == LIST_URI  # the list, without the fragment


async def test_a_status_that_cannot_be_obtained_or_trusted_is_unknown_never_valid(platform: Platform) -> None:
    document = platform.sealed()
    platform.publish(0)
    no_source = await platform.report(document, token_status=None)
    assert _checks(no_source)["revocation"] == ("unknown", "STATUS_RETRIEVAL_ERROR")
    assert "no Token Status List source" in _check(no_source, "revocation")["details"]["problem"]
    assert no_source["verdict"] == "undetermined"
    platform.tokens.served.clear()
    unreachable = await platform.report(document)
    assert _checks(unreachable)["suspension"] == ("unknown", "STATUS_RETRIEVAL_ERROR")
    assert unreachable["verdict"] == "undetermined"
    # a list signed by a key the anchors do not vouch for says nothing
    platform.publish(0, signer=Platform._signer(pki.create_ca("Some other CA")))
    untrusted = await platform.report(document)
    assert _checks(untrusted)["revocation"] == ("unknown", "STATUS_VERIFICATION_ERROR")
    assert untrusted["verdict"] == "undetermined"
    # a list token for another URI (a replayed list) says nothing about this one
    other = "https://status.example/token-status/uni-a-revocation-2"
    platform.publish(0, uri=other)
    platform.tokens.served[LIST_URI] = platform.tokens.served[other]
    replayed = await platform.report(document)
    assert _checks(replayed)["revocation"][0] == "unknown" and replayed["verdict"] == "undetermined"


async def test_a_reference_outside_the_trusted_prefix_is_not_fetched(platform: Platform) -> None:
    fetched: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        token = platform.tokens.served.get(str(request.url))
        return httpx.Response(200, text=token) if token else httpx.Response(404)

    platform.publish(0)
    outside = StatusReference("https://elsewhere.example/token-status/uni-a-revocation-1", INDEX)
    platform.publish(0, uri=outside.uri)
    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        gateway_source = TokenStatusHttpSource(http, PlatformUrls(["https://status.example/token-status/"]))
        report = await platform.report(platform.sealed(outside), token_status=gateway_source)
        assert _checks(report)["revocation"] == ("unknown", "STATUS_RETRIEVAL_ERROR")
        assert "not under a trusted platform status URL" in _check(report, "revocation")["details"]["problem"]
        assert report["verdict"] == "undetermined" and fetched == []
        inside = await platform.report(platform.sealed(), token_status=gateway_source)
        assert _checks(inside)["revocation"] == ("valid", "NOT_REVOKED") and fetched == [LIST_URI]


async def test_an_altered_reference_breaks_the_seal(platform: Platform) -> None:
    document = platform.sealed()
    platform.publish(INVALID)
    altered = copy.deepcopy(document)
    altered["payload"] = document["payload"].replace(f"#{INDEX}", f"#{INDEX + 1}")
    assert altered["payload"] != document["payload"]
    report = await platform.report(altered)
    checks = _checks(report)
    assert checks["signature"] == ("invalid", "INVALID_SIGNATURE") and report["verdict"] == "invalid"
    assert checks["revocation"] == ("unknown", "NOT_CHECKED")  # nothing an invalid seal covers is read
    # the unsigned parts of the JWS carry no status: one put there is not read
    unsigned = copy.deepcopy(document)
    unsigned["signatures"][0]["header"] = {"credentialStatus": f"{LIST_URI}#1"}
    unsigned["credentialStatus"] = f"{LIST_URI}#1"
    report = await platform.report(unsigned)
    assert _checks(report)["revocation"] == ("invalid", "REVOKED")  # the sealed index, still revoked


async def test_a_credential_status_it_cannot_read_is_not_valid(platform: Platform) -> None:
    other_form = await platform.report(platform.sealed_with({"@value": "https://registry.example/status/abc",
                                                             "@type": XSD_ANY_URI}))
    assert _checks(other_form)["revocation"] == ("unknown", "UNSUPPORTED_STATUS_TYPE")
    assert other_form["verdict"] == "undetermined"
    malformed = await platform.report(platform.sealed_with({"id": f"{LIST_URI}#1",
                                                            "type": "BitstringStatusListEntry"}))
    assert _checks(malformed)["revocation"] == ("invalid", "MALFORMED_STATUS_ENTRY")
    assert malformed["verdict"] == "invalid"


async def test_an_edc_naming_no_status_says_so(platform: Platform) -> None:
    asked = len(platform.tokens.asked)
    report = await platform.report(platform.sealed(status=None))
    assert _checks(report)["revocation"] == ("valid", "NO_STATUS_ENTRY")
    assert _checks(report)["suspension"] == ("valid", "NO_STATUS_ENTRY")
    assert "names no credentialStatus" in _check(report, "revocation")["details"]["note"]
    assert len(platform.tokens.asked) == asked  # nothing to fetch
