"""Interoperability with an independent OpenID4VCI 1.0 wallet: the OpenWallet Foundation's @openid4vc/openid4vci
client (oid4vc-ts, the library behind Credo's wallets), driven by tests/interop/oid4vci_wallet.mjs under node.

The running issuer (HTTPS on port 0, real Kafka and Redis, its revocation service) makes offers; the library
resolves each offer by reference and the issuer's metadata, takes the pre-authorized code (with a ``tx_code`` when
the offer asks for one, with DPoP when asked to), fetches a nonce, proves its keys with ``openid4vci-proof+jwt``
and receives the credentials. Each credential then verifies in the platform's verifier pipeline and names the key
the library proved. What the library refuses or the issuer refuses is asserted by its OAuth error code.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from google.protobuf import json_format
from jwt.algorithms import ECAlgorithm

from microcred import pki
from microcred.oid4vci.holder_did import holder_did_key
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION
from microcred.sdjwt.x5c import x5c_header
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import Wallet
from tests.harness.wallet_attestation import WalletProvider
from tests.integration import test_oid4vci, test_oid4vci_ldp
from tests.interop import node_env

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"agency-owf-{TAG}"
UNI = f"uni-owf-{TAG}"
WALLET = node_env.INTEROP / "oid4vci_wallet.mjs"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[tuple[IssuerHarness, bytes, dict[str, str]]]:
    """The issuer service with its REST app and revocation service, this module's issuer onboarded, and the
    environment that lets node trust the platform's CA."""
    work = tmp_path_factory.mktemp("oid4vci-interop")
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY)
    ca_file = work / "platform-ca.pem"
    ca_file.write_bytes(harness.ca.cert_pem)
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        yield harness, document_ca.cert_pem, {"NODE_EXTRA_CA_CERTS": str(ca_file)}
    finally:
        await harness.close()


async def _offer(harness: IssuerHarness, *, issuer: tuple[str, str] = (UNI, AGENCY), **options: Any
                 ) -> dict[str, Any]:
    """One offer made by ``issuer`` (this module's, unless given) over REST (its client certificate)."""
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
    cert = pki.create_client_cert(harness.ca, *issuer, pki.ROLE_ISSUER)
    cert_path, key_path = cert.write(Path(harness.work_dir) / f"client-{uuid.uuid4().hex[:8]}", "client")
    context.load_cert_chain(str(cert_path), str(key_path))
    body = {"credentials": [json_format.MessageToDict(valid_micro_credential())], **options}
    async with httpx.AsyncClient(base_url=test_oid4vci.base(harness), verify=context, timeout=30) as http:
        response = await http.post("/oid4vci/offers", json=body)
    assert response.status_code == 201, response.text
    [offer] = response.json()["offers"]
    assert isinstance(offer, dict)
    return offer


async def _wallet(env: dict[str, str], **request: Any) -> dict[str, Any]:
    """The library's answer for one request (in a thread: the issuer serves from this test's event loop)."""
    return await asyncio.to_thread(node_env.run, request, WALLET, env)


def _cnf(credential: str) -> dict[str, Any]:
    payload = jwt.decode(credential.split("~")[0], options={"verify_signature": False})
    jwk: dict[str, Any] = payload["cnf"]["jwk"]
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


async def test_a_batch_of_sd_jwt_vcs_with_dpop_and_notification(
        stack: tuple[IssuerHarness, bytes, dict[str, str]]) -> None:
    harness, document_ca, env = stack
    offer = await _offer(harness)
    answer = await _wallet(env, offer=offer["link"], proofs=3, dpop=True, notify="credential_accepted",
                           redeem_twice=True)
    assert "error" not in answer, answer
    assert answer["offered"] == [SD_JWT_CONFIGURATION, LDP_CONFIGURATION]
    assert answer["configuration"] == SD_JWT_CONFIGURATION
    assert answer["token_type"] == "DPoP"  # the token is bound to the library's DPoP key
    credentials, holders = answer["credentials"], answer["holder_jwks"]
    assert len(credentials) == 3 and len(set(credentials)) == 3
    # one instance per proved key, each bound (cnf) to its own key
    assert [_cnf(c) for c in credentials] == [{k: h[k] for k in ("kty", "crv", "x", "y")} for h in holders]
    for credential in credentials:
        report = await test_oid4vci.verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
    assert answer["notification_id"] and answer["notified"] == 204
    # the pre-authorized code was spent: the library's second redemption is refused with invalid_grant
    assert answer["second_redemption_error"]["oauth_error"] == "invalid_grant", answer["second_redemption_error"]


async def test_signed_metadata_checked_by_the_library(stack: tuple[IssuerHarness, bytes, dict[str, str]]) -> None:
    """OpenID4VCI §12.2.3 / HAIP: the library asks for signed metadata, checks its x5c chain to the document CA and
    its signature, and redeems with it; the same chain against another CA fails the library's check."""
    harness, document_ca, env = stack
    offer = await _offer(harness)
    answer = await _wallet(env, offer=offer["link"], metadata_anchor_pem=document_ca.decode())
    assert "error" not in answer, answer
    assert answer["metadata_signed"] is True and answer["metadata_sub"] == test_oid4vci.base(harness)
    [credential] = answer["credentials"]
    report = await test_oid4vci.verify_at_gateway(harness, document_ca, credential)
    assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
    refused = await _wallet(env, offer=(await _offer(harness))["link"],
                            metadata_anchor_pem=harness.ca.cert_pem.decode())
    assert "verification failed" in refused.get("error", {}).get("message", ""), refused
    # a wallet that cannot check signatures is served JSON, as before
    plain = await _wallet(env, offer=(await _offer(harness))["link"])
    assert "error" not in plain and plain["metadata_signed"] is False, plain


async def test_an_ob3_ldp_vc_with_a_tx_code(stack: tuple[IssuerHarness, bytes, dict[str, str]]) -> None:
    harness, _, env = stack
    offer = await _offer(harness, tx_code=True)
    wrong = "000000" if offer["tx_code"] != "000000" else "111111"
    refused = await _wallet(env, offer=offer["link"], tx_code=wrong, configuration=LDP_CONFIGURATION)
    assert refused.get("error", {}).get("oauth_error") == "invalid_grant", refused
    answer = await _wallet(env, offer=offer["link"], tx_code=offer["tx_code"], configuration=LDP_CONFIGURATION)
    assert "error" not in answer, answer
    [credential] = answer["credentials"]
    assert isinstance(credential, dict) and "AchievementCredential" in credential["type"]
    [holder] = answer["holder_jwks"]
    assert credential["credentialSubject"]["id"] == holder_did_key({k: holder[k] for k in ("kty", "crv", "x", "y")})
    report = await test_oid4vci_ldp.verify_at_gateway(harness, credential)
    assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


async def test_the_authorization_code_flow_with_par_and_pkce(
        stack: tuple[IssuerHarness, bytes, dict[str, str]]) -> None:
    harness, document_ca, env = stack
    offer = await _offer(harness)
    answer = await _wallet(env, offer=offer["link"], flow="authorization_code", dpop=True, redeem_twice=True)
    assert "error" not in answer, answer
    [credential] = answer["credentials"]
    assert answer["token_type"] == "DPoP"
    [holder] = answer["holder_jwks"]
    assert _cnf(credential) == {k: holder[k] for k in ("kty", "crv", "x", "y")}
    report = await test_oid4vci.verify_at_gateway(harness, document_ca, credential)
    assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
    # the offer was redeemed: pushing another authorization request for it is refused
    assert answer["second_redemption_error"]["oauth_error"] == "invalid_request", answer["second_redemption_error"]


async def test_an_ob3_ldp_vc_to_a_holder_that_names_its_did_key_by_kid(
        stack: tuple[IssuerHarness, bytes, dict[str, str]]) -> None:
    """The ldp_vc configuration binds to did:key: the library's `did` signer puts the holder's did:key DID URL in
    the proof's kid (Appendix F.1) instead of a jwk; the credential's subject is that DID."""
    harness, _, env = stack
    offer = await _offer(harness)
    answer = await _wallet(env, offer=offer["link"], configuration=LDP_CONFIGURATION, holder="did:key")
    assert "error" not in answer, answer
    [credential] = answer["credentials"]
    [holder] = answer["holder_jwks"]
    assert credential["credentialSubject"]["id"] == holder_did_key({k: holder[k] for k in ("kty", "crv", "x", "y")})
    report = await test_oid4vci_ldp.verify_at_gateway(harness, credential)
    assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


async def test_a_holder_that_names_its_key_by_a_did_jwk(stack: tuple[IssuerHarness, bytes, dict[str, str]]) -> None:
    """did:jwk, as the metadata lists it for ldp_vc: the library's `did` signer puts a did:jwk DID URL (the bridge
    serialises the JWK as node's JSON.stringify does) in the kid of a batch of two proofs. The ldp_vc subjects are
    those DIDs exactly as the wallet wrote them; an SD-JWT VC's cnf is the key such a DID holds."""
    harness, document_ca, env = stack
    offer = await _offer(harness)
    answer = await _wallet(env, offer=offer["link"], configuration=LDP_CONFIGURATION, holder="did:jwk", proofs=2)
    assert "error" not in answer, answer
    dids = answer["holder_dids"]
    assert len(dids) == 2 and all(d.startswith("did:jwk:") and d.endswith("#0") for d in dids)
    assert sorted(c["credentialSubject"]["id"] for c in answer["credentials"]) == sorted(d[:-2] for d in dids)
    for credential in answer["credentials"]:
        report = await test_oid4vci_ldp.verify_at_gateway(harness, credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
    offer = await _offer(harness)
    answer = await _wallet(env, offer=offer["link"], holder="did:jwk")
    assert "error" not in answer, answer
    [credential], [holder] = answer["credentials"], answer["holder_jwks"]
    assert _cnf(credential) == {k: holder[k] for k in ("kty", "crv", "x", "y")}
    report = await test_oid4vci.verify_at_gateway(harness, document_ca, credential)
    assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


ATTESTED = (f"uni-owf-att-{TAG}", f"agency-owf-att-{TAG}")


@pytest.fixture(scope="module")
async def attested(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[tuple[IssuerHarness, bytes, dict[str, str], WalletProvider]]:
    """An issuer that requires wallets to authenticate by their attestation and their keys to be attested (HAIP
    1.0), trusting one test wallet provider for both."""
    work = tmp_path_factory.mktemp("oid4vci-attested")
    provider = WalletProvider()
    anchors = work / "wallet-providers.pem"
    anchors.write_bytes(provider.ca.cert_pem)
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, ATTESTED[1],
        oid4vci_wallet_attestation_anchors_file=anchors, oid4vci_require_wallet_attestation=True,
        oid4vci_key_attestation_anchors_file=anchors, oid4vci_require_key_attestation=True,
        oid4vci_key_storage_accepted=["iso_18045_high"])
    ca_file = work / "platform-ca.pem"
    ca_file.write_bytes(harness.ca.cert_pem)
    try:
        await harness.onboard(ATTESTED[1], {ATTESTED[0]: 7})
        yield harness, document_ca.cert_pem, {"NODE_EXTRA_CA_CERTS": str(ca_file)}, provider
    finally:
        await harness.close()


async def test_a_wallet_authenticated_by_its_attestation(
        attested: tuple[IssuerHarness, bytes, dict[str, str], WalletProvider]) -> None:
    """The library authenticates by attest_jwt_client_auth (the attestation and a PoP it signs with the instance
    key) at the token endpoint and at PAR; without an attestation the issuer refuses it with invalid_client."""
    harness, document_ca, env, provider = attested
    instance = ECAlgorithm.to_jwk(provider.instance, as_dict=True)
    attestation = provider.attestation("oid4vc-ts-interop-wallet")
    for flow in ("pre-authorized_code", "authorization_code"):
        offer = await _offer(harness, issuer=ATTESTED)
        answer = await _wallet(env, offer=offer["link"], flow=flow, dpop=True, client_attestation=attestation,
                               instance_private_jwk=instance, key_attestation=_key_attestation(provider, "jwt", 1))
        assert "error" not in answer, (flow, answer)
        [credential] = answer["credentials"]
        report = await test_oid4vci.verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
    offer = await _offer(harness, issuer=ATTESTED)
    refused = await _wallet(env, offer=offer["link"])  # a public client
    assert refused["error"]["oauth_error"] == "invalid_client", refused
    untrusted = WalletProvider()  # a provider this issuer does not trust
    refused = await _wallet(env, offer=offer["link"], client_attestation=untrusted.attestation(
        "oid4vc-ts-interop-wallet"), instance_private_jwk=ECAlgorithm.to_jwk(untrusted.instance, as_dict=True))
    assert refused["error"]["oauth_error"] == "invalid_client", refused
    async with httpx.AsyncClient(verify=ssl.create_default_context(cadata=harness.ca.cert_pem.decode())) as http:
        metadata = (await http.get(test_oid4vci.base(harness) + "/.well-known/oauth-authorization-server")).json()
    assert metadata["token_endpoint_auth_methods_supported"] == ["attest_jwt_client_auth"]
    assert metadata["pre-authorized_grant_anonymous_access_supported"] is False


def _key_attestation(provider: WalletProvider, proof_type: str, keys: int, key_storage: tuple[str, ...] = (
        "iso_18045_high",)) -> dict[str, Any]:
    """What the bridge needs to sign key attestations as ``provider`` with the library."""
    return {"provider_private_jwk": ECAlgorithm.to_jwk(provider.key, as_dict=True),
            "provider_x5c": x5c_header([provider.cert.cert_pem]), "proof_type": proof_type, "keys": keys,
            "key_storage": list(key_storage)}


async def test_keys_attested_by_the_wallet_provider(
        attested: tuple[IssuerHarness, bytes, dict[str, str], WalletProvider]) -> None:
    """The library signs a key attestation as the wallet provider (its own JWT, typ ``keyattestation+jwt`` as its
    version names it) and sends it in a jwt key proof's ``key_attestation`` header, or as the ``attestation``
    proof type; each attested key gets a credential bound to it. An attestation by a provider this issuer does not
    trust, or of a storage weaker than it accepts, is ``invalid_proof``."""
    harness, document_ca, env, provider = attested
    instance = ECAlgorithm.to_jwk(provider.instance, as_dict=True)
    client = {"client_attestation": provider.attestation("oid4vc-ts-interop-wallet"), "instance_private_jwk": instance}
    for proof_type, keys in (("jwt", 3), ("attestation", 2)):
        offer = await _offer(harness, issuer=ATTESTED)
        answer = await _wallet(env, offer=offer["link"], dpop=True, **client,
                               key_attestation=_key_attestation(provider, proof_type, keys))
        assert "error" not in answer, (proof_type, answer)
        assert len(answer["credentials"]) == keys
        assert [_cnf(c) for c in answer["credentials"]] == answer["holder_jwks"], proof_type
        report = await test_oid4vci.verify_at_gateway(harness, document_ca, answer["credentials"][-1])
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
    untrusted = WalletProvider()
    for proof_type, signer, storage in (("jwt", untrusted, "iso_18045_high"),
                                        ("attestation", provider, "iso_18045_moderate")):
        offer = await _offer(harness, issuer=ATTESTED)
        refused = await _wallet(env, offer=offer["link"], dpop=True, **client,
                                key_attestation=_key_attestation(signer, proof_type, 1, (storage,)))
        assert refused["error"]["oauth_error"] == "invalid_proof", refused


DI_VP = node_env.INTEROP / "di_vp_proof.mjs"


async def test_ldp_vcs_to_holders_proven_by_di_vp_presentations(
        stack: tuple[IssuerHarness, bytes, dict[str, str]]) -> None:
    """OpenID4VCI 1.0 Appendix F.2: the metadata offers the ``di_vp`` proof type for the ldp_vc configuration;
    Digital Bazaar's libraries sign two presentations (eddsa-rdfc-2022, proofPurpose authentication, the c_nonce as
    challenge, the issuer as domain) for two did:key holders; each credential's subject is its holder. The same
    presentations again (the nonce spent) and one for another domain are refused, naming why."""
    harness, _, _ = stack
    offer = await _offer(harness)
    async with test_oid4vci.wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        ldp = wallet.metadata["credential_configurations_supported"][LDP_CONFIGURATION]
        assert ldp["proof_types_supported"]["di_vp"] == {"proof_signing_alg_values_supported": ["eddsa-rdfc-2022"]}
        assert "di_vp" not in wallet.metadata["credential_configurations_supported"][SD_JWT_CONFIGURATION][
            "proof_types_supported"]
        assert (await wallet.token()).status_code == 200
        made = await asyncio.to_thread(node_env.run, {"challenge": await wallet.nonce(), "domain": wallet.issuer,
                                                      "count": 2}, DI_VP)
        assert "error" not in made, made
        answer = await wallet.credential(made["proofs"], LDP_CONFIGURATION, proof_type="di_vp")
        assert answer.status_code == 200, answer.text
        credentials = [c["credential"] for c in answer.json()["credentials"]]
        assert [c["credentialSubject"]["id"] for c in credentials] == made["holders"]
        for credential in credentials:
            report = await test_oid4vci_ldp.verify_at_gateway(harness, credential)
            assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]

    offer = await _offer(harness)
    async with test_oid4vci.wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        again = await wallet.credential(made["proofs"][:1], LDP_CONFIGURATION, proof_type="di_vp")
        assert again.status_code == 400 and again.json()["error"] == "invalid_nonce", again.text
        elsewhere = await asyncio.to_thread(node_env.run, {"challenge": await wallet.nonce(),
                                                           "domain": "https://other-issuer.example"}, DI_VP)
        refused = await wallet.credential(elsewhere["proofs"], LDP_CONFIGURATION, proof_type="di_vp")
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_proof", refused.text
        assert "domain" in refused.json()["error_description"]
        for_sd_jwt = await wallet.credential(elsewhere["proofs"], SD_JWT_CONFIGURATION, proof_type="di_vp")
        assert for_sd_jwt.status_code == 400 and for_sd_jwt.json()["error"] == "invalid_proof", for_sd_jwt.text
