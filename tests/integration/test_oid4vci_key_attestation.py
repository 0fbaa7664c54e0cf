"""Key attestations at the running issuer's credential endpoint (OpenID4VCI 1.0 Appendix D, HAIP 1.0: the ``jwt``
proof type with ``key_attestation`` and the ``attestation`` proof type), real Kafka and Redis, HTTPS on port 0, the
spec-written test wallet (tests/harness/oid4vci_wallet.py) and a test wallet provider (tests/harness/
wallet_attestation.py). This issuer requires attested keys whose storage resists a high or moderate attack
potential. Every attested key gets a credential bound to it, which verifies at the gateway; what is refused is
``invalid_proof`` (``invalid_nonce``) and spends nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.oid4vci.holder_did import holder_did_key
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION
from tests.conftest import Infrastructure
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import Wallet, key_proof, public_jwk_of
from tests.harness.wallet_attestation import WalletProvider, attested_key_proof
from tests.integration import test_oid4vci_ldp
from tests.integration.test_oid4vci import base, cnf_of, create_offers, error_of, verify_at_gateway, wallet_http

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"agency-ka-{TAG}"
UNI = f"uni-ka-{TAG}"
ACCEPTED = ["iso_18045_high", "iso_18045_moderate"]

Stack = tuple[IssuerHarness, bytes, WalletProvider]


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("oid4vci-key-attestation")
    provider = WalletProvider()
    anchors = work / "key-attestation-anchors.pem"
    anchors.write_bytes(provider.ca.cert_pem)
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY,
        oid4vci_key_attestation_anchors_file=anchors, oid4vci_require_key_attestation=True,
        oid4vci_key_storage_accepted=ACCEPTED)
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        yield harness, document_ca.cert_pem, provider
    finally:
        await harness.close()


def _keys(n: int) -> list[ec.EllipticCurvePrivateKey]:
    return [ec.generate_private_key(ec.SECP256R1()) for _ in range(n)]


async def _redeemed(harness: IssuerHarness, http: Any) -> Wallet:
    [offer] = await create_offers(harness, issuer=(UNI, AGENCY))
    wallet = Wallet(http)
    await wallet.take_offer(offer["link"])
    assert (await wallet.token()).status_code == 200
    return wallet


async def test_the_metadata_requires_attested_keys(stack: Stack) -> None:
    harness, _, _ = stack
    async with wallet_http(harness) as http:
        metadata = (await http.get(f"{base(harness)}/.well-known/openid-credential-issuer")).json()
    for configuration in metadata["credential_configurations_supported"].values():
        types = configuration["proof_types_supported"]
        assert types["jwt"]["key_attestations_required"] == {"key_storage": ACCEPTED}
        assert types["attestation"] == {"proof_signing_alg_values_supported": ["ES256", "EdDSA", "Ed25519"],
                                        "key_attestations_required": {"key_storage": ACCEPTED}}


async def test_one_jwt_proof_carrying_an_attestation_of_three_keys_gets_three_credentials(stack: Stack) -> None:
    harness, document_ca, provider = stack
    holders = _keys(3)
    async with wallet_http(harness) as http:
        wallet = await _redeemed(harness, http)
        nonce = await wallet.nonce()
        attestation = provider.key_attestation([public_jwk_of(k) for k in holders], nonce=nonce,
                                               key_storage=["iso_18045_moderate"])
        answer = await wallet.credential([attested_key_proof(holders[0], wallet.issuer, nonce, attestation)])
        assert answer.status_code == 200, answer.text
    credentials = [c["credential"] for c in answer.json()["credentials"]]
    assert [cnf_of(c) for c in credentials] == [public_jwk_of(k) for k in holders]
    for credential in credentials:
        report = await verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


async def test_the_attestation_proof_type_binds_each_attested_key(stack: Stack) -> None:
    harness, document_ca, provider = stack
    holders = _keys(2)
    jwks = [public_jwk_of(k) for k in holders]
    async with wallet_http(harness) as http:
        wallet = await _redeemed(harness, http)
        nonce = await wallet.nonce()
        answer = await wallet.credential([provider.key_attestation(jwks, nonce=nonce)], proof_type="attestation")
        assert answer.status_code == 200, answer.text
        assert [cnf_of(c["credential"]) for c in answer.json()["credentials"]] == jwks
        report = await verify_at_gateway(harness, document_ca, answer.json()["credentials"][1]["credential"])
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]
        # the ldp_vc configuration: each subject is the did:key of an attested key
        ldp = await _redeemed(harness, http)
        nonce = await ldp.nonce()
        answer = await ldp.credential([provider.key_attestation(jwks, nonce=nonce)], LDP_CONFIGURATION,
                                      proof_type="attestation")
        assert answer.status_code == 200, answer.text
    subjects = [c["credential"]["credentialSubject"]["id"] for c in answer.json()["credentials"]]
    assert subjects == [holder_did_key(jwk) for jwk in jwks]
    report = await test_oid4vci_ldp.verify_at_gateway(harness, answer.json()["credentials"][0]["credential"])
    assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


async def test_what_is_refused_spends_nothing(stack: Stack) -> None:
    harness, document_ca, provider = stack
    [holder] = _keys(1)
    jwk = public_jwk_of(holder)
    async with wallet_http(harness) as http:
        wallet = await _redeemed(harness, http)
        nonce = await wallet.nonce()
        refused = {
            "no attestation": [key_proof(holder, wallet.issuer, nonce)],
            "storage too weak": [attested_key_proof(holder, wallet.issuer, nonce, provider.key_attestation(
                [jwk], nonce=nonce, key_storage=["iso_18045_basic"]))],
            "untrusted provider": [attested_key_proof(holder, wallet.issuer, nonce, WalletProvider().key_attestation(
                [jwk], nonce=nonce))],
            "key not attested": [attested_key_proof(holder, wallet.issuer, nonce, provider.key_attestation(
                [public_jwk_of(_keys(1)[0])], nonce=nonce))],
        }
        for name, proofs in refused.items():
            answer = await wallet.credential(proofs)
            assert answer.status_code == 400 and error_of(answer) == "invalid_proof", (name, answer.text)
        two = await wallet.credential([provider.key_attestation([jwk], nonce=nonce)] * 2, proof_type="attestation")
        assert error_of(two) == "invalid_proof", two.text
        unnonced = await wallet.credential([provider.key_attestation([jwk])], proof_type="attestation")
        assert error_of(unnonced) == "invalid_proof", unnonced.text  # §8.3.1.2: no c_nonce in the proof
        stale = await wallet.credential([provider.key_attestation([jwk], nonce="never-issued")],
                                        proof_type="attestation")
        assert error_of(stale) == "invalid_nonce", stale.text
        # none of that spent the token or the nonce
        good = await wallet.credential([provider.key_attestation([jwk], nonce=nonce)], SD_JWT_CONFIGURATION,
                                       proof_type="attestation")
        assert good.status_code == 200, good.text
        # the attestation's nonce is spent with it: the next wallet cannot use it again
        other = await _redeemed(harness, http)
        again = await other.credential([provider.key_attestation([jwk], nonce=nonce)], proof_type="attestation")
        assert error_of(again) == "invalid_nonce", again.text
    report = await verify_at_gateway(harness, document_ca, good.json()["credentials"][0]["credential"])
    assert report["verdict"] == "valid"
