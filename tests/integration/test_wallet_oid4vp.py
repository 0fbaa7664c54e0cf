"""Our wallet answers the gateway's OpenID4VP requests (issue 21), both real, over sockets, with real Kafka/Redis.

An SD-JWT VC bound (``cnf``) to one of the learner's custodial P-256 holder keys is imported into the wallet; the
employer creates a request on the gateway (signed, ``x509_san_dns``, ``direct_post.jwt``); the wallet inspects
it through its API (who asks, certified or not, which credential matches, what it would disclose) and answers
with the claims asked for (of the claim set the learner chose). The employer's result is valid with the claims
not asked for absent; a refusal reaches the employer as ``refused``; an answer withholding a requested claim or
credential is not sent. A credential issued as an SD-JWT VC (``CredentialIssued.sd_jwt_vc`` over Kafka) is
presented the same way.

The gateway's verification ports are the SD-JWT test world's (its issuer in the registry, its status list
reachable), as in tests/integration/test_wallet_sd_jwt.py, so a correct presentation can read ``valid``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import FastAPI, Request, Response

from microcred import pki
from microcred.oid4vp.request import ClientIdentity, authorization_link, encode_request_object
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.type_metadata import VCT
from microcred.sdjwt.view import sd_jwt_id
from services.verifier.app import create_app as create_verifier_app
from services.verifier.application import Gateway
from services.verifier.config import Settings as VerifierSettings
from services.wallet.adapters.presentation_client import VerifierClient
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.sd_jwt import SdWorld, make_world
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_api import Learner, assert_problem, sign_up, until_held
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

HOST = "verifier.test"
CLAIMS = ["achievement_title", "family_name", "level_of_learning_experience.eqf_level"]
QUERY = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                          "claims": [{"path": ["achievement_title"]}, {"path": ["family_name"]},
                                     {"path": ["level_of_learning_experience", "eqf_level"], "values": [6, 7, 8]}]}]}


@dataclass
class Stack:
    wallet: WalletUnderTest
    verifier_url: str
    http: httpx.AsyncClient
    learner: Learner
    credential_id: str
    given_name: str
    family_name: str
    sd: SdWorld
    holder_jwk: dict[str, Any]
    client_id: str = f"x509_san_dns:{HOST}"

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post(f"{self.verifier_url}/v1/presentation-requests", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def result(self, created: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.get(created["result_url"])
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def call(self, action: str, **body: Any) -> httpx.Response:
        return await self.wallet.http.post(f"/v1/presentation-requests/{action}", headers=self.learner.headers,
                                           json=body)


@pytest.fixture
async def stack(infrastructure: Infrastructure, tmp_path: Path, request: pytest.FixtureRequest
                ) -> AsyncIterator[Stack]:
    """The wallet and the gateway, whose client identifier prefix is x509_san_dns unless the test asks for
    x509_hash (``indirect`` parametrization); with x509_hash the gateway also gives HAIP's haip-vp:// links."""
    prefix = getattr(request, "param", "x509_san_dns")
    sd: SdWorld = make_world()
    issuer_anchors = tmp_path / "agency-ca.pem"
    issuer_anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in sd.anchors))
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{HOST}", common_name="Verifier gateway",
                                   not_before=now - dt.timedelta(days=1))
    cert_file, key_file = cert.write(tmp_path, "verifier")
    verifier_anchors = tmp_path / "platform-ca.pem"
    verifier_anchors.write_bytes(ca.cert_pem)
    tag = uuid.uuid4().hex[:8]
    settings = VerifierSettings(
        kafka_bootstrap=infrastructure.kafka_bootstrap, redis_url=infrastructure.redis_url, http_port=0,
        environment="test", registry_namespace=f"vreg-{tag}", registry_group=f"vreg-{tag}",
        rate_limit_per_second=1e6, rate_limit_burst=1_000_000, x509_trust_anchors_file=issuer_anchors,
        oid4vp_client_host=HOST, oid4vp_signing_cert_file=cert_file, oid4vp_signing_key_file=key_file,
        oid4vp_client_id_prefix=prefix, oid4vp_link_scheme="haip-vp" if prefix == "x509_hash" else "openid4vp")
    leaf = x509.load_pem_x509_certificate(cert.cert_pem)
    client_id = f"x509_san_dns:{HOST}" if prefix == "x509_san_dns" else \
        "x509_hash:" + base64.urlsafe_b64encode(leaf.fingerprint(hashes.SHA256())).rstrip(b"=").decode()
    gateway = create_verifier_app(settings)
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet",
                              x509_trust_anchors_file=issuer_anchors,
                              oid4vp_trust_anchors_file=verifier_anchors) as wallet, \
            RunningServer(gateway, proxy_headers=False) as server, httpx.AsyncClient(timeout=30) as http:
        gateway.state.gateway = Gateway(sd.ports())  # the test issuer's registry and status list
        learner = await sign_up(wallet, "oid4vp")  # with an Ed25519 key; the credential binds a P-256 one (HAIP)
        p256 = await wallet.http.post("/v1/holder-keys", headers=learner.headers, json={"alg": "ES256"})
        assert p256.status_code == 201, p256.text
        assert p256.json()["did"].startswith("did:key:zDn")  # P-256 did:key
        jwks = await wallet.http.get("/v1/holder-keys/jwks", headers=learner.headers)
        assert jwks.status_code == 200, jwks.text
        by_did = {k["did"]: k["jwk"] for k in jwks.json()["keys"]}
        assert by_did[learner.did]["crv"] == "Ed25519" and all("d" not in jwk for jwk in by_did.values())
        key = {"jwk": by_did[p256.json()["did"]]}
        assert key["jwk"]["kty"] == "EC" and key["jwk"]["crv"] == "P-256"
        mc = valid_micro_credential()
        mc.learner.email = learner.email.lower()
        compact = sd.issue(mc=mc, holder_jwk=key["jwk"]).compact
        imported = await wallet.http.post("/v1/import", content=compact.encode(),
                                          headers={**learner.headers, "content-type": "application/dc+sd-jwt"})
        assert imported.status_code == 201, imported.text
        credential_id = sd_jwt_id(compact)
        assert credential_id is not None
        await until_held(wallet, learner, credential_id)
        yield Stack(wallet, server.url, http, learner, credential_id, mc.learner.given_name,
                    mc.learner.family_name, sd, key["jwk"], client_id)


@pytest.mark.parametrize("stack", ["x509_san_dns", "x509_hash"], indirect=True)
async def test_the_learner_inspects_and_answers_with_chosen_claims(stack: Stack) -> None:
    created = await stack.create(dcql_query=QUERY)  # direct_post.jwt: the answer is encrypted (HAIP)
    assert created["link"].startswith("haip-vp://?" if stack.client_id.startswith("x509_hash:") else "openid4vp://?")
    inspected = await stack.call("inspect", link=created["link"])
    assert inspected.status_code == 200, inspected.text
    seen = inspected.json()
    assert seen["client_id"] == stack.client_id and seen["verified"] is True and seen["verifier"] == HOST
    assert seen["response_mode"] == "direct_post.jwt"
    (found,) = seen["matches"]
    assert found["credential_id"] == stack.credential_id and found["query"] == "mc"
    assert [c["claim"] for c in found["claims"]] == CLAIMS
    assert seen["answerable"] is True and found["options"] == [{"claim_set": None, "claims": found["claims"]}]
    assert (await stack.result(created))["status"] == "pending"  # inspecting answers nothing

    answered = await stack.call("answer", link=created["link"], credential_id=stack.credential_id, disclose=CLAIMS)
    assert answered.status_code == 200, answered.text
    assert answered.json()["accepted"] is True, answered.json()
    result = await stack.result(created)
    assert result["status"] == "verified" and result["encrypted"] is True
    body = result["en"]
    assert body["query"]["satisfied"] is True and body["verdict"] == "valid", body
    shown = json.dumps(result)  # the employer's result shows what was disclosed (family_name), and only that
    assert stack.family_name in shown and stack.given_name not in shown

    again = await stack.call("answer", link=created["link"], credential_id=stack.credential_id, disclose=CLAIMS)
    assert again.status_code == 200 and again.json()["accepted"] is False  # the verifier refuses a replay
    assert "replay" in again.json()["verifier_answer"]["error_description"]


async def test_a_refusal_reaches_the_employer(stack: Stack) -> None:
    created = await stack.create(dcql_query=QUERY, response_mode="direct_post")
    refused = await stack.call("refuse", link=created["link"])
    assert refused.status_code == 200 and refused.json()["accepted"] is True, refused.text
    result = await stack.result(created)
    assert result["status"] == "refused" and result["error"] == "access_denied"


async def test_a_same_device_request_sends_the_learner_back_with_the_response_code(stack: Stack) -> None:
    page = "https://jobs.example/apply/9"
    created = await stack.create(dcql_query=QUERY, redirect_uri=page)
    answered = await stack.call("answer", link=created["link"], credential_id=stack.credential_id, disclose=CLAIMS)
    assert answered.status_code == 200 and answered.json()["accepted"] is True, answered.text
    back = answered.json()["continue_to"]
    assert back.startswith(page + "#response_code=")
    shown = await stack.http.get(created["result_url"], params={"response_code": back.split("=", 1)[1]})
    assert shown.json()["en"]["query"]["satisfied"] is True
    plain = await stack.create(dcql_query=QUERY, response_mode="direct_post")  # cross-device: nowhere to go
    refused = await stack.call("refuse", link=plain["link"])
    assert refused.json()["accepted"] is True and refused.json()["continue_to"] is None


async def test_withholding_a_requested_claim_is_not_an_answer_the_learner_refuses(stack: Stack) -> None:
    """OpenID4VP 1.0 §6.4.1: a credential goes with every claim asked for or not at all; the learner who does not
    want to share one refuses the request (access_denied)."""
    created = await stack.create(dcql_query=QUERY, response_mode="direct_post")
    chosen = [c for c in CLAIMS if c != "family_name"]
    answered = await stack.call("answer", link=created["link"], credential_id=stack.credential_id, disclose=chosen)
    problem = assert_problem(answered, 422)
    assert problem["code"] == "ANSWER_INCOMPLETE" and "family_name" in problem["detail"], problem
    assert (await stack.result(created))["status"] == "pending"  # nothing was sent
    refused = await stack.call("refuse", link=created["link"])
    assert refused.status_code == 200 and refused.json()["accepted"] is True, refused.text
    assert (await stack.result(created))["status"] == "refused"


SETS_QUERY = {
    "credentials": [{"id": "other", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://other.example/vct"]}},
                    {"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                     "claims": [{"id": "title", "path": ["achievement_title"]},
                                {"id": "family", "path": ["family_name"]}, {"id": "given", "path": ["given_name"]}],
                     "claim_sets": [["title", "family"], ["title", "given"]]}],
    "credential_sets": [{"options": [["other"], ["mc"]]}]}


async def test_the_learner_answers_the_credential_set_option_and_claim_set_they_can_and_choose(stack: Stack) -> None:
    """§6.4.2: a credential set answered with the option the learner's credentials meet; §6.4.1: the second
    claim set, which the learner picked, and nothing of the first."""
    created = await stack.create(dcql_query=SETS_QUERY, response_mode="direct_post")
    seen = (await stack.call("inspect", link=created["link"])).json()
    assert seen["answerable"] is True
    assert seen["credential_sets"] == [{"required": True, "options": [{"queries": ["other"], "met": False},
                                                                      {"queries": ["mc"], "met": True}]}]
    assert seen["requests"][1]["claim_sets"] == [["achievement_title", "family_name"],
                                                 ["achievement_title", "given_name"]]
    (found,) = seen["matches"]
    assert [o["claim_set"] for o in found["options"]] == [0, 1]
    assert [c["claim"] for c in found["options"][1]["claims"]] == ["achievement_title", "given_name"]
    answered = await stack.call("answer", link=created["link"],
                                answers=[{"query": "mc", "credential_id": stack.credential_id, "claim_set": 1}])
    assert answered.status_code == 200 and answered.json()["accepted"] is True, answered.text
    assert answered.json()["presented"] == [{"query": "mc", "credential_id": stack.credential_id, "claim_set": 1,
                                             "disclosed": ["achievement_title", "given_name"]}]
    result = await stack.result(created)
    assert result["en"]["verdict"] == "valid" and result["en"]["query"]["satisfied"] is True, result
    shown = json.dumps(result)
    assert stack.given_name in shown and stack.family_name not in shown


async def test_a_request_the_learners_credentials_cannot_answer_whole_is_only_refused(stack: Stack) -> None:
    """Without credential_sets every credential query is needed: one the learner cannot meet makes the request
    unanswerable (§6.4.2: "MUST NOT return any Credential(s)"): the page offers only Refuse."""
    both = {"credentials": SETS_QUERY["credentials"][:1] + QUERY["credentials"]}
    created = await stack.create(dcql_query=both, response_mode="direct_post")
    seen = (await stack.call("inspect", link=created["link"])).json()
    assert seen["answerable"] is False and [m["query"] for m in seen["matches"]] == ["mc"]
    answered = await stack.call("answer", link=created["link"], credential_id=stack.credential_id, disclose=CLAIMS)
    problem = assert_problem(answered, 422)
    assert problem["code"] == "ANSWER_INCOMPLETE" and "other" in problem["detail"], problem
    assert (await stack.result(created))["status"] == "pending"


async def test_bad_input_is_refused_by_name_and_sends_nothing(stack: Stack) -> None:
    created = await stack.create(dcql_query=QUERY, response_mode="direct_post")
    bad = await stack.call("inspect", link="openid4vp://?client_id=x509_san_dns:verifier.test")
    assert "link.request_uri" in assert_problem(bad, 422)["detail"]
    spoofed = created["link"].replace("verifier.test", "evil.test")  # another host than the certificate names
    assert "evil.test" in assert_problem(await stack.call("inspect", link=spoofed), 422)["detail"]
    more = await stack.call("answer", link=created["link"], credential_id=stack.credential_id,
                            disclose=[*CLAIMS, "given_name"])
    assert "given_name" in assert_problem(more, 422)["detail"]  # never more than the verifier asked for
    other = await stack.call("answer", link=created["link"], credential_id="urn:sd-jwt:0", disclose=CLAIMS)
    assert_problem(other, 404)
    assert (await stack.result(created))["status"] == "pending"


async def test_a_credential_issued_as_an_sd_jwt_vc_over_kafka_is_presented(stack: Stack) -> None:
    issued = TestIssuer.new("issuer-oid4vp").issue(learner_did=stack.learner.did, title="Issued over Kafka")
    issued.event.sd_jwt_vc = stack.sd.issue(mc=issued.event.credential, holder_jwk=stack.holder_jwk).compact
    await stack.wallet.issue(issued)
    await until_held(stack.wallet, stack.learner, issued.credential_id)
    created = await stack.create(dcql_query=QUERY)
    seen = (await stack.call("inspect", link=created["link"])).json()
    assert {m["credential_id"] for m in seen["matches"]} == {stack.credential_id, issued.credential_id}, seen
    answered = await stack.call("answer", link=created["link"], credential_id=issued.credential_id, disclose=CLAIMS)
    assert answered.status_code == 200 and answered.json()["accepted"] is True, answered.text
    body = (await stack.result(created))["en"]
    assert body["verdict"] == "valid" and body["query"]["satisfied"] is True, body


async def test_a_credential_bound_to_a_key_made_for_it_is_presented_with_that_key(stack: Stack) -> None:
    """A credential received over OpenID4VCI is bound to a key the wallet made for it alone (never listed among
    the keys a learner hands issuers): the wallet finds that key from the ``cnf`` and signs the KB-JWT with it."""
    ctx = stack.wallet.app.state.wallet
    account_id = (await stack.wallet.http.get("/v1/me", headers=stack.learner.headers)).json()["account_id"]
    key = await ctx.keys.make_for_credential(account_id)  # as the OpenID4VCI flow makes and publishes it
    await ctx.keys.publish_for_credential(account_id, key)
    made = key.holder
    jwk = public_jwk(await ctx.keys.jose_key(account_id, made.did))
    mc = valid_micro_credential()
    mc.learner.email = stack.learner.email.lower()
    compact = stack.sd.issue(mc=mc, holder_jwk=jwk).compact
    imported = await stack.wallet.http.post("/v1/import", content=compact.encode(),
                                            headers={**stack.learner.headers, "content-type": "application/dc+sd-jwt"})
    assert imported.status_code == 201, imported.text
    credential_id = sd_jwt_id(compact)
    assert credential_id is not None and jwk != stack.holder_jwk
    await until_held(stack.wallet, stack.learner, credential_id)
    created = await stack.create(dcql_query=QUERY, response_mode="direct_post")
    answered = await stack.call("answer", link=created["link"], credential_id=credential_id, disclose=CLAIMS)
    assert answered.status_code == 200 and answered.json()["accepted"] is True, answered.text
    result = await stack.result(created)
    # valid for a presentation only with its holder binding checked (the KB-JWT by the cnf key)
    assert result["status"] == "verified" and result["en"]["verdict"] == "valid", result


async def test_a_link_asking_for_a_post_is_fetched_with_the_wallets_nonce(stack: Stack,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``request_uri_method=post`` (OpenID4VP 1.0 §5.10): the wallet POSTs its metadata and a nonce to the
    gateway's request_uri and accepts only a request object carrying that nonce back; then answers as usual."""
    fetched: list[dict[str, str] | None] = []
    real = VerifierClient.fetch_request_object

    async def spy(self: VerifierClient, request_uri: str, posted: Any = None) -> str:
        fetched.append(None if posted is None else dict(posted))
        return await real(self, request_uri, posted)
    monkeypatch.setattr(VerifierClient, "fetch_request_object", spy)
    created = await stack.create(dcql_query=QUERY, request_uri_method="post")
    inspected = await stack.call("inspect", link=created["link"])
    assert inspected.status_code == 200, inspected.text
    assert [m["credential_id"] for m in inspected.json()["matches"]] == [stack.credential_id]
    answered = await stack.call("answer", link=created["link"], credential_id=stack.credential_id, disclose=CLAIMS)
    assert answered.status_code == 200 and answered.json()["accepted"] is True, answered.text
    assert (await stack.result(created))["en"]["verdict"] == "valid"
    assert len(fetched) == 2 and all(f is not None for f in fetched)  # inspect, then answer: a POST each
    nonces = [f["wallet_nonce"] for f in fetched if f is not None]
    assert len(set(nonces)) == 2 and all(len(n) >= 43 for n in nonces)  # fresh and unguessable per fetch
    assert all(json.loads(f["wallet_metadata"])["vp_formats_supported"] for f in fetched if f is not None)


class OtherVerifier:
    """A verifier other than our gateway, unsigned (``redirect_uri:``, development), whose request object the
    test writes: it records what the wallet POSTs to its request_uri and to its response_uri."""

    def __init__(self) -> None:
        self.url = ""
        self.claims: dict[str, Any] = {}
        self.fetches: list[dict[str, str]] = []
        self.answers: list[dict[str, str]] = []
        self.app = FastAPI()
        self.app.add_api_route("/request", self._request, methods=["GET", "POST"])
        self.app.add_api_route("/response", self._response, methods=["POST"])

    @property
    def client_id(self) -> str:
        return f"redirect_uri:{self.url}/response"

    def link(self, method: str = "get") -> str:
        return authorization_link(self.client_id, f"{self.url}/request", request_uri_method=method)

    def ask(self, **claims: Any) -> None:
        self.claims = {"client_id": self.client_id, "response_type": "vp_token", "response_mode": "direct_post",
                       "response_uri": f"{self.url}/response", "nonce": "n-" + uuid.uuid4().hex,
                       "state": "s-" + uuid.uuid4().hex, "dcql_query": QUERY, **claims}

    async def _request(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode())) if request.method == "POST" else {}
        self.fetches.append(form)
        claims = {**self.claims, **({"wallet_nonce": form["wallet_nonce"]} if "wallet_nonce" in form else {})}
        token = encode_request_object(claims, ClientIdentity.redirect_uri(f"{self.url}/response"))
        return Response(token, media_type="application/oauth-authz-req+jwt")

    async def _response(self, request: Request) -> dict[str, Any]:
        self.answers.append(dict(parse_qsl((await request.body()).decode())))
        return {}


@pytest.mark.parametrize(("claims", "error", "field"), [
    ({"redirect_uri": "https://elsewhere.example/back"}, "invalid_request", "request.redirect_uri"),
    ({"transaction_data": ["eyJ0eXBlIjoicGF5bWVudCIsImNyZWRlbnRpYWxfaWRzIjpbIm1jIl19"]}, "invalid_request",
     "request.transaction_data"),
    ({"client_metadata": {"vp_formats_supported": {"dc+sd-jwt": {"kb-jwt_alg_values": ["ES512"]}}}},
     "vp_formats_not_supported", "request.client_metadata.vp_formats_supported"),
])
async def test_a_request_this_wallet_must_refuse_is_answered_with_the_error(stack: Stack, claims: dict[str, Any],
                                                                            error: str, field: str) -> None:
    """OpenID4VP 1.0 §8.2 (redirect_uri beside response_uri), §5 (transaction_data, unsupported), §8.5
    (vp_formats_not_supported): the learner is told why, and the verifier gets the error with its state."""
    other = OtherVerifier()
    async with RunningServer(other.app) as server:
        other.url = server.url
        other.ask(**claims)
        refused = await stack.call("inspect", link=other.link())
        problem = assert_problem(refused, 422)
        assert problem["code"] == "PRESENTATION_REQUEST_REFUSED" and problem["detail"].startswith(field), problem
        assert f"the verifier was told {error}" in problem["detail"]
        (told,) = other.answers
        assert told["error"] == error and told["state"] == other.claims["state"] and "vp_token" not in told


async def test_an_unsigned_request_fetched_by_post_gets_no_signing_algorithms(stack: Stack) -> None:
    """§5.10: the wallet "MUST NOT include request_object_signing_alg_values_supported if the Client Identifier
    Prefix precludes signed Request Objects" (redirect_uri:); what it lists for KB-JWTs is what its keys sign."""
    other = OtherVerifier()
    async with RunningServer(other.app) as server:
        other.url = server.url
        other.ask()
        inspected = await stack.call("inspect", link=other.link("post"))
        assert inspected.status_code == 200, inspected.text
        (fetch,) = other.fetches
        metadata = json.loads(fetch["wallet_metadata"])
        assert "request_object_signing_alg_values_supported" not in metadata
        assert metadata["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"] == ["ES256", "EdDSA"]
