"""A deleted wallet account (tombstones on the compacted wallet topic) is dropped from the wallet's read model,
and the tombstones are applied, never dead-lettered (issue 18)."""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from microcred.kafka.topics import DEAD_LETTER, WALLET
from tests.conftest import Infrastructure
from tests.harness.kafka import read_topic
from tests.harness.redis_cluster import RedisClients
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import running_wallet, wait_for


async def test_account_tombstones_drop_the_account_and_are_not_dead_lettered(
        infrastructure: Infrastructure, unique: str, tmp_path: Path, redis_clients: RedisClients) -> None:
    """On the single node and on the 3-master cluster."""
    email = f"leaver-{unique}@example.org"
    async with running_wallet(infrastructure, unique, tmp_path, redis_url=redis_clients.service_url) as w:
        http, prefix, redis = w.http, w.prefix, w.redis
        headers = w.auth(f"leaver-{unique}", email)
        did = (await http.post("/v1/holder-keys", headers=headers)).json()["did"]
        issued = TestIssuer.new("issuer-leaver").issue(email=email)
        await w.issue(issued)

        foreign = TestIssuer.new("elsewhere").issue(learner_did=did, title=f"Imported {unique}")
        assert (await http.post("/v1/import", headers=headers, json=foreign.document)).status_code == 201

        async def held() -> bool:
            return len((await http.get("/v1/credentials", headers=headers)).json()["credentials"]) == 2
        await wait_for(held)
        # The imported document is on the wallet topic only sealed (under the account learner's data key).
        records = await read_topic(infrastructure.kafka_bootstrap, w.topic(WALLET.name))
        assert records and not [r for r in records if r.value and f"Imported {unique}".encode() in r.value]
        share = (await http.post("/v1/share-links", headers=headers,
                                 json={"credential_ids": [issued.credential_id]})).json()
        account = (await http.get("/v1/me", headers=headers)).json()["account_id"]
        owned = [f"{prefix}:acct:{account}", f"{prefix}:acct:{account}:keys", f"{prefix}:holder-key:{did}",
                 f"{prefix}:did-owner:{did}", f"{prefix}:share:{{{share['share_id']}}}"]
        assert await redis.exists(*owned) == len(owned)
        assert await redis.hexists(f"{prefix}:emails", account)

        # The learner deletes the account: one tombstone per record it owns, as the wallet topic is keyed.
        producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for key in (f"share:{share['share_id']}", f"holder-key:{did}", f"account:{account}"):
                await producer.send_and_wait(w.topic(WALLET.name), None, key=key.encode())
        finally:
            await producer.stop()

        async def dropped() -> bool:
            return await redis.exists(*owned) == 0 and not await redis.hexists(f"{prefix}:emails", account)
        await wait_for(dropped)
        assert (await http.get(f"/v1/shares/{share['token']}")).status_code in (404, 410)
        letters = await read_topic(infrastructure.kafka_bootstrap, DEAD_LETTER.name)
        assert not [r for r in letters if r.headers.get("source_topic") == w.topic(WALLET.name).encode()]
