"""Redis loses the wallet's state while the wallet runs (a single node, or a Redis Cluster): the learner's
account, holder key, binding, import and share links come back by replay from Kafka, an existing link still
resolves and a withdrawn one still does not. While the state is rebuilding the wallet answers 503 (retry),
never a wrong 404 or a partial answer. What the wallet topic carries is no secret: no share token, no e-mail
address, no private key in clear."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from microcred.kafka.topics import WALLET
from services.wallet.domain.presentations import verify_presentation_binding
from tests.conftest import Infrastructure
from tests.harness.kafka import read_topic
from tests.harness.redis_cluster import RedisClients
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet, wait_for
from tests.harness.wallet.snapshot import dump

pytestmark = pytest.mark.integration


def _group_patterns(w: WalletUnderTest) -> list[str]:
    """The credential records' slot groups, their positions and sentinels (a cluster only; none on one node)."""
    raw = w.settings.wallet_redis_prefix
    return [f"{{{raw}:g*}}:cred:*", f"offsets:{{{raw}:g*}}-docs:*", f"epoch:{{{raw}:g*}}-docs"]


async def wipe(w: WalletUnderTest) -> None:
    """Everything of this wallet instance in Redis (state, records, positions, sentinels): FLUSHALL, for one
    wallet (one key at a time: on a cluster they are in several slots)."""
    prefix = w.prefix
    keys: list[bytes] = []
    for pattern in (f"{prefix}:*", f"offsets:{prefix}:*", f"epoch:{prefix}", *_group_patterns(w)):
        keys += [k async for k in w.redis.scan_iter(match=pattern)]
    for key in keys:
        await w.redis.delete(key)


async def records(w: WalletUnderTest) -> dict[Any, Any]:
    """The credential records where they are (under the prefix, or spread over slot groups on a cluster)."""
    found: dict[Any, Any] = {}
    for pattern in (f"{w.prefix}:cred:*", _group_patterns(w)[0]):
        found.update({k: await w.redis.hgetall(k) async for k in w.redis.scan_iter(match=pattern)})
    return found


async def wallet_topic_bytes(w: WalletUnderTest) -> bytes:
    """Every record of the instance's wallet topic, keys, values and headers, concatenated."""
    out = bytearray()
    for record in await read_topic(w.settings.kafka_bootstrap, w.topic(WALLET.name)):
        out += (record.key or b"") + (record.value or b"")
        out += b"".join(k.encode() + v for k, v in record.headers.items())
    return bytes(out)


async def test_accounts_keys_and_share_links_come_back_after_redis_is_wiped(
        infrastructure: Infrastructure, unique: str, tmp_path: Path, redis_clients: RedisClients) -> None:
    """On the single node and on the 3-master cluster (the wallet's read model in one slot there)."""
    email = f"rebuild-{unique}@example.org"
    url = redis_clients.service_url
    async with running_wallet(infrastructure, unique, tmp_path, redis_url=url) as w:
        http, prefix = w.http, w.prefix
        headers = w.auth(f"rebuild-{unique}", email)
        did = (await http.post("/v1/holder-keys", headers=headers)).json()["did"]
        issuer = TestIssuer.new("issuer-rebuild")
        by_did, by_mail = issuer.issue(learner_did=did), issuer.issue(email=email)
        for issued in (by_did, by_mail):
            await w.issue(issued)
        foreign = TestIssuer.new("elsewhere").issue(learner_did=did, title="From abroad")
        assert (await http.post("/v1/import", headers=headers, json=foreign.document)).status_code == 201

        async def held() -> bool:
            listed = (await http.get("/v1/credentials", headers=headers)).json()["credentials"]
            return len(listed) == 3
        await wait_for(held)
        assert (await http.post("/v1/bindings", headers=headers,
                                json={"credential_id": by_did.credential_id, "did": did})).status_code == 200
        ids = [by_did.credential_id, by_mail.credential_id]
        active = (await http.post("/v1/share-links", headers=headers, json={"credential_ids": ids})).json()
        gone = (await http.post("/v1/share-links", headers=headers, json={"credential_ids": ids})).json()
        await http.delete(f"/v1/share-links/{gone['share_id']}", headers=headers)
        assert (await http.get(f"/v1/shares/{active['token']}")).status_code == 200
        assert (await http.get(f"/v1/shares/{gone['token']}")).status_code == 410
        before = await dump(w.redis, prefix, projection_only=True)
        records_before = await records(w)
        assert len(records_before) == 2
        if redis_clients.topology == "cluster":  # spread: none under the wallet's one-slot prefix
            assert not [k async for k in w.redis.scan_iter(match=f"{prefix}:cred:*")]
        me, listed = (await http.get("/v1/me", headers=headers)).json(), (
            await http.get("/v1/credentials", headers=headers)).json()
        links = {s["share_id"]: s["state"] for s in (await http.get("/v1/share-links", headers=headers)).json()[
            "share_links"]}

        await wipe(w)
        # Until the replay has caught up, the link is refused for now (503 + Retry-After), never "unknown".
        statuses: list[int] = []
        deadline = time.monotonic() + 60
        while True:
            response = await http.get(f"/v1/shares/{active['token']}")
            statuses.append(response.status_code)
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                assert response.headers["retry-after"] and response.json()["code"] == "WALLET_REBUILDING"
            if response.status_code == 200 or time.monotonic() > deadline:
                break
        assert statuses[-1] == 200 and 503 in statuses, statuses
        assert response.json()["credentials"] == [by_did.document, by_mail.document]
        withdrawn = await http.get(f"/v1/shares/{gone['token']}")
        assert withdrawn.status_code == 410 and withdrawn.json()["code"] == "SHARE_WITHDRAWN"

        async def rebuilt() -> bool:
            return await dump(w.redis, prefix, projection_only=True) == before and await records(w) == records_before
        await wait_for(rebuilt, timeout=30)
        assert (await http.get("/v1/me", headers=headers)).json() == me
        assert (await http.get("/v1/credentials", headers=headers)).json() == listed  # binding and import too
        assert {s["share_id"]: s["state"] for s in (await http.get("/v1/share-links", headers=headers)).json()[
            "share_links"]} == links
        # The DID's link to its key (in the encrypted key store) came back from Kafka: it still signs.
        vp = await http.post("/v1/presentations", headers=headers, json={
            "credential_ids": [by_did.credential_id], "challenge": "c-1", "domain": "employer.example"})
        assert vp.status_code == 200, vp.text
        assert verify_presentation_binding(vp.json(), "c-1", "employer.example").verified is True

        # No secret on Kafka, not even encrypted: tokens, the e-mail address, the private key (nor in Redis).
        key = await w.app.state.wallet.keys.signing_key(me["account_id"], did)
        raw_seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
        assert not await w.redis.hexists(f"{prefix}:holder-key:{did}", "wrapped")
        log = await wallet_topic_bytes(w)
        assert active["share_id"].encode() in log  # the topic does hold the links (by their hash)...
        for secret in (active["token"].encode(), gone["token"].encode(), email.encode(), raw_seed):
            assert secret not in log  # ...but none of the secrets
