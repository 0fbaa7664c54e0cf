"""Interoperability with an independent OpenID4VP 1.0 wallet: the OpenWallet Foundation's @openid4vc/openid4vp
client (oid4vc-ts), presenting with @sd-jwt/sd-jwt-vc, driven by tests/interop/oid4vp_wallet.mjs under node.

The gateway runs as the verifier (real sockets, real Redis and Kafka) with an ``x509_san_dns`` identity whose
certificate names ``localhost``, the host its response URI is reached at, or with the ``x509_hash`` identity HAIP
1.0 has verifiers use (the same certificate, named by its SHA-256). The library follows the
``openid4vp://`` link, fetches the signed request object, checks its x5c chain to the platform CA and the client
identifier, discloses what the DCQL query names, adds the Key Binding JWT for this request's nonce and client, and
posts the answer (encrypted for ``direct_post.jwt``). The gateway's result then shows each check.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.type_metadata import VCT
from services.verifier.app import create_app
from tests.conftest import Infrastructure
from tests.harness.oid4vp_gateway import x509_verifier
from tests.harness.sd_jwt import SdWorld
from tests.interop import node_env
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

WALLET = node_env.INTEROP / "oid4vp_wallet.mjs"
HOST = "localhost"
QUERY = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                          "claims": [{"path": ["achievement_title"]}, {"path": ["family_name"]},
                                     {"path": ["level_of_learning_experience", "eqf_level"], "values": [6, 7, 8]}]}]}


@dataclass
class Stack:
    url: str
    http: httpx.AsyncClient
    sd: SdWorld
    ca_pem: str
    client_id: str


@pytest.fixture(params=["x509_san_dns", "x509_hash"])
async def stack(infrastructure: Infrastructure, tmp_path: Path, request: pytest.FixtureRequest
                ) -> AsyncIterator[Stack]:
    """The gateway as an OpenID4VP verifier: x509_san_dns:localhost, or x509_hash of that certificate; the SD-JWT
    VC issuer's CA as anchor."""
    verifier = x509_verifier(infrastructure, tmp_path, HOST, prefix=request.param)
    assert verifier.settings.oid4vp_signing_cert_file is not None
    leaf = x509.load_pem_x509_certificate(verifier.settings.oid4vp_signing_cert_file.read_bytes())
    # §5.9.3, computed here with cryptography's fingerprint, not the product's code
    hashed = base64.urlsafe_b64encode(leaf.fingerprint(hashes.SHA256())).rstrip(b"=").decode()
    client_id = f"x509_san_dns:{HOST}" if request.param == "x509_san_dns" else f"x509_hash:{hashed}"
    async with RunningServer(create_app(verifier.settings), proxy_headers=False) as server, \
            httpx.AsyncClient(timeout=30) as http:
        # the response URI is built from the URL the request was created at: its host must be the client's name
        yield Stack(server.url.replace("127.0.0.1", HOST), http, verifier.sd, verifier.ca_pem.decode(), client_id)


async def _present(stack: Stack, response_mode: str, query: dict[str, Any] = QUERY, **extra: Any
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request created at the gateway, answered by the library's wallet; (the wallet's answer, the result)."""
    created = await stack.http.post(f"{stack.url}/v1/presentation-requests", json={
        "dcql_query": query, "response_mode": response_mode, **extra})
    assert created.status_code == 201, created.text
    holder = ec.generate_private_key(ec.SECP256R1())
    credential = stack.sd.issue(holder_jwk=public_jwk(holder)).compact
    answer: dict[str, Any] = await asyncio.to_thread(node_env.run, {
        "link": created.json()["link"], "ca_pem": stack.ca_pem, "credential": credential,
        "holder_private_jwk": ECAlgorithm.to_jwk(holder, as_dict=True)}, WALLET)
    result = await stack.http.get(created.json()["result_url"])
    assert result.status_code == 200, result.text
    found: dict[str, Any] = result.json()
    return answer, found


def _checks(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


@pytest.mark.parametrize("response_mode", ["direct_post.jwt", "direct_post"])
async def test_the_library_wallet_answers_a_dcql_request(stack: Stack, response_mode: str) -> None:
    answer, result = await _present(stack, response_mode)
    assert "error" not in answer, answer
    assert answer["client_id"] == stack.client_id and answer["client_prefix"] == stack.client_id.split(":")[0]
    assert answer["response_mode"] == response_mode
    assert answer["encrypted"] is (response_mode == "direct_post.jwt")
    assert answer["status"] == 200, answer["body"]
    assert sorted(answer["disclosed"]) == ["achievement_title", "family_name", "level_of_learning_experience"]
    assert result["status"] == "verified" and result["encrypted"] is (response_mode == "direct_post.jwt")
    body = result["en"]
    assert body["query"]["satisfied"] is True, body["query"]
    report = body["presentations"][0]["report"]
    assert {k: _checks(report)[k] for k in ("signature", "disclosures", "holder_binding", "issuer_identity")} == {
        "signature": "valid", "disclosures": "valid", "holder_binding": "valid", "issuer_identity": "valid"}
    # accreditation and status cannot be established for this issuer here: never "valid" overall
    assert body["verdict"] != "valid"


async def test_the_library_wallet_posts_to_request_uri_when_the_link_asks(stack: Stack) -> None:
    """``request_uri_method=post`` (§5.10): the library fetches the request object with a POST (it sends no
    wallet_nonce: an empty form, which the gateway takes) and answers it."""
    answer, result = await _present(stack, "direct_post.jwt", request_uri_method="post")
    assert "error" not in answer and answer["status"] == 200, answer
    [(method, _)] = [call for call in answer["calls"] if "/oid4vp/requests/" in call[1]]
    assert method == "POST", answer["calls"]
    assert result["status"] == "verified" and result["en"]["query"]["satisfied"] is True, result["en"]["query"]


async def test_a_query_naming_the_issuers_authority_by_aki(stack: Stack) -> None:
    """DCQL ``trusted_authorities`` of type ``aki`` (HAIP 1.0): the library reads the request with it, and the
    gateway counts the answer only because the credential's validated chain is under that authority."""
    [anchor] = stack.sd.anchors
    aki = base64.urlsafe_b64encode(anchor.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value.digest).rstrip(b"=").decode()
    query = {"credentials": [{**QUERY["credentials"][0], "trusted_authorities": [{"type": "aki", "values": [aki]}]}]}
    answer, result = await _present(stack, "direct_post.jwt", query)
    assert "error" not in answer and answer["status"] == 200, answer
    assert result["status"] == "verified" and result["en"]["query"]["satisfied"] is True, result["en"]["query"]


async def test_a_same_device_request_sends_the_library_back_with_a_response_code(stack: Stack) -> None:
    page = "https://jobs.example/apply/7"
    answer, result = await _present(stack, "direct_post.jwt", redirect_uri=page)
    assert "error" not in answer and answer["status"] == 200, answer
    redirect = json.loads(answer["body"])["redirect_uri"]
    assert redirect.startswith(page + "#response_code=")
    assert result["status"] == "verified" and result["response_code_required"] is True and "en" not in result


def _form(answer: dict[str, Any]) -> dict[str, str]:
    """What a page posts: the members of the wallet's DC API answer, JSON for those that are not strings."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in answer.items()}


async def _over_dc_api(stack: Stack, response_mode: str, *, wallet_origin: str | None = None,
                       post_origin: str | None = None, as_json: bool = False, **extra: Any
                       ) -> tuple[dict[str, Any], dict[str, Any], httpx.Response, dict[str, Any]]:
    """A request created at the gateway, asked for through the Digital Credentials API by a page at
    ``wallet_origin`` (default: the gateway's own), answered by the library's wallet, and its answer posted back by
    the page with ``post_origin`` (default: the same) as its Origin header; (what the page passed to the
    browser, the wallet's answer, the gateway's reply to the page, the result)."""
    created = await stack.http.post(f"{stack.url}/v1/presentation-requests", json={
        "dcql_query": QUERY, "response_mode": response_mode, **extra})
    assert created.status_code == 201, created.text
    asked = await stack.http.get(created.json()["dc_api_url"])
    assert asked.status_code == 200 and asked.headers["cache-control"] == "no-store", asked.text
    origin = wallet_origin or stack.url
    holder = ec.generate_private_key(ec.SECP256R1())
    credential = stack.sd.issue(holder_jwk=public_jwk(holder)).compact
    answer: dict[str, Any] = await asyncio.to_thread(node_env.run, {
        "dc_api": asked.json(), "origin": origin, "ca_pem": stack.ca_pem, "credential": credential,
        "holder_private_jwk": ECAlgorithm.to_jwk(holder, as_dict=True)}, WALLET)
    posted = httpx.Response(599)
    if "error" not in answer and as_json:  # the DigitalCredential's data object as it is, the origin beside it
        posted = await stack.http.post(created.json()["dc_api_url"],
                                       json={**answer["dc_api_answer"], "origin": post_origin or origin})
    elif "error" not in answer:
        posted = await stack.http.post(created.json()["dc_api_url"], data=_form(answer["dc_api_answer"]),
                                       headers={"Origin": post_origin or origin})
    result = (await stack.http.get(created.json()["result_url"])).json()
    return asked.json(), answer, posted, result


@pytest.mark.parametrize(("response_mode", "dc_mode"), [("direct_post.jwt", "dc_api.jwt"), ("direct_post", "dc_api")])
async def test_the_library_wallet_answers_over_the_digital_credentials_api(
        stack: Stack, response_mode: str, dc_mode: str) -> None:
    """OpenID4VP Appendix A: a signed request (the library checks its x5c and client identifier, and that the
    page's origin is one of its expected_origins), answered through the page (encrypted for dc_api.jwt, HAIP),
    every presentation naming origin:<the page's origin>."""
    asked, answer, posted, result = await _over_dc_api(stack, response_mode)
    assert asked["protocol"] == "openid4vp-v1-signed" and set(asked["data"]) == {"request"}
    assert "error" not in answer, answer
    assert answer["client_id"] == stack.client_id and answer["response_mode"] == dc_mode
    assert answer["expected_origins"] == [stack.url] and answer["encrypted"] is (dc_mode == "dc_api.jwt")
    assert posted.status_code == 200 and posted.json() == {}, posted.text
    assert result["status"] == "verified" and result["channel"] == "dc_api", result
    assert result["encrypted"] is (dc_mode == "dc_api.jwt")
    body = result["en"]
    assert body["query"]["satisfied"] is True, body["query"]
    checks = _checks(body["presentations"][0]["report"])
    assert (checks["holder_binding"], checks["signature"], checks["disclosures"]) == ("valid", "valid", "valid")


async def test_a_page_on_another_origin_gets_no_answer_from_the_wallet(stack: Stack) -> None:
    """A page elsewhere that replays the gateway's signed request is not one of its expected_origins: the library
    refuses to answer it (A.2), so nothing reaches the gateway, whose request stays pending."""
    _, answer, _, result = await _over_dc_api(stack, "direct_post.jwt", wallet_origin="https://evil.example")
    assert "error" in answer and "expected_origins" in answer["error"]["message"], answer
    assert result["status"] == "pending"


async def test_an_answer_made_for_one_origin_is_refused_from_another(stack: Stack) -> None:
    """Two expected origins; the wallet answers the page at the first (its presentation names origin:<first>); the
    answer posted as if from the second does not bind to it (holder binding invalid: processed, so 200, §8.2, and the
    employer's result says it; the request is spent), and one from an origin the request does not list is refused
    before anything is read."""
    other = "https://jobs.example"
    _, answer, posted, result = await _over_dc_api(stack, "direct_post.jwt", post_origin=other,
                                                   expected_origins=[stack.url, other])
    assert "error" not in answer, answer
    assert posted.status_code == 200, posted.text
    checks = _checks(result["en"]["presentations"][0]["report"])
    assert checks["holder_binding"] == "invalid" and result["en"]["verdict"] == "invalid"
    _, answer, posted, result = await _over_dc_api(stack, "direct_post.jwt", post_origin="https://evil.example")
    assert posted.status_code == 400 and "expected_origins" in posted.json()["error_description"], posted.text
    assert result["status"] == "pending"


async def test_a_page_may_post_the_wallets_answer_as_json(stack: Stack) -> None:
    """The page's post is the gateway's own API (OpenID4VP leaves it to the verifier): the ``data`` object a
    DigitalCredential holds may be posted as JSON, with the page's origin as a member."""
    _, answer, posted, result = await _over_dc_api(stack, "direct_post", as_json=True)
    assert "error" not in answer and answer["response_mode"] == "dc_api", answer
    assert posted.status_code == 200, posted.text
    assert result["status"] == "verified" and result["channel"] == "dc_api", result
    assert result["en"]["query"]["satisfied"] is True
