"""VC-API verification endpoints of the gateway (POST /credentials/verify, /presentations/verify), in process."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from services.verifier.api.routes import create_gateway_app
from services.verifier.api.vcapi import router
from services.verifier.application import Gateway
from tests.unit.test_verification_gateway import Limits
from tests.verifier_support import World

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39)))
DID = did_key_from_public_key(KEY.public_key())
V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))
    return world


def app_for(world: World) -> FastAPI:
    app = create_gateway_app(Limits())
    app.include_router(router)
    app.state.gateway = Gateway(world.ports())
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


def signed(extra: dict[str, Any] | None = None, *, purpose: str = "assertionMethod", **options: Any) -> dict[str, Any]:
    doc = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": DID, "validFrom": "2024-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:subject", "name": "Alice"}, **(extra or {})}
    return sign_eddsa_rdfc_2022(doc, KEY, verification_method_id(DID), proof_purpose=purpose, **options)


async def test_valid_credential_is_200_verified(world: World) -> None:
    async with client(app_for(world)) as http:
        response = await http.post("/credentials/verify", json={"verifiableCredential": world.credential(),
                                                                "options": {"checks": ["proof"]}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["problemDetails"] == []
    assert [p["verified"] for p in body["results"]["proof"]] == [True]
    assert body["results"]["validFrom"]["verified"] is True
    assert "credential" not in body


async def test_tampered_credential_is_400_with_cryptographic_error(world: World) -> None:
    vc = world.credential()
    vc["credentialSubject"]["id"] = "did:example:mallory"
    async with client(app_for(world)) as http:
        response = await http.post("/credentials/verify",
                                   json={"verifiableCredential": vc, "options": {"returnCredential": True}})
    assert response.status_code == 400
    body = response.json()
    assert body["verified"] is False and body["credential"] == vc
    assert any(p["type"].endswith("#CRYPTOGRAPHIC_SECURITY_ERROR") and p["title"].startswith("signature")
               for p in body["problemDetails"])


async def test_data_model_violation_names_the_rule(world: World) -> None:
    async with client(app_for(world)) as http:
        response = await http.post("/credentials/verify", json={"verifiableCredential": signed(
            {"termsOfUse": {"id": "https://example.org/tou"}})})
    assert response.status_code == 400
    titles = [p["title"] for p in response.json()["problemDetails"]]
    assert "format: DATA_MODEL_VIOLATION (terms_of_use.type)" in titles


async def test_undetermined_is_422_never_200(world: World) -> None:
    vc = signed()
    vc["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    async with client(app_for(world)) as http:
        response = await http.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422
    body = response.json()
    assert body["verified"] is False
    assert any("UNSUPPORTED_CRYPTOSUITE" in p["title"] for p in body["problemDetails"])


@pytest.mark.parametrize(("body", "field"), [
    ({}, "verifiableCredential"),
    ({"verifiableCredential": "eyJ..."}, "verifiableCredential"),
    ({"verifiableCredential": {}, "options": []}, "options"),
    ({"verifiableCredential": {}, "options": {"fetchEverything": True}}, "options.fetchEverything"),
    ({"verifiableCredential": {}, "options": {"checks": "proof"}}, "options.checks"),
    ({"verifiableCredential": {}, "extra": 1}, "extra"),
])
async def test_bad_requests_are_problem_json_naming_the_field(world: World, body: dict[str, Any],
                                                              field: str) -> None:
    async with client(app_for(world)) as http:
        response = await http.post("/credentials/verify", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field


def presentation(credentials: list[dict[str, Any]] | None, challenge: str = "c-1") -> dict[str, Any]:
    vp: dict[str, Any] = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": DID}
    if credentials is not None:
        vp["verifiableCredential"] = credentials
    return sign_eddsa_rdfc_2022(vp, KEY, verification_method_id(DID), proof_purpose="authentication",
                                challenge=challenge)


async def test_presentation_without_credentials_verifies_on_its_own_checks(world: World) -> None:
    async with client(app_for(world)) as http:
        response = await http.post("/presentations/verify", json={
            "verifiablePresentation": presentation(None), "options": {"challenge": "c-1"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["results"]["credentials"] == []
    assert body["results"]["presentation"]["challenge"] == {"verified": True, "input": "c-1"}
    assert body["results"]["presentation"]["holder"]["input"] == DID


async def test_presentation_whose_holder_is_not_the_subject_is_reported_not_refused(world: World) -> None:
    async with client(app_for(world)) as http:
        response = await http.post("/presentations/verify", json={
            "verifiablePresentation": presentation([signed()]), "options": {"challenge": "c-1"}})
    body = response.json()
    assert response.status_code == 200, body
    assert [c["verified"] for c in body["results"]["credentials"]] == [True]


async def test_presentation_with_wrong_challenge_is_400(world: World) -> None:
    async with client(app_for(world)) as http:
        response = await http.post("/presentations/verify", json={
            "verifiablePresentation": presentation(None), "options": {"challenge": "other"}})
    assert response.status_code == 400
    assert response.json()["results"]["presentation"]["challenge"]["verified"] is False


async def test_openapi_documents_the_vc_api_paths(world: World) -> None:
    spec = copy.deepcopy(app_for(world).openapi())
    assert {"/credentials/verify", "/presentations/verify"} <= set(spec["paths"])
