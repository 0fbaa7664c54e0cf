"""The gateway as an OpenID4VP 1.0 verifier over real sockets, with real Redis (and the Kafka it consumes),
answered by the test wallet written from the spec (tests/harness/oid4vp_wallet.py).

The SD-JWT VC issuer's CA is the gateway's x509 trust anchor; the issuer is not in this gateway's registry and
its status list is not reachable, so those checks read unknown/invalid (never valid) and the tests assert the
checks this protocol is about: the issuer's signature and Disclosures, holder binding to this request's nonce
and client_id, and the DCQL evaluation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import verification_method_id
from microcred.crypto.multikey import decode_ed25519_secret_key
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.type_metadata import VCT
from microcred.verification.messages import VERDICTS
from services.verifier.app import create_app
from tests.conftest import Infrastructure
from tests.harness.factories import LEARNER_DID
from tests.harness.oid4vp_gateway import gateway_settings, x509_verifier
from tests.harness.oid4vp_wallet import FetchedRequest, TestWallet, sd_jwt_presentation
from tests.harness.redis_cluster import RedisClients
from tests.harness.sd_jwt import SdWorld
from tests.harness.waiting import eventually
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

LDP_HOLDER = decode_ed25519_secret_key("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")  # W3C keyPair.json
HOST = "verifier.test"


@dataclass
class Stack:
    url: str
    http: httpx.AsyncClient
    wallet: TestWallet
    sd: SdWorld
    holder: ec.EllipticCurvePrivateKey
    redis: Redis  # a client of the Redis the gateway runs on (a RedisCluster on the cluster)

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post(f"{self.url}/v1/presentation-requests", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def result(self, created: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.get(created["result_url"])
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def credential(self) -> str:
        return self.sd.issue(holder_jwk=public_jwk(self.holder)).compact


@pytest.fixture
async def stack(infrastructure: Infrastructure, tmp_path: Path, redis_clients: RedisClients) -> AsyncIterator[Stack]:
    """The gateway on the session's single Redis node, then on the 3-master Redis Cluster (issue 24)."""
    verifier = x509_verifier(infrastructure, tmp_path, HOST, redis_clients.service_url)
    settings, sd, ca_pem = verifier.settings, verifier.sd, verifier.ca_pem
    async with RunningServer(create_app(settings), proxy_headers=False) as server, \
            httpx.AsyncClient(timeout=30) as http:
        wallet = TestWallet(http, x509.load_pem_x509_certificate(ca_pem))
        yield Stack(server.url, http, wallet, sd, ec.generate_private_key(ec.SECP256R1()),
                    cast("Redis", await redis_clients.new()))


def checks(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


QUERY = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                          "claims": [{"path": ["achievement_title"]}, {"path": ["family_name"]},
                                     {"path": ["level_of_learning_experience", "eqf_level"], "values": [6, 7, 8]}]}]}


async def present_sd(stack: Stack, request: FetchedRequest, **kwargs: Any) -> str:
    return sd_jwt_presentation(stack.credential(), stack.holder, nonce=kwargs.pop("nonce", request.nonce),
                               aud=kwargs.pop("aud", request.client_id), **kwargs)


async def test_sd_jwt_vc_with_chosen_disclosures_over_an_encrypted_response(stack: Stack) -> None:
    created = await stack.create(dcql_query=QUERY)  # direct_post.jwt by default (HAIP)
    assert created["link"].startswith("openid4vp://?")
    qr = await stack.http.get(created["qr_url"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml" and "<svg" in qr.text
    assert (await stack.result(created))["status"] == "pending"
    request = await stack.wallet.fetch(created["link"])
    assert request.client_id == f"x509_san_dns:{HOST}" and request.claims["response_mode"] == "direct_post.jwt"
    assert request.nonce == created["nonce"] and request.dcql_query == QUERY
    vp = await present_sd(stack, request, withhold=("given_name", "birthdate"))
    response = await stack.wallet.answer(request, {"mc": [vp]}, enc="A256GCM")
    assert response.status_code == 200, response.text
    result = await stack.result(created)
    assert result["status"] == "verified" and result["encrypted"] is True
    body = result["en"]
    assert body["query"]["satisfied"] is True, body["query"]
    report = body["presentations"][0]["report"]
    assert {k: checks(report)[k] for k in ("signature", "disclosures", "holder_binding", "issuer_identity")} == {
        "signature": "valid", "disclosures": "valid", "holder_binding": "valid", "issuer_identity": "valid"}
    assert body["verdict"] != "valid"  # accreditation and status could not be established here: never valid
    assert result["pl"]["presentations"][0]["report"]["verdict_message"] != report["verdict_message"]
    for lang in ("de", "fr"):  # the outcome in every page language, as in English and Polish
        assert result[lang]["presentations"][0]["report"]["verdict_message"] == \
            VERDICTS[report["verdict"]][lang], lang
    # personal data: kept briefly (docs/privacy.md)
    ttl = await stack.redis.ttl(f"oid4vp:res:{{{created['result_id']}}}")
    assert 0 < ttl <= 600


async def test_server_sent_events_carry_the_result(stack: Stack) -> None:
    created = await stack.create(template="micro-credential", response_mode="direct_post")
    events: list[dict[str, Any]] = []

    async def listen() -> None:
        async with stack.http.stream("GET", created["result_url"] + "/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))

    listening = asyncio.create_task(listen())
    await eventually(lambda: _true(bool(events)), timeout=30)
    request = await stack.wallet.fetch(created["link"])
    answered = await stack.wallet.answer(request, {"micro_credential": [await present_sd(stack, request)]})
    assert answered.status_code == 200, answered.text
    await asyncio.wait_for(listening, 60)  # the stream ends once the result is no longer pending
    assert [e["status"] for e in events] == ["pending", "verified"]
    assert events[-1]["en"]["query"]["satisfied"] is True


async def _true(value: bool) -> bool:
    return value


async def test_a_query_the_credential_does_not_satisfy_names_what_is_missing(stack: Stack) -> None:
    query = json.loads(json.dumps(QUERY))
    query["credentials"][0]["claims"][2]["values"] = [7, 8]
    created = await stack.create(dcql_query=query, response_mode="direct_post")
    request = await stack.wallet.fetch(created["link"])
    response = await stack.wallet.answer(request, {"mc": [await present_sd(stack, request, withhold=("family_name",))]})
    assert response.status_code == 200, response.text
    body = (await stack.result(created))["en"]
    assert body["verdict"] == "invalid" and body["query"]["satisfied"] is False
    assert body["query"]["credentials"][0]["missing"] == [
        "family_name: not disclosed", "level_of_learning_experience.eqf_level: value not among 7, 8"]


async def test_replays_wrong_state_and_wrong_aud_are_refused_with_reasons(stack: Stack) -> None:
    created = await stack.create(dcql_query=QUERY, response_mode="direct_post")
    request = await stack.wallet.fetch(created["link"])
    vp = await present_sd(stack, request)
    wrong_state = await stack.wallet.answer(request, {"mc": [vp]}, state="not-the-state")
    assert wrong_state.status_code == 400
    assert wrong_state.json() == {"error": "invalid_request", "error_description": "state: does not match this request"}
    assert (await stack.result(created))["status"] == "pending"  # a refused answer changes nothing
    first = await stack.wallet.answer(request, {"mc": [vp]})
    assert first.status_code == 200, first.text
    replay = await stack.wallet.answer(request, {"mc": [vp]})
    assert replay.status_code == 400 and "already answered (replay)" in replay.json()["error_description"]

    other = await stack.create(dcql_query=QUERY, response_mode="direct_post")
    other_request = await stack.wallet.fetch(other["link"])
    stolen = await stack.wallet.answer(other_request, {"mc": [vp]})  # bound to the first request's nonce
    # processed, so answered 200 (§8.2); the failure is the employer's result
    assert stolen.status_code == 200, stolen.text
    report = (await stack.result(other))["en"]["presentations"][0]["report"]
    assert checks(report)["holder_binding"] == "invalid"

    third = await stack.create(dcql_query=QUERY, response_mode="direct_post")
    third_request = await stack.wallet.fetch(third["link"])
    wrong_aud = await stack.wallet.answer(third_request, {"mc": [await present_sd(
        stack, third_request, aud="x509_san_dns:evil.example")]})
    assert wrong_aud.status_code == 200, wrong_aud.text
    report = (await stack.result(third))["en"]["presentations"][0]["report"]
    assert checks(report)["holder_binding"] == "invalid"


async def test_an_ldp_vp_with_challenge_and_domain(stack: Stack) -> None:
    created = await stack.create(template="open-badge", response_mode="direct_post")
    request = await stack.wallet.fetch(created["link"])
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "holder": LEARNER_DID, "verifiableCredential": [stack.sd.world.credential()]}
    signed = sign_eddsa_rdfc_2022(vp, LDP_HOLDER, verification_method_id(LEARNER_DID), proof_purpose="authentication",
                                  challenge=request.nonce, domain=request.client_id)
    response = await stack.wallet.answer(request, {"open_badge": [signed]})
    assert response.status_code == 200, response.text
    body = (await stack.result(created))["en"]
    assert body["query"]["satisfied"] is True, body
    assert checks(body["presentations"][0]["report"])["holder_binding"] == "valid"


async def test_a_refusal_bad_queries_and_unknown_requests(stack: Stack) -> None:
    created = await stack.create(template="micro-credential-eqf6")
    request = await stack.wallet.fetch(created["link"])
    refused = await stack.wallet.refuse(request)
    assert refused.status_code == 200
    assert (await stack.result(created))["status"] == "refused"
    bad = await stack.http.post(f"{stack.url}/v1/presentation-requests",
                                json={"dcql_query": {"credentials": [{"id": "x", "format": "jwt_vc_json"}]}})
    assert bad.status_code == 400 and bad.json()["field"] == "credentials[0].format"
    # a trusted authority type the gateway cannot check would never be met: refused when the request is made
    uncheckable = await stack.http.post(f"{stack.url}/v1/presentation-requests", json={"dcql_query": {
        "credentials": [{"id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                         "trusted_authorities": [{"type": "etsi_tl", "values": ["https://tl.example/tl.xml"]}]}]}})
    assert uncheckable.status_code == 400, uncheckable.text
    assert uncheckable.json()["field"] == "credentials[0].trusted_authorities[0].type"
    # a lone surrogate ("\ud800" in the JSON text) was accepted here, and then every fetch of the request
    # object failed (500): it cannot be written into the signed request
    lone = await stack.http.post(f"{stack.url}/v1/presentation-requests", content=json.dumps({"dcql_query": {
        "credentials": [{"id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["v\ud800"]}}]}}).encode(),
        headers={"content-type": "application/json"})
    assert lone.status_code == 400 and lone.json()["field"] == "credentials[0].meta.vct_values[0]", lone.text
    missing = await stack.http.get(f"{stack.url}/oid4vp/requests/{'A' * 43}")
    assert missing.status_code == 404 and missing.json()["error"] == "invalid_request_uri"


async def test_a_same_device_answer_redirects_and_its_result_needs_the_response_code(stack: Stack) -> None:
    """OpenID4VP §8.2/§13.3 (HAIP: verifiers MUST include redirect_uri in same-device flows): the wallet is sent
    back to the page that asked, with a response_code; the result shows its outcome only with that code."""
    page = "https://jobs.example/apply/42?step=credentials"
    created = await stack.create(dcql_query=QUERY, redirect_uri=page)
    request = await stack.wallet.fetch(created["link"])
    response = await stack.wallet.answer(request, {"mc": [await present_sd(stack, request)]})
    assert response.status_code == 200, response.text
    redirect = response.json()["redirect_uri"]
    assert redirect.startswith(page + "#response_code=")
    code = redirect.split("#response_code=", 1)[1]
    assert len(code) >= 43
    hidden = await stack.result(created)  # the result id alone (whoever started the request) sees no outcome
    assert hidden == {"status": "verified", "request_id": created["request_id"],
                      "answered_at": hidden["answered_at"], "response_code_required": True}
    wrong = await stack.http.get(created["result_url"], params={"response_code": "A" * 43})
    assert wrong.status_code == 200 and "en" not in wrong.json()
    shown = await stack.http.get(created["result_url"], params={"response_code": code})
    assert shown.status_code == 200 and shown.json()["en"]["query"]["satisfied"] is True
    assert "response_code_sha256" not in shown.json()
    for params, outcome in (({}, False), ({"response_code": code}, True)):  # the event stream says the same
        async with stack.http.stream("GET", created["result_url"] + "/events", params=params) as stream:
            [event] = [json.loads(line[6:]) async for line in stream.aiter_lines() if line.startswith("data: ")]
        assert event["status"] == "verified" and ("en" in event) is outcome, event
    # a cross-device request (no redirect_uri) answers {} and shows its result as before
    plain = await stack.create(dcql_query=QUERY)
    request = await stack.wallet.fetch(plain["link"])
    answered = await stack.wallet.answer(request, {"mc": [await present_sd(stack, request)]})
    assert answered.status_code == 200 and answered.json() == {}
    assert "en" in await stack.result(plain)
    for bad in ("http://jobs.example/", "https://jobs.example/#x", "https://u:p@jobs.example/", "jobs.example",
                "https://jobs.example:99999/", "https://[::1/"):
        refused = await stack.http.post(f"{stack.url}/v1/presentation-requests",
                                        json={"dcql_query": QUERY, "redirect_uri": bad})
        assert refused.status_code == 400 and refused.json()["field"] == "redirect_uri", bad


async def test_an_expired_request_is_refused(infrastructure: Infrastructure, tmp_path: Path) -> None:
    settings = gateway_settings(infrastructure, oid4vp_request_seconds=10)
    async with RunningServer(create_app(settings), proxy_headers=False) as server, \
            httpx.AsyncClient(timeout=30) as http:
        response = await http.post(f"{server.url}/v1/presentation-requests", json={"template": "micro-credential"})
        assert response.status_code == 201, response.text
        created = response.json()
        wallet = TestWallet(http)
        request = await wallet.fetch(created["link"])  # redirect_uri scheme: unsigned
        assert request.client_id.startswith("redirect_uri:") and request.header["alg"] == "none"

        async def expired() -> bool:
            return (await http.get(created["result_url"])).json()["status"] == "expired"

        await eventually(expired, timeout=60)
        late = await wallet.answer(request, {"micro_credential": ["x~"]})
        assert late.status_code == 400 and late.json()["error_description"] == "the request expired"
        gone = await http.get(request.claims["response_uri"].replace("/responses/", "/requests/"))
        assert gone.status_code == 410


async def test_the_employer_page_from_template_to_result_in_polish(stack: Stack) -> None:
    created = await stack.http.post(f"{stack.url}/presentations/new?lang=pl",
                                    data={"template": "micro-credential", "response_mode": "direct_post"})
    assert created.status_code == 303, created.text
    page_url = stack.url + created.headers["location"]
    pending = await stack.http.get(page_url)
    assert pending.status_code == 200 and "qr.svg" in pending.text and "openid4vp://" in pending.text
    assert 'lang="pl"' in pending.text and "Czekamy na odpowiedź portfela" in pending.text
    link = pending.text.split('href="openid4vp://')[1].split('"')[0].replace("&amp;", "&")
    request = await stack.wallet.fetch("openid4vp://" + link)
    answered = await stack.wallet.answer(request, {"micro_credential": [await present_sd(stack, request)]})
    assert answered.status_code == 200, answered.text
    result = await stack.http.get(page_url)
    result_path = created.headers["location"].split("?")[0]
    qr_url = stack.url + result_path.replace("/presentations/", "/v1/presentation-results/")
    assert (await stack.http.get(qr_url + "/qr.svg")).status_code == 404  # answered: no QR any more
    assert "Poświadczenie pokazuje wszystko, o co proszono." in result.text
    assert "<table>" in result.text and "Niesprawdzone" in result.text  # the status list is unknown here
    bad = await stack.http.post(f"{stack.url}/presentations/new",
                                data={"template": "custom", "dcql_query": '{"credentials": []}'})
    assert bad.status_code == 400 and "credentials: must be a non-empty array" in bad.text
    gone = await stack.http.get(f"{stack.url}/presentations/{'Z' * 43}")
    assert gone.status_code == 404


async def test_request_uri_method_post_carries_the_wallets_nonce_back(stack: Stack) -> None:
    """OpenID4VP 1.0 §5.10: the link asks for a POST; the wallet's nonce comes back inside the signed request
    object; metadata the gateway cannot serve is refused naming the member, and changes nothing."""
    created = await stack.create(dcql_query=QUERY, request_uri_method="post")
    assert parse_qs(urlsplit(created["link"]).query)["request_uri_method"] == ["post"]
    request_uri = created["request_uri"]
    for form, problem in (
            ({"wallet_metadata": json.dumps({"client_id_prefixes_supported": ["decentralized_identifier"]})},
             "client_id_prefixes_supported"),
            ({"wallet_metadata": json.dumps({"request_object_signing_alg_values_supported": ["EdDSA"]})},
             "request_object_signing_alg_values_supported"),
            ({"wallet_metadata": "[1, 2]"}, "must be a JSON object"),
            ({"wallet_metadata": '{"a": 1, "a": 2}'}, "not JSON"),
            ({"wallet_nonce": "tab\there"}, "wallet_nonce")):
        refused = await stack.http.post(request_uri, data=form)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_request", refused.text
        assert problem in refused.json()["error_description"]
    wrong_type = await stack.http.post(request_uri, content=b'{"wallet_nonce": "n"}',
                                       headers={"content-type": "application/json"})
    assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "invalid_request"
    unknown = await stack.http.post(request_uri.rsplit("/", 1)[0] + "/" + "A" * 43, data={"wallet_nonce": "n"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "invalid_request_uri"

    nonce = "wallet-" + "n" * 40
    metadata = {"vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"]}},
                "client_id_prefixes_supported": ["x509_hash", "x509_san_dns"],
                "request_object_signing_alg_values_supported": ["ES256"]}
    request = await stack.wallet.fetch(created["link"], wallet_nonce=nonce, wallet_metadata=metadata)
    assert request.claims["wallet_nonce"] == nonce  # inside the signature the test wallet checked
    again = await stack.wallet.fetch(created["link"], wallet_nonce="another")  # each fetch its own nonce
    assert again.claims["wallet_nonce"] == "another" and again.nonce == request.nonce
    plain = await stack.http.get(request_uri)  # GET is served as well
    assert plain.status_code == 200
    vp = await present_sd(stack, request)
    response = await stack.wallet.answer(request, {"mc": [vp]})
    assert response.status_code == 200, response.text
    assert (await stack.result(created))["status"] == "verified"
