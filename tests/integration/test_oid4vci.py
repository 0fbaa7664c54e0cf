"""OpenID4VCI 1.0 over the running issuer service (issue 20): real Kafka and Redis, HTTPS over a socket (port 0),
a test wallet written from the spec (tests/harness/oid4vci_wallet.py). Offers are created over the REST API by an
issuer with its client certificate; the wallet redeems them and the SD-JWT VCs it receives verify at the
gateway, bound (``cnf``) to the keys it proved. Each negative case answers its OAuth/OpenID4VCI error code."""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import json_format
from joserfc.jwk import OKPKey
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK

from microcred import pki
from microcred.events.envelope import open_envelope
from microcred.gen.microcred.v1 import events_pb2, issuer_pb2
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION
from microcred.oid4vci.signed_metadata import SignedMetadataError, read_signed_issuer_metadata
from microcred.sdjwt.x5c import load_certificates
from microcred.verification import VerificationPorts
from microcred.verification.keys import ChainKeyResolver, DidKeyResolver
from services.issuer.app import IssuerApp
from services.issuer.application.offer_ports import OfferSettings
from services.verifier.adapters.sources import PlatformUrls
from services.verifier.adapters.token_status import TokenStatusHttpSource
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import Wallet, dpop_proof, ed25519_proof, key_proof, public_jwk_of
from tests.integration.test_issuer_grpc import kafka_records
from tests.verifier_support import DictStatusSource, Limits, RunningServer

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"agency-vci-{TAG}"
UNI = f"uni-vci-{TAG}"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[tuple[IssuerHarness, bytes]]:
    work = tmp_path_factory.mktemp("oid4vci")
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY, oid4vci_max_tx_attempts=3,
        oid4vci_encryption=True)  # offered (not required): every flow here also shows plain requests still work
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        yield harness, document_ca.cert_pem
    finally:
        await harness.close()


def _context(harness: IssuerHarness, issuer: bool, named: tuple[str, str] = (UNI, AGENCY)) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
    if issuer:
        cert = pki.create_client_cert(harness.ca, *named, pki.ROLE_ISSUER)
        cert_path, key_path = cert.write(Path(harness.work_dir) / f"client-{uuid.uuid4().hex[:8]}", "client")
        context.load_cert_chain(str(cert_path), str(key_path))
    return context


def base(harness: IssuerHarness) -> str:
    assert harness.app.rest is not None
    return f"https://localhost:{harness.app.rest.port}"


async def create_offers(harness: IssuerHarness, count: int = 1, *, issuer: tuple[str, str] = (UNI, AGENCY),
                        **options: Any) -> list[dict[str, Any]]:
    """``count`` offers made over REST by ``issuer`` (its id and agency; this module's unless given)."""
    body = {"credentials": [json_format.MessageToDict(valid_micro_credential()) for _ in range(count)], **options}
    async with httpx.AsyncClient(base_url=base(harness), verify=_context(harness, True, issuer), timeout=30) as http:
        response = await http.post("/oid4vci/offers", json=body)
    assert response.status_code == 201, response.text
    offers: list[dict[str, Any]] = response.json()["offers"]
    return offers


def wallet_http(harness: IssuerHarness) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=_context(harness, False), timeout=60)


async def verify_at_gateway(harness: IssuerHarness, document_ca: bytes, credential: str) -> dict[str, Any]:
    assert harness.revocation is not None
    status_base = harness.revocation.app.base_url
    async with httpx.AsyncClient(timeout=10) as http:
        ports = VerificationPorts(
            keys=ChainKeyResolver(DidKeyResolver()), status=DictStatusSource(), trust=harness.app_registry(),
            x509_anchors=(*load_certificates(document_ca), *load_certificates(harness.ca.cert_pem)),
            token_status=TokenStatusHttpSource(http, PlatformUrls([f"{status_base}/token-status/"]), max_age=0.1))
        gateway = create_gateway_app(Limits())
        gateway.state.gateway = Gateway(ports)
        async with RunningServer(gateway) as server, httpx.AsyncClient(base_url=server.url) as client:
            report: dict[str, Any] = (await client.post("/v1/verify", json={"credential": credential})).json()
    return report


def cnf_of(credential: str) -> dict[str, Any]:
    """The cnf.jwk of an SD-JWT VC (payload read after the gateway verified the signature)."""
    payload = jwt.decode(credential.split("~")[0], options={"verify_signature": False})
    jwk: dict[str, Any] = payload["cnf"]["jwk"]
    return jwk


async def offer_events(infrastructure: Infrastructure, offer_id: str,
                       credential_ids: tuple[str, ...] = ()) -> tuple[list[Any], list[Any]]:
    """The offer's events (by offer_ref = SHA-256 of its id) and the CredentialIssued records of credential_ids."""
    ref = hashlib.sha256(offer_id.encode()).hexdigest()
    records = await kafka_records(infrastructure.kafka_bootstrap, {ref, *credential_ids})
    offers = [open_envelope(raw)[1] for raw in records.get(ref, [])]
    issued = [open_envelope(raw)[1] for cid in credential_ids for raw in records.get(cid, [])]
    return offers, issued


def error_of(response: httpx.Response) -> str:
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    return str(response.json()["error"])


async def test_metadata_signed_for_a_wallet_that_asks(stack: tuple[IssuerHarness, bytes]) -> None:
    """OpenID4VCI §12.2.3 / HAIP: Accept application/jwt gets the same document signed under the document CA."""
    harness, document_ca = stack
    url = f"{base(harness)}/.well-known/openid-credential-issuer"
    async with wallet_http(harness) as http:
        plain = await http.get(url, headers={"accept": "application/json"})
        signed = await http.get(url, headers={"accept": "application/jwt, application/json;q=0.9"})
        browser = await http.get(url, headers={"accept": "text/html,*/*;q=0.8"})
        preferring_json = await http.get(url, headers={"accept": "application/json, application/jwt;q=0.5"})
        tie = await http.get(url, headers={"accept": "application/jwt, application/json"})  # EUDI PreferSigned
        # an identifier from a caller's Host header is not certified (the CA must not sign what a caller names)
        other_host = await http.get(url, headers={"accept": "application/jwt", "host": "evil.example"})
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/jwt"
    assert all(r.headers["content-type"] == "application/json" for r in (plain, browser, preferring_json, tie,
                                                                          other_host))
    assert other_host.json()["credential_issuer"] == "https://evil.example"  # reflected, as before, but unsigned
    assert all(r.headers["vary"] == "Accept" for r in (plain, signed))  # caches keep the two forms apart
    now = datetime.now(UTC)
    read = read_signed_issuer_metadata(signed.text, base(harness), load_certificates(document_ca), now)
    assert read == plain.json()
    assert jwt.get_unverified_header(signed.text)["typ"] == "openidvci-issuer-metadata+jwt"
    # another identifier, or anchors that are not the document CA, are refused
    with pytest.raises(SignedMetadataError, match=r"sub|name"):
        read_signed_issuer_metadata(signed.text, "https://elsewhere.example", load_certificates(document_ca), now)
    with pytest.raises(SignedMetadataError, match="x5c"):
        read_signed_issuer_metadata(signed.text, base(harness), load_certificates(harness.ca.cert_pem), now)


async def test_metadata_lists_both_configurations(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    async with wallet_http(harness) as http:
        answers = [await http.get(f"{base(harness)}/.well-known/{name}")
                   for name in ("openid-credential-issuer", "oauth-authorization-server")]
        metadata, server = (answer.json() for answer in answers)
        paths = (await http.get(f"{base(harness)}/openapi.json")).json()["paths"]
    assert {"/oid4vci/token", "/oid4vci/nonce", "/oid4vci/credential", "/oid4vci/notification", "/oid4vci/offers",
            "/oid4vci/offers/{offer_id}", "/.well-known/openid-credential-issuer"} <= set(paths)
    assert all(answer.headers["cache-control"] == "public, max-age=300" for answer in answers)  # wallets may keep it
    configurations = metadata["credential_configurations_supported"]
    sd = next(c for c in configurations.values() if c["format"] == "dc+sd-jwt")
    assert sd["vct"] == "https://microcred.eu/vct/eu-micro-credential/v1"
    assert sd["cryptographic_binding_methods_supported"] == ["jwk"]
    assert sd["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256", "EdDSA", "Ed25519"]
    assert {d["locale"] for d in sd["credential_metadata"]["display"]} == {"en", "pl", "de", "fr"}
    assert any(c["format"] == "ldp_vc" for c in configurations.values())
    assert server["issuer"] == metadata["credential_issuer"] == base(harness)
    assert "urn:ietf:params:oauth:grant-type:pre-authorized_code" in server["grant_types_supported"]


async def test_pre_authorized_code_without_tx_code(stack: tuple[IssuerHarness, bytes],
                                                   infrastructure: Infrastructure) -> None:
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    assert "tx_code" not in offer
    # the award is kept sealed: none of the learner's data in clear in Redis
    assert harness.app.redis is not None
    kept = await harness.app.redis.hgetall(f"{harness.app.settings.issuer_redis_prefix}:o4i:offer:{offer['offer_id']}")
    learner = valid_micro_credential().learner
    assert kept and all(learner.full_name.encode() not in v and learner.email.encode() not in v for v in kept.values())
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert "tx_code" not in wallet.offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        token = await wallet.token()
        assert token.status_code == 200, token.text
        assert token.headers["cache-control"] == "no-store"
        answer = await wallet.receive(1)
        assert answer.status_code == 200, answer.text
        [credential] = [c["credential"] for c in answer.json()["credentials"]]
        report = await verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", report["checks"]
        assert cnf_of(credential) == public_jwk_of(wallet.keys[0])
        prefix = harness.app.settings.issuer_redis_prefix
        assert not await harness.app.redis.hexists(f"{prefix}:o4i:offer:{offer['offer_id']}", "award")
        notified = await wallet.notify(answer.json()["notification_id"])
        assert notified.status_code == 204, notified.text
        unknown = await wallet.notify("not-a-notification-id")
        assert error_of(unknown) == "invalid_notification_id"
        # the code was spent: a second redemption fails and the offer is no longer served
        again = await wallet.token()
        assert again.status_code == 400 and error_of(again) == "invalid_grant"
        assert (await http.get(offer["credential_offer_uri"])).status_code == 404
        # the access token obtained this configuration: asked again, it is refused for good (§8.3.1.2)
        reused = await wallet.receive(1)
        assert reused.status_code == 400 and error_of(reused) == "credential_request_denied", reused.text
        assert "already delivered" in reused.json()["error_description"]
    # on Kafka: created and redeemed (no personal data), and the credential's CredentialIssued with its personal
    # fields (the SD-JWT VC among them) sealed, never in clear
    events, _ = await offer_events(infrastructure, offer["offer_id"])
    assert [type(e).__name__ for e in events] == ["CredentialOfferCreated", "CredentialOfferRedeemed"]
    created, redeemed = events
    assert created.issuer_id == UNI and not created.tx_code_required
    assert len(redeemed.credential_ids) == 1
    _, issued = await offer_events(infrastructure, offer["offer_id"], tuple(redeemed.credential_ids))
    assert len(issued) == 1 and isinstance(issued[0], events_pb2.CredentialIssued)
    assert issued[0].sealed_personal and not issued[0].sd_jwt_vc and not issued[0].credential_json


async def test_pre_authorized_code_with_tx_code(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, document_ca = stack
    [offer] = await create_offers(harness, tx_code=True)
    tx_code = offer["tx_code"]
    assert len(tx_code) == 6 and tx_code.isdigit()
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        grant = wallet.offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        assert grant["tx_code"]["input_mode"] == "numeric" and grant["tx_code"]["length"] == 6
        # §6.3: a missing tx_code is invalid_request, and counts no attempt (3 wrong ones lock the offer here)
        for _ in range(4):
            missing = await wallet.token()
            assert missing.status_code == 400 and error_of(missing) == "invalid_request", missing.text
            assert "tx_code" in missing.json()["error_description"]
        for _ in range(2):
            wrong = await wallet.token(tx_code="000000" if tx_code != "000000" else "111111")
            assert wrong.status_code == 400 and error_of(wrong) == "invalid_grant"
        token = await wallet.token(tx_code=tx_code)
        assert token.status_code == 200, token.text
        answer = await wallet.receive(1)
        assert answer.status_code == 200, answer.text
        credential = answer.json()["credentials"][0]["credential"]
        report = await verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", report["checks"]


async def test_a_tx_code_the_offer_does_not_expect_is_invalid_request_and_changes_nothing(
        stack: tuple[IssuerHarness, bytes]) -> None:
    """§6.3: a Transaction Code sent for an offer that expects none is invalid_request; the code is not spent."""
    harness, _ = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        unexpected = await wallet.token(tx_code="123456")
        assert unexpected.status_code == 400 and error_of(unexpected) == "invalid_request", unexpected.text
        assert "no tx_code" in unexpected.json()["error_description"]
        assert (await http.get(offer["credential_offer_uri"])).status_code == 200  # still offered
        assert (await wallet.token()).status_code == 200


async def test_wrong_tx_codes_lock_the_offer(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    [offer] = await create_offers(harness, tx_code=True)
    wrong = "000000" if offer["tx_code"] != "000000" else "111111"
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        for _ in range(3):  # oid4vci_max_tx_attempts=3
            assert error_of(await wallet.token(tx_code=wrong)) == "invalid_grant"
        locked = await wallet.token(tx_code=offer["tx_code"])
        assert locked.status_code == 400 and error_of(locked) == "invalid_grant"
        assert "locked" in locked.json()["error_description"]


async def test_one_token_obtains_each_offered_configuration_once(stack: tuple[IssuerHarness, bytes],
                                                                infrastructure: Infrastructure) -> None:
    """§6.2: the token response's credential_identifiers name what "can be issued using the Access Token"; a wallet
    that asks for every offered configuration (as walt.id does) gets each once, by credential_identifier, asked
    concurrently on two replicas; the same configuration again is credential_request_denied. The award is the
    token's (it expires with it) and goes once both are delivered; both deliveries' notification ids are taken."""
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    replica = second_replica(harness)
    await replica.start()
    assert harness.app.redis is not None and replica.rest is not None
    redis, prefix = harness.app.redis, harness.app.settings.issuer_redis_prefix
    try:
        async with wallet_http(harness) as http:
            wallet = Wallet(http)
            await wallet.take_offer(offer["link"])
            token = await wallet.token()
            assert token.status_code == 200, token.text
            identifiers = {d["credential_configuration_id"]: d["credential_identifiers"]
                           for d in token.json()["authorization_details"]}
            assert identifiers == {SD_JWT_CONFIGURATION: [SD_JWT_CONFIGURATION],
                                   LDP_CONFIGURATION: [LDP_CONFIGURATION]}
            token_key = f"{prefix}:o4i:token:{hashlib.sha256(wallet.access_token.encode()).hexdigest()}"
            assert await redis.hexists(token_key, "award")  # moved from the offer at redemption
            assert not await redis.hexists(f"{prefix}:o4i:offer:{offer['offer_id']}", "award")
            assert 0 < await redis.ttl(token_key) <= OfferSettings().token_seconds

            url = wallet.metadata["credential_endpoint"]
            hosts = [url, url.replace(base(harness), f"https://localhost:{replica.rest.port}")]

            async def ask(identifier: str, host: str) -> httpx.Response:
                key = ec.generate_private_key(ec.SECP256R1())
                return await http.post(host, headers={"Authorization": f"Bearer {wallet.access_token}"}, json={
                    "credential_identifier": identifier, "proofs": {"jwt": [key_proof(key, wallet.issuer,
                                                                                      await wallet.nonce())]}})

            answers = await asyncio.gather(*(ask(identifier, host) for identifier in (SD_JWT_CONFIGURATION,
                                                                                      LDP_CONFIGURATION)
                                             for host in hosts * 2))
            sd_jwt, ldp = answers[:4], answers[4:]
            for asked in (sd_jwt, ldp):  # each configuration once, whichever replica got it
                assert sorted(a.status_code for a in asked) == [200, 400, 400, 400], [a.text for a in asked]
                assert all(error_of(a) == "credential_request_denied" for a in asked if a.status_code == 400)
            [sd_jwt_answer] = [a.json() for a in sd_jwt if a.status_code == 200]
            [ldp_answer] = [a.json() for a in ldp if a.status_code == 200]
            assert isinstance(sd_jwt_answer["credentials"][0]["credential"], str)
            assert "AchievementCredential" in ldp_answer["credentials"][0]["credential"]["type"]
            report = await verify_at_gateway(harness, document_ca, sd_jwt_answer["credentials"][0]["credential"])
            assert report["verdict"] == "valid", report["checks"]
            # both delivered: the token is spent and the award gone; either configuration again is refused
            assert not await redis.hexists(token_key, "award")
            again = await ask(SD_JWT_CONFIGURATION, hosts[0])
            assert again.status_code == 400 and error_of(again) == "credential_request_denied"
            assert "already delivered" in again.json()["error_description"]
            for answer in (sd_jwt_answer, ldp_answer):  # each delivery's notification id is taken
                assert (await wallet.notify(answer["notification_id"])).status_code == 204
    finally:
        await replica.stop()
    events, _ = await offer_events(infrastructure, offer["offer_id"])
    assert [type(e).__name__ for e in events] == ["CredentialOfferCreated", "CredentialOfferRedeemed",
                                                  "CredentialOfferRedeemed"]  # one per delivery


async def test_batch_of_three_instances_with_distinct_keys(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        answer = await wallet.receive(3)
        assert answer.status_code == 200, answer.text
        credentials = [c["credential"] for c in answer.json()["credentials"]]
    assert len(credentials) == 3 and len(set(credentials)) == 3
    assert [cnf_of(c) for c in credentials] == [public_jwk_of(k) for k in wallet.keys]
    assert len({json.dumps(cnf_of(c), sort_keys=True) for c in credentials}) == 3
    for credential in credentials:
        report = await verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", report["checks"]


async def test_encrypted_requests_and_responses(stack: tuple[IssuerHarness, bytes]) -> None:
    """§10: the metadata offers both directions (ECDH-ES, A128GCM and A256GCM, not required); a batch requested
    in a JWE to the issuer's key, with the response encrypted to the wallet's, comes back as a JWE that decrypts to
    the credentials; another replica decrypts what was encrypted to the key the first one's metadata names."""
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    replica = second_replica(harness)
    await replica.start()
    try:
        assert replica.rest is not None
        async with wallet_http(harness) as http:
            wallet = Wallet(http)
            await wallet.take_offer(offer["link"])
            request_encryption = wallet.metadata["credential_request_encryption"]
            assert request_encryption["enc_values_supported"] == ["A128GCM", "A256GCM"]
            assert request_encryption["encryption_required"] is False
            [issuer_key] = request_encryption["jwks"]["keys"]
            assert issuer_key["alg"] == "ECDH-ES" and issuer_key["use"] == "enc" and issuer_key["kid"]
            assert "d" not in issuer_key
            assert wallet.metadata["credential_response_encryption"] == {
                "alg_values_supported": ["ECDH-ES"], "enc_values_supported": ["A128GCM", "A256GCM"],
                "encryption_required": False}
            other = (await http.get(f"https://localhost:{replica.rest.port}/.well-known/openid-credential-issuer"))
            assert other.json()["credential_request_encryption"]["jwks"]["keys"] == [issuer_key]
            assert (await wallet.token()).status_code == 200
            nonce = await wallet.nonce()
            keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(2)]
            wallet.metadata["credential_endpoint"] = wallet.metadata["credential_endpoint"].replace(
                base(harness), f"https://localhost:{replica.rest.port}")  # sent to the other replica
            response, answer = await wallet.encrypted("credential_endpoint", {
                "credential_configuration_id": wallet.offer["credential_configuration_ids"][0],
                "proofs": {"jwt": [key_proof(k, wallet.issuer, nonce) for k in keys]}})
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/jwt"
            assert response.headers["cache-control"] == "no-store"
            assert answer is not None and "credential" not in response.text
    finally:
        await replica.stop()
    credentials = [c["credential"] for c in answer["credentials"]]
    assert [cnf_of(c) for c in credentials] == [public_jwk_of(k) for k in keys]
    for credential in credentials:
        report = await verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", report["checks"]


async def test_concurrent_redemptions_issued_together_each_get_their_own_credential(
        stack: tuple[IssuerHarness, bytes], infrastructure: Infrastructure) -> None:
    """Twelve wallets redeem twelve offers at once (the issuer gathers their issuances into batches): each gets
    one credential, bound to its own key, for its own offer, redeemed once; a bad proof among them changes only
    its own request."""
    harness, document_ca = stack
    offers = await create_offers(harness, 13)
    clients = [wallet_http(harness) for _ in offers]
    try:
        wallets = [Wallet(http) for http in clients]
        for wallet, offer in zip(wallets, offers, strict=True):
            await wallet.take_offer(offer["link"])
            assert (await wallet.token()).status_code == 200
        good, spoiled = wallets[:12], wallets[12]
        nonce = await spoiled.nonce()
        bad_proof = key_proof(ec.generate_private_key(ec.SECP256R1()), "https://elsewhere.example", nonce)
        answers = await asyncio.gather(*(w.receive(1) for w in good), spoiled.credential([bad_proof]))
    finally:
        for http in clients:
            await http.aclose()
    assert [a.status_code for a in answers] == [200] * 12 + [400], [a.text for a in answers]
    assert error_of(answers[12]) == "invalid_proof"
    credentials = [a.json()["credentials"][0]["credential"] for a in answers[:12]]
    assert [cnf_of(c) for c in credentials] == [public_jwk_of(w.keys[0]) for w in good]
    assert len({a.json()["notification_id"] for a in answers[:12]}) == 12
    for credential in credentials[:2]:
        assert (await verify_at_gateway(harness, document_ca, credential))["verdict"] == "valid"
    redeemed_ids = []
    for offer in offers[:12]:
        events, _ = await offer_events(infrastructure, offer["offer_id"])
        assert [type(e).__name__ for e in events] == ["CredentialOfferCreated", "CredentialOfferRedeemed"]
        redeemed_ids.extend(events[1].credential_ids)
    assert len(set(redeemed_ids)) == 12
    events, _ = await offer_events(infrastructure, offers[12]["offer_id"])
    assert [type(e).__name__ for e in events] == ["CredentialOfferCreated"]  # the spoiled request issued nothing


async def test_expired_code(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    [offer] = await create_offers(harness, expires_in=1)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        deadline = time.monotonic() + 30
        while (await http.get(offer["credential_offer_uri"])).status_code != 404:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        expired = await wallet.token()
        assert expired.status_code == 400 and error_of(expired) == "invalid_grant"


async def test_withdrawn_offer(stack: tuple[IssuerHarness, bytes], infrastructure: Infrastructure) -> None:
    harness, _ = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        async with httpx.AsyncClient(base_url=base(harness), verify=_context(harness, True), timeout=30) as issuer:
            assert (await issuer.delete(f"/oid4vci/offers/{offer['offer_id']}")).status_code == 204
            assert (await issuer.delete(f"/oid4vci/offers/{offer['offer_id']}")).status_code == 409
        withdrawn = await wallet.token()
        assert withdrawn.status_code == 400 and error_of(withdrawn) == "invalid_grant"
        assert "withdrawn" in withdrawn.json()["error_description"]
    events, _ = await offer_events(infrastructure, offer["offer_id"])
    assert [type(e).__name__ for e in events] == ["CredentialOfferCreated", "CredentialOfferWithdrawn"]
    assert events[1].reason == "withdrawn"


async def test_bad_proofs_and_nonces_change_nothing(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        key = ec.generate_private_key(ec.SECP256R1())
        unknown = await wallet.credential([key_proof(key, wallet.issuer, "a-nonce-never-issued")])
        assert unknown.status_code == 400 and error_of(unknown) == "invalid_nonce"
        nonce = await wallet.nonce()
        other_aud = await wallet.credential([key_proof(key, "https://other-issuer.example", nonce)])
        assert other_aud.status_code == 400 and error_of(other_aud) == "invalid_proof"
        stale_iat = await wallet.credential([key_proof(key, wallet.issuer, nonce, iat=time.time() - 3600)])
        assert error_of(stale_iat) == "invalid_proof"
        wrong_typ = await wallet.credential([key_proof(key, wallet.issuer, nonce, typ="JWT")])
        assert error_of(wrong_typ) == "invalid_proof"
        no_token = await http.post(wallet.metadata["credential_endpoint"], json={})
        assert no_token.status_code == 401 and error_of(no_token) == "invalid_token"
        # RFC 6750 §3.1: no error code in the challenge of a request without authentication; both schemes offered
        assert no_token.headers["www-authenticate"] == 'Bearer, DPoP algs="ES256"'
        unknown_token = await http.post(wallet.metadata["credential_endpoint"], json={},
                                        headers={"Authorization": "Bearer not-a-token"})
        assert unknown_token.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        as_dpop = await http.post(wallet.metadata["credential_endpoint"], json={}, headers={
            "Authorization": "DPoP not-a-token", "DPoP": dpop_proof(key, "POST", wallet.metadata["credential_endpoint"],
                                                                    "not-a-token")})
        assert as_dpop.status_code == 401 and error_of(as_dpop) == "invalid_token"
        assert as_dpop.headers["www-authenticate"] == 'DPoP error="invalid_token", algs="ES256"'  # RFC 9449 §7.1
        # an encrypted response asked in a request in clear (§8.2: the key could be swapped), a JWE that does not
        # decrypt, a response key without its alg or with another curve: refused by name, not answered in clear
        url = wallet.metadata["credential_endpoint"]
        request = {"credential_configuration_id": wallet.offer["credential_configuration_ids"][0],
                   "proofs": {"jwt": [key_proof(key, wallet.issuer, nonce)]}}
        wants_jwe = await http.post(url, headers=wallet._auth("POST", url), json={
            **request, "credential_response_encryption": {"jwk": {**public_jwk_of(key), "alg": "ECDH-ES"},
                                                          "enc": "A128GCM"}})
        assert wants_jwe.status_code == 400 and error_of(wants_jwe) == "invalid_encryption_parameters"
        sent_jwe = await http.post(url, content=b"eyJhbGciOiJFQ0RILUVTIn0..a.b.c",
                                   headers={**wallet._auth("POST", url), "content-type": "application/jwt"})
        assert sent_jwe.status_code == 400 and error_of(sent_jwe) == "invalid_encryption_parameters"
        retired = JWK.generate(kty="EC", crv="P-256", kid="a-retired-key")  # a key the issuer does not take (now)
        to_retired = JWE(json.dumps(request).encode(),
                         protected=json.dumps({"alg": "ECDH-ES", "enc": "A128GCM", "kid": "a-retired-key"}))
        to_retired.add_recipient(retired)
        refused = await http.post(url, content=to_retired.serialize(compact=True),
                                  headers={**wallet._auth("POST", url), "content-type": "application/jwt"})
        assert refused.status_code == 400 and error_of(refused) == "invalid_encryption_parameters"
        assert "does not take" in refused.json()["error_description"]
        for bad in ({"jwk": public_jwk_of(key), "enc": "A128GCM"},  # no alg on the key
                    {"jwk": {**public_jwk_of(key), "alg": "ECDH-ES"}, "enc": "A192CBC-HS384"},
                    {"jwk": {**public_jwk_of(key), "alg": "ECDH-ES"}, "enc": "A128GCM", "zip": "DEF"}):
            refused, _ = await wallet.encrypted("credential_endpoint", {**request, "credential_response_encryption":
                                                                        bad}, response_enc=None)
            assert refused.status_code == 400 and error_of(refused) == "invalid_encryption_parameters", bad
        # none of that spent the nonce or the token
        good = await wallet.credential([key_proof(key, wallet.issuer, nonce)])
        assert good.status_code == 200, good.text
        report = await verify_at_gateway(harness, document_ca, good.json()["credentials"][0]["credential"])
        assert report["verdict"] == "valid", report["checks"]
        # a used nonce is stale for the next offer's wallet
        [second] = await create_offers(harness)
        other = Wallet(http)
        await other.take_offer(second["link"])
        assert (await other.token()).status_code == 200
        stale = await other.credential([key_proof(key, other.issuer, nonce)])
        assert stale.status_code == 400 and error_of(stale) == "invalid_nonce"


async def test_an_ed25519_key_proof_binds_the_sd_jwt_vc_to_an_okp_key(stack: tuple[IssuerHarness, bytes]) -> None:
    """An EdDSA key proof (Ed25519 key, signed with joserfc): the SD-JWT VC's ``cnf.jwk`` is that OKP key and the
    gateway reports the credential valid."""
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        sd = wallet.metadata["credential_configurations_supported"][SD_JWT_CONFIGURATION]
        assert sd["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256", "EdDSA", "Ed25519"]
        assert (await wallet.token()).status_code == 200
        keys = [OKPKey.generate_key("Ed25519") for _ in range(2)]
        nonce = await wallet.nonce()  # a batch of two: the algorithm named as RFC 8037 does, and as RFC 9864 does
        answer = await wallet.credential([ed25519_proof(keys[0], wallet.issuer, nonce),
                                          ed25519_proof(keys[1], wallet.issuer, nonce, alg="Ed25519")])
        assert answer.status_code == 200, answer.text
        for key, item in zip(keys, answer.json()["credentials"], strict=True):
            credential = item["credential"]
            assert cnf_of(credential) == {"kty": "OKP", "crv": "Ed25519", "x": key.as_dict(private=False)["x"]}
            report = await verify_at_gateway(harness, document_ca, credential)
            assert report["verdict"] == "valid", report["checks"]


async def test_invalid_award_creates_no_offer(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    bad = json_format.MessageToDict(valid_micro_credential())
    bad.pop("title", None)
    async with httpx.AsyncClient(base_url=base(harness), verify=_context(harness, True), timeout=30) as http:
        response = await http.post("/oid4vci/offers", json={"credentials": [bad]})
        anonymous = await httpx.AsyncClient(base_url=base(harness), verify=_context(harness, False)).post(
            "/oid4vci/offers", json={"credentials": [bad]})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "credentials[0]"
    assert anonymous.status_code == 401


async def test_a_body_that_is_not_strict_json_is_refused_naming_the_body(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    award = json_format.MessageToDict(valid_micro_credential())
    hostile = [b'{"credentials": [NaN]}', b'{"credentials": ["\\ud800"]}',
               b"[" * 100_000 + b"]" * 100_000, b'{"credentials": [\xff]}', b"{", b""]
    async with httpx.AsyncClient(base_url=base(harness), verify=_context(harness, True), timeout=30) as http:
        for body in hostile:
            response = await http.post("/oid4vci/offers", content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (body[:40], response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["field"] == "body"
        # a number past 64 bits is no JSON error: it reaches the award's validation, which names its field
        award["workload"] = {"creditPoints": 10 ** 30}
        big = await http.post("/oid4vci/offers", json={"credentials": [award]})
        assert big.status_code == 400 and big.json()["field"] == "credentials[0]", big.text


async def test_dpop_bound_token_and_replayed_proof(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        dpop_key = ec.generate_private_key(ec.SECP256R1())
        wallet = Wallet(http, dpop_key=dpop_key)
        await wallet.take_offer(offer["link"])
        assert "ES256" in wallet.as_metadata["dpop_signing_alg_values_supported"]
        token = await wallet.token()
        assert token.status_code == 200 and token.json()["token_type"] == "DPoP", token.text
        url = wallet.metadata["credential_endpoint"]
        nonce = await wallet.nonce()
        key = ec.generate_private_key(ec.SECP256R1())
        body = {"credential_configuration_id": wallet.offer["credential_configuration_ids"][0],
                "proofs": {"jwt": [key_proof(key, wallet.issuer, nonce)]}}
        as_bearer = await http.post(url, json=body, headers={"Authorization": f"Bearer {wallet.access_token}"})
        assert as_bearer.status_code == 401 and error_of(as_bearer) == "invalid_dpop_proof"
        # a DPoP-bound token: the DPoP scheme's challenge, even to a request that said Bearer (RFC 9449 §7.1)
        assert as_bearer.headers["www-authenticate"] == 'DPoP error="invalid_dpop_proof", algs="ES256"'
        thief = Wallet(http, dpop_key=ec.generate_private_key(ec.SECP256R1()), access_token=wallet.access_token,
                       offer=wallet.offer, metadata=wallet.metadata)
        stolen = await thief.credential(body["proofs"]["jwt"])
        assert stolen.status_code == 401 and error_of(stolen) == "invalid_dpop_proof"
        answer = await wallet.credential(body["proofs"]["jwt"])
        assert answer.status_code == 200, answer.text
        report = await verify_at_gateway(harness, document_ca, answer.json()["credentials"][0]["credential"])
        assert report["verdict"] == "valid", report["checks"]
        notify_url = wallet.metadata["notification_endpoint"]
        once = dpop_proof(dpop_key, "POST", notify_url, wallet.access_token)
        note = {"notification_id": answer.json()["notification_id"], "event": "credential_accepted"}
        headers = {"Authorization": f"DPoP {wallet.access_token}", "DPoP": once}
        assert (await http.post(notify_url, json=note, headers=headers)).status_code == 204
        replayed = await http.post(notify_url, json=note, headers=headers)
        assert replayed.status_code == 401 and error_of(replayed) == "invalid_dpop_proof"
        assert "replayed" in replayed.json()["error_description"]


def second_replica(harness: IssuerHarness) -> IssuerApp:
    """Another issuer replica on the same Redis, Kafka and key store (REST on a port of its own)."""
    s = harness.app.settings
    return IssuerApp(s.model_copy(update={"grpc_port": 0, "rest_port": 0, "oid4vci_issuer_url": base(harness),
                                          "issuer_consumer_group": f"{s.issuer_consumer_group}-r2"}))


async def test_a_replica_starting_on_an_intact_redis_makes_no_replica_refuse_codes(
        stack: tuple[IssuerHarness, bytes]) -> None:
    """The stored offer positions lag the topic's end between advances, but what lies between is in Redis: a
    replica that starts then must not start a replay, during which every replica answers codes with "try
    again" (it did: the test below saw 503s when the topic was long enough for the replay to last)."""
    harness, _ = stack
    projection = harness.app.offer_projection
    assert projection is not None
    [offer] = await create_offers(harness)  # the topic's end moves past the stored positions
    replica = second_replica(harness)
    await replica.start()
    try:
        assert replica.offer_projection is not None and replica.offer_projection.replays == 0
        assert not replica.offer_projection.replaying and not await projection.lost()
        async with wallet_http(harness) as http:
            wallet = Wallet(http)
            await wallet.take_offer(offer["link"])
            answer = await wallet.token()
        assert answer.status_code == 200, answer.text
    finally:
        await replica.stop()


async def test_a_code_and_a_token_are_redeemed_once_across_replicas(stack: tuple[IssuerHarness, bytes]) -> None:
    """A second issuer replica on the same Redis, Kafka and key store: the same code sent to both at once gives
    one access token; the same token sent to both at once for one configuration gives one credential response (the
    others credential_request_denied: being issued, or delivered)."""
    harness, _ = stack
    replica = second_replica(harness)
    await replica.start()
    try:
        assert replica.rest is not None
        other = f"https://localhost:{replica.rest.port}"
        [offer] = await create_offers(harness)
        async with wallet_http(harness) as http:
            wallet = Wallet(http)
            await wallet.take_offer(offer["link"])
            code = wallet.offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"][
                "pre-authorized_code"]
            form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": code}
            answers = await asyncio.gather(*(http.post(f"{host}/oid4vci/token", data=form)
                                             for host in [base(harness), other] * 8))
            assert sorted(a.status_code for a in answers) == [200] + [400] * 15
            assert all(error_of(a) == "invalid_grant" for a in answers if a.status_code == 400)
            token = next(a for a in answers if a.status_code == 200).json()["access_token"]
            nonces = [await wallet.nonce() for _ in range(6)]
            keys = [ec.generate_private_key(ec.SECP256R1()) for _ in nonces]
            requests = [http.post(f"{host}/oid4vci/credential", headers={"Authorization": f"Bearer {token}"},
                                  json={"credential_configuration_id": wallet.offer["credential_configuration_ids"][0],
                                        "proofs": {"jwt": [key_proof(key, wallet.issuer, nonce)]}})
                        for host, key, nonce in zip([base(harness), other] * 3, keys, nonces, strict=True)]
            results = await asyncio.gather(*requests)
        assert sorted(r.status_code for r in results) == [200] + [400] * 5, [r.text for r in results]
        assert all(error_of(r) == "credential_request_denied" for r in results if r.status_code == 400)
    finally:
        await replica.stop()


async def test_offers_over_grpc(stack: tuple[IssuerHarness, bytes]) -> None:
    """CreateOffers (mTLS gRPC, as IssueCredentials): offers a wallet redeems; an invalid award makes none."""
    harness, document_ca = stack
    stub = harness.issuer_stub(UNI, AGENCY)
    bad = valid_micro_credential()
    bad.ClearField("title")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateOffers(issuer_pb2.CreateOffersRequest(credentials=[valid_micro_credential(), bad]))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "credentials[1]" in (refused.value.details() or "")
    beyond = issuer_pb2.CreateOffersRequest(credentials=[valid_micro_credential()])
    beyond.not_before.seconds = 10**15  # not an instant (reading it raised: the call failed UNKNOWN)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateOffers(beyond)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not_before" in (refused.value.details() or "")
    answer = await stub.CreateOffers(issuer_pb2.CreateOffersRequest(
        credentials=[valid_micro_credential(), valid_micro_credential()], tx_code=True))
    assert len(answer.offers) == 2 and len({o.offer_id for o in answer.offers}) == 2
    offer = answer.offers[1]
    assert offer.link.startswith("openid-credential-offer://") and len(offer.tx_code) == 6
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer.link)
        assert (await wallet.token(tx_code=offer.tx_code)).status_code == 200
        received = await wallet.receive(1)
        assert received.status_code == 200, received.text
    report = await verify_at_gateway(harness, document_ca, received.json()["credentials"][0]["credential"])
    assert report["verdict"] == "valid", report["checks"]
