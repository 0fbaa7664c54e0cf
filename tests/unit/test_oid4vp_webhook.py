"""Signed OpenID4VP result webhooks: the URL policy, the detached JWS (signed by the gateway's x509_san_dns key,
verified here and by an independent JOSE library, joserfc) and the delivery attempt classification."""

from __future__ import annotations

import base64
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from microcred import pki
from microcred.oid4vp.request import ClientIdentity, build_request, request_object
from microcred.oid4vp.webhook import (
    WEBHOOK_TYP,
    WebhookPolicy,
    WebhookSignatureError,
    WebhookUrlError,
    sign_delivery,
    verify_delivery,
)
from microcred.sdjwt.jose import b64url_decode, b64url_encode, compact_json
from services.verifier.adapters.webhook import Attempt

HOST = "verifier.test"
URL = "https://hooks.employer.test/oid4vp?tenant=7"
RESULT: dict[str, Any] = {"status": "verified", "request_id": "R" * 43, "answered_at": "2026-12-04T10:00:00+00:00",
                          "encrypted": True, "en": {"verdict": "valid", "query": {"satisfied": True}},
                          "pl": {"verdict": "valid"}, "note": "zażółć"}


@dataclass
class Signer:
    key: ec.EllipticCurvePrivateKey
    x5c: list[str]
    anchors: list[x509.Certificate]

    def sign(self, result: dict[str, Any] = RESULT, **kwargs: Any) -> tuple[bytes, str]:
        args: dict[str, Any] = {"key": self.key, "x5c": self.x5c, "url": URL, "request_id": result["request_id"],
                                "now": int(time.time())}
        return sign_delivery(result, **{**args, **kwargs})

    def verify(self, body: bytes, signature: str, **kwargs: Any) -> dict[str, Any]:
        args: dict[str, Any] = {"trust_anchors": self.anchors, "host": HOST, "url": URL, "now": int(time.time())}
        return verify_delivery(body, signature, **{**args, **kwargs})


def _signer(host: str = HOST) -> Signer:
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{host}", common_name="Verifier gateway",
                                   not_before=now - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    leaf = x509.load_pem_x509_certificate(cert.cert_pem)
    return Signer(key, [base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()],
                  [x509.load_pem_x509_certificate(ca.cert_pem)])


@pytest.fixture(scope="module")
def signer() -> Signer:
    return _signer()


# --- the URL policy -----------------------------------------------------------------------------------------

POLICY = WebhookPolicy.of(["hooks.employer.test", " HR.Example.COM ", "[::1]"], "prod")


@pytest.mark.parametrize("url", [URL, "https://HOOKS.employer.test:8443/x", "https://hr.example.com/",
                                 "https://[::1]:9000/hook"])
def test_allowed_urls(url: str) -> None:
    assert POLICY.check(url) == url


@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.employer.test/x", "must be an https URL"),
    ("https://evil.test/x", "host evil.test is not in the gateway's webhook allow-list"),
    ("https://hooks.employer.test.evil.test/x", "not in the gateway's webhook allow-list"),
    ("https://169.254.169.254/latest/meta-data", "not in the gateway's webhook allow-list"),
    ("https://user:pw@hooks.employer.test/x", "must not carry user information"),
    ("https://hooks.employer.test/x#frag", "must not have a fragment"),
    ("https://hooks.employer.test:99999/x", "not a URL"),
    ("https://hooks.employer.test:0/x", "port 0"),
    ("https:///x", "has no host"),
    ("ftp://hooks.employer.test/x", "must be an https URL"),
    ("https://hooks.employer.test/a b", "without spaces or control characters"),
    ("https://hooks.employer.test/\u00e9", "ASCII"),
    ("https://hooks.employer.test/" + "a" * 2100, "longer than 2048"),
])
def test_refused_urls_say_why(url: str, why: str) -> None:
    with pytest.raises(WebhookUrlError) as refused:
        POLICY.check(url)
    assert why in refused.value.problem


def test_http_only_in_dev_and_test_and_an_empty_allow_list_refuses_everything() -> None:
    assert WebhookPolicy.of(["127.0.0.1"], "test").check("http://127.0.0.1:8080/h") == "http://127.0.0.1:8080/h"
    assert WebhookPolicy.of(["127.0.0.1"], "dev").allow_http
    with pytest.raises(WebhookUrlError, match="https"):
        WebhookPolicy.of(["127.0.0.1"], "prod").check("http://127.0.0.1:8080/h")
    empty = WebhookPolicy.of([], "test")
    assert not empty.enabled
    with pytest.raises(WebhookUrlError, match="not enabled"):
        empty.check(URL)


# --- signing and verification -------------------------------------------------------------------------------


def test_the_body_is_the_result_and_the_signature_verifies(signer: Signer) -> None:
    body, signature = signer.sign()
    assert body == compact_json(RESULT)
    _, empty, _ = signature.split(".")
    assert empty == ""
    assert signer.verify(body, signature) == RESULT


def test_an_independent_jose_library_verifies_the_detached_jws(signer: Signer) -> None:
    body, signature = signer.sign()
    registry = jws.JWSRegistry(algorithms=["ES256"], strict_check_header=False)
    registry.max_header_length = 16_384  # joserfc's default (512) is too small for any header with an x5c chain
    public = ECKey.import_key(signer.key.public_key())
    verified = jws.deserialize_compact(signature, public, registry=registry, payload=body)
    assert verified.payload == body
    header = verified.protected
    assert header["typ"] == WEBHOOK_TYP and header["aud"] == URL and header["request_id"] == RESULT["request_id"]
    assert abs(header["iat"] - time.time()) < 60 and header["alg"] == "ES256" and header["x5c"] == signer.x5c
    with pytest.raises(jws.BadSignatureError):
        jws.deserialize_compact(signature, public, registry=registry, payload=body.replace(b"valid", b"vali_"))


def test_what_a_receiver_refuses(signer: Signer) -> None:
    body, signature = signer.sign()
    tampered = body.replace(b'"verdict":"valid"', b'"verdict":"vali"')
    cases: list[tuple[bytes, str, dict[str, Any], str]] = [
        (tampered, signature, {}, "does not verify"),
        (body, signature, {"url": "https://other.employer.test/hook"}, "aud"),
        (body, signature, {"now": int(time.time()) + 301}, "iat"),
        (body, signature, {"now": int(time.time()) - 301}, "iat"),
        (body, signature, {"host": "other.test"}, "does not name other.test"),
        (body, signature, {"trust_anchors": _signer().anchors}, "CHAIN_UNTRUSTED"),
        (body, signature.replace("..", ".x."), {}, "detached"),
        (body, "x" * 20_000, {}, "too long"),
    ]
    for sent, sig, kwargs, why in cases:
        with pytest.raises(WebhookSignatureError) as refused:
            signer.verify(sent, sig, **kwargs)
        assert why in refused.value.problem, (why, refused.value.problem)


def test_a_body_naming_another_request_or_a_request_object_signature_is_refused(signer: Signer) -> None:
    other = {**RESULT, "request_id": "S" * 43}
    body, _ = signer.sign(other)
    _, signature = signer.sign(other, request_id=RESULT["request_id"])
    with pytest.raises(WebhookSignatureError, match="different requests"):
        signer.verify(body, signature)
    # the same key signs request objects: one of them is never taken for a webhook signature
    identity = ClientIdentity.x509_san_dns(HOST, signer.key, signer.x5c)
    request = build_request(client_id=identity.client_id, response_uri="https://verifier.test/r", dcql_query={},
                            response_mode="direct_post", now=int(time.time()), lifetime=300)
    protected, payload, sig = request_object(request, identity).split(".")
    with pytest.raises(WebhookSignatureError, match="typ"):
        signer.verify(b64url_decode(payload), f"{protected}..{sig}")
    assert b64url_encode(b64url_decode(payload)) == payload


# --- delivery attempts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "delivered", "retry"), [
    (Attempt(200), True, False), (Attempt(204), True, False), (Attempt(500), False, True),
    (Attempt(503), False, True), (Attempt(429), False, True), (Attempt(408), False, True),
    (Attempt(None, "timeout"), False, True), (Attempt(None, "connection (ConnectError)"), False, True),
    (Attempt(400), False, False), (Attempt(401), False, False), (Attempt(302), False, False),
])
def test_which_answers_are_retried(attempt: Attempt, delivered: bool, retry: bool) -> None:
    assert attempt.delivered is delivered and attempt.retryable is retry
