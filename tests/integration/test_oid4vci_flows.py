"""OpenID4VCI 1.0 authorization code flow (PAR, PKCE S256) and deferred issuance over the running issuer service:
real Kafka and Redis, HTTPS over a socket (port 0), the spec-written test wallet (tests/harness/oid4vci_wallet.py).
Each negative case asserts its OAuth / OpenID4VCI error code."""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.oid4vci.dpop import jwk_thumbprint
from microcred.oid4vci.metadata import LDP_CONFIGURATION
from microcred.oid4vci.offers import digest
from services.issuer.app import IssuerApp
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.oid4vci_wallet import AUTH_CODE, PRE_AUTH, Wallet, dpop_proof, public_jwk_of
from tests.harness.revocation import start_harness
from tests.integration.test_oid4vci import base, cnf_of, error_of, offer_events, verify_at_gateway, wallet_http

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY = f"agency-vcf-{TAG}"
UNI = f"uni-vcf-{TAG}"


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[tuple[IssuerHarness, bytes]]:
    """An issuer service with its REST app and a revocation service, on real Kafka and Redis (this module's own
    agency and issuer)."""
    work = tmp_path_factory.mktemp("oid4vci-flows")
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY)
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        yield harness, document_ca.cert_pem
    finally:
        await harness.close()


async def create_offers(harness: IssuerHarness, count: int = 1, **options: Any) -> list[dict[str, Any]]:
    """Offers made over REST by this module's issuer."""
    body = {"credentials": [json_format.MessageToDict(valid_micro_credential()) for _ in range(count)], **options}
    async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness, UNI), timeout=30) as http:
        response = await http.post("/oid4vci/offers", json=body)
    assert response.status_code == 201, response.text
    offers: list[dict[str, Any]] = response.json()["offers"]
    return offers


def issuer_context(harness: IssuerHarness, issuer_id: str) -> ssl.SSLContext:
    """TLS to the REST app with the client certificate of ``issuer_id`` (OU=issuer)."""
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
    cert = pki.create_client_cert(harness.ca, issuer_id, AGENCY, pki.ROLE_ISSUER)
    cert_path, key_path = cert.write(harness.work_dir / f"client-{uuid.uuid4().hex[:8]}", "client")
    context.load_cert_chain(str(cert_path), str(key_path))
    return context


async def _authorized(wallet: Wallet, link: str) -> None:
    await wallet.take_offer(link)
    assert AUTH_CODE in wallet.offer["grants"] and PRE_AUTH in wallet.offer["grants"]


async def test_metadata_advertises_par_pkce_and_deferred(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    async with wallet_http(harness) as http:
        server = (await http.get(f"{base(harness)}/.well-known/oauth-authorization-server")).json()
        issuer = (await http.get(f"{base(harness)}/.well-known/openid-credential-issuer")).json()
        paths = (await http.get(f"{base(harness)}/openapi.json")).json()["paths"]
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["require_pushed_authorization_requests"] is True
    assert server["pushed_authorization_request_endpoint"] == f"{base(harness)}/oid4vci/par"
    assert server["authorization_endpoint"] == f"{base(harness)}/oid4vci/authorize"
    assert {"authorization_code", PRE_AUTH} <= set(server["grant_types_supported"])
    assert server["response_types_supported"] == ["code"]
    assert issuer["deferred_credential_endpoint"] == f"{base(harness)}/oid4vci/deferred-credential"
    assert {"/oid4vci/par", "/oid4vci/authorize", "/oid4vci/deferred-credential", "/oid4vci/login/callback"} <= set(
        paths)


async def test_authorization_code_flow_with_pkce_via_par(stack: tuple[IssuerHarness, bytes],
                                                         infrastructure: Infrastructure) -> None:
    harness, document_ca = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await _authorized(wallet, offer["link"])
        pushed, session = await wallet.push_authorization()
        assert pushed.status_code == 201, pushed.text
        assert pushed.headers["cache-control"] == "no-store"
        assert session.request_uri.startswith("urn:ietf:params:oauth:request_uri:")
        assert 0 < pushed.json()["expires_in"] <= 600
        redirected = await wallet.authorize(session)
        assert redirected.status_code == 302, redirected.text
        assert session.code
        # the request_uri was used: a second visit is refused (single use)
        again = await wallet.authorize(session)
        assert again.status_code == 400 and error_of(again) == "invalid_request_uri"
        # a wrong code_verifier is invalid_grant and spends nothing
        wrong = await wallet.exchange(session, verifier="W" * 43)
        assert wrong.status_code == 400 and error_of(wrong) == "invalid_grant"
        token = await wallet.exchange(session)
        assert token.status_code == 200, token.text
        assert token.headers["cache-control"] == "no-store"
        first_token = wallet.access_token
        # the offer is redeemed: its pre-authorized code no longer works
        assert error_of(await wallet.token()) == "invalid_grant"
        # a reused code is invalid_grant, and revokes the token the code gave (RFC 6749 §4.1.2)
        reused = await wallet.exchange(session)
        assert reused.status_code == 400 and error_of(reused) == "invalid_grant"
        assert "already been used" in reused.json()["error_description"]
        wallet.access_token = first_token
        revoked = await wallet.receive(1)
        assert revoked.status_code == 401 and error_of(revoked) == "invalid_token"
    events, _ = await offer_events(infrastructure, offer["offer_id"])
    assert [type(e).__name__ for e in events] == ["CredentialOfferCreated"]  # nothing was issued
    # a fresh offer through the whole flow gives a valid credential bound to the proved key
    [second] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await _authorized(wallet, second["link"])
        _, session = await wallet.push_authorization(client_id="https://wallet.example.org",
                                                     redirect_uri="eu.example.wallet:/callback?x=1")
        assert (await wallet.authorize(session)).status_code == 302
        assert (await wallet.exchange(session)).status_code == 200
        answer = await wallet.receive(1)
        assert answer.status_code == 200, answer.text
        [credential] = [c["credential"] for c in answer.json()["credentials"]]
    report = await verify_at_gateway(harness, document_ca, credential)
    assert report["verdict"] == "valid", report["checks"]
    assert cnf_of(credential) == public_jwk_of(wallet.keys[0])


async def test_pkce_plain_and_bad_pushed_requests_are_refused(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await _authorized(wallet, offer["link"])
        plain, _ = await wallet.push_authorization(method="plain")
        assert plain.status_code == 400 and error_of(plain) == "invalid_request"
        assert "S256" in plain.json()["error_description"]
        cases = [
            ({"issuer_state": "not-an-issuer-state"}, "invalid_request"),
            ({"issuer_state": ""}, "invalid_request"),
            ({"redirect_uri": "javascript:alert(1)"}, "invalid_request"),
            ({"redirect_uri": "http://evil.example/cb"}, "invalid_request"),
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
            ({f"extra{i}": "1" for i in range(40)}, "invalid_request"),  # too many fields: bounded parsing
            ({"authorization_details": '[{"type":"openid_credential","credential_configuration_id":"other"}]'},
             "invalid_authorization_details"),
        ]
        for change, code in cases:
            response, _ = await wallet.push_authorization(**change)
            assert response.status_code == 400 and error_of(response) == code, (change, response.text)
        # the authorization endpoint takes only pushed requests, from the same client
        direct = await http.get(wallet.as_metadata["authorization_endpoint"],
                                params={"client_id": "wallet.example.org", "response_type": "code"})
        assert direct.status_code == 400 and error_of(direct) == "invalid_request"
        _, session = await wallet.push_authorization()
        stolen = await http.get(wallet.as_metadata["authorization_endpoint"],
                                params={"client_id": "another-client", "request_uri": session.request_uri})
        assert stolen.status_code == 400 and error_of(stolen) == "invalid_request"
        # an offer with a tx_code has no authorization code grant (it would skip the tx_code)
        [with_tx] = await create_offers(harness, tx_code=True)
        other = Wallet(http)
        await other.take_offer(with_tx["link"])
        assert AUTH_CODE not in other.offer["grants"]


async def test_withdrawn_offer_is_access_denied_at_the_authorization_endpoint(
        stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    [offer] = await create_offers(harness)
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await _authorized(wallet, offer["link"])
        _, session = await wallet.push_authorization()
        async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness, UNI), timeout=30) as issuer:
            assert (await issuer.delete(f"/oid4vci/offers/{offer['offer_id']}")).status_code == 204
        denied = await http.get(wallet.as_metadata["authorization_endpoint"],
                                params={"client_id": session.client_id, "request_uri": session.request_uri})
        assert denied.status_code == 302
        assert "error=access_denied" in denied.headers["location"] and "code=" not in denied.headers["location"]
        refused, _ = await wallet.push_authorization()
        assert refused.status_code == 400 and error_of(refused) == "invalid_request"
        assert "withdrawn" in refused.json()["error_description"]


async def test_deferred_issuance_until_not_before(stack: tuple[IssuerHarness, bytes]) -> None:
    """An offer whose credential may not be issued before a time: the credential request gets a transaction_id
    (202, interval); the deferred credential endpoint answers 202 until then, then the credential."""
    harness, document_ca = stack
    not_before = datetime.now(UTC) + timedelta(seconds=4)
    [offer] = await create_offers(harness, not_before=not_before.isoformat())
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(offer["link"])
        assert (await wallet.token()).status_code == 200
        accepted = await wallet.receive(2)
        assert accepted.status_code == 202, accepted.text
        body = accepted.json()
        assert set(body) == {"transaction_id", "interval"} and 1 <= body["interval"] <= 5
        transaction = body["transaction_id"]
        # the configuration that was deferred is not asked again with the token; the other one is deferred too
        pending = await wallet.receive(1)
        assert error_of(pending) == "credential_request_denied" and "deferred" in pending.json()["error_description"]
        wallet.keys = wallet.keys[:2]
        other = await wallet.receive(1, LDP_CONFIGURATION)
        assert other.status_code == 202, other.text
        ldp_transaction = other.json()["transaction_id"]
        wallet.keys = wallet.keys[:2]
        unknown = await wallet.deferred("no-such-transaction")
        assert unknown.status_code == 400 and error_of(unknown) == "invalid_transaction_id"
        url = wallet.metadata["deferred_credential_endpoint"]  # an encrypted answer asked: refused, nothing spent
        wants_jwe = await http.post(url, headers=wallet._auth("POST", url), json={
            "transaction_id": transaction, "credential_response_encryption": {"jwk": {}, "enc": "A128GCM"}})
        assert wants_jwe.status_code == 400 and error_of(wants_jwe) == "invalid_encryption_parameters"
        while time.time() < not_before.timestamp():  # pending until then
            answer = await wallet.deferred(transaction)
            if time.time() < not_before.timestamp():
                assert answer.status_code == 202, answer.text
                assert answer.json()["transaction_id"] == transaction and answer.json()["interval"] >= 1
            await asyncio.sleep(0.5)
        # then several requests at once: exactly one gets the credentials
        answers = await asyncio.gather(*(wallet.deferred(transaction) for _ in range(4)))
        assert [a.status_code for a in answers].count(200) == 1, [a.text for a in answers]
        assert all(a.status_code == 202 or error_of(a) == "invalid_transaction_id" for a in answers
                   if a.status_code != 200)
        answer = next(a for a in answers if a.status_code == 200)
        credentials = [c["credential"] for c in answer.json()["credentials"]]
        assert [cnf_of(c) for c in credentials] == [public_jwk_of(k) for k in wallet.keys]
        for credential in credentials:
            report = await verify_at_gateway(harness, document_ca, credential)
            assert report["verdict"] == "valid", report["checks"]
        assert (await wallet.notify(answer.json()["notification_id"])).status_code == 204
        # the transaction_id is spent once delivered
        used = await wallet.deferred(transaction)
        assert used.status_code == 400 and error_of(used) == "invalid_transaction_id"
        assert harness.app.redis is not None
        prefix = harness.app.settings.issuer_redis_prefix
        token_key = f"{prefix}:o4i:token:{digest(wallet.access_token)}"
        assert await harness.app.redis.hexists(token_key, "award")  # the ldp_vc is still owed
        ldp = await wallet.deferred(ldp_transaction)
        assert ldp.status_code == 200, ldp.text
        assert "AchievementCredential" in ldp.json()["credentials"][0]["credential"]["type"]
        assert (await wallet.notify(ldp.json()["notification_id"])).status_code == 204
        assert not await harness.app.redis.hexists(token_key, "award")  # both delivered: the award is gone
    assert not await harness.app.redis.exists(f"{prefix}:o4i:tx:{digest(transaction)}")


async def test_another_tokens_transaction_is_invalid(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    first, second = await create_offers(harness, 2, not_before=later)
    async with wallet_http(harness) as http:
        owner, other = Wallet(http), Wallet(http)
        for wallet, offer in ((owner, first), (other, second)):
            await wallet.take_offer(offer["link"])
            assert (await wallet.token()).status_code == 200
        accepted = await owner.receive(1)
        assert accepted.status_code == 202 and accepted.json()["interval"] > 3000
        transaction = accepted.json()["transaction_id"]
        assert (await owner.deferred(transaction)).status_code == 202
        # the transaction, its token and the offer's sealed award outlive not_before (an hour ahead) by a day
        assert harness.app.redis is not None
        prefix = harness.app.settings.issuer_redis_prefix
        for key in (f"{prefix}:o4i:tx:{digest(transaction)}", f"{prefix}:o4i:token:{digest(owner.access_token)}",
                    f"{prefix}:o4i:offer:{first['offer_id']}"):
            assert await harness.app.redis.ttl(key) > 86400 + 3000, key
        theft = await other.deferred(transaction)
        assert theft.status_code == 400 and error_of(theft) == "invalid_transaction_id"
        no_token = await http.post(owner.metadata["deferred_credential_endpoint"], json={"transaction_id": transaction})
        assert no_token.status_code == 401 and error_of(no_token) == "invalid_token"
        malformed = await owner.deferred("")
        assert malformed.status_code == 400 and error_of(malformed) == "invalid_credential_request"
        url = owner.metadata["deferred_credential_endpoint"]  # nested past the parser's stack: not a 500
        deep = await http.post(url, content=b"[" * 30000 + b"]" * 30000, headers={
            **owner._auth("POST", url), "content-type": "application/json"})
        assert deep.status_code == 400 and error_of(deep) == "invalid_request"


async def test_not_before_must_be_a_date_time(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, _ = stack
    body = {"credentials": [json_format.MessageToDict(valid_micro_credential())], "not_before": "tomorrow"}
    async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness, UNI), timeout=30) as http:
        response = await http.post("/oid4vci/offers", json=body)
    assert response.status_code == 400 and response.json()["field"] == "not_before"


async def test_an_expired_offer_is_refused_as_expired_and_its_expiry_is_an_event(
        stack: tuple[IssuerHarness, bytes], infrastructure: Infrastructure) -> None:
    """An offer left unredeemed past its expiry: the pre-authorized code is invalid_grant "expired", PAR with its
    issuer_state invalid_request "expired", and CredentialOfferExpired is published once (by one of the
    replicas' sweeps); an offer redeemed or withdrawn before its expiry gets no such event."""
    harness, _ = stack
    expiring, redeemed, withdrawn = await create_offers(harness, 3, expires_in=2)
    async with wallet_http(harness) as http:
        wallets = [Wallet(http) for _ in range(3)]
        for wallet, offer in zip(wallets, (expiring, redeemed, withdrawn), strict=True):
            await wallet.take_offer(offer["link"])
        assert (await wallets[1].token()).status_code == 200
        async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness, UNI), timeout=30) as issuer:
            assert (await issuer.delete(f"/oid4vci/offers/{withdrawn['offer_id']}")).status_code == 204
        deadline = time.monotonic() + 60
        while (await http.get(expiring["credential_offer_uri"])).status_code != 404:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        expired = await wallets[0].token()
        assert expired.status_code == 400 and error_of(expired) == "invalid_grant"
        assert "expired" in expired.json()["error_description"]
        pushed, _ = await wallets[0].push_authorization()
        assert pushed.status_code == 400 and error_of(pushed) == "invalid_request"
        assert "expired" in pushed.json()["error_description"]
    while True:
        events, _ = await offer_events(infrastructure, expiring["offer_id"])
        names = [type(e).__name__ for e in events]
        if "CredentialOfferExpired" in names:
            break
        assert time.monotonic() < deadline, names
        await asyncio.sleep(0.5)
    assert names == ["CredentialOfferCreated", "CredentialOfferExpired"]
    assert events[1].offer_ref == digest(expiring["offer_id"]) and events[1].issuer_id == events[0].issuer_id
    assert events[1].expired_at.seconds >= events[0].expires_at.seconds
    # the same sweep saw all three (same expiry): the redeemed and withdrawn ones had left the expiry set
    assert harness.app.redis is not None
    expiry = f"{harness.app.settings.issuer_redis_prefix}:o4i:expiry"
    for offer in (expiring, redeemed, withdrawn):
        assert await harness.app.redis.zscore(expiry, offer["offer_id"]) is None
    for offer, last in ((redeemed, "CredentialOfferCreated"), (withdrawn, "CredentialOfferWithdrawn")):
        others, _ = await offer_events(infrastructure, offer["offer_id"])
        assert [type(e).__name__ for e in others][-1] == last
        assert "CredentialOfferExpired" not in [type(e).__name__ for e in others]


async def test_deferred_while_the_revocation_service_is_down(stack: tuple[IssuerHarness, bytes],
                                                             infrastructure: Infrastructure) -> None:
    """A real transient failure: the revocation service (which hands out status-list indexes) is stopped while a
    newly onboarded issuer, with no indexes reserved yet, has its offer redeemed. The credential request is
    accepted with a transaction_id (202) instead of failing; the deferred credential endpoint answers 202 while
    the service is down and the credential, verified valid, once it is back (on the same ports)."""
    harness, document_ca = stack
    old = harness.revocation
    assert old is not None
    uni2 = f"uni2-vci-{uuid.uuid4().hex[:6]}"
    await harness.onboard(AGENCY, {uni2: 7})
    grpc_port, http_port = old.app.grpc_port, old.app.http_port
    await old.close()
    harness.revocation = None
    try:
        body = {"credentials": [json_format.MessageToDict(valid_micro_credential())]}
        async with httpx.AsyncClient(base_url=base(harness), verify=issuer_context(harness, uni2), timeout=30) as http:
            created = await http.post("/oid4vci/offers", json=body)
        assert created.status_code == 201, created.text
        [offer] = created.json()["offers"]
        async with wallet_http(harness) as http:
            wallet = Wallet(http)
            await wallet.take_offer(offer["link"])
            assert (await wallet.token()).status_code == 200
            accepted = await wallet.receive(1)
            assert accepted.status_code == 202, accepted.text
            transaction = accepted.json()["transaction_id"]
            assert accepted.json()["interval"] >= 1
            pending = await wallet.deferred(transaction)
            assert pending.status_code == 202 and pending.json()["transaction_id"] == transaction
            harness.revocation = await start_harness(
                infrastructure.kafka_bootstrap, infrastructure.redis_url, old.work_dir, ca=old.ca,
                prefix=old.settings.revocation_redis_prefix, group=old.settings.revocation_consumer_group,
                grpc_port=grpc_port, http_port=http_port, token_status_cert_file=old.settings.token_status_cert_file,
                token_status_key_file=old.settings.token_status_key_file)
            deadline = time.monotonic() + 90
            while (answer := await wallet.deferred(transaction)).status_code == 202:
                assert time.monotonic() < deadline, answer.text
                await asyncio.sleep(1)
            assert answer.status_code == 200, answer.text
        report = await verify_at_gateway(harness, document_ca, answer.json()["credentials"][0]["credential"])
        assert report["verdict"] == "valid", report["checks"]
    finally:
        if harness.revocation is None:  # leave the module's stack with a revocation service in any case
            harness.revocation = await start_harness(
                infrastructure.kafka_bootstrap, infrastructure.redis_url, old.work_dir, ca=old.ca,
                prefix=old.settings.revocation_redis_prefix, group=old.settings.revocation_consumer_group,
                grpc_port=grpc_port, http_port=http_port, token_status_cert_file=old.settings.token_status_cert_file,
                token_status_key_file=old.settings.token_status_key_file)


async def test_request_uri_and_code_are_single_use_across_replicas(stack: tuple[IssuerHarness, bytes]) -> None:
    """A second issuer replica on the same Redis and Kafka: one request_uri opened 8 times on both at once gives
    one code; that code exchanged 8 times on both at once gives one access token (which the replays revoke)."""
    harness, _ = stack
    s = harness.app.settings
    replica = IssuerApp(s.model_copy(update={"grpc_port": 0, "rest_port": 0, "oid4vci_issuer_url": base(harness),
                                             "issuer_consumer_group": f"{s.issuer_consumer_group}-r2"}))
    await replica.start()
    try:
        assert replica.rest is not None
        hosts = [base(harness), f"https://localhost:{replica.rest.port}"] * 4
        [offer] = await create_offers(harness)
        async with wallet_http(harness) as http:
            wallet = Wallet(http)
            await _authorized(wallet, offer["link"])
            _, session = await wallet.push_authorization()
            opened = await asyncio.gather(*(http.get(f"{host}/oid4vci/authorize", params={
                "client_id": session.client_id, "request_uri": session.request_uri}) for host in hosts))
            assert sorted(o.status_code for o in opened) == [302] + [400] * 7
            assert all(error_of(o) == "invalid_request_uri" for o in opened if o.status_code == 400)
            location = next(o for o in opened if o.status_code == 302).headers["location"]
            code = parse_qs(urlsplit(location).query)["code"][0]
            form = {"grant_type": "authorization_code", "code": code, "code_verifier": session.verifier,
                    "client_id": session.client_id, "redirect_uri": session.redirect_uri}
            tokens = await asyncio.gather(*(http.post(f"{host}/oid4vci/token", data=form) for host in hosts))
            assert sorted(t.status_code for t in tokens) == [200] + [400] * 7
            assert all(error_of(t) == "invalid_grant" for t in tokens if t.status_code == 400)
            # the replays revoked the token the code gave (RFC 6749 §4.1.2)
            wallet.access_token = next(t for t in tokens if t.status_code == 200).json()["access_token"]
            assert error_of(await wallet.receive(1)) == "invalid_token"
    finally:
        await replica.stop()


async def test_create_offers_over_grpc_with_not_before(stack: tuple[IssuerHarness, bytes]) -> None:
    """gRPC CreateOffers takes not_before too: the wallet redeeming before it gets a deferred transaction_id."""
    harness, _ = stack
    later = Timestamp()
    later.FromDatetime(datetime.now(UTC) + timedelta(hours=1))
    answer = await harness.issuer_stub(UNI, AGENCY).CreateOffers(issuer_pb2.CreateOffersRequest(
        credentials=[valid_micro_credential()], not_before=later))
    async with wallet_http(harness) as http:
        wallet = Wallet(http)
        await wallet.take_offer(answer.offers[0].link)
        assert (await wallet.token()).status_code == 200
        accepted = await wallet.receive(1)
    assert accepted.status_code == 202 and accepted.json()["interval"] > 3000, accepted.text


async def test_a_code_bound_to_a_dpop_key_needs_a_proof_by_that_key(stack: tuple[IssuerHarness, bytes]) -> None:
    harness, document_ca = stack
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    first, second, third = await create_offers(harness, 3)
    async with wallet_http(harness) as http:
        # bound by the DPoP proof sent with the pushed request (RFC 9449 §10.1)
        wallet = Wallet(http)
        await _authorized(wallet, first["link"])
        pushed, session = await wallet.push_authorization(dpop_key=key)
        assert pushed.status_code == 201, pushed.text
        assert (await wallet.authorize(session)).status_code == 302
        for proof_key in (None, other):  # no proof, or a proof by another key: refused, nothing spent
            wallet.dpop_key = proof_key
            refused = await wallet.exchange(session)
            assert refused.status_code == 400 and error_of(refused) == "invalid_dpop_proof", refused.text
        wallet.dpop_key = key
        token = await wallet.exchange(session)
        assert token.status_code == 200 and token.json()["token_type"] == "DPoP", token.text
        answer = await wallet.receive(1)
        assert answer.status_code == 200, answer.text
        report = await verify_at_gateway(harness, document_ca, answer.json()["credentials"][0]["credential"])
        assert report["verdict"] == "valid", report["checks"]

        # bound by the dpop_jkt parameter alone (§10): a Bearer exchange is refused, the key's proof accepted
        wallet = Wallet(http)
        await _authorized(wallet, second["link"])
        pushed, session = await wallet.push_authorization(dpop_jkt=jwk_thumbprint(public_jwk_of(key)))
        assert pushed.status_code == 201, pushed.text
        assert (await wallet.authorize(session)).status_code == 302
        refused = await wallet.exchange(session)
        assert refused.status_code == 400 and error_of(refused) == "invalid_dpop_proof"
        wallet.dpop_key = key
        assert (await wallet.exchange(session)).status_code == 200

        # the parameter and the proof naming different keys: the pushed request is refused
        wallet = Wallet(http)
        await _authorized(wallet, third["link"])
        pushed, _ = await wallet.push_authorization(dpop_key=key, dpop_jkt=jwk_thumbprint(public_jwk_of(other)))
        assert pushed.status_code == 400 and error_of(pushed) == "invalid_dpop_proof"
        # a replayed PAR proof (same jti) is refused
        url = wallet.as_metadata["pushed_authorization_request_endpoint"]
        proof = dpop_proof(key, "POST", url)
        base = {"response_type": "code", "client_id": "w", "redirect_uri": "https://w.example/cb",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
                "issuer_state": wallet.offer["grants"][AUTH_CODE]["issuer_state"]}
        assert (await http.post(url, data=base, headers={"DPoP": proof})).status_code == 201
        replayed = await http.post(url, data=base, headers={"DPoP": proof})
        assert replayed.status_code == 400 and error_of(replayed) == "invalid_dpop_proof"
