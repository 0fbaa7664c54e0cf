"""Our wallet receives credentials from an independent OpenID4VCI 1.0 issuer (issue 20: "our wallet accepts an
offer from our issuer or any other conformant issuer").

The issuer is tests/interop/oid4vci_issuer.mjs: the OpenWallet Foundation's oid4vc-ts issuer, authorization and
resource servers, and @sd-jwt/sd-jwt-vc signing (npm, tests only), over HTTPS on port 0 with a test CA. It
requires DPoP nonces at its token endpoint and at its resource endpoints (RFC 9449 §8, §9), and can defer a
credential for a few seconds (OpenID4VCI §9), as HAIP issuers may. The SD-JWT VC carries the EU micro-credential
claims (microcred.sdjwt.claims, disclosed as the library's frame) under an X.509 chain the wallet trusts.
Our wallet runs in process over HTTP on a socket, on the session's Kafka and Redis: a learner accepts the
offer and the credential arrives, verified, bound to the learner's key, listed, and the issuer notified.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from microcred import pki
from microcred.sdjwt.claims import micro_credential_claims
from microcred.sdjwt.type_metadata import VCT, integrity, type_metadata_bytes
from microcred.sdjwt.x5c import x5c_header
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.waiting import eventually
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_oid4vci_offers import bound_to_a_key_of_its_own
from tests.interop import node_env
from tests.interop.test_sdjwt_interop import library_frame

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
ISSUER_SCRIPT = node_env.INTEROP / "oid4vci_issuer.mjs"
ISS = "https://issuer.oid4vc-ts.example"  # the SD-JWT VC's iss, named by its signing certificate
TITLE = f"Course from an independent issuer {TAG}"


@dataclass
class NodeIssuer:
    """The running oid4vc-ts issuer process: one JSON line in, one out."""

    process: asyncio.subprocess.Process
    base: str = ""

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(self.process.stdout.readline(), 60))
        assert "error" not in answer, answer
        return answer

    async def events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self.ask({"op": "log"}))["events"]
        return found


@dataclass
class Stack:
    issuer: NodeIssuer
    wallet: WalletUnderTest
    apart: NodeIssuer  # one whose authorization server is another origin (§12.2.4 authorization_servers)


def _sd_jwt_issuer(work: Path, now: dt.datetime) -> dict[str, Any]:
    """The signing key, chain and claims of the SD-JWT VC the library issues; the chain's CA goes to the
    wallet's trust anchors."""
    # each issuer its own CA names: a verifier finds a chain's next certificate by its subject
    ca = pki.create_ca(f"oid4vc-ts issuer CA {work.name}", agency="agency-oid4vc-ts",
                       not_before=now - dt.timedelta(days=30))
    cert = pki.create_signing_cert(ca, issuer_uri=ISS, common_name="oid4vc-ts issuer",
                                   not_before=now - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    (work / "sd-jwt-anchors.pem").write_bytes(ca.cert_pem)
    mc = valid_micro_credential()
    mc.title.values["en"] = TITLE
    mc.valid_from.FromDatetime(now - dt.timedelta(days=1))
    mc.valid_until.FromDatetime(now + dt.timedelta(days=365))
    claims, frame = library_frame(micro_credential_claims(mc))
    registered = {"iss": ISS, "nbf": int(mc.valid_from.seconds), "exp": int(mc.valid_until.seconds), "vct": VCT,
                  "vct#integrity": integrity(type_metadata_bytes())}
    return {"x5c": list(x5c_header([cert.cert_pem])), "issuer_private_jwk": ECAlgorithm.to_jwk(key, as_dict=True),
            "claims": {**registered, **claims}, "disclosure_frame": frame}


async def start_node_issuer(work: Path, *, separate_as: bool = False, encryption: bool = False) -> NodeIssuer:
    node_env.ensure_installed()
    node = shutil.which("node")
    assert node is not None, "node is needed for the independent issuer"
    tls_ca = pki.create_ca(f"oid4vc-ts test TLS CA {work.name}")
    server = pki.create_server_cert(tls_ca, "localhost")
    (work / "issuer-tls-ca.pem").write_bytes(tls_ca.cert_pem)
    # node's fetch (the library reading this issuer's own metadata and keys) trusts the test CA too
    process = await asyncio.create_subprocess_exec(
        node, str(ISSUER_SCRIPT), cwd=node_env.INTEROP, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(work / "issuer-tls-ca.pem")})
    issuer = NodeIssuer(process)
    first = await issuer.ask({"tls_cert_pem": server.cert_pem.decode(), "tls_key_pem": server.key_pem.decode(),
                              "require_dpop_nonce": True, "separate_as": separate_as, "encryption": encryption,
                              **_sd_jwt_issuer(work, dt.datetime.now(dt.UTC).replace(microsecond=0))})
    issuer.base = first["credential_issuer"]
    return issuer


@pytest.fixture(scope="module")
async def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("independent-issuer")
    issuer = await start_node_issuer(work)
    apart_work = work / "apart"
    apart_work.mkdir()
    apart = await start_node_issuer(apart_work, separate_as=True, encryption=True)
    (work / "tls-cas.pem").write_bytes((work / "issuer-tls-ca.pem").read_bytes()
                                       + (apart_work / "issuer-tls-ca.pem").read_bytes())
    (work / "anchors.pem").write_bytes((work / "sd-jwt-anchors.pem").read_bytes()
                                       + (apart_work / "sd-jwt-anchors.pem").read_bytes())
    try:
        async with running_wallet(infrastructure, TAG, work / "wallet",
                                  wallet_trusted_issuers=[issuer.base, apart.base],
                                  wallet_issuer_tls_ca_file=work / "tls-cas.pem",
                                  x509_trust_anchors_file=work / "anchors.pem") as wallet:
            yield Stack(issuer, wallet, apart)
    finally:
        for node in (issuer, apart):
            if node.process.returncode is None:
                node.process.kill()
                await node.process.wait()


def learner(stack: Stack) -> dict[str, str]:
    email = f"learner-{uuid.uuid4().hex[:8]}@example.org"
    return stack.wallet.auth(email.split("@")[0], email)


async def bound_to_the_learners_key(stack: Stack, headers: dict[str, str], credential_id: str) -> None:
    """Bound to a key of the learner's that the wallet made for this credential alone."""
    compact = (await stack.wallet.http.get(f"/v1/credentials/{credential_id}/sd-jwt", headers=headers)).text
    await bound_to_a_key_of_its_own(stack.wallet.http, headers, compact)
    assert jwt.get_unverified_header(compact.split("~")[0])["typ"] == "dc+sd-jwt"


async def new_offer(stack: Stack, defer_seconds: int) -> tuple[dict[str, str], int, str]:
    """A new learner's headers, how many events the issuer logged so far, and an offer link for them."""
    headers = learner(stack)
    before = len(await stack.issuer.events())
    return headers, before, (await stack.issuer.ask({"op": "offer", "defer_seconds": defer_seconds}))["link"]


async def test_a_credential_from_an_issuer_that_requires_dpop_nonces(stack: Stack) -> None:
    headers, before, link = await new_offer(stack, 0)
    seen = await stack.wallet.http.post("/v1/credential-offers/inspect", json={"offer": link}, headers=headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["issuer_name"] == "oid4vc-ts test issuer"
    assert [c["supported"] for c in seen.json()["credentials"]] == [True]

    accepted = await stack.wallet.http.post("/v1/credential-offers/accept", json={"offer": link}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    answer = accepted.json()
    assert answer["notified"] is True and answer["deferred"] == 0
    [received] = answer["credentials"]
    assert received["elements"]["title"] == TITLE and received["sd_jwt_vc"] is True
    await bound_to_the_learners_key(stack, headers, received["credential_id"])
    events = (await stack.issuer.events())[before:]
    # each server asked for its nonce once; every later proof carried it (no more refusals)
    assert [(e["event"], e.get("server")) for e in events if e["event"] != "notification"] == [
        ("dpop_nonce_required", "authorization"), ("dpop_nonce_required", "resource")], events
    assert events[-1]["event"] == "notification" and events[-1]["request"]["event"] == "credential_accepted"
    assert events[-1]["request"]["notification_id"]

    again = await stack.wallet.http.post("/v1/credential-offers/accept", json={"offer": link}, headers=headers)
    assert again.status_code == 422 and again.json()["code"] == "OFFER_GONE"  # the library's code is single use


async def test_a_credential_the_independent_issuer_defers_is_collected(stack: Stack) -> None:
    headers, before, link = await new_offer(stack, 3)
    accepted = await stack.wallet.http.post("/v1/credential-offers/accept", json={"offer": link}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["deferred"] == 1 and accepted.json()["credentials"] == []
    [waiting] = (await stack.wallet.http.get("/v1/credential-offers/deferred", headers=headers)).json()["deferred"]
    assert waiting["name"] == "EU micro-credential (oid4vc-ts)" and waiting["issuer_name"] == "oid4vc-ts test issuer"

    async def collected() -> dict[str, Any] | None:
        answer = await stack.wallet.http.post("/v1/credential-offers/deferred/collect", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["ended"] == [], (body, await stack.issuer.events())
        return body if body["credentials"] or body["pending"] else None

    got = await eventually(collected, 60, "the deferred credential was never collected", interval=0.5)
    assert got is not None
    [received] = got["credentials"]
    assert received["elements"]["title"] == TITLE
    await bound_to_the_learners_key(stack, headers, received["credential_id"])
    kinds = [e["event"] for e in (await stack.issuer.events())[before:]]
    # deferred at the credential endpoint, then collected at the deferred endpoint with the kept token and DPoP
    # key (a new nonce asked for by the resource server after the wait), and the issuer told
    assert kinds[:3] == ["dpop_nonce_required", "dpop_nonce_required", "deferred"], kinds
    assert "deferred_issued" in kinds and kinds[-1] == "notification", kinds
    assert "error" not in kinds
    assert (await stack.issuer.events())[-1]["request"]["event"] == "credential_accepted"


async def test_an_issuer_whose_authorization_server_is_another_origin(stack: Stack) -> None:
    """The issuer lists its authorization server in ``authorization_servers`` (another origin, as an EUDI issuer
    with its Keycloak): the wallet reads that server's metadata and redeems the code there, and asks the
    Credential Issuer for the credential; the wallet was never told to trust that server, only the issuer.
    This issuer also requires encrypted credential requests and responses (OpenID4VCI §10), done with panva's
    jose on its side: the wallet encrypts to its key (A256GCM, preferred) and has the answer encrypted to a
    fresh key of its own."""
    headers = learner(stack)
    link = (await stack.apart.ask({"op": "offer", "defer_seconds": 0}))["link"]
    accepted = await stack.wallet.http.post("/v1/credential-offers/accept", json={"offer": link}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    [received] = accepted.json()["credentials"]
    assert received["elements"]["title"] == TITLE and accepted.json()["notified"] is True
    await bound_to_the_learners_key(stack, headers, received["credential_id"])
    events = await stack.apart.events()
    nonces = [e["path"] for e in events if e["event"] == "dpop_nonce_required"]
    assert nonces == ["/token", "/credential"]  # the token at the authorization server, each with its nonce
    [encrypted] = [e for e in events if e["event"] == "encrypted_request"]
    assert encrypted["enc"] == "A256GCM" and encrypted["response_enc"] == "A256GCM" and encrypted["wallet_kid"]
