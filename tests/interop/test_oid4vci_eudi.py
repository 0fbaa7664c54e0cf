"""Interoperability with a second independent OpenID4VCI wallet: the EU Digital Identity Wallet's reference library
eudi-lib-jvm-openid4vci-kt 0.7.1 (Kotlin, JVM; the newest release on our Maven Central mirror, written for
OpenID4VCI draft 15), driven by tests/interop/eudi/src/main/kotlin/microcred/interop/eudi/Wallet.kt. Maven builds
the bridge (tests/interop/eudi/pom.xml, the libraries cached in ~/.m2, the build in tests/interop/eudi/target/);
each test runs it once under the machine's JDK 17. The library is never part of the product.

The running issuer (HTTPS on port 0 with the platform's test CA, which is the only CA the bridge's HTTP client
trusts, verification on; real Kafka and Redis; its revocation service) makes offers; the library resolves each offer
by reference, the issuer's metadata and its authorization server's, redeems the pre-authorized code (with the
``tx_code`` when the offer asks for one; with DPoP when asked to, which the library uses because the authorization
server advertises ``dpop_signing_alg_values_supported``) or goes through the authorization code flow (PAR, PKCE,
the offer's ``issuer_state``, DPoP), fetches a ``c_nonce``, proves fresh P-256 keys with ``openid4vci-proof+jwt``
and receives SD-JWT VCs (or Open Badges 3.0 ``ldp_vc`` credentials), then notifies. Each credential verifies in the
platform's verifier pipeline and is bound to a key the library proved; what the issuer refuses is asserted by its
OAuth error code, as the library reports it, and the bridge records each HTTP exchange (status, DPoP, the body's
member names) so that the tests also see what went over the wire.

Limitation of 0.7.1 (the library's, not the issuer's): with one key the library sends draft 15's single
``"proof": {"proof_type": "jwt", "jwt": …}`` (``CredentialRequestTO.proofOrProofs`` in its
``internal/http/IssuanceRequestJsonMapper.kt``: one proof → ``proof``, more → ``proofs``). OpenID4VCI 1.0 removed
``proof``; the Credential Request carries ``proofs`` only (§8.2), and a request without it is ``invalid_proof``
(§8.3.1.2), which is what the issuer answers. So 0.7.1 receives credentials from a 1.0 issuer only by proving two
keys or more in one request (then it sends ``proofs``), never a single one; the refused request changes nothing,
and its access token still serves. The library itself dropped ``proof`` for 1.0 after 0.8.2 (upstream commit
94dc1851, "Updates on issuance and deferred issuance request and response payloads", #451; 0.9.x targets 1.0), a
release our mirror does not have. The issuer is not bent to draft 15:
``test_one_key_is_refused_as_draft_15_proof_then_two_keys_succeed`` pins the refusal.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.oid4vci.holder_did import holder_did_key
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.integration import test_oid4vci, test_oid4vci_ldp
from tests.interop.test_oid4vci_interop import _cnf

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"agency-eudi-{TAG}"
UNI = f"uni-eudi-{TAG}"
BUILD = Path(__file__).resolve().parent / "eudi"
MAIN = "microcred.interop.eudi.WalletKt"
#: The fewest keys with which 0.7.1 sends 1.0's ``proofs`` (one key: draft 15's ``proof``; module docstring).
FEWEST = 2

Stack = tuple[IssuerHarness, bytes, Path]


@pytest.fixture(scope="module")
def classpath() -> str:
    """The bridge compiled and its run-time classpath (the first run resolves ~80 MB from Maven Central into
    ~/.m2; later runs only compile, ~10 s)."""
    done = subprocess.run(["mvn", "-q", "-B", "-f", str(BUILD / "pom.xml"), "package"], capture_output=True,
                          text=True, timeout=280, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return f"{BUILD / 'target' / 'classes'}:{(BUILD / 'target' / 'classpath.txt').read_text().strip()}"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The issuer service with its REST app and revocation service, this module's issuer onboarded, and the CA
    file its TLS is configured with (the platform's test CA: the bridge's only trust anchor)."""
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path_factory.mktemp("oid4vci-eudi"), AGENCY)
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        yield harness, document_ca.cert_pem, harness.app.settings.tls_dir / "ca.crt"
    finally:
        await harness.close()


async def _offer(harness: IssuerHarness, tx_code: bool = False) -> issuer_pb2.CredentialOffer:
    """One offer of this module's issuer (CreateOffers over mTLS gRPC: the same offers as the REST route)."""
    answer = await harness.issuer_stub(UNI, AGENCY).CreateOffers(
        issuer_pb2.CreateOffersRequest(credentials=[valid_micro_credential()], tx_code=tx_code))
    [offer] = answer.offers
    assert isinstance(offer, issuer_pb2.CredentialOffer)
    return offer


def _run(classpath: str, request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(["java", "-cp", classpath, MAIN], input=json.dumps(request), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


async def _wallet(classpath: str, stack: Stack, offer: issuer_pb2.CredentialOffer, **request: Any
                  ) -> dict[str, Any]:
    """The library's answer for one offer (in a thread: the issuer serves from this test's event loop)."""
    return await asyncio.to_thread(_run, classpath, {"offer": offer.link, "ca_file": str(stack[2]), **request})


def _calls(answer: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """The library's HTTP requests to one endpoint, in order (method, path, status, dpop, authorization scheme,
    the JSON body's top-level members or the form's parameter names)."""
    return [e for e in answer["exchanges"] if e["path"] == path]


async def _assert_bound_and_valid(stack: Stack, answer: dict[str, Any], count: int) -> None:
    """``count`` distinct SD-JWT VCs, each bound (cnf) to its own proved key, each valid at the gateway."""
    harness, document_ca, _ = stack
    credentials, holders = answer["credentials"], answer["holder_jwks"]
    assert len(credentials) == count and len(set(credentials)) == count
    assert len({h["x"] for h in holders}) == count
    assert [_cnf(c) for c in credentials] == [{k: h[k] for k in ("kty", "crv", "x", "y")} for h in holders]
    for credential in credentials:
        report = await test_oid4vci.verify_at_gateway(harness, document_ca, credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


async def test_one_key_is_refused_as_draft_15_proof_then_two_keys_succeed(classpath: str, stack: Stack) -> None:
    """Pre-authorized code without tx_code, DPoP-bound token, SD-JWT VC: the library's single-key request (draft
    15's ``proof``) is ``invalid_proof``; the same token then receives two credentials for two keys (``proofs``)."""
    offer = await _offer(stack[0])
    assert not offer.tx_code
    answer = await _wallet(classpath, stack, offer, dpop=True, proofs=1, retry_proofs=FEWEST)
    assert "error" not in answer, answer
    assert answer["offered"] == [SD_JWT_CONFIGURATION, LDP_CONFIGURATION]
    assert answer["configuration"] == SD_JWT_CONFIGURATION
    assert answer["dpop_used"] and answer["token_type"] == "DPoP"
    [token] = _calls(answer, "/oid4vci/token")
    assert token["status"] == 200 and token["dpop"] and token["authorization"] is None
    assert token["body_members"] == ["client_id", "grant_type", "pre-authorized_code"]
    refused, accepted = _calls(answer, "/oid4vci/credential")
    assert answer["refused"]["oauth_error"] == "invalid_proof", answer["refused"]
    assert refused["status"] == 400 and refused["body_members"] == ["credential_configuration_id", "proof"]
    assert accepted["status"] == 200 and accepted["body_members"] == ["credential_configuration_id", "proofs"]
    assert all(c["dpop"] and c["authorization"] == "DPoP" for c in (refused, accepted))
    assert len(_calls(answer, "/oid4vci/nonce")) == 2  # a fresh c_nonce for each request
    await _assert_bound_and_valid(stack, answer, FEWEST)


async def test_a_tx_code_wrong_then_right(classpath: str, stack: Stack) -> None:
    offer = await _offer(stack[0], tx_code=True)
    assert len(offer.tx_code) == 6 and offer.tx_code.isdigit()
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    refused = await _wallet(classpath, stack, offer, tx_code=wrong, proofs=FEWEST)
    assert refused["error"]["oauth_error"] == "invalid_grant", refused["error"]
    assert refused["error"]["name"] == "AccessTokenRequestFailed"
    [token] = _calls(refused, "/oid4vci/token")
    assert token["status"] == 400 and "tx_code" in token["body_members"]
    answer = await _wallet(classpath, stack, offer, tx_code=offer.tx_code, proofs=FEWEST)
    assert "error" not in answer, answer
    assert answer["token_type"] == "Bearer"
    await _assert_bound_and_valid(stack, answer, FEWEST)


async def test_a_batch_of_three_proofs(classpath: str, stack: Stack) -> None:
    offer = await _offer(stack[0])
    answer = await _wallet(classpath, stack, offer, proofs=3, dpop=True)
    assert "error" not in answer, answer
    [request] = _calls(answer, "/oid4vci/credential")
    assert request["status"] == 200 and request["body_members"] == ["credential_configuration_id", "proofs"]
    await _assert_bound_and_valid(stack, answer, 3)


async def test_notification_then_the_spent_code_is_refused(classpath: str, stack: Stack) -> None:
    offer = await _offer(stack[0])
    answer = await _wallet(classpath, stack, offer, proofs=FEWEST, dpop=True, notify="credential_accepted",
                           redeem_twice=True)
    assert "error" not in answer, answer
    assert answer["notification_id"] and answer["notified"] == 204
    [notification] = _calls(answer, "/oid4vci/notification")
    assert notification["body_members"] == ["event", "notification_id"] and notification["authorization"] == "DPoP"
    # the pre-authorized code was spent: the library's second redemption is refused with invalid_grant
    second = answer["second_redemption_error"]
    assert second["oauth_error"] == "invalid_grant" and second["name"] == "AccessTokenRequestFailed", second
    assert [c["status"] for c in _calls(answer, "/oid4vci/token")] == [200, 400]
    await _assert_bound_and_valid(stack, answer, FEWEST)


async def test_ob3_ldp_vcs_bound_to_did_keys(classpath: str, stack: Stack) -> None:
    """The ``ldp_vc`` configuration (a JSON-object credential, which the library keeps as such): each credential's
    subject is the did:key of the key its proof showed (the library sends the proof's ``jwk``)."""
    offer = await _offer(stack[0])
    answer = await _wallet(classpath, stack, offer, configuration=LDP_CONFIGURATION, proofs=FEWEST)
    assert "error" not in answer, answer
    credentials, holders = answer["credentials"], answer["holder_jwks"]
    assert len(credentials) == FEWEST
    for credential, holder in zip(credentials, holders, strict=True):
        assert isinstance(credential, dict) and "AchievementCredential" in credential["type"]
        assert credential["credentialSubject"]["id"] == holder_did_key({k: holder[k] for k in ("kty", "crv", "x", "y")})
        report = await test_oid4vci_ldp.verify_at_gateway(stack[0], credential)
        assert report["verdict"] == "valid", [c for c in report["checks"] if c["status"] != "valid"]


async def test_the_bridge_trusts_only_the_ca_it_is_given(classpath: str, stack: Stack, tmp_path: Path) -> None:
    """TLS verification is on: given another CA than the platform's, the library cannot even fetch the offer."""
    other = tmp_path / "other-ca.pem"
    other.write_bytes(pki.create_ca("not the platform's CA").cert_pem)
    offer = await _offer(stack[0])
    answer = await _wallet(classpath, (*stack[:2], other), offer, proofs=FEWEST)
    assert answer["error"]["name"] == "CredentialOfferRequestException", answer["error"]
    assert "SSLHandshakeException" in answer["error"]["message"] and "PKIX" in answer["error"]["message"]
    assert answer["exchanges"] == []


async def test_the_authorization_code_flow_with_par_pkce_and_dpop(classpath: str, stack: Stack) -> None:
    """The library's authorization code flow: a pushed request with PKCE, the offer's issuer_state and a DPoP proof
    (so the code is bound to the key), the authorization endpoint's redirect, the code for a DPoP-bound token."""
    offer = await _offer(stack[0])
    answer = await _wallet(classpath, stack, offer, flow="authorization_code", dpop=True, proofs=FEWEST,
                           redeem_twice=True)
    assert "error" not in answer, answer
    assert answer["token_type"] == "DPoP"
    par, again = _calls(answer, "/oid4vci/par")
    assert par["status"] == 201 and par["dpop"]
    # the library asks by scope (its default, the configurations' scope values)
    assert par["body_members"] == ["client_id", "code_challenge", "code_challenge_method", "issuer_state",
                                   "redirect_uri", "response_type", "scope", "state"]
    [authorize] = _calls(answer, "/oid4vci/authorize")
    # the redirect names the issuer (RFC 9207): the offer's Credential Issuer (0.7.1 does not check it itself)
    assert authorize["status"] == 302
    assert answer["redirect_iss"] == offer.credential_offer_uri.split("/oid4vci/")[0]
    [token] = _calls(answer, "/oid4vci/token")
    assert token["status"] == 200 and token["dpop"]
    assert token["body_members"] == ["client_id", "code", "code_verifier", "grant_type", "redirect_uri"]
    await _assert_bound_and_valid(stack, answer, FEWEST)
    # the offer was redeemed: pushing another authorization request for it is refused
    assert again["status"] == 400 and answer["second_redemption_error"]["oauth_error"] == "invalid_request", answer
