"""JAdES seal verification (issue 22) on the EC's sealed Annex I sample: signature valid and issuer trust unknown
offline; trusted with the top of the sample's chain as anchor (checked at the seal's sigT: the seal certificate
expired on 2025-05-10); a copy with one changed literal has an invalid signature."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from microcred.elm.jades import JadesError, verify_jades

SAMPLE = Path(__file__).parent / "test_elm_data" / "Sample-MC-Annex1-signed.jsonld"
SIG_T = dt.datetime(2023, 9, 27, 11, 54, 17, tzinfo=dt.UTC)


def _sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SAMPLE.read_text("utf-8"))
    return loaded


def _b64url_json(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _sample_chain_top() -> x509.Certificate:
    """'ANF AC Qualified Certificates for eSeal', the issuing CA the sample carries (its root is not included)."""
    for item in _sample()["signatures"][0]["header"]["etsiU"]:
        for x in _b64url_json(item).get("xVals", []):
            cert = x509.load_der_x509_certificate(base64.b64decode(x["x509Cert"]["val"]))
            if cert.subject.rfc4514_string().startswith("CN=ANF AC Qualified Certificates for eSeal,"):
                return cert
    raise AssertionError("the sample's issuing CA is missing")


def _with_protected(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    signature = changed["signatures"][0]
    header = _b64url_json(signature["protected"])
    header.update(changes)
    signature["protected"] = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    return changed


def test_sealed_sample_offline_is_valid_signature_and_unknown_trust() -> None:
    verdict = verify_jades(_sample())
    assert verdict.signature == "valid"
    assert verdict.trust == "unknown"
    assert verdict.trust_reason == "no trust anchors are configured"
    assert verdict.signing_time == SIG_T
    assert "CN=TEST SEAL" in verdict.signer_subject
    assert json.loads(verdict.payload)["id"] == "urn:credential:1018d05f-21d5-4555-b7f0-8fabfd22ca75"


def test_sample_chain_with_its_issuing_ca_as_anchor_is_trusted_at_sig_t() -> None:
    verdict = verify_jades(_sample(), anchors=[_sample_chain_top()])
    assert (verdict.signature, verdict.trust) == ("valid", "trusted")
    assert "2023-09-27T11:54:17" in verdict.trust_reason


def test_sample_chain_today_is_untrusted_because_the_seal_certificate_expired() -> None:
    verdict = verify_jades(_sample(), anchors=[_sample_chain_top()], at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert (verdict.signature, verdict.trust) == ("valid", "untrusted")
    assert "not valid at validation time" in verdict.trust_reason


def test_an_unrelated_anchor_is_untrusted() -> None:
    sample = _sample()
    tsa_root = None
    for item in sample["signatures"][0]["header"]["etsiU"]:
        for x in _b64url_json(item).get("xVals", []):
            cert = x509.load_der_x509_certificate(base64.b64decode(x["x509Cert"]["val"]))
            if cert.subject == cert.issuer:
                tsa_root = cert
    assert tsa_root is not None
    assert verify_jades(sample, anchors=[tsa_root]).trust == "untrusted"


def test_one_changed_literal_makes_the_signature_invalid() -> None:
    tampered = _sample()
    assert '"en":"Ana Andromeda"' in tampered["payload"]
    tampered["payload"] = tampered["payload"].replace('"en":"Ana Andromeda"', '"en":"Ana Andromedb"', 1)
    verdict = verify_jades(tampered, anchors=[_sample_chain_top()])
    assert verdict.signature == "invalid"


def test_a_changed_protected_header_makes_the_signature_invalid() -> None:
    verdict = verify_jades(_with_protected(_sample(), sigT="2023-09-28T11:54:17Z"))
    assert verdict.signature == "invalid"


@pytest.mark.parametrize("changes, message", [
    ({"b64": True}, "b64:false"),
    ({"crit": ["b64", "sigT", "sigD"], "sigD": {}}, "not understood"),
    ({"alg": "none"}, "unsupported alg"),
    ({"x5t#S256": "AAAA"}, "x5t#S256"),
    ({"sigT": "yesterday"}, "sigT"),
])
def test_unsupported_or_inconsistent_headers_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(JadesError, match=message):
        verify_jades(_with_protected(_sample(), **changes))


def test_not_a_seal_is_refused() -> None:
    deep = {"payload": "e30", "signatures": [{"protected": base64.urlsafe_b64encode(b"[" * 30000 + b"]" * 30000)
                                              .decode().rstrip("="), "signature": "AA"}]}
    for document in (b"[]", b"{}", b"not json", {"payload": "{}", "signatures": []},
                     b"[" * 30000 + b"]" * 30000, deep):  # nested past the parser's stack: RecursionError
        with pytest.raises(JadesError):
            verify_jades(document)
