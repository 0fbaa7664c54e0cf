"""Stacking over real Kafka + Redis + HTTP: pathways published through the admin endpoint, progress for
complete, partial and disqualified learners, and PathwayCompleted published exactly once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from microcred.gen.microcred.v1 import events_pb2
from services.wallet.domain.pathway_codec import completed_event_id
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import Issued, TestIssuer
from tests.harness.wallet.harness import PUBLISHER_SCOPE, WalletUnderTest, running_wallet, wait_for

pytestmark = pytest.mark.integration

UNI, VET, OTHER = TestIssuer.new("issuer-uni"), TestIssuer.new("issuer-vet"), TestIssuer.new("issuer-unaccredited")
A1, A2, A3, EXTRA = (f"https://pathway.example/achievements/{n}" for n in ("a1", "a2", "a3", "extra"))


@pytest.fixture(scope="module")
async def wallet(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[WalletUnderTest]:
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path_factory.mktemp("wallet")) as w:
        yield w


async def publish_pathway(w: WalletUnderTest, **overrides: Any) -> str:
    pathway_id = f"urn:pathway:{uuid.uuid4().hex[:8]}"
    body = {"pathway_id": pathway_id, "issuer_id": "agency-pl", "title": {"en": "Digital certificate",
                                                                          "pl": "Certyfikat cyfrowy"},
            "required_achievement_ids": [A1, A2, A3], "min_total_ects": "15", "min_eqf_level": 6,
            "accepted_issuer_ids": [UNI.issuer_id, VET.issuer_id], **overrides}
    response = await w.http.post("/v1/admin/pathways", json=body,
                                 headers=w.auth("agency-operator", scopes=(PUBLISHER_SCOPE,)))
    assert response.status_code == 202, response.text
    viewer = w.auth("pathway-viewer")

    async def known() -> bool:
        listed = (await w.http.get("/v1/pathways", headers=viewer)).json()["pathways"]
        return pathway_id in {p["pathway_id"] for p in listed}

    await wait_for(known)
    return pathway_id


async def learner_with(w: WalletUnderTest, name: str) -> tuple[dict[str, str], str, str]:
    headers = w.auth(f"{name}-{uuid.uuid4().hex[:8]}")
    did = (await w.http.post("/v1/holder-keys", headers=headers)).json()["did"]
    account = (await w.http.get("/v1/me", headers=headers)).json()["account_id"]
    return headers, did, account


async def hold(w: WalletUnderTest, headers: dict[str, str], *issued: Issued) -> None:
    for credential in issued:
        await w.issue(credential)

    async def all_there() -> bool:
        listed = (await w.http.get("/v1/credentials", headers=headers)).json()["credentials"]
        return {i.credential_id for i in issued} <= {c["credential_id"] for c in listed}

    await wait_for(all_there)


async def progress(w: WalletUnderTest, headers: dict[str, str], pathway_id: str) -> dict[str, Any]:
    response = await w.http.get(f"/v1/pathways/{pathway_id}/progress", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def completions(w: WalletUnderTest, pathway_id: str, account: str) -> list[str]:
    events = await w.pathway_completed_events(timeout=3)
    return [e.event_id for e, p in events
            if isinstance(p, events_pb2.PathwayCompleted) and p.pathway_id == pathway_id and p.learner_id == account]


async def test_complete_pathway_is_announced_once(wallet: WalletUnderTest) -> None:
    pathway_id = await publish_pathway(wallet)
    headers, did, account = await learner_with(wallet, "complete")
    issued = [UNI.issue(learner_did=did, achievement_id=A1, ects="5", eqf=6),
              VET.issue(learner_did=did, achievement_id=A2, ects="5", eqf=7),
              UNI.issue(learner_did=did, achievement_id=A3, ects="5.5", eqf=6)]
    await hold(wallet, headers, *issued)

    async def announced() -> bool:
        return len(await completions(wallet, pathway_id, account)) >= 1

    await wait_for(announced, timeout=30)  # announced by the intake, before the learner looks
    body = await progress(wallet, headers, pathway_id)
    assert body["complete"] is True and body["ects_gathered"] == "15.5" and body["ects_missing"] == "0"
    assert body["missing_achievement_ids"] == []
    assert all(c["counts"] for c in body["credentials"])

    # Looking again and receiving the same credential again announce nothing new.
    await progress(wallet, headers, pathway_id)
    await wallet.http.get("/v1/pathways/progress", headers=headers)
    before = wallet.intake.applied
    await wallet.issue(issued[0])
    await wallet.applied(before + 1)
    events = await completions(wallet, pathway_id, account)
    assert events == [completed_event_id(pathway_id, account)]
    payload = next(p for e, p in await wallet.pathway_completed_events(timeout=2)
                   if isinstance(p, events_pb2.PathwayCompleted) and p.learner_id == account)
    assert isinstance(payload, events_pb2.PathwayCompleted)
    assert sorted(payload.credential_ids) == sorted(i.credential_id for i in issued)
    assert payload.total_ects == "15.5"


async def test_partial_progress_shows_what_is_missing(wallet: WalletUnderTest) -> None:
    pathway_id = await publish_pathway(wallet)
    headers, did, account = await learner_with(wallet, "partial")
    await hold(wallet, headers, UNI.issue(learner_did=did, achievement_id=A1, ects="5", eqf=6),
               VET.issue(learner_did=did, achievement_id=A2, ects="4", eqf=6))
    body = await progress(wallet, headers, pathway_id)
    assert body["complete"] is False
    assert body["ects_gathered"] == "9" and body["ects_missing"] == "6"
    assert body["missing_achievement_ids"] == [A3]
    assert await completions(wallet, pathway_id, account) == []


async def test_disqualified_credentials_say_why_they_do_not_count(wallet: WalletUnderTest) -> None:
    pathway_id = await publish_pathway(wallet)
    headers, did, account = await learner_with(wallet, "disq")
    revoked = UNI.issue(learner_did=did, achievement_id=A1, ects="5", eqf=6)
    too_low = VET.issue(learner_did=did, achievement_id=A2, ects="5", eqf=4)
    foreign = OTHER.issue(learner_did=did, achievement_id=A3, ects="5", eqf=6)
    extra = UNI.issue(learner_did=did, achievement_id=EXTRA, ects="5", eqf=6)
    suspended = VET.issue(learner_did=did, achievement_id=A3, ects="5", eqf=6)
    await hold(wallet, headers, revoked, too_low, foreign, extra, suspended)
    await wallet.status(revoked.credential_id, events_pb2.CredentialRevoked(credential_id=revoked.credential_id))
    await wallet.status(suspended.credential_id,
                        events_pb2.CredentialSuspended(credential_id=suspended.credential_id))

    async def statuses_applied() -> bool:
        body = await progress(wallet, headers, pathway_id)
        reasons = {c["credential_id"]: c["reasons"] for c in body["credentials"]}
        return "REVOKED" in reasons[revoked.credential_id] and "SUSPENDED" in reasons[suspended.credential_id]

    await wait_for(statuses_applied)
    body = await progress(wallet, headers, pathway_id)
    reasons = {c["credential_id"]: c["reasons"] for c in body["credentials"]}
    assert reasons == {
        revoked.credential_id: ["REVOKED"], too_low.credential_id: ["EQF_LEVEL_TOO_LOW"],
        foreign.credential_id: ["ISSUER_NOT_ACCEPTED"], extra.credential_id: ["NOT_REQUIRED"],
        suspended.credential_id: ["SUSPENDED"],
    }
    assert body["complete"] is False and body["ects_gathered"] == "0"
    assert body["missing_achievement_ids"] == [A1, A2, A3]
    assert await completions(wallet, pathway_id, account) == []

    # Reinstating the suspended one makes it count again.
    await wallet.status(suspended.credential_id,
                        events_pb2.CredentialReinstated(credential_id=suspended.credential_id))

    async def counts_again() -> bool:
        body = await progress(wallet, headers, pathway_id)
        return any(c["counts"] for c in body["credentials"] if c["credential_id"] == suspended.credential_id)

    await wait_for(counts_again)


async def test_pathway_published_after_the_credentials_is_still_announced(wallet: WalletUnderTest) -> None:
    headers, did, account = await learner_with(wallet, "early")
    await hold(wallet, headers, UNI.issue(learner_did=did, achievement_id=A1, ects="10", eqf=6),
               VET.issue(learner_did=did, achievement_id=A2, ects="10", eqf=6))
    pathway_id = await publish_pathway(wallet, required_achievement_ids=[A1, A2], min_total_ects="20")

    async def announced() -> bool:
        return await completions(wallet, pathway_id, account) == [completed_event_id(pathway_id, account)]

    await wait_for(announced, timeout=30)


async def test_publishing_a_pathway_is_validated(wallet: WalletUnderTest) -> None:
    publisher = wallet.auth("agency-operator", scopes=(PUBLISHER_SCOPE,))
    empty = await wallet.http.post("/v1/admin/pathways", headers=publisher, json={
        "pathway_id": "urn:pathway:empty", "issuer_id": "agency-pl", "title": {"en": "Nothing"}})
    assert empty.status_code == 422
    assert empty.headers["content-type"].startswith("application/problem+json")
    unknown = await wallet.http.get("/v1/pathways/urn:pathway:nope/progress", headers=wallet.auth("someone"))
    assert unknown.status_code == 404
