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
