"""How fast does the wallet rebuild its read model by replaying Kafka?

Publishes ``count`` events on a private set of topics (real signed Open Badges 3.0 credentials with new ids,
90 % issued to a DID, 10 % to a hashed e-mail; one status event per 20 credentials), then runs the wallet's
own intake (``WalletIntake`` under a ``ConsumerRunner``, exactly as ``services.wallet.app`` wires it) into an
empty Redis prefix and times it until every record is applied.

Figures: ``wallet_replay_events_per_s`` (records applied per second, from the first applied record to the
last, so the consumer-group join is left out), ``wallet_replay_seconds`` (from the runner's start, join
included) and ``wallet_replay_events``.

``python -m bench.wallet_replay [--count N]`` starts its own Kafka and Redis and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import InMemoryEventPublisher, KafkaEventPublisher
from microcred.kafka.topics import ensure_topics
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.holdings import Holdings, PathwayCompletions
from services.wallet.adapters.store import CredentialStore
from services.wallet.events.intake import WALLET_TOPICS, build_intake

__all__ = ["measure", "measure_replay"]


def _templates() -> list[events_pb2.CredentialIssued]:
    """Nine credentials to DIDs and one to a hashed e-mail (each with its own salt), signed once."""
    from tests.harness.wallet.credentials import TestIssuer  # the wallet tests' real renderer and signer

    issuer = TestIssuer.new("bench-issuer")
    issued = [issuer.issue(learner_did=f"did:example:bench-{n}", achievement_id=f"urn:bench:ach:{n}")
              for n in range(9)]
    issued.append(issuer.issue(email="bench.learner@example.org", achievement_id="urn:bench:ach:mail"))
    return [i.event for i in issued]


def _events(count: int) -> list[tuple[str, str, Any]]:
    """(topic name, key, envelope) for ``count`` records: credentials plus a status event every 20."""
    templates = _templates()
    out: list[tuple[str, str, Any]] = []
    n = 0
    while len(out) < count:
        template = templates[n % len(templates)]
        cid = f"urn:uuid:{uuid.uuid4()}"
        event = events_pb2.CredentialIssued()
        event.CopyFrom(template)
        event.credential_id = cid
        event.credential_json = template.credential_json.replace(template.credential_id, cid)
        out.append(("microcred.credentials.v1", cid, new_envelope(event, subject=cid)))
        n += 1
        if n % 20 == 0 and len(out) < count:
            status = events_pb2.CredentialSuspended(credential_id=cid, issuer_id="bench-issuer", reason="bench")
            out.append(("microcred.status.v1", cid, new_envelope(status, subject=cid)))
    return out


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """``bench.run`` entry point: 10,000 records (2,000 with ``--quick``)."""
    return await measure_replay(infra.kafka_bootstrap, infra.redis_url, 2_000 if quick else 10_000)


async def measure_replay(kafka_bootstrap: str, redis_url: str, count: int = 10_000) -> dict[str, float]:
    """Publish ``count`` records on fresh topics, then time the wallet intake replaying them into empty Redis."""
    run = uuid.uuid4().hex[:8]
    topic_prefix, prefix = f"bench{run}.", f"bench-wallet-{run}"
    await ensure_topics(kafka_bootstrap, topics=WALLET_TOPICS, prefix=topic_prefix)
    publisher = KafkaEventPublisher(kafka_bootstrap, client_id="bench-wallet-replay")
    await publisher.start()
    try:
        by_topic: dict[str, list[tuple[str, Any]]] = {}
        for topic, key, envelope in _events(count):
            by_topic.setdefault(topic_prefix + topic, []).append((key, envelope))
        for topic, items in by_topic.items():
            for start in range(0, len(items), 1000):
                await publisher.publish_many(topic, items[start:start + 1000])
    finally:
        await publisher.stop()

    redis = Redis.from_url(redis_url)
    try:
        # As services.wallet.app wires it, completion policy included (its publisher stays unused: no accounts).
        store = CredentialStore(redis, prefix, b"k" * 32)
        accounts = Accounts(redis, prefix, store)
        completions = PathwayCompletions(redis, prefix, Holdings(store, accounts), InMemoryEventPublisher(), "-")
        _, runner = build_intake(redis, prefix, store.index_key, kafka_bootstrap, f"bench-{run}",
                                 [topic_prefix + t.name for t in WALLET_TOPICS], completions=completions,
                                 store=store, accounts=accounts)
        started = time.perf_counter()
        await runner.start()
        task = asyncio.create_task(runner.run())
        first: float | None = None
        try:
            while runner.processed < count:
                if first is None and runner.processed:
                    first = time.perf_counter()
                if time.perf_counter() - started > 1800:
                    raise TimeoutError(f"replayed only {runner.processed} of {count} records")
                await asyncio.sleep(0.01)
            finished = time.perf_counter()
        finally:
            await runner.stop()
            await task
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*", count=5000)]
        keys += [k async for k in redis.scan_iter(match=f"offsets:{prefix}:*")]
        for start in range(0, len(keys), 1000):
            await redis.delete(*keys[start:start + 1000])
    finally:
        await redis.aclose()
    steady = finished - (first or started)
    return {"wallet_replay_events": float(count), "wallet_replay_seconds": round(finished - started, 2),
            "wallet_replay_events_per_s": round((count - 1) / steady if steady > 0 else float(count), 1)}


async def _standalone(count: int) -> dict[str, float]:
    from microcred.infra.kafka_local import LocalKafka
    from microcred.infra.redis_local import LocalRedis

    with tempfile.TemporaryDirectory(prefix="bench-wallet-") as tmp:
        redis, kafka = LocalRedis(Path(tmp) / "redis"), LocalKafka(Path(tmp) / "kafka")
        redis.start()
        try:
            await kafka.start()
            return await measure_replay(kafka.bootstrap, redis.url, count)
        finally:
            kafka.stop()
            redis.stop()


def main() -> None:
    """Start Kafka and Redis, measure, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_standalone(args.count))))


if __name__ == "__main__":
    main()
