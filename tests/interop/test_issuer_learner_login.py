"""The learner signs in before the authorization code grant (issue 20: "the learner signing in through the
platform's OIDC login"), against an independent OpenID Connect provider: panva's ``oidc-provider`` (the certified
Node.js implementation, npm, tests only) run by tests/interop/oidc_provider.mjs.

The running issuer (HTTPS on port 0, real Kafka and Redis) is configured with the provider as its learner login.
The spec-written test wallet pushes its authorization request; a "browser" (an HTTP client with the provider's
cookies) follows the issuer's redirect to the provider, signs a learner in there, and follows the provider's
redirect back to the issuer, which redirects to the wallet: with a code when the learner who signed in is the
award's learner (verified e-mail), with ``access_denied`` otherwise. The code then gives a valid credential.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from google.protobuf import json_format

from microcred import pki
from microcred.oid4vci.metadata import SD_JWT_CONFIGURATION
from tests.conftest import Infrastructure
from tests.harness.factories import LEARNER_EMAIL, identity_hash, valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import Authorization, Wallet, public_jwk_of
from tests.integration.test_oid4vci import base, cnf_of, error_of, verify_at_gateway, wallet_http
from tests.interop import node_env

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
CLIENT_ID = f"microcred-issuer-{TAG}"
AGENCY = f"agency-login-{TAG}"
UNI = f"uni-login-{TAG}"
PROVIDER = node_env.INTEROP / "oidc_provider.mjs"


@dataclass
class Provider:
    """The running provider process and its issuer identifier."""

    process: asyncio.subprocess.Process
    issuer: str

    async def configure(self, redirect_uri: str, secret: str) -> None:
        """Register the issuer service as the provider's client (its callback is known once it has a port)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"client_id": CLIENT_ID, "client_secret": secret,
                                             "redirect_uri": redirect_uri}).encode() + b"\n")
        await self.process.stdin.drain()
        assert json.loads(await asyncio.wait_for(self.process.stdout.readline(), 30)) == {"ready": True}


async def start_provider() -> Provider:
    """Start oidc_provider.mjs (port 0) and read its issuer identifier."""
    node_env.ensure_installed()
    node = shutil.which("node")
    assert node is not None, "node is needed for the OpenID Connect provider"
    process = await asyncio.create_subprocess_exec(node, str(PROVIDER), cwd=node_env.INTEROP,
                                                   stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.DEVNULL)
    assert process.stdout is not None
    first = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
    return Provider(process, first["issuer"])


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[tuple[IssuerHarness, bytes, Provider]]:
    """The issuer service whose learner login is the provider, this module's issuer onboarded."""
    work = tmp_path_factory.mktemp("learner-login")
    provider = await start_provider()
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    secret_file = Path(work) / "login-client-secret"
    secret_file.write_text(secret + "\n")
    try:
        harness, document_ca = await start_issuer_with_document_ca(
            infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY,
            oid4vci_login_issuer=provider.issuer, oid4vci_login_client_id=CLIENT_ID,
            oid4vci_login_client_secret_file=secret_file)
        try:
            await provider.configure(callback_url(harness), secret)
            await harness.onboard(AGENCY, {UNI: 7})
            yield harness, document_ca.cert_pem, provider
        finally:
            await harness.close()
    finally:
        provider.process.kill()
        await provider.process.wait()


def issuer_context(harness: IssuerHarness) -> ssl.SSLContext:
    """TLS to the REST app with this module's issuer's client certificate (OU=issuer)."""
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
    cert = pki.create_client_cert(harness.ca, UNI, AGENCY, pki.ROLE_ISSUER)
    cert_path, key_path = cert.write(harness.work_dir / f"client-{uuid.uuid4().hex[:8]}", "client")
    context.load_cert_chain(str(cert_path), str(key_path))
    return context


def callback_url(harness: IssuerHarness) -> str:
    """The issuer's login callback (its Credential Issuer identifier is its REST address here)."""
    assert harness.app.rest is not None
    return f"https://127.0.0.1:{harness.app.rest.port}/oid4vci/login/callback"


async def _pushed(wallet: Wallet, link: str) -> Authorization:
    """Take the offer and push an authorization request for it (the wallet's side)."""
    await wallet.take_offer(link)
    pushed, session = await wallet.push_authorization()
    assert pushed.status_code == 201, pushed.text
    return session


async def _browse(browser: httpx.AsyncClient, url: str, provider: Provider, step: str) -> httpx.Response:
    """Follow redirects while they stay at the provider; ``step`` is the learner's action on its login page
    (``login?account=...`` or ``refuse``). Returns the first answer that leaves the provider."""
    response = await browser.get(url)
    for _ in range(10):
        location = response.headers.get("location", "")
        if response.status_code not in (302, 303) or not location:
            return response
        target = urljoin(str(response.url), location)
        if not target.startswith(provider.issuer):
            return response
        path = urlsplit(target).path
        if path.startswith("/interaction/") and path.count("/") == 2:
            target = f"{target}/{step}"  # the learner acts on the login page
        response = await browser.get(target)
    raise AssertionError("the provider redirected in circles")


async def _sign_in(harness: IssuerHarness, provider: Provider, wallet: Wallet, session: Authorization,
                   step: str) -> tuple[httpx.Response, dict[str, str]]:
    """The learner's browser from the issuer's authorization endpoint to the wallet's redirect URI: the issuer's
    last answer and the query of the redirect (or of the answer the provider sent back to the issuer)."""
    async with httpx.AsyncClient(verify=issuer_context(harness), timeout=30) as browser:
        started = await browser.get(wallet.as_metadata["authorization_endpoint"],
                                    params={"client_id": session.client_id, "request_uri": session.request_uri})
        assert started.status_code == 302, started.text
        assert started.headers["location"].startswith(provider.issuer + "/")  # to the login, not to the wallet
        back = await _browse(browser, started.headers["location"], provider, step)
        callback = back.headers["location"]
        assert callback.startswith(callback_url(harness) + "?"), callback
        answer = await browser.get(callback)
        location = answer.headers.get("location", "")
        return answer, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()} | {"_callback": callback}


async def test_the_awards_learner_signs_in_and_receives_the_credential(
        stack: tuple[IssuerHarness, bytes, Provider]) -> None:
    harness, document_ca, provider = stack
    offer = await _offer_to(harness, LEARNER_EMAIL)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        session = await _pushed(wallet, offer["link"])
        answer, query = await _sign_in(harness, provider, wallet, session, f"login?account={LEARNER_EMAIL.upper()}")
        assert answer.status_code == 302, answer.text
        assert answer.headers["location"].startswith(session.redirect_uri + "?")
        assert query["state"] == session.state and query["iss"] == wallet.as_metadata["issuer"]
        assert "error" not in query
        session.code = query["code"]
        assert (await wallet.exchange(session)).status_code == 200
        received = await wallet.receive(1)
        assert received.status_code == 200, received.text
        [credential] = [c["credential"] for c in received.json()["credentials"]]
        # the provider's answer is single use at the issuer too: a replayed callback finds no sign-in
        async with httpx.AsyncClient(verify=issuer_context(harness), timeout=30) as browser:
            replayed = await browser.get(query["_callback"])
        assert replayed.status_code == 400 and error_of(replayed) == "invalid_request"
    report = await verify_at_gateway(harness, document_ca, credential)
    assert report["verdict"] == "valid", report["checks"]
    assert cnf_of(credential) == public_jwk_of(wallet.keys[0])


@pytest.mark.parametrize("step", ["login?account=someone.else@example.org", "refuse"])
async def test_another_learner_or_a_refusal_is_access_denied_and_spends_nothing(
        stack: tuple[IssuerHarness, bytes, Provider], step: str) -> None:
    harness, _, provider = stack
    offer = await _offer_to(harness, LEARNER_EMAIL)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        session = await _pushed(wallet, offer["link"])
        answer, query = await _sign_in(harness, provider, wallet, session, step)
        assert answer.status_code == 302, answer.text
        assert answer.headers["location"].startswith(session.redirect_uri + "?")
        assert query["error"] == "access_denied" and "code" not in query
        assert query["state"] == session.state and query["iss"] == wallet.as_metadata["issuer"]
        # the offer is still the learner's to redeem
        assert (await wallet.token()).status_code == 200


async def _offer_to(harness: IssuerHarness, email: str) -> dict[str, Any]:
    """An offer by this module's issuer to a learner with the e-mail address ``email``."""
    award = valid_micro_credential()
    award.learner.email = email
    award.learner.hashed_id.identity_hash = identity_hash(email)
    async with httpx.AsyncClient(base_url=base(harness), timeout=30,
                                 verify=issuer_context(harness)) as http:
        response = await http.post("/oid4vci/offers",
                                   json={"credentials": [json_format.MessageToDict(award)]})
    assert response.status_code == 201, response.text
    [offer] = response.json()["offers"]
    assert isinstance(offer, dict)
    return offer


async def test_a_wallet_initiated_request_finds_the_signed_in_learners_offer(
        stack: tuple[IssuerHarness, bytes, Provider]) -> None:
    """OpenID4VCI §5.1.3 without issuer_state: the wallet asks by scope, the learner signs in, and their open
    offer (made to their e-mail address) is the one redeemed."""
    harness, document_ca, provider = stack
    email = f"wallet.initiated.{TAG}@example.org"
    offer = await _offer_to(harness, email)
    async with wallet_http(harness) as http:
        nobody = Wallet(http)  # a learner with no open offer signs in: access_denied
        await nobody.discover(base(harness))
        pushed, session = await nobody.push_authorization(configuration=SD_JWT_CONFIGURATION)
        assert pushed.status_code == 201, pushed.text
        answer, query = await _sign_in(harness, provider, nobody, session, f"login?account=no.offer.{TAG}@example.org")
        assert query["error"] == "access_denied" and "no open offer" in query["error_description"]

        wallet = Wallet(http)
        await wallet.discover(base(harness))
        pushed, session = await wallet.push_authorization(configuration=SD_JWT_CONFIGURATION,
                                                          authorization_details="", scope=SD_JWT_CONFIGURATION)
        assert pushed.status_code == 201, pushed.text
        answer, query = await _sign_in(harness, provider, wallet, session, f"login?account={email}")
        assert answer.status_code == 302 and "error" not in query, query
        session.code = query["code"]
        assert (await wallet.exchange(session)).status_code == 200
        received = await wallet.receive(1, SD_JWT_CONFIGURATION)
        assert received.status_code == 200, received.text
        [credential] = [c["credential"] for c in received.json()["credentials"]]
        # it was that offer: the issuer lists it redeemed
        async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness),
                                     timeout=30) as issuer:
            page = await issuer.get("/oid4vci/offers", params={"state": "redeemed", "page_size": 100})
        assert offer["offer_id"] in {o["offer_id"] for o in page.json()["offers"]}, page.text
        # a request without issuer_state must say what it asks for
        bare, _ = await wallet.push_authorization(configuration=SD_JWT_CONFIGURATION, authorization_details="")
        assert bare.status_code == 400 and error_of(bare) == "invalid_scope"
    report = await verify_at_gateway(harness, document_ca, credential)
    assert report["verdict"] == "valid", report["checks"]


async def test_a_forged_callback_is_refused(stack: tuple[IssuerHarness, bytes, Provider]) -> None:
    harness, _, _ = stack
    async with httpx.AsyncClient(verify=issuer_context(harness), timeout=30) as browser:
        forged = await browser.get(callback_url(harness), params={"state": "guessed", "code": "guessed"})
    assert forged.status_code == 400 and error_of(forged) == "invalid_request"


async def test_an_independent_wallet_and_an_independent_provider(stack: tuple[IssuerHarness, bytes, Provider]
                                                                 ) -> None:
    """The OpenWallet Foundation's oid4vc-ts wallet (tests/interop/oid4vci_wallet.mjs) takes the authorization
    code flow (PAR, PKCE, DPoP-bound code) while the learner signs in at oidc-provider: neither side is ours."""
    harness, document_ca, _ = stack
    email = f"owf.wallet.{TAG}@example.org"
    offer = await _offer_to(harness, email)
    ca_file = Path(harness.work_dir) / "platform-ca.pem"
    ca_file.write_bytes(harness.ca.cert_pem)
    answer = await asyncio.to_thread(node_env.run, {"offer": offer["link"], "flow": "authorization_code",
                                                    "dpop": True, "login_account": email},
                                     node_env.INTEROP / "oid4vci_wallet.mjs", {"NODE_EXTRA_CA_CERTS": str(ca_file)})
    assert "error" not in answer, answer
    [credential] = answer["credentials"]
    report = await verify_at_gateway(harness, document_ca, credential)
    assert report["verdict"] == "valid", report["checks"]
    # someone else signing in: the library reads the issuer's access_denied
    other = await _offer_to(harness, email)
    refused = await asyncio.to_thread(node_env.run, {"offer": other["link"], "flow": "authorization_code",
                                                     "login_account": f"not.them.{TAG}@example.org"},
                                      node_env.INTEROP / "oid4vci_wallet.mjs", {"NODE_EXTRA_CA_CERTS": str(ca_file)})
    assert refused["error"]["oauth_error"] == "access_denied", refused
