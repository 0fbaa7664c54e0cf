"""Our wallet receives credentials from the running issuer through OpenID4VCI offers (issue 20): the issuer service
in process with its REST app on HTTPS (port 0), the wallet served over HTTP on a socket, real Kafka and Redis.
The issuer creates offers over REST with its client certificate; a signed-in learner's wallet inspects and
accepts them through ``/v1/credential-offers``: the SD-JWT VC arrives bound to the learner's custodial P-256
key (the issuer requiring encrypted requests and responses, OpenID4VCI §10), is listed and downloadable like
any other, and when the issuer's ``CredentialIssued`` for the same
credential reaches the wallet over Kafka it is still listed once. A wrong, a missing and a reused code, an
untrusted issuer and a malformed link are each refused with their own code."""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import grpc
import httpx
import jwt
import pytest
from google.protobuf import json_format

from microcred import pki
from microcred.crypto.did_key import did_key_from_p256
from microcred.gen.microcred.v1 import privacy_pb2, privacy_pb2_grpc
from microcred.sdjwt.jose import jwk_to_public_key, public_jwk
from microcred.sdjwt.view import sd_jwt_id
from services.wallet.application.offers import CredentialOffers
from tests.conftest import Infrastructure
from tests.harness.factories import identity_hash, valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.waiting import eventually
from tests.harness.wallet.harness import WalletUnderTest, running_wallet

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY, UNI = f"agency-wvci-{TAG}", f"uni-wvci-{TAG}"


@dataclass
class Stack:
    """The running issuer (REST on HTTPS) and a wallet that trusts it."""

    issuer: IssuerHarness
    wallet: WalletUnderTest
    base: str
    issuer_tls: Path

    async def offers(self, *emails: str, tx_code: bool = False, title: str = "", did: str = "",
                     not_before: str = "") -> list[dict[str, Any]]:
        """One offer per learner e-mail, as the issuer creates them (POST /oid4vci/offers, client certificate);
        the learner's DID is the factory's unless ``did`` names another; ``not_before``: the credential is not
        issued before then (the wallet is answered with a deferred transaction)."""
        awards = []
        for email in emails:
            mc = valid_micro_credential()
            mc.learner.email = email
            if did:
                mc.learner.did = did
            mc.learner.hashed_id.identity_hash = identity_hash(email)
            if title:
                mc.title.values["en"] = title
            awards.append(json_format.MessageToDict(mc))
        cert = pki.create_client_cert(self.issuer.ca, UNI, AGENCY, pki.ROLE_ISSUER)
        cert_file, key_file = cert.write(Path(self.issuer.work_dir) / f"client-{uuid.uuid4().hex[:8]}", "client")
        context = ssl.create_default_context(cafile=str(self.issuer_tls))
        context.load_cert_chain(str(cert_file), str(key_file))
        async with httpx.AsyncClient(base_url=self.base, verify=context, timeout=60) as http:
            response = await http.post("/oid4vci/offers", json={"credentials": awards, "tx_code": tx_code,
                                                                 **({"not_before": not_before} if not_before else {})})
        assert response.status_code == 201, response.text
        offers: list[dict[str, Any]] = response.json()["offers"]
        return offers


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("wallet-oid4vci")
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, work, AGENCY, oid4vci_max_tx_attempts=5,
        oid4vci_offer_scheme="haip-vci",  # HAIP 1.0 §4.2's scheme for the links: the wallet takes them as any
        # every (deferred) credential request and response encrypted (OpenID4VCI §10): the issuer refuses any
        # other, so each flow here passing shows the wallet encrypts both ways
        oid4vci_encryption=True, oid4vci_require_encryption=True)
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        assert harness.app.rest is not None
        base = f"https://localhost:{harness.app.rest.port}"
        issuer_tls = work / "issuer-tls-ca.pem"
        issuer_tls.write_bytes(harness.ca.cert_pem)
        anchors = work / "sd-jwt-anchors.pem"
        anchors.write_bytes(document_ca.cert_pem + harness.ca.cert_pem)
        # The issuer's own topics (no prefix), so its CredentialIssued events reach this wallet too.
        async with running_wallet(infrastructure, TAG, work / "wallet", wallet_topic_prefix="",
                                  wallet_trusted_issuers=[base], wallet_issuer_tls_ca_file=issuer_tls,
                                  x509_trust_anchors_file=anchors,
                                  # each redemption here also proves the issuer's metadata came signed and checked
                                  wallet_require_signed_issuer_metadata=True) as wallet:
            yield Stack(harness, wallet, base, issuer_tls)
    finally:
        await harness.close()


def learner(stack: Stack) -> tuple[str, dict[str, str]]:
    email = f"learner-{uuid.uuid4().hex[:8]}@example.org"
    return email, stack.wallet.auth(email.split("@")[0], email)


async def bound_to_a_key_of_its_own(http: httpx.AsyncClient, headers: dict[str, str], compact: str) -> str:
    """The did:key of the SD-JWT VC's ``cnf``: one of the learner's holder keys, made for one credential, and
    not among the keys the learner gives issuers (``/v1/holder-keys/jwks``)."""
    cnf = jwt.decode(compact.split("~")[0], options={"verify_signature": False})["cnf"]["jwk"]
    did = did_key_from_p256(jwk_to_public_key(cnf))  # type: ignore[arg-type]
    listed = {k["did"]: k for k in (await http.get("/v1/holder-keys", headers=headers)).json()["holder_keys"]}
    assert listed[did]["for_credential"] is True
    handed_out = (await http.get("/v1/holder-keys/jwks", headers=headers)).json()["keys"]
    assert did not in {k["did"] for k in handed_out}
    return did


async def titles(stack: Stack, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await stack.wallet.http.get("/v1/credentials", headers=headers)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["credentials"]
    return listed


def code_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["code"])


async def test_a_learner_accepts_an_offer_with_a_transaction_code_and_holds_it_once(stack: Stack) -> None:
    email, headers = learner(stack)
    title = f"Offered course {uuid.uuid4().hex[:6]}"
    [offer] = await stack.offers(email, tx_code=True, title=title)
    link, tx_code = offer["link"], offer["tx_code"]
    http = stack.wallet.http

    seen = await http.post("/v1/credential-offers/inspect?lang=pl", json={"offer": link}, headers=headers)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["credential_issuer"] == stack.base and body["issuer_name"] == "microcred"
    assert body["tx_code"]["length"] == 6 and body["tx_code"]["input_mode"] == "numeric"
    # the offer lists both configurations; this wallet holds the SD-JWT VC and says the ldp_vc is not for it
    [offered] = [c for c in body["credentials"] if c["supported"]]
    assert offered["format"] == "dc+sd-jwt" and offered["name"]
    assert [c["format"] for c in body["credentials"] if not c["supported"]] == ["ldp_vc"]

    missing = await http.post("/v1/credential-offers/accept", json={"offer": link}, headers=headers)
    assert missing.status_code == 422 and code_of(missing) == "OFFER_TX_CODE_REQUIRED"
    wrong_code = f"{(int(tx_code) + 1) % 1_000_000:06d}"
    wrong = await http.post("/v1/credential-offers/accept", json={"offer": link, "tx_code": wrong_code},
                            headers=headers)
    assert wrong.status_code == 422 and code_of(wrong) == "OFFER_TX_CODE_WRONG"
    assert "invalid_grant" in wrong.json()["detail"]
    assert await titles(stack, headers) == []  # nothing kept

    accepted = await http.post("/v1/credential-offers/accept", json={"offer": link, "tx_code": tx_code},
                               headers=headers)
    assert accepted.status_code == 200, accepted.text
    answer = accepted.json()
    assert answer["notified"] is True and answer["pending"] == 0  # the issuer took credential_accepted (204)
    [received] = answer["credentials"]
    assert received["elements"]["title"] == title and received["sd_jwt_vc"] is True

    # bound to a custodial P-256 key the wallet made for this credential (not one the learner hands out)
    download = await http.get(f"/v1/credentials/{received['credential_id']}/sd-jwt", headers=headers)
    assert download.status_code == 200, download.text
    compact = download.text
    await bound_to_a_key_of_its_own(http, headers, compact)
    received_id = sd_jwt_id(compact)

    again = await http.post("/v1/credential-offers/accept", json={"offer": link, "tx_code": tx_code},
                            headers=headers)
    assert again.status_code == 422 and code_of(again) == "OFFER_GONE"  # a redeemed offer is gone

    # The issuer's CredentialIssued (sealed, filed under the learner's e-mail) reaches the wallet over Kafka: the
    # same credential, listed once, as the issued one (which follows its status).
    async def issued_copy() -> list[dict[str, Any]]:
        return [c for c in await titles(stack, headers) if c["source"] == "issued"]

    await eventually(issued_copy, 120, "the issuer's CredentialIssued never reached the wallet")
    listed = await titles(stack, headers)
    assert len(listed) == 1 and listed[0]["elements"]["title"] == title, listed
    issued_sd_jwt = await http.get(f"/v1/credentials/{listed[0]['credential_id']}/sd-jwt", headers=headers)
    assert sd_jwt_id(issued_sd_jwt.text) == received_id  # the very credential the wallet received


async def test_a_key_made_for_a_credential_is_published_only_when_kept(stack: Stack) -> None:
    """The running wallet's key store and read model: a key made for a credential is not the account's until
    published; discarded (its request failed) it is gone from the store, so nothing recovers it; one left by a
    crash between making and publishing is recovered as the account's; a published one whose credential was
    not kept is tombstoned and deleted, and a key the learner made never is."""
    _, headers = learner(stack)
    http = stack.wallet.http
    account_id = (await http.get("/v1/me", headers=headers)).json()["account_id"]
    keys = stack.wallet.app.state.wallet.keys

    async def listed() -> set[str]:
        answer = (await http.get("/v1/holder-keys", headers=headers)).json()["holder_keys"]
        return {k["did"] for k in answer}

    before = await listed()
    refused = await keys.make_for_credential(account_id)
    assert refused.holder.did not in await listed()
    await keys.discard(refused)
    assert await keys.recover(account_id) == 0 and refused.holder.did not in await listed()
    kept = await keys.make_for_credential(account_id)
    await keys.publish_for_credential(account_id, kept)
    assert await eventually(listed, 30, until=lambda dids: kept.holder.did in dids)
    crashed = await keys.make_for_credential(account_id)  # never published: recovered as any stored key is
    assert await keys.recover(account_id) == 1
    assert await eventually(listed, 30, until=lambda dids: dids == before | {kept.holder.did, crashed.holder.did})
    jwk = public_jwk(await keys.jose_key(account_id, crashed.holder.did))
    assert jwk == public_jwk(crashed.private)
    # a published key whose credential was not kept after all: its record and its private key go
    assert await keys.forget_for_credential(account_id, kept.holder.did) is True
    assert await eventually(listed, 30, until=lambda dids: dids == before | {crashed.holder.did})
    assert await keys.recover(account_id) == 0
    # a key the learner made is never deleted this way
    made = await keys.create(account_id)
    assert await eventually(listed, 30, until=lambda dids: made.did in dids)
    assert await keys.forget_for_credential(account_id, made.did) is False


async def test_an_offer_for_another_identity_is_kept_as_received_without_a_code(stack: Stack) -> None:
    _, headers = learner(stack)
    title = f"Forwarded course {uuid.uuid4().hex[:6]}"
    [offer] = await stack.offers(f"someone-else-{TAG}@example.org", title=title)
    assert "tx_code" not in offer or not offer["tx_code"]
    accepted = await stack.wallet.http.post("/v1/credential-offers/accept", json={"offer": offer["link"]},
                                            headers=headers)
    assert accepted.status_code == 200, accepted.text
    [received] = accepted.json()["credentials"]
    assert received["source"] == "imported" and received["import_check"]["received_by"] == "openid4vci"
    assert received["import_check"]["received_from"] == stack.base
    listed = await titles(stack, headers)
    assert [c["credential_id"] for c in listed] == [received["credential_id"]]
    view = await stack.wallet.http.get(f"/app/view/{received['credential_id']}?lang=en", headers=headers)
    assert view.status_code == 200 and any(title in str(v) for _, v in view.json()["elements"])


async def test_untrusted_issuers_and_malformed_links_are_refused_before_anything_is_fetched(stack: Stack) -> None:
    _, headers = learner(stack)
    http = stack.wallet.http
    [offer] = await stack.offers(f"x-{TAG}@example.org")
    uri = offer["credential_offer_uri"]
    other_host = uri.replace("https://localhost:", "https://127.0.0.1:")  # the same server, not the listed name
    cases = {
        "openid-credential-offer://?credential_offer_uri=" + quote(other_host, safe=""): "OFFER_ISSUER_NOT_TRUSTED",
        "openid-credential-offer://?credential_offer_uri=" + quote("http://169.254.169.254/latest", safe=""):
            "OFFER_ISSUER_NOT_TRUSTED",
        "openid-credential-offer://?credential_offer=" + quote(json.dumps({
            "credential_issuer": "https://issuer.evil.example", "credential_configuration_ids": ["x"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "c"}}})):
            "OFFER_ISSUER_NOT_TRUSTED",
        "openid-credential-offer://?nothing=here": "OFFER_LINK_INVALID",
        "openid-credential-offer://?credential_offer_uri=" + quote(stack.base + "/oid4vci/offers/unknown", safe=""):
            "OFFER_GONE",
    }
    for link, expected in cases.items():
        for path in ("/v1/credential-offers/inspect", "/v1/credential-offers/accept"):
            response = await http.post(path, json={"offer": link}, headers=headers)
            assert response.status_code == 422 and code_of(response) == expected, (link, response.text)
    unauthenticated = await http.post("/v1/credential-offers/inspect", json={"offer": offer["link"]})
    assert unauthenticated.status_code == 401
    assert await titles(stack, headers) == []
    # the offer itself is untouched by all this: still redeemable
    still = await http.post("/v1/credential-offers/inspect", json={"offer": offer["link"]}, headers=headers)
    assert still.status_code == 200, still.text


def offer_uri_of(link: str) -> str:
    """The credential_offer_uri an offer link carries, whatever its scheme."""
    [uri] = parse_qs(urlsplit(link).query)["credential_offer_uri"]
    return uri


async def addressed(stack: Stack, headers: dict[str, str], lang: str = "en") -> list[dict[str, Any]]:
    response = await stack.wallet.http.get(f"/v1/credential-offers?lang={lang}", headers=headers)
    assert response.status_code == 200, response.text
    offers: list[dict[str, Any]] = response.json()["offers"]
    return offers


async def test_the_offers_made_for_a_learner_are_listed_in_their_wallet_until_redeemed_or_withdrawn(
        stack: Stack) -> None:
    email, headers = learner(stack)
    _, stranger = learner(stack)
    title = f"Listed course {uuid.uuid4().hex[:6]}"
    kept, withdrawn = await stack.offers(email, email, tx_code=True, title=title)

    async def both_listed() -> list[dict[str, Any]]:
        listed = await addressed(stack, headers)
        return listed if len(listed) == 2 else []

    # CredentialOfferCreated (its learner part sealed) reaches the wallet over Kafka and is filed under the e-mail
    listed = await eventually(both_listed, 120, "the offers never reached the learner's wallet")
    # the issuer hands out haip-vci:// links; the wallet's own listing writes openid-credential-offer:// (its own
    # "Receive a credential" view takes either): the same offers by reference
    assert {offer_uri_of(o["link"]) for o in listed} == {kept["credential_offer_uri"],
                                                         withdrawn["credential_offer_uri"]}
    assert kept["link"].startswith("haip-vci://?") and all(o["link"].startswith("openid-credential-offer://?")
                                                          for o in listed)
    for item in listed:
        assert item["title"] == title and item["issuer_id"] == UNI and item["tx_code_required"] is True
        assert item["awarding_body"] and item["expires_at"].endswith("Z")
        assert "tx_code" not in item  # the code only ever travels out of band
    assert await addressed(stack, stranger) == []  # another learner sees none of them

    # withdrawn by the issuer (REST, its client certificate): it leaves the list
    assert await _withdraw(stack, withdrawn["offer_id"]) in (200, 204)

    async def only_the_kept_one() -> bool:
        return [offer_uri_of(o["link"]) for o in await addressed(stack, headers)] == [kept["credential_offer_uri"]]

    await eventually(only_the_kept_one, 120, "a withdrawn offer stayed in the learner's list")
    # accepted from the list's link: the credential is received and the offer leaves the list
    accepted = await stack.wallet.http.post("/v1/credential-offers/accept",
                                            json={"offer": kept["link"], "tx_code": kept["tx_code"]},
                                            headers=headers)
    assert accepted.status_code == 200, accepted.text

    async def none_left() -> bool:
        return await addressed(stack, headers) == []

    await eventually(none_left, 120, "a redeemed offer stayed in the learner's list")
    # a signed-out caller gets nothing
    anonymous = await stack.wallet.http.get("/v1/credential-offers")
    assert anonymous.status_code == 401


async def test_an_erased_learners_offers_leave_their_wallet(stack: Stack) -> None:
    email, headers = learner(stack)
    did = f"did:example:erased-{uuid.uuid4().hex}"  # this learner's own: erasing it touches no other test
    redeemed, still_open = await stack.offers(email, email, did=did)

    async def both_listed() -> bool:
        return len(await addressed(stack, headers)) == 2

    await eventually(both_listed, 120, "the offers never reached the learner's wallet")
    # one redeemed: the issuer has issued to this learner, so its operator may erase them
    accepted = await stack.wallet.http.post("/v1/credential-offers/accept", json={"offer": redeemed["link"]},
                                            headers=headers)
    assert accepted.status_code == 200, accepted.text
    as_issuer = privacy_pb2_grpc.PrivacyServiceStub(stack.issuer.channel(UNI, AGENCY, pki.ROLE_ISSUER))
    erased = await as_issuer.DeleteLearnerData(privacy_pb2.DeleteLearnerDataRequest(
        learner=privacy_pb2.LearnerRef(did=did), reason="learner's request (test)"))
    assert erased.learner_pseudonyms

    async def none_left() -> bool:
        return await addressed(stack, headers) == []

    # LearnerErased drops the learner's offers from the wallet's read model (the open one included)
    await eventually(none_left, 120, f"an erased learner's offer ({still_open['offer_id'][:6]}…) stayed listed")


async def test_a_learner_only_offered_a_credential_can_be_erased_and_the_offer_no_longer_gives_it(
        stack: Stack) -> None:
    """An offer holds the learner's data sealed under their key (the award, the learner part of its event):
    erasing a learner who has not redeemed anything yet must work too (it was refused: "issued no credential")."""
    email, headers = learner(stack)
    did = f"did:example:offered-only-{uuid.uuid4().hex}"
    [offer] = await stack.offers(email, did=did)

    async def listed() -> bool:
        return len(await addressed(stack, headers)) == 1

    await eventually(listed, 120, "the offer never reached the learner's wallet")
    as_issuer = privacy_pb2_grpc.PrivacyServiceStub(stack.issuer.channel(UNI, AGENCY, pki.ROLE_ISSUER))
    erased = await as_issuer.DeleteLearnerData(privacy_pb2.DeleteLearnerDataRequest(
        learner=privacy_pb2.LearnerRef(did=did), reason="learner's request (test)"))
    assert list(erased.learner_pseudonyms) and list(erased.credential_ids) == []

    async def gone() -> bool:
        return await addressed(stack, headers) == []

    await eventually(gone, 120, "the erased learner's offer stayed listed")
    # the issuer's own list says so too: withdrawn by the erasure (its award no longer opens anyway)
    withdrawn = await _issuer_get(stack, "/oid4vci/offers", {"state": "withdrawn", "page_size": 500})
    [listed] = [o for o in withdrawn["offers"] if o["offer_id"] == offer["offer_id"]]
    assert listed["withdrawal_reason"] == "withdrawn" and "link" not in listed
    taken = await stack.wallet.http.post("/v1/credential-offers/accept", json={"offer": offer["link"]},
                                         headers=headers)
    assert taken.status_code == 422 and code_of(taken) == "OFFER_GONE", taken.text
    assert await titles(stack, headers) == []
    # another issuer's operator still may not erase this learner
    other = privacy_pb2_grpc.PrivacyServiceStub(stack.issuer.channel("uni-other", AGENCY, pki.ROLE_ISSUER))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await other.DeleteLearnerData(privacy_pb2.DeleteLearnerDataRequest(
            learner=privacy_pb2.LearnerRef(did=did), reason="not mine"))
    assert refused.value.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)


async def _issuer_get(stack: Stack, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """GET from the issuer's REST app with its client certificate (200 expected)."""
    cert = pki.create_client_cert(stack.issuer.ca, UNI, AGENCY, pki.ROLE_ISSUER)
    cert_file, key_file = cert.write(Path(stack.issuer.work_dir) / f"client-{uuid.uuid4().hex[:8]}", "client")
    context = ssl.create_default_context(cafile=str(stack.issuer_tls))
    context.load_cert_chain(str(cert_file), str(key_file))
    async with httpx.AsyncClient(base_url=stack.base, verify=context, timeout=60) as issuer_http:
        answer = await issuer_http.get(path, params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _withdraw(stack: Stack, offer_id: str) -> int:
    """The issuer withdraws an offer (REST, its client certificate): the HTTP status."""
    cert = pki.create_client_cert(stack.issuer.ca, UNI, AGENCY, pki.ROLE_ISSUER)
    cert_file, key_file = cert.write(Path(stack.issuer.work_dir) / f"client-{uuid.uuid4().hex[:8]}", "client")
    context = ssl.create_default_context(cafile=str(stack.issuer_tls))
    context.load_cert_chain(str(cert_file), str(key_file))
    async with httpx.AsyncClient(base_url=stack.base, verify=context, timeout=60) as issuer_http:
        gone = await issuer_http.delete(f"/oid4vci/offers/{offer_id}")
    return gone.status_code


async def _at_the_issuer(stack: Stack, url: str) -> dict[str, str]:
    """The learner's browser at the issuer's authorization endpoint (this issuer has no learner login, so it
    redirects at once): the query it brings back to the wallet's page, which must be that page."""
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(stack.issuer_tls)), timeout=30) as web:
        answer = await web.get(url)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == str(stack.wallet.http.base_url).rstrip("/") and back.path == "/"
    return {k: v[0] for k, v in parse_qs(back.query).items()}


async def test_a_learner_takes_the_authorization_code_grant_through_the_issuers_pages(stack: Stack) -> None:
    """The wallet as the client of the authorization code flow (PAR, PKCE S256, issuer_state, iss): begun with
    /authorize, finished with /complete; the attempt is the learner's and is used once."""
    email, headers = learner(stack)
    [offer] = await stack.offers(email)
    http = stack.wallet.http
    seen = await http.post("/v1/credential-offers/inspect", json={"offer": offer["link"]}, headers=headers)
    assert seen.json()["grant"] == "pre-authorized_code"  # both grants offered: the wallet prefers no trip
    begun = await http.post("/v1/credential-offers/authorize", json={"offer": offer["link"]}, headers=headers)
    assert begun.status_code == 200, begun.text
    url = begun.json()["authorization_url"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{stack.base}/oid4vci/authorize?") and set(query) == {"client_id", "request_uri"}  # PAR
    back = await _at_the_issuer(stack, url)
    assert back["iss"] == stack.base and back["code"] and back["state"]

    # another learner cannot finish this learner's attempt (and spends it trying)
    _, other = learner(stack)
    stolen = await http.post("/v1/credential-offers/complete", json=back, headers=other)
    assert stolen.status_code == 422 and code_of(stolen) == "OFFER_AUTHORIZATION_UNKNOWN"
    again = await http.post("/v1/credential-offers/complete", json=back, headers=headers)
    assert again.status_code == 422 and code_of(again) == "OFFER_AUTHORIZATION_UNKNOWN"

    # the learner begins again and finishes: the credential is theirs, bound to their key
    begun = await http.post("/v1/credential-offers/authorize", json={"offer": offer["link"]}, headers=headers)
    back = await _at_the_issuer(stack, begun.json()["authorization_url"])
    mixed_up = await http.post("/v1/credential-offers/complete", json={**back, "iss": "https://evil.example"},
                               headers=headers)
    assert mixed_up.status_code == 422 and code_of(mixed_up) == "OFFER_AUTHORIZATION_DENIED"
    begun = await http.post("/v1/credential-offers/authorize", json={"offer": offer["link"]}, headers=headers)
    back = await _at_the_issuer(stack, begun.json()["authorization_url"])
    done = await http.post("/v1/credential-offers/complete", json=back, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["notified"] is True
    await eventually(lambda: titles(stack, headers), until=lambda found: len(found) == 1)
    # the offer is redeemed: its pre-authorized code no longer works
    gone = await http.post("/v1/credential-offers/accept", json={"offer": offer["link"]}, headers=headers)
    assert gone.status_code == 422 and code_of(gone) in ("OFFER_GONE", "OFFER_ISSUER_REFUSED")


async def test_an_issuers_refusal_comes_back_as_access_denied(stack: Stack) -> None:
    email, headers = learner(stack)
    [offer] = await stack.offers(email)
    http = stack.wallet.http
    begun = await http.post("/v1/credential-offers/authorize", json={"offer": offer["link"]}, headers=headers)
    state = parse_qs(urlsplit(begun.json()["authorization_url"]).query)  # PAR: the state is not in the URL
    assert "state" not in state
    # withdrawn meanwhile: the issuer redirects with error=access_denied, which the wallet names
    assert await _withdraw(stack, offer["offer_id"]) in (200, 204)
    back = await _at_the_issuer(stack, begun.json()["authorization_url"])
    assert back["error"] == "access_denied"
    refused = await http.post("/v1/credential-offers/complete", json=back, headers=headers)
    assert refused.status_code == 422 and code_of(refused) == "OFFER_AUTHORIZATION_DENIED"
    assert await titles(stack, headers) == []


async def test_a_learner_receives_the_open_badge_ldp_vc_bound_to_their_did_key(stack: Stack) -> None:
    """An offer of the OB 3.0 ldp_vc configuration only (by value): the wallet names its did:key in the key proof
    (kid), and keeps the Data Integrity credential once it verifies (the issuer's did:web key through the
    registry) and its subject is that did:key; listed once even when the issuer's event brings it too."""
    email, headers = learner(stack)
    [offer] = await stack.offers(email)
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(stack.issuer_tls)), timeout=30) as web:
        document = (await web.get(offer["credential_offer_uri"])).json()
    document["credential_configuration_ids"] = ["ob3_achievement_credential_ldp"]
    link = "openid-credential-offer://?credential_offer=" + quote(json.dumps(document), safe="")
    http = stack.wallet.http
    seen = await http.post("/v1/credential-offers/inspect", json={"offer": link}, headers=headers)
    assert seen.status_code == 200, seen.text
    assert [c["format"] for c in seen.json()["credentials"] if c["supported"]] == ["ldp_vc"]
    accepted = await http.post("/v1/credential-offers/accept", json={"offer": link}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    dids = {k["did"] for k in (await http.get("/v1/holder-keys", headers=headers)).json()["holder_keys"]}
    listed = await eventually(lambda: titles(stack, headers), until=lambda found: len(found) == 1)
    detail = await http.get(f"/v1/credentials/{quote(listed[0]['credential_id'], safe='')}", headers=headers)
    assert detail.status_code == 200, detail.text
    held = detail.json()["credential"]
    assert "AchievementCredential" in held["type"] and held["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert held["credentialSubject"]["id"] in dids and held["credentialSubject"]["id"].startswith("did:key:zDn")


async def test_a_credential_the_issuer_defers_is_kept_waiting_and_collected_when_ready(stack: Stack) -> None:
    """The offer says "not before" a moment a few seconds on: the issuer answers the credential request with a
    transaction_id (§8.3), the code is spent, and the wallet keeps the transaction (sealed, on its topic) and
    collects the credential from the deferred credential endpoint (§9) once the issuer has it."""
    email, headers = learner(stack)
    title = f"Deferred course {uuid.uuid4().hex[:6]}"
    not_before = datetime.now(UTC) + timedelta(seconds=4)
    [offer] = await stack.offers(email, title=title, not_before=not_before.isoformat())
    http = stack.wallet.http

    accepted = await http.post("/v1/credential-offers/accept", json={"offer": offer["link"]}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"credentials": [], "pending": 0, "notified": False, "deferred": 1}
    again = await http.post("/v1/credential-offers/accept", json={"offer": offer["link"]}, headers=headers)
    assert again.status_code == 422 and code_of(again) == "OFFER_GONE"  # the code is spent

    waiting = await http.get("/v1/credential-offers/deferred?lang=en", headers=headers)
    assert waiting.status_code == 200, waiting.text
    [item] = waiting.json()["deferred"]
    assert item["credential_issuer"] == stack.base and item["issuer_name"] == "microcred" and item["name"]
    assert 1 <= item["interval"] <= 5 and len(item["id"]) == 64
    # kept sealed: the projection holds the record as published, which names neither token nor transaction
    aid = (await http.get("/v1/me", headers=headers)).json()["account_id"]
    stored = await stack.wallet.redis.hgetall(f"{stack.wallet.prefix}:acct:{aid}:deferred")
    assert list(stored) == [item["id"].encode()]
    sealed = next(iter(stored.values()))
    assert b"access_token" not in sealed and b"transaction_id" not in sealed and b"PRIVATE" not in sealed

    # asked at once: not due yet (the issuer's interval), nothing asked, still waiting
    early = await http.post("/v1/credential-offers/deferred/collect", headers=headers)
    assert early.status_code == 200, early.text
    assert early.json()["credentials"] == [] and [w["id"] for w in early.json()["waiting"]] == [item["id"]]
    assert await titles(stack, headers) == []

    async def collected() -> dict[str, Any] | None:
        answer = await http.post("/v1/credential-offers/deferred/collect", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["ended"] == [], body
        return body if body["credentials"] or body["pending"] else None

    got = await eventually(collected, 60, "the deferred credential was never collected", interval=1.0)
    assert got is not None and got["waiting"] == []
    assert datetime.now(UTC) >= not_before  # not issued before the issuer allowed it
    [received] = got["credentials"] or [None]
    assert received is not None and received["elements"]["title"] == title and received["sd_jwt_vc"] is True
    assert (await http.get("/v1/credential-offers/deferred", headers=headers)).json()["deferred"] == []

    async def dropped() -> bool:
        return not await stack.wallet.redis.exists(f"{stack.wallet.prefix}:acct:{aid}:deferred")

    await eventually(dropped, 30, "the collected transaction was not dropped")
    listed = await titles(stack, headers)
    assert [c["elements"]["title"] for c in listed] == [title]


async def test_deleting_the_account_drops_what_it_waited_for(stack: Stack) -> None:
    email, headers = learner(stack)
    not_before = datetime.now(UTC) + timedelta(hours=1)
    [offer] = await stack.offers(email, not_before=not_before.isoformat())
    http = stack.wallet.http
    accepted = await http.post("/v1/credential-offers/accept", json={"offer": offer["link"]}, headers=headers)
    assert accepted.status_code == 200 and accepted.json()["deferred"] == 1, accepted.text
    aid = (await http.get("/v1/me", headers=headers)).json()["account_id"]
    key = f"{stack.wallet.prefix}:acct:{aid}:deferred"
    assert await stack.wallet.redis.hlen(key) == 1

    deleted = await http.delete("/v1/me?confirm=delete-my-account", headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"]["deferred_issuances"] == 1
    assert not await stack.wallet.redis.exists(key)


async def test_two_collections_racing_for_one_deferred_credential_keep_it_and_its_key(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two collections of one deferred credential (two tabs, or two wallet replicas on one Redis): while the
    first, having got the credential from the issuer (its transaction_id spent there), is still keeping it, the
    issuer's interval runs out. The second must not ask the issuer meanwhile: it would be told
    ``invalid_transaction_id``, end the issuance as gone and delete the holder key the kept credential is bound
    to."""
    email, headers = learner(stack)
    not_before = datetime.now(UTC) + timedelta(seconds=2)
    [offer] = await stack.offers(email, title="Raced deferral", not_before=not_before.isoformat())
    http = stack.wallet.http
    accepted = await http.post("/v1/credential-offers/accept", json={"offer": offer["link"]}, headers=headers)
    assert accepted.status_code == 200 and accepted.json()["deferred"] == 1, accepted.text
    [item] = (await http.get("/v1/credential-offers/deferred", headers=headers)).json()["deferred"]
    asked = f"{stack.wallet.prefix}:oid4vci-deferred-asked:{item['id']}"

    async def due() -> bool:
        return datetime.now(UTC) > not_before + timedelta(seconds=1) and not await stack.wallet.redis.exists(asked)

    await eventually(due, 30, "the deferred credential never became due")
    keeping, keep = asyncio.Event(), CredentialOffers.keep_issued

    async def slow_keep(self: CredentialOffers, *args: Any, **kwargs: Any) -> Any:
        keeping.set()
        await asyncio.sleep(item["interval"] + 2)  # the issuer's interval runs out while the first keeps it
        return await keep(self, *args, **kwargs)

    monkeypatch.setattr(CredentialOffers, "keep_issued", slow_keep)
    first = asyncio.create_task(http.post("/v1/credential-offers/deferred/collect", headers=headers))
    await asyncio.wait_for(keeping.wait(), 30)
    await asyncio.sleep(item["interval"] + 0.5)
    second = await http.post("/v1/credential-offers/deferred/collect", headers=headers)
    assert second.status_code == 200 and second.json()["ended"] == [], second.text
    got = (await first).json()
    assert len(got["credentials"]) + got["pending"] == 1 and got["ended"] == [], got
    keys = (await http.get("/v1/holder-keys", headers=headers)).json()["holder_keys"]
    assert [k["for_credential"] for k in keys] == [True]  # the key the credential is bound to is still there
