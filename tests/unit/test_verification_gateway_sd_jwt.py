"""SD-JWT VCs at the gateway: ``POST /v1/verify`` (a string, or an enveloped credential), and Status List Tokens
fetched over a real socket from the platform's own URLs only."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Request, Response

from microcred.sdjwt.core import SdJwtParts, key_binding_jwt
from microcred.sdjwt.jose import public_jwk
from microcred.status.token_status_list import INVALID
from services.verifier.adapters.sources import PlatformUrls
from services.verifier.adapters.token_status import TokenStatusHttpSource
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.harness.sd_jwt import LIST_URI, SdWorld, make_world
from tests.verifier_support import Limits, RunningServer


@pytest.fixture
def sd() -> SdWorld:
    return make_world()


def gateway(sd: SdWorld) -> httpx.AsyncClient:
    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(sd.ports())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


async def test_an_sd_jwt_vc_verifies_as_a_string_or_enveloped(sd: SdWorld) -> None:
    compact = sd.issue().compact
    enveloped = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "EnvelopedVerifiableCredential",
                 "id": "data:application/dc+sd-jwt," + compact}
    async with gateway(sd) as http:
        for body in ({"credential": compact}, {"document": compact}, enveloped, {"credential": enveloped}):
            response = await http.post("/v1/verify", json=body)
            assert response.status_code == 200, body
            report = response.json()
            assert report["verdict"] == "valid", report["checks"]
            assert report["micro_credential"] and report["summary"]["title"]
            assert [c["id"] for c in report["checks"]][:3] == ["format", "disclosures", "type_metadata"]
        sd.statuses.set(17, INVALID)
        sd.publish()
        report = (await http.post("/v1/verify", json={"credential": compact}, params={"lang": "pl"})).json()
        assert report["verdict"] == "invalid"
        assert next(c for c in report["checks"] if c["id"] == "revocation")["message"].startswith("Wystawca")


async def test_a_key_bound_presentation_answers_the_challenge_in_the_body(sd: SdWorld) -> None:
    holder = ec.generate_private_key(ec.SECP256R1())
    parts = sd.issue(holder_jwk=public_jwk(holder.public_key())).parts()
    kb = key_binding_jwt(SdJwtParts(parts.issuer_jwt, parts.disclosures, None), holder, nonce="n-7",
                         aud="https://verifier.example", iat=int(time.time()))  # the gateway checks it now
    async with gateway(sd) as http:
        body: dict[str, Any] = {"credential": parts.without_key_binding + kb, "challenge": "n-7",
                                "domain": "https://verifier.example"}
        assert (await http.post("/v1/verify", json=body)).json()["verdict"] == "valid"
        report = (await http.post("/v1/verify", json={**body, "challenge": "n-8"})).json()
        assert report["verdict"] == "invalid"
        assert next(c for c in report["checks"] if c["id"] == "holder_binding")["reason_code"] == "CHALLENGE_MISMATCH"


async def test_a_string_that_is_not_an_sd_jwt_is_a_named_problem(sd: SdWorld) -> None:
    async with gateway(sd) as http:
        for body in ({"credential": "hello"}, {"presentation": sd.issue().compact}):
            response = await http.post("/v1/verify", json=body)
            assert response.status_code == 422
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["field"] in {"credential", "presentation"}


async def test_tokens_come_from_platform_urls_only_kept_briefly_and_revalidated(sd: SdWorld) -> None:
    served: list[str | None] = []
    app = FastAPI()

    @app.get("/token-status/{list_id}")
    async def token(list_id: str, request: Request) -> Response:
        served.append(request.headers.get("if-none-match"))
        body = sd.tokens.tokens[LIST_URI]
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"etag": etag})
        return Response(body, media_type="application/statuslist+jwt", headers={"etag": etag})

    async with RunningServer(app) as server, httpx.AsyncClient() as http:
        base = server.url
        source = TokenStatusHttpSource(http, PlatformUrls([f"{base}/token-status/"]), max_age=0.2)
        first = await source.get(f"{base}/token-status/rev-1")
        assert first is not None and first[0] == sd.tokens.tokens[LIST_URI]
        assert await source.get(f"{base}/token-status/rev-1") == first and served == [None]  # kept
        await asyncio.sleep(0.3)
        again = await source.get(f"{base}/token-status/rev-1")
        assert again is not None and again[0] == first[0] and served[1] is not None  # revalidated: 304
        for outside in (f"{base}/other/rev-1", "http://elsewhere.example/token-status/rev-1",
                        f"{base}/token-status/../status/x", f"{base}/token-status/"):
            assert await source.get(outside) is None
        assert len(served) == 2
    assert isinstance(first[1], dt.datetime)
