"""The Redis-wipe fault scenario, run on the single-node platform (``tests/fault/test_redis_wipe.py``) and on the
platform over a Redis Cluster (``tests/fault/cluster/``).

Redis is wiped (``FLUSHALL``) while a batch runs: every read model rebuilds from Kafka and matches a fresh one.

Each projection keeps a sentinel ``epoch:{projection}`` next to its state (``ProjectionEpoch``); its consumer
notices within a second that the sentinel is gone, drops the positions written since, and replays its partitions
from the beginning. The test then compares each live read model (wallet, revocation, the issuer's and the
verifier's trust registries) with a fresh rebuild made by the same projection code under another prefix.

The wallet's own state is on Kafka too (``microcred.wallet.v1``): the batch is issued to the holder key of a
wallet learner who, just before the wipe, binds a credential, creates a share link and withdraws another. After
the rebuild the account, key, binding and links match the fresh rebuild, the live link still resolves to the
same credentials and the withdrawn one still answers 410. A poison record written before the batch is met again
by every replay; it must not be dead-lettered a second time.

Lost for good with Redis (not derivable from Kafka, so not compared): share-link access counters; the revocation
service's signing locks and dirty-list marks.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import grpc
from aiokafka import AIOKafkaProducer

from microcred.gen.microcred.v1 import issuer_pb2
from microcred.kafka.topics import CREDENTIALS, DEAD_LETTER
from tests.fault.learner import WalletLearner
from tests.fault.rebuild import (
    REGISTRY_FAMILIES,
    REVOCATION_FAMILIES,
    WALLET_FAMILIES,
    converge,
    layout,
    rebuilt_registry,
    rebuilt_revocation,
    rebuilt_wallet,
)
from tests.fault.support import (
    FAULT_SERVICE_BATCH,
    RETRIABLE,
    SCALE,
    FaultPlatform,
    Scenario,
)
from tests.harness.kafka import end_offsets, read_topic
from tests.harness.waiting import eventually

Source = tuple[str, str, int, int]  # consumer group, source topic, partition, offset


async def dead_letters(fault: FaultPlatform, since: dict[int, int] | None = None) -> Counter[Source]:
    """How often each (consumer group, source record) was dead-lettered (since ``since``; default: ever)."""
    found: Counter[Source] = Counter()
    for _, _, _, _, headers in await read_topic(fault.bootstrap, DEAD_LETTER.name, since):
        found[(headers.get("consumer_group", b"").decode(), headers.get("source_topic", b"").decode(),
               int(headers.get("source_partition", b"-1")), int(headers.get("source_offset", b"-1")))] += 1
    return found


async def poison_credentials_topic(fault: FaultPlatform) -> set[tuple[str, int, int]]:
    """One undecodable record on every partition of the credentials topic; returns where they landed."""
    producer = AIOKafkaProducer(bootstrap_servers=fault.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sources = set()
        for partition in sorted(await producer.partitions_for(CREDENTIALS.name)):
            meta = await producer.send_and_wait(CREDENTIALS.name, b"\xff redis-wipe poison", partition=partition)
            sources.add((CREDENTIALS.name, meta.partition, meta.offset))
        return sources
    finally:
        await producer.stop()


async def redis_wiped_during_batch(fault: FaultPlatform, name: str) -> None:
    """The whole scenario on ``fault`` (its results saved under ``name``)."""
    scenario = await Scenario.open(fault, name, FAULT_SERVICE_BATCH)
    notes = scenario.outcome.notes
    # While the issuer's registry read model is being rebuilt it cannot tell that the issuer is accredited, so it
    # answers UNAVAILABLE (retriable): any refusal for good fails the test.
    scenario.client.transient = RETRIABLE
    tag = uuid.uuid4().hex[:8]
    learner = await WalletLearner.sign_up(fault, f"wipe-{tag}", f"wipe-{tag}@example.org")
    scenario.client.learner_did = learner.did  # the batch lands in this learner's wallet

    dead_start = await end_offsets(fault.bootstrap, DEAD_LETTER.name)
    poison = await poison_credentials_topic(fault)
    wallet_poison = {("microcred-wallet", *source) for source in poison}

    async def poison_dead_lettered() -> bool:
        return wallet_poison <= set(await dead_letters(fault, dead_start))
    await eventually(poison_dead_lettered, 60 * SCALE, "the wallet never dead-lettered the poison", interval=1.0)

    # The learner's own state before the batch (so the wipe still lands in its middle): three of the batch's
    # credentials, one bound to the key, a link to all three and a withdrawn link.
    await scenario.client.complete(scenario.keys[:3])
    held = await learner.holding(3)
    await learner.call("POST", "/v1/bindings", json={"credential_id": held[0], "did": learner.did})
    await learner.share("live", held)
    gone = await learner.share("withdrawn", held[:1])
    await learner.call("DELETE", f"/v1/share-links/{gone['share_id']}")
    await learner.resolve("live", 200)
    await learner.resolve("withdrawn", 410)
    account = (await learner.call("GET", "/v1/me")).json()["account_id"]
    before: list[str] = []

    async def wipe() -> None:
        before.extend(a.credential_id for a in list(scenario.client.answered.values())[:20])
        fault.platform.wipe_redis()
        notes["answered_at_wipe"] = len(scenario.client.answered)

    await scenario.run(wipe, at=0.4, resend=0)

    # The issuer still answers GetCredential for credentials issued before the wipe, and re-sending their keys
    # gives back the very same documents (its idempotency records are a read model too).
    stub = fault.issuer_stub(scenario.issuer, scenario.agency)
    found = 0
    for cid in before:
        for _ in range(int(60 * SCALE)):
            try:
                await stub.GetCredential(issuer_pb2.GetCredentialRequest(credential_id=cid), timeout=10)
                found += 1
                break
            except grpc.aio.AioRpcError as exc:  # NOT_FOUND when the issuer's store was not rebuilt
                if exc.code() != grpc.StatusCode.UNAVAILABLE:  # still rebuilding: a client retries
                    notes.setdefault("get_credential_errors", []).append(exc.code().name)
                    break
                await asyncio.sleep(1.0)
    notes["get_credential_found"] = f"{found}/{len(before)}"
    await scenario.client.resend_answered(scenario.keys[:50])

    # What each fresh rebuild must hold before an agreement with the live read model counts.
    credentials = [f"cred:{a.credential_id}" for a in scenario.client.answered.values()]
    wallet_must = [*credentials, f"by:did:{learner.did}", f"acct:{account}", f"holder-key:{learner.did}",
                   *(f"share:{{{link['share_id']}}}" for link in learner.shares.values())]
    issuer = [f"issuer:{scenario.issuer}"]
    redis, diffs = fault.redis, {}
    async with rebuilt_wallet(fault) as wallet, rebuilt_revocation(fault) as revocation, \
            rebuilt_registry(fault) as registry:
        # The live read models as the services lay them out (hash tags and slot groups on a cluster).
        for model, live, rebuilt, families, alloc, must_have in (
                ("wallet", layout(redis, "wallet", grouped=True), wallet, WALLET_FAMILIES, False, wallet_must),
                ("revocation", layout(redis, "rev"), revocation, REVOCATION_FAMILIES, True, credentials),
                ("issuer-registry", layout(redis, "issuer-registry"), registry, REGISTRY_FAMILIES, False, issuer),
                ("verifier-registry", layout(redis, "verifier-registry"), registry, REGISTRY_FAMILIES, False,
                 issuer)):
            diff, seconds, keys = await converge(redis, live, rebuilt, families, alloc, must_have=must_have)
            notes[f"{model}_matched_after_s"] = round(seconds, 1)
            notes[f"{model}_keys_compared"] = keys
            if diff:
                diffs[model] = diff.summary()
    notes["read_model_differences"] = diffs

    # The learner's wallet after the rebuild: same account and key, the link still shows the same credentials,
    # the withdrawn link is still withdrawn, the binding is kept.
    me = (await learner.call("GET", "/v1/me")).json()
    live = (await learner.resolve("live", 200)).json()
    withdrawn = (await learner.resolve("withdrawn", 410)).json()
    bound = [c for c in (await learner.call("GET", "/v1/credentials")).json()["credentials"] if c["bound_did"]]
    answered = {a.credential_id: json.loads(a.credential_json) for a in scenario.client.answered.values()}
    notes.update(wallet_503_answers=learner.unavailable, wallet_live_link_credentials=len(live["credentials"]))

    # Every replay met the poison (this test's, and the poison test's when it ran before): dead-lettered once.
    letters = await dead_letters(fault)
    twice = {source: n for source, n in letters.items() if n > 1}
    notes.update(dead_letters_since_start=sum(letters.values()), dead_lettered_twice=len(twice))
    outcome = await scenario.check()
    assert not diffs, outcome
    assert found == len(before), outcome
    assert me["holder_dids"] == [learner.did], me
    assert live["credentials"] == [answered[cid] for cid in learner.shares["live"]["credential_ids"]]
    assert withdrawn["code"] == "SHARE_WITHDRAWN"
    assert [c["bound_did"] for c in bound] == [learner.did]
    assert wallet_poison <= set(letters) and not twice, twice
