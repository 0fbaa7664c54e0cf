"""OpenID4VCI delivery of the ``ldp_vc`` configuration (Open Badges 3.0, Data Integrity ``eddsa-rdfc-2022``)
over the running issuer (real Kafka, Redis, HTTPS), taken by the spec-written test wallet: the credential's
``credentialSubject.id`` is the ``did:key`` of the wallet's proof key, its proof verifies with the issuer's key
from the registry, and the verifier gateway reports it valid; a batch gives one instance per key; a proof whose
key is neither P-256 nor Ed25519 (or whose alg is not its key's own) is ``invalid_proof`` and spends nothing; an
Ed25519 proof key (EdDSA, signed with joserfc) binds both formats."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from google.protobuf import json_format
from joserfc.jwk import OKPKey
from jwt.algorithms import ECAlgorithm

from microcred import pki
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.oid4vci.holder_did import holder_did_key
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION
from microcred.verification import VerificationPorts
from microcred.verification.keys import ChainKeyResolver, DidKeyResolver, RegistryKeyResolver
from services.verifier.adapters.sources import GatewayStatusSource
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.harness.oid4vci_wallet import AUTH_CODE, Wallet, ed25519_proof, key_proof, public_jwk_of
from tests.integration.test_oid4vci import error_of, wallet_http
from tests.verifier_support import Limits, RunningServer

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"agency-ldp-{TAG}"
UNI = f"uni-ldp-{TAG}"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[IssuerHarness]:
    """The issuer (REST with the Credential Issuer, gRPC, revocation service) with one onboarded issuer."""
    work = tmp_path_factory.mktemp("oid4vci-ldp")
    harness = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, work, rest_port=0)
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        yield harness
    finally:
        await harness.close()


def base(harness: IssuerHarness) -> str:
    assert harness.app.rest is not None
    return f"https://localhost:{harness.app.rest.port}"


async def create_offers(harness: IssuerHarness, count: int = 1, **options: Any) -> list[dict[str, Any]]:
    """``POST /oid4vci/offers`` as UNI (its client certificate)."""
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
    cert = pki.create_client_cert(harness.ca, UNI, AGENCY, pki.ROLE_ISSUER)
    cert_path, key_path = cert.write(Path(harness.work_dir) / f"client-{uuid.uuid4().hex[:8]}", "client")
    context.load_cert_chain(str(cert_path), str(key_path))
    body = {"credentials": [json_format.MessageToDict(valid_micro_credential()) for _ in range(count)], **options}
    async with httpx.AsyncClient(base_url=base(harness), verify=context, timeout=30) as http:
        response = await http.post("/oid4vci/offers", json=body)
    assert response.status_code == 201, response.text
    offers: list[dict[str, Any]] = response.json()["offers"]
    return offers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def p384_proof(audience: str, nonce: str) -> str:
    """A key proof whose header key is P-384 (signed by hand: PyJWT refuses ES256 with a P-384 key)."""
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    header = _b64(json.dumps({"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": jwk}).encode())
    claims = _b64(json.dumps({"aud": audience, "iat": int(time.time()), "nonce": nonce}).encode())
    r, s = decode_dss_signature(key.sign(f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256())))
    return f"{header}.{claims}.{_b64(r.to_bytes(48, 'big') + s.to_bytes(48, 'big'))}"


async def verify_at_gateway(harness: IssuerHarness, credential: dict[str, Any]) -> dict[str, Any]:
    """The verifier pipeline's report, wired as the gateway wires it for the platform's own credentials: did:web
    keys through the trust registry, the Bitstring Status Lists fetched from the revocation service."""
    assert harness.revocation is not None
    registry, lists = harness.app_registry(), f"{harness.revocation.app.base_url}/status/"
    async with httpx.AsyncClient(timeout=10) as http:
        ports = VerificationPorts(keys=ChainKeyResolver(DidKeyResolver(), RegistryKeyResolver(registry)),
                                  status=GatewayStatusSource(None, http, [lists]),
                                  trust=registry)
        gateway = create_gateway_app(Limits())
        gateway.state.gateway = Gateway(ports)
        async with RunningServer(gateway) as server, httpx.AsyncClient(base_url=server.url) as client:
            report: dict[str, Any] = (await client.post("/v1/verify", json=credential)).json()
    return report


async def signature_verifies(harness: IssuerHarness, document: dict[str, Any]) -> bool:
    """The Data Integrity proof, checked with the issuer's key as the registry resolves it."""
    proof = document["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    signed_at = datetime.fromisoformat(proof["created"].replace("Z", "+00:00"))
    resolution = await harness.app_registry().resolve_verification_method(proof["verificationMethod"], signed_at)
    assert resolution.public_key is not None, resolution
    key = resolution.public_key
    return bool(verify_data_integrity(document, lambda vm: key).verified)


async def test_offer_lists_both_and_pre_authorized_flow_delivers_ldp_vc(stack: IssuerHarness) -> None:
    harness = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert wallet.offer["credential_configuration_ids"] == [SD_JWT_CONFIGURATION, LDP_CONFIGURATION]
        ldp = wallet.metadata["credential_configurations_supported"][LDP_CONFIGURATION]
        assert ldp["format"] == "ldp_vc" and ldp["cryptographic_binding_methods_supported"] == ["did:key", "did:jwk"]
        assert ldp["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256", "EdDSA",
                                                                                          "Ed25519"]
        token = await wallet.token()
        assert token.status_code == 200, token.text
        details = token.json()["authorization_details"]
        assert {d["credential_configuration_id"] for d in details} == {SD_JWT_CONFIGURATION, LDP_CONFIGURATION}
        answer = await wallet.receive(1, LDP_CONFIGURATION)
        assert answer.status_code == 200, answer.text
        [credential] = [c["credential"] for c in answer.json()["credentials"]]
        assert isinstance(credential, dict)  # §8.3: an ldp_vc is the JSON object itself
        definition = ldp["credential_definition"]  # what the metadata says is what is delivered
        assert credential["@context"] == definition["@context"] and credential["type"] == definition["type"]
        assert "AchievementCredential" in credential["type"]
        did = holder_did_key(public_jwk_of(wallet.keys[0]))
        assert did.startswith("did:key:zDn") and credential["credentialSubject"]["id"] == did
        assert await signature_verifies(harness, credential)
        tampered = {**credential, "credentialSubject": {**credential["credentialSubject"], "id": "did:key:other"}}
        assert not await signature_verifies(harness, tampered)  # the subject id is what was signed
        report = await verify_at_gateway(harness, credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
        notified = await wallet.notify(answer.json()["notification_id"])
        assert notified.status_code == 204, notified.text
        again = await wallet.receive(1, LDP_CONFIGURATION)  # the token obtained this configuration already
        assert again.status_code == 400 and error_of(again) == "credential_request_denied"


async def test_batch_of_two_ldp_vc_with_distinct_subjects(stack: IssuerHarness) -> None:
    harness = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        answer = await wallet.receive(2, LDP_CONFIGURATION)
        assert answer.status_code == 200, answer.text
        credentials = [c["credential"] for c in answer.json()["credentials"]]
        assert len(credentials) == 2
        subjects = [c["credentialSubject"]["id"] for c in credentials]
        assert subjects == [holder_did_key(public_jwk_of(k)) for k in wallet.keys] and len(set(subjects)) == 2
        assert len({c["id"] for c in credentials}) == 2
        for credential in credentials:
            assert await signature_verifies(harness, credential)


async def test_a_key_that_cannot_be_a_did_key_is_invalid_proof(stack: IssuerHarness) -> None:
    harness = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        nonce = await wallet.nonce()
        refused = await wallet.credential([p384_proof(wallet.issuer, nonce)], LDP_CONFIGURATION)
        assert refused.status_code == 400 and error_of(refused) == "invalid_proof", refused.text
        unknown = await wallet.credential([p384_proof(wallet.issuer, nonce)], "no_such_configuration")
        assert unknown.status_code == 400 and error_of(unknown) == "unknown_credential_configuration"
        # nothing was spent: the same nonce and token still give the credential
        key = ec.generate_private_key(ec.SECP256R1())
        wallet.keys.append(key)
        good = await wallet.credential([key_proof(key, wallet.issuer, nonce)], LDP_CONFIGURATION)
        assert good.status_code == 200, good.text
        assert good.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == \
            holder_did_key(public_jwk_of(key))


async def test_authorization_code_flow_asks_for_and_receives_ldp_vc(stack: IssuerHarness) -> None:
    harness = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert AUTH_CODE in wallet.offer["grants"]
        unknown, _ = await wallet.push_authorization(configuration="no_such_configuration")
        assert unknown.status_code == 400 and error_of(unknown) == "invalid_authorization_details"
        pushed, session = await wallet.push_authorization(configuration=LDP_CONFIGURATION)
        assert pushed.status_code == 201, pushed.text
        assert (await wallet.authorize(session)).status_code == 302
        assert (await wallet.exchange(session)).status_code == 200
        answer = await wallet.receive(1, LDP_CONFIGURATION)
        assert answer.status_code == 200, answer.text
        [credential] = [c["credential"] for c in answer.json()["credentials"]]
    assert credential["credentialSubject"]["id"] == holder_did_key(public_jwk_of(wallet.keys[0]))
    report = await verify_at_gateway(harness, credential)
    assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
    assert base(harness) == wallet.issuer


async def test_deferred_ldp_vc_is_issued_in_the_format_asked(stack: IssuerHarness) -> None:
    harness = stack
    not_before = datetime.now(UTC) + timedelta(seconds=3)
    [offer] = await create_offers(harness, not_before=not_before.isoformat())
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        accepted = await wallet.receive(2, LDP_CONFIGURATION)
        assert accepted.status_code == 202, accepted.text
        transaction = accepted.json()["transaction_id"]
        deadline = time.monotonic() + 60
        for _ in range(240):  # polled as the issuer's interval asks, with a generous deadline
            answer = await wallet.deferred(transaction)
            if answer.status_code != 202 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert answer.status_code == 200, answer.text
        credentials = [c["credential"] for c in answer.json()["credentials"]]
        assert [c["credentialSubject"]["id"] for c in credentials] == \
            [holder_did_key(public_jwk_of(k)) for k in wallet.keys]
        for credential in credentials:
            assert await signature_verifies(harness, credential)
        assert (await wallet.notify(answer.json()["notification_id"])).status_code == 204


async def test_an_ed25519_key_proof_binds_the_ldp_vc_to_a_z6mk_did_key(stack: IssuerHarness) -> None:
    """The metadata offers EdDSA key proofs: an Ed25519 holder key becomes the ldp_vc's ``did:key:z6Mk`` subject;
    the credential verifies and the gateway reports it valid (the SD-JWT VC's ``cnf``: test_oid4vci.py)."""
    harness = stack
    offers = await create_offers(harness, 1)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offers[0]["link"])
        algs = wallet.metadata["credential_configurations_supported"][LDP_CONFIGURATION]["proof_types_supported"]
        assert "EdDSA" in algs["jwt"]["proof_signing_alg_values_supported"]
        assert (await wallet.token()).status_code == 200
        key = OKPKey.generate_key("Ed25519")
        answer = await wallet.credential([ed25519_proof(key, wallet.issuer, await wallet.nonce())], LDP_CONFIGURATION)
        assert answer.status_code == 200, answer.text
        credential = answer.json()["credentials"][0]["credential"]
        public = key.as_dict(private=False)
        did = holder_did_key(public)
        assert did.startswith("did:key:z6Mk") and credential["credentialSubject"]["id"] == did
        assert await signature_verifies(harness, credential)
        report = await verify_at_gateway(harness, credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


async def test_an_eddsa_alg_over_a_p256_key_is_invalid_proof_and_spends_nothing(stack: IssuerHarness) -> None:
    harness = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        nonce = await wallet.nonce()
        ed = OKPKey.generate_key("Ed25519")
        p256 = ec.generate_private_key(ec.SECP256R1())
        # signed by the Ed25519 key, but the header shows a P-256 key: the alg is not that key's own
        crossed = ed25519_proof(ed, wallet.issuer, nonce, jwk=public_jwk_of(p256))
        refused = await wallet.credential([crossed], LDP_CONFIGURATION)
        assert refused.status_code == 400 and error_of(refused) == "invalid_proof", refused.text
        good = await wallet.credential([ed25519_proof(ed, wallet.issuer, nonce)], LDP_CONFIGURATION)
        assert good.status_code == 200, good.text  # the nonce and the token were not spent by the refusal
