"""The wallet over real Kafka + Redis + HTTP: intake into the right wallet, per-learner isolation on every
endpoint, share links, presentations, export and import."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.gen.microcred.v1 import events_pb2
from services.wallet.domain.presentations import verify_presentation_binding
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet, wait_for
from tests.harness.wallet.oidc import rsa_jwk

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def wallet(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[WalletUnderTest]:
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path_factory.mktemp("wallet")) as w:
        yield w


@dataclass
class Learner:
    sub: str
    email: str
    headers: dict[str, str]
    did: str


async def sign_up(w: WalletUnderTest, name: str, with_key: bool = True) -> Learner:
    sub = f"{name}-{uuid.uuid4().hex[:8]}"
    email = f"{sub}@Example.org"  # mixed case on purpose: issuers hash the lower-cased address
    headers = w.auth(sub, email)
    did = ""
    if with_key:
        created = await w.http.post("/v1/holder-keys", headers=headers)
        assert created.status_code == 201, created.text
        did = created.json()["did"]
        assert did.startswith("did:key:z6Mk")
    return Learner(sub, email, headers, did)


async def ids(w: WalletUnderTest, learner: Learner, **params: Any) -> set[str]:
    response = await w.http.get("/v1/credentials", headers=learner.headers, params=params)
    assert response.status_code == 200, response.text
    return {c["credential_id"] for c in response.json()["credentials"]}


async def until_held(w: WalletUnderTest, learner: Learner, *credential_ids: str) -> None:
    async def held() -> bool:
        return set(credential_ids) <= await ids(w, learner)
    await wait_for(held, timeout=30)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_issued_credentials_appear_in_the_right_wallet_and_only_there(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-uniz")
    alice, bob = await sign_up(wallet, "alice"), await sign_up(wallet, "bob")
    to_alice_did = issuer.issue(learner_did=alice.did, title="Alice by DID")
    to_alice_mail = issuer.issue(email=alice.email.lower(), title="Alice by e-mail")
    to_bob = issuer.issue(learner_did=bob.did, email=bob.email, title="Bob")
    carol_email = f"carol-{uuid.uuid4().hex[:8]}@example.org"
    to_carol_early = issuer.issue(email=carol_email, title="Carol, before she had an account")
    for issued in (to_alice_did, to_alice_mail, to_bob, to_carol_early):
        await wallet.issue(issued)

    await until_held(wallet, alice, to_alice_did.credential_id, to_alice_mail.credential_id)
    await until_held(wallet, bob, to_bob.credential_id)
    assert await ids(wallet, alice) == {to_alice_did.credential_id, to_alice_mail.credential_id}
    assert await ids(wallet, bob) == {to_bob.credential_id}

    # Carol signs in after her credential was filed: it appears as soon as her verified e-mail is linked.
    carol = Learner("carol", carol_email, wallet.auth(f"carol-{uuid.uuid4().hex[:6]}", carol_email), "")
    assert await ids(wallet, carol) == {to_carol_early.credential_id}
    # An unverified e-mail claim links nothing.
    mallory = wallet.auth(f"mallory-{uuid.uuid4().hex[:6]}", carol_email, email_verified=False)
    listed = await wallet.http.get("/v1/credentials", headers=mallory)
    assert listed.json()["credentials"] == []

    one = await wallet.http.get(f"/v1/credentials/{to_alice_mail.credential_id}", headers=alice.headers)
    assert one.status_code == 200
    body = one.json()
    assert body["credential"] == to_alice_mail.document
    assert body["status"] == "ACTIVE" and body["issuer_id"] == "issuer-uniz" and body["issuer_did"] == issuer.did
    assert body["elements"]["ects"] == "5" and body["elements"]["eqf_level"] == 6


async def test_status_events_update_the_stored_status(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-status")
    learner = await sign_up(wallet, "stat")
    revoked, suspended = issuer.issue(learner_did=learner.did), issuer.issue(learner_did=learner.did)
    await wallet.issue(revoked)
    await wallet.issue(suspended)
    await until_held(wallet, learner, revoked.credential_id, suspended.credential_id)
    await wallet.status(revoked.credential_id, events_pb2.CredentialRevoked(
        credential_id=revoked.credential_id, issuer_id=issuer.issuer_id, reason="issued in error"))
    await wallet.status(suspended.credential_id, events_pb2.CredentialSuspended(
        credential_id=suspended.credential_id, issuer_id=issuer.issuer_id, reason="under review"))

    async def statuses() -> dict[str, str]:
        r = await wallet.http.get("/v1/credentials", headers=learner.headers)
        return {c["credential_id"]: c["status"] for c in r.json()["credentials"]}

    async def changed() -> bool:
        s = await statuses()
        return s.get(revoked.credential_id) == "REVOKED" and s.get(suspended.credential_id) == "SUSPENDED"

    await wait_for(changed)
    # Reinstating a revoked credential changes nothing (revocation is permanent); a suspended one is active again.
    for cid in (revoked.credential_id, suspended.credential_id):
        await wallet.status(cid, events_pb2.CredentialReinstated(credential_id=cid, issuer_id=issuer.issuer_id))

    async def reinstated() -> bool:
        return (await statuses()).get(suspended.credential_id) == "ACTIVE"

    await wait_for(reinstated)
    assert (await statuses())[revoked.credential_id] == "REVOKED"
    filtered = await wallet.http.get("/v1/credentials", headers=learner.headers, params={"status": "REVOKED"})
    assert [c["credential_id"] for c in filtered.json()["credentials"]] == [revoked.credential_id]
    assert filtered.json()["credentials"][0]["status_reason"] == "issued in error"


async def test_list_filters_by_issuer_date_and_eqf_level(wallet: WalletUnderTest) -> None:
    uni, vet = TestIssuer.new("issuer-uni"), TestIssuer.new("issuer-vet")
    learner = await sign_up(wallet, "filter")
    a = uni.issue(learner_did=learner.did, eqf=6)
    b = vet.issue(learner_did=learner.did, eqf=4, valid_from=datetime(2025, 1, 1, tzinfo=UTC))
    c = vet.issue(learner_did=learner.did, eqf=None)
    for issued in (a, b, c):
        await wallet.issue(issued)
    await until_held(wallet, learner, a.credential_id, b.credential_id, c.credential_id)
    assert await ids(wallet, learner, issuer="issuer-vet") == {b.credential_id, c.credential_id}
    assert await ids(wallet, learner, issuer=uni.did) == {a.credential_id}
    assert await ids(wallet, learner, eqf_level=4) == {b.credential_id}
    assert await ids(wallet, learner, issued_from="2025-03-14", issued_until="2025-03-14") == {
        a.credential_id, b.credential_id, c.credential_id}  # awardedDate is the factory's issue date
    assert await ids(wallet, learner, issued_from="2025-03-15") == set()
    bad = await wallet.http.get("/v1/credentials", headers=learner.headers, params={"eqf_level": 9})
    assert_problem(bad, 422)


async def test_no_endpoint_lets_one_learner_reach_anothers_credentials(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-iso")
    alice, bob = await sign_up(wallet, "alice"), await sign_up(wallet, "bob")
    a1, b1 = issuer.issue(learner_did=alice.did), issuer.issue(learner_did=bob.did, email=bob.email.lower())
    await wallet.issue(a1)
    await wallet.issue(b1)
    await until_held(wallet, alice, a1.credential_id)
    await until_held(wallet, bob, b1.credential_id)
    bob_share = (await wallet.http.post("/v1/share-links", headers=bob.headers,
                                        json={"credential_ids": [b1.credential_id]})).json()
    A, B = alice.headers, b1.credential_id
    http = wallet.http

    # read
    assert B not in await ids(wallet, alice)
    assert_problem(await http.get(f"/v1/credentials/{B}", headers=A), 404)
    # bind: Bob's credential to Alice's key, and Alice's credential to Bob's key
    assert_problem(await http.post("/v1/bindings", headers=A, json={"credential_id": B, "did": alice.did}), 404)
    assert_problem(await http.post("/v1/bindings", headers=A, json={"credential_id": a1.credential_id,
                                                                     "did": bob.did}), 404)
    # share: alone or mixed with her own
    assert_problem(await http.post("/v1/share-links", headers=A, json={"credential_ids": [B]}), 404)
    assert_problem(await http.post("/v1/share-links", headers=A,
                                   json={"credential_ids": [a1.credential_id, B]}), 404)
    # Bob's links: not listed for Alice, not withdrawable by her, still working afterwards
    listed = (await http.get("/v1/share-links", headers=A)).json()["share_links"]
    assert bob_share["share_id"] not in {s["share_id"] for s in listed}
    assert_problem(await http.delete(f"/v1/share-links/{bob_share['share_id']}", headers=A), 404)
    assert (await http.get(f"/v1/shares/{bob_share['token']}")).status_code == 200
    # present: Bob's credential, or her own with Bob's key
    challenge = {"challenge": "c-1", "domain": "employer.example"}
    assert_problem(await http.post("/v1/presentations", headers=A, json={"credential_ids": [B], **challenge}), 404)
    assert_problem(await http.post("/v1/presentations", headers=A, json={
        "credential_ids": [a1.credential_id], "holder_did": bob.did, **challenge}), 404)
    # export
    exported = await http.get("/v1/export", headers=A)
    with zipfile.ZipFile(io.BytesIO(exported.content)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    assert {c["id"] for c in manifest["credentials"]} == {a1.credential_id}
    # import Bob's credential into Alice's wallet
    rejected = assert_problem(await http.post("/v1/import", headers=A, json=b1.document), 422)
    assert rejected["code"] == "SUBJECT_NOT_LEARNER"
    # stacking progress shows only her credentials; keys and account are hers
    progress = (await http.get("/v1/pathways/progress", headers=A)).json()["progress"]
    assert all(c["credential_id"] != B for p in progress for c in p["credentials"])
    keys = (await http.get("/v1/holder-keys", headers=A)).json()["holder_keys"]
    assert [k["did"] for k in keys] == [alice.did]
    me = (await http.get("/v1/me", headers=A)).json()
    assert me["holder_dids"] == [alice.did] and me["email"] == alice.email.lower()
    # Bob still has everything
    assert await ids(wallet, bob) == {B}


LEARNER_ENDPOINTS = [
    ("GET", "/v1/me"), ("GET", "/v1/holder-keys"), ("POST", "/v1/holder-keys"), ("GET", "/v1/credentials"),
    ("GET", "/v1/credentials/urn:uuid:x"), ("POST", "/v1/bindings"), ("GET", "/v1/export"), ("POST", "/v1/import"),
    ("POST", "/v1/share-links"), ("GET", "/v1/share-links"), ("DELETE", "/v1/share-links/abc"),
    ("POST", "/v1/presentations"), ("GET", "/v1/pathways"), ("GET", "/v1/pathways/progress"),
    ("GET", "/v1/pathways/p1/progress"), ("POST", "/v1/admin/pathways"),
]


async def test_every_learner_endpoint_requires_a_valid_token(wallet: WalletUnderTest) -> None:
    p = wallet.provider
    bad_tokens = {
        "missing": None,
        "foreign key": p.token("eve", jwk=rsa_jwk("test-key-1")),  # same kid, other key
        "unknown kid": p.token("eve", jwk=rsa_jwk("rogue")),
        "wrong audience": p.token("eve", aud="someone-else"),
        "wrong issuer": p.token("eve", iss="https://evil.example"),
        "expired": p.token("eve", ttl=-120),
        "garbage": "not-a-jwt",
    }
    for method, path in LEARNER_ENDPOINTS:
        for label, token in bad_tokens.items():
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            response = await wallet.http.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, label, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
    # Publishing a pathway needs the publisher scope.
    forbidden = await wallet.http.post("/v1/admin/pathways", headers=wallet.auth("learner-x"), json={
        "pathway_id": "p", "issuer_id": "i", "title": {"en": "t"}, "min_total_ects": "5"})
    assert_problem(forbidden, 403)


async def test_share_links_resolve_count_and_stop_working_at_once(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-share")
    learner = await sign_up(wallet, "sharer")
    one, two = issuer.issue(learner_did=learner.did, title="One"), issuer.issue(learner_did=learner.did, title="Two")
    await wallet.issue(one)
    await wallet.issue(two)
    await until_held(wallet, learner, one.credential_id, two.credential_id)

    created = await wallet.http.post("/v1/share-links", headers=learner.headers,
                                     json={"credential_ids": [one.credential_id, two.credential_id]})
    assert created.status_code == 201
    share = created.json()
    token = share["token"]
    assert len(token) >= 43 and share["url"] == f"https://verify.example/shares/{token}"
    assert share["share_id"] != token and token not in json.dumps(
        (await wallet.http.get("/v1/share-links", headers=learner.headers)).json())
    for expected_count in (1, 2):
        resolved = await wallet.http.get(f"/v1/shares/{token}")
        assert resolved.status_code == 200
        body = resolved.json()
        assert body["credentials"] == [one.document, two.document]
        assert body["access_count"] == expected_count and body["expires_at"] == share["expires_at"]
    listed = (await wallet.http.get("/v1/share-links", headers=learner.headers)).json()["share_links"]
    assert [(s["share_id"], s["access_count"], s["state"]) for s in listed] == [(share["share_id"], 2, "active")]

    withdrawn = await wallet.http.delete(f"/v1/share-links/{share['share_id']}", headers=learner.headers)
    assert withdrawn.json()["state"] == "withdrawn"
    assert assert_problem(await wallet.http.get(f"/v1/shares/{token}"), 410)["code"] == "SHARE_WITHDRAWN"

    short = (await wallet.http.post("/v1/share-links", headers=learner.headers,
                                    json={"credential_ids": [one.credential_id], "expires_in_seconds": 1})).json()
    assert (await wallet.http.get(f"/v1/shares/{short['token']}")).status_code == 200
    await asyncio.sleep(1.2)
    assert assert_problem(await wallet.http.get(f"/v1/shares/{short['token']}"), 410)["code"] == "SHARE_EXPIRED"
    states = {s["share_id"]: s["state"] for s in
              (await wallet.http.get("/v1/share-links", headers=learner.headers)).json()["share_links"]}
    assert states == {share["share_id"]: "withdrawn", short["share_id"]: "expired"}

    assert_problem(await wallet.http.get("/v1/shares/" + "x" * 43), 404)
    too_long = await wallet.http.post("/v1/share-links", headers=learner.headers, json={
        "credential_ids": [one.credential_id], "expires_in_seconds": 10**9})
    assert_problem(too_long, 422)


async def test_presentations_fail_for_wrong_challenge_domain_or_key(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-vp")
    learner = await sign_up(wallet, "presenter")
    issued = issuer.issue(learner_did=learner.did)
    await wallet.issue(issued)
    await until_held(wallet, learner, issued.credential_id)
    bound = await wallet.http.post("/v1/bindings", headers=learner.headers,
                                   json={"credential_id": issued.credential_id, "did": learner.did})
    assert bound.json()["bound_did"] == learner.did

    response = await wallet.http.post("/v1/presentations", headers=learner.headers, json={
        "credential_ids": [issued.credential_id], "challenge": "nonce-123", "domain": "employer.example"})
    assert response.status_code == 200, response.text
    vp = response.json()
    assert vp["holder"] == learner.did and vp["verifiableCredential"] == [issued.document]
    assert vp["proof"]["proofPurpose"] == "authentication" and vp["proof"]["cryptosuite"] == "eddsa-rdfc-2022"

    ok = verify_presentation_binding(vp, "nonce-123", "employer.example")
    assert ok.verified is True and ok.subjects_bound is True
    assert verify_presentation_binding(vp, "nonce-999", "employer.example").code == "CHALLENGE_MISMATCH"
    assert verify_presentation_binding(vp, "nonce-123", "evil.example").code == "DOMAIN_MISMATCH"

    # Signed by another key: re-signed by an attacker's own did:key while still naming the learner as holder...
    other = Ed25519PrivateKey.generate()
    other_did = did_key_from_public_key(other.public_key())
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    forged = sign_eddsa_rdfc_2022(unsigned, other, verification_method_id(other_did), "authentication",
                                  challenge="nonce-123", domain="employer.example")
    assert verify_presentation_binding(forged, "nonce-123", "employer.example").code == "HOLDER_MISMATCH"
    # ...or claiming the learner's verification method with a signature the learner's key never made.
    forged["proof"]["verificationMethod"] = vp["proof"]["verificationMethod"]
    result = verify_presentation_binding(forged, "nonce-123", "employer.example")
    assert result.verified is False and result.code == "INVALID_SIGNATURE"

    no_key = await sign_up(wallet, "keyless", with_key=False)
    keyless_vp = await wallet.http.post("/v1/presentations", headers=no_key.headers, json={
        "credential_ids": ["urn:uuid:none"], "challenge": "c", "domain": "d"})
    assert_problem(keyless_vp, 404)


async def test_export_bundle_and_verified_import(wallet: WalletUnderTest) -> None:
    ours, elsewhere = TestIssuer.new("issuer-export"), TestIssuer.new("foreign-university")
    learner = await sign_up(wallet, "porter")
    issued = ours.issue(learner_did=learner.did)
    await wallet.issue(issued)
    await until_held(wallet, learner, issued.credential_id)

    foreign = elsewhere.issue(learner_did=learner.did, title="From abroad")
    imported = await wallet.http.post("/v1/import", headers=learner.headers, json=foreign.document)
    assert imported.status_code == 201, imported.text
    assert imported.json()["source"] == "imported" and imported.json()["issuer_id"] == elsewhere.did
    assert imported.json()["import_check"]["unknown_checks"] == ["accreditation"]  # issuer outside our registry
    assert await ids(wallet, learner) == {issued.credential_id, foreign.credential_id}
    again = await wallet.http.post("/v1/import", headers=learner.headers, json=foreign.document)
    assert assert_problem(again, 409)["code"] == "ALREADY_HELD"

    tampered = json.loads(json.dumps(elsewhere.issue(learner_did=learner.did).document))
    tampered["credentialSubject"]["achievement"]["name"] = "Something I did not earn"
    assert assert_problem(await wallet.http.post("/v1/import", headers=learner.headers, json=tampered),
                          422)["code"] == "INVALID_SIGNATURE"
    unsigned = {k: v for k, v in elsewhere.issue(learner_did=learner.did).document.items() if k != "proof"}
    assert assert_problem(await wallet.http.post("/v1/import", headers=learner.headers, json=unsigned),
                          422)["code"] == "NO_PROOF"
    not_json = await wallet.http.post("/v1/import", headers=learner.headers, content=b"{nope")
    assert assert_problem(not_json, 422)["code"] == "MALFORMED"
    too_deep = await wallet.http.post("/v1/import", headers=learner.headers, content=b"[" * 30000 + b"]" * 30000)
    assert assert_problem(too_deep, 422)["code"] == "MALFORMED"  # RecursionError in the parser: not a 500

    exported = await wallet.http.get("/v1/export", headers=learner.headers)
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        files = {entry["id"]: json.loads(bundle.read(entry["file"])) for entry in manifest["credentials"]}
    assert files == {issued.credential_id: issued.document, foreign.credential_id: foreign.document}
    assert manifest["holder_dids"] == [learner.did]
    assert {e["source"] for e in manifest["credentials"]} == {"issued", "imported"}


async def test_openapi_is_published(wallet: WalletUnderTest) -> None:
    spec = (await wallet.http.get("/openapi.json")).json()
    for path in ("/v1/credentials", "/v1/share-links", "/v1/shares/{token}", "/v1/presentations", "/v1/export",
                 "/v1/import", "/v1/pathways/progress", "/v1/holder-keys"):
        assert path in spec["paths"], path
    assert (await wallet.http.get("/healthz")).json()["status"] == "ok"
