"""Bytes per stored credential: in Redis per read model, and in Kafka per topic (issue 24).

``measure`` starts the issuer service in this process and the real revocation service as its own process
(:func:`tests.harness.issuer.start_issuer_harness`, as ``bench.issuance`` does), onboards one accredited issuer,
then issues a cohort of distinct credentials (learner ``n`` of this run: a new name, e-mail and so a new learner
pseudonym and data key each) through ``IssuerService.IssueCredentials``. The client streams from this process,
not from ``bench.issuance``'s client process: that one names learners ``0..n`` in every run, so in a full
``make bench`` the learners (and their data keys) would already exist and the privacy read model would not grow.

Before and after the cohort, once every projection of the harness has caught up with the end of its topics:

* **Redis**: every key is ``SCAN``-ned and sized with ``MEMORY USAGE <key> SAMPLES 0`` (exact for hashes, sets
  and sorted sets), summed per read model (:func:`read_model_of`, from the key layout of docs/redis-keys.md)
  over this harness's namespaces only (its projections', found from their stored positions, and the shared
  learner-key cache: :func:`charge`, so keys of earlier benchmarks expiring meanwhile do not count); the
  growth divided by the cohort is ``storage_redis_bytes_per_credential_<read model>``. The growth of
  ``INFO memory`` ``used_memory`` per credential is the cross-check
  (``storage_redis_used_memory_bytes_per_credential``: it also holds allocator slack, Redis' own buffers and
  other keys' changes). A read model's figure includes its per-list or per-agency keys charged to the cohort:
  the revocation service's allocation bitmaps (``P:alloc:<list>``, up to 128 KiB per 2^20-entry list, grown
  to the highest index handed out) make ``..._revocation`` smaller the larger the cohort (docs/capacity.md
  separates the per-credential record from them).
* **Kafka**: the growth of the topic's ``*.log`` segment files in the bench broker's data directory (replication
  factor 1, no producer compression: what the producers send, plus Kafka's record batch framing), per
  credential: ``storage_kafka_bytes_per_credential_<topic>`` (``credentials``, ``status``, ``learnerkeys``, ...).
* The wallet's read model, which the issuance path does not feed here (its projection needs its own service and
  OIDC provider): ``bench.wallet_replay``'s way, real signed credentials published on private topics and its
  intake run over them into an empty prefix, sized the same way
  (``storage_redis_bytes_per_credential_wallet``).

``storage_credentials`` is the cohort size.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from microcred import pki
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.grpc_server import TlsFiles
from microcred.kafka.topics import ALL_TOPICS

__all__ = ["bytes_per_credential", "charge", "kafka_topic_of", "measure", "owner_of", "read_model_of"]

AGENCY = "bench-agency"
_TOPICS = {t.name for t in ALL_TOPICS}
_SEGMENT_DIR = re.compile(r"^(?P<topic>.+)-(?P<partition>\d+)$")

# Key families of each read model (docs/redis-keys.md), by the key's first segment: the prefix each service is
# configured with (the harness makes them unique: iss-<tag>, rev-<tag>, reg-<tag>, audit-<tag>, ...).
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(.*-registry|reg-.*|issuer-registry)$"), "registry"),
    (re.compile(r"^(iss-.*|issuer)$"), "issuer"),
    (re.compile(r"^(rev-.*|rev)$"), "revocation"),
    (re.compile(r"^(audit-.*|audit)$"), "audit"),
    (re.compile(r"^privacy$"), "privacy"),
    (re.compile(r"^(wallet|w[0-9a-f]+|bench-wallet-.*|storage-wallet-.*)$"), "wallet"),
)


def owner_of(key: bytes | str) -> str:
    """The namespace a Redis key belongs to: its first segment, or for a position (``offsets:P:topic``) or
    an epoch (``epoch:P``) the projection ``P`` (a hash-tagged ``{P}`` is named without its braces)."""
    text = key.decode(errors="replace") if isinstance(key, bytes) else key
    head, _, rest = text.partition(":")
    if head in ("offsets", "epoch") and rest:
        head = rest.split(":", 1)[0]
    return head.strip("{}")


def read_model_of(key: bytes | str) -> str:
    """The read model a Redis key belongs to; positions and epochs count with their projection; anything else
    is ``other``."""
    head = owner_of(key)
    for pattern, model in _RULES:
        if pattern.match(head):
            return model
    return "other"


def charge(sizes: Mapping[bytes, int], owners: Iterable[str]) -> dict[str, int]:
    """Bytes per read model of the keys in ``sizes`` (key -> ``MEMORY USAGE``) whose namespace is one of
    ``owners`` or the prefix of one (a projection is named after its store's prefix: ``P-credentials``
    holds ``P:cred:...``): the running harness's own, so keys of earlier benchmarks that expire meanwhile
    (offers, nonces, rate-limit buckets) do not count against the cohort."""
    wanted = set(owners)
    totals: dict[str, int] = defaultdict(int)
    for key, size in sizes.items():
        owner = owner_of(key)
        if owner in wanted or any(name.startswith(owner + "-") for name in wanted):
            totals[read_model_of(key)] += size
    return dict(totals)


def bytes_per_credential(before: Mapping[str, int], after: Mapping[str, int], credentials: int
                         ) -> dict[str, float]:
    """Per name (read model or topic), the growth from ``before`` to ``after`` divided by ``credentials``;
    names that did not grow are left out (a read model the cohort does not touch costs it nothing)."""
    if credentials <= 0:
        raise ValueError("credentials must be positive")
    out: dict[str, float] = {}
    for name in sorted(set(before) | set(after)):
        grown = after.get(name, 0) - before.get(name, 0)
        if grown > 0:
            out[name] = round(grown / credentials, 1)
    return out


def kafka_topic_of(segment: Path) -> str | None:
    """The platform topic a ``<log dir>/<topic>-<partition>/<offset>.log`` segment file belongs to, else None
    (private topics of other benches, ``__consumer_offsets``, the broker's own logs)."""
    if segment.suffix != ".log":
        return None
    match = _SEGMENT_DIR.match(segment.parent.name)
    if match is None or match["topic"] not in _TOPICS:
        return None
    return match["topic"]


def kafka_bytes(log_root: Path) -> dict[str, int]:
    """Bytes of the segment files of each platform topic under ``log_root``."""
    totals: dict[str, int] = defaultdict(int)
    for segment in log_root.rglob("*.log"):
        topic = kafka_topic_of(segment)
        if topic is not None:
            totals[topic] += segment.stat().st_size
    return dict(totals)


async def key_sizes(redis: Redis, match: str = "*") -> dict[bytes, int]:
    """``MEMORY USAGE <key> SAMPLES 0`` of every key matching ``match`` (SCAN, pipelined by 1,000)."""
    sizes: dict[bytes, int] = {}
    batch: list[bytes] = []

    async def flush() -> None:
        async with redis.pipeline(transaction=False) as pipe:
            for key in batch:
                pipe.memory_usage(key, samples=0)
            answers = await pipe.execute()
        # None: the key expired between SCAN and MEMORY USAGE.
        sizes.update((key, int(size)) for key, size in zip(batch, answers, strict=True) if size is not None)
        batch.clear()

    async for key in redis.scan_iter(match=match, count=2000):
        batch.append(key)
        if len(batch) >= 1000:
            await flush()
    if batch:
        await flush()
    return sizes


async def used_memory(redis: Redis) -> int:
    """``INFO memory`` ``used_memory``."""
    return int((await redis.info("memory"))["used_memory"])


async def _end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster's metadata, so partitions_for_topic knows them
        parts = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        ends = await consumer.end_offsets(parts)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def _caught_up(redis: Redis, bootstrap: str, position_keys: Iterable[bytes], timeout: float = 180.0) -> None:
    """Wait until every projection position in ``position_keys`` (``offsets:P:topic`` hashes) has reached the
    end of its topic's partitions, so that what is sized is everything the cohort caused."""
    keys = [k.decode() for k in position_keys]
    topics = {k.rsplit(":", 1)[1] for k in keys}
    ends = await _end_offsets(bootstrap, topics)
    deadline = time.monotonic() + timeout
    while True:
        behind = []
        for key in keys:
            topic = key.rsplit(":", 1)[1]
            stored = {int(p): int(o) for p, o in (await redis.hgetall(key)).items()}
            if any(stored.get(p, 0) < end for (t, p), end in ends.items() if t == topic and end > 0):
                behind.append(key)
        if not behind:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"projections still behind after {timeout:g}s: {behind}")
        await asyncio.sleep(0.2)


async def _issue(target: str, tls: TlsFiles, count: int, run: str) -> int:
    """Stream ``count`` credentials of distinct learners of this run; the number issued."""
    from bench.issuance import _credential, _is_issued

    template = _credential(0)

    def payload(n: int) -> bytes:
        mc = pb.MicroCredential()
        mc.CopyFrom(template)
        mc.learner.full_name = f"Learner {run} {n}"
        mc.learner.email = f"learner-{run}-{n}@example.org"
        return issuer_pb2.IssueCredentialsRequest(idempotency_key=f"storage-{run}-{n}",
                                                  credential=mc).SerializeToString()

    async def requests() -> AsyncIterator[bytes]:
        for n in range(count):
            yield payload(n)

    issued = 0
    credentials = grpc.ssl_channel_credentials(root_certificates=tls.ca, private_key=tls.key,
                                               certificate_chain=tls.cert)
    async with grpc.aio.secure_channel(target, credentials) as channel:
        call = channel.stream_stream("/microcred.v1.IssuerService/IssueCredentials")  # bytes in, bytes out
        async for raw in call(requests()):
            issued += _is_issued(raw)
    return issued


async def _positions(redis: Redis) -> set[bytes]:
    return {k async for k in redis.scan_iter(match="offsets:*", count=2000)}


async def _platform(infra: Any, redis: Redis, count: int) -> dict[str, float]:
    """The issuer and revocation read models and the Kafka topics, for a cohort of ``count``."""
    from tests.harness.issuer import start_issuer_harness

    work = Path(infra.work_dir) / f"storage-{uuid.uuid4().hex[:6]}"
    log_root = Path(infra.work_dir) / "kafka"
    existing = await _positions(redis)
    harness = await start_issuer_harness(infra.kafka_bootstrap, infra.redis_url, work, status_block_size=5000,
                                         log_level="WARNING", revocation_process=True)
    try:
        issuer = f"storage-{uuid.uuid4().hex[:6]}"
        await harness.onboard(AGENCY, {issuer: 8})
        tls_dir = work / "client"
        pki.create_client_cert(harness.ca, issuer, AGENCY, pki.ROLE_ISSUER).write(tls_dir, issuer)
        harness.ca.write(tls_dir, "ca")
        ours = await _positions(redis) - existing
        await _caught_up(redis, infra.kafka_bootstrap, ours)
        redis_before, memory_before = await key_sizes(redis), await used_memory(redis)
        kafka_before = kafka_bytes(log_root)
        run = uuid.uuid4().hex[:8]
        issued = await _issue(harness.target, TlsFiles.from_dir(tls_dir, issuer), count, run)
        if issued != count:
            raise RuntimeError(f"only {issued} of {count} credentials were issued")
        ours = await _positions(redis) - existing  # projections that wrote their first position just now
        await _caught_up(redis, infra.kafka_bootstrap, ours)
        redis_after, memory_after = await key_sizes(redis), await used_memory(redis)
        kafka_after = kafka_bytes(log_root)
    finally:
        await harness.close()
    figures: dict[str, float] = {"storage_credentials": float(count)}
    # This harness's namespaces: its projections' (from their positions) and the shared learner-key cache.
    owners = {owner_of(k) for k in ours} | {"privacy"}
    figures.update({f"storage_redis_bytes_per_credential_{model}": value for model, value in
                    bytes_per_credential(charge(redis_before, owners), charge(redis_after, owners), count).items()})
    figures["storage_redis_used_memory_bytes_per_credential"] = round((memory_after - memory_before) / count, 1)
    figures.update({f"storage_kafka_bytes_per_credential_{topic.removeprefix('microcred.').removesuffix('.v1')}":
                    value for topic, value in bytes_per_credential(kafka_before, kafka_after, count).items()})
    return figures


async def _wallet(infra: Any, redis: Redis, count: int) -> dict[str, float]:
    """The wallet read model over ``count`` credentials (``bench.wallet_replay``'s records and wiring)."""
    from bench.wallet_replay import _events
    from microcred.kafka.publisher import InMemoryEventPublisher, KafkaEventPublisher
    from microcred.kafka.topics import ensure_topics
    from services.wallet.adapters.accounts import Accounts
    from services.wallet.adapters.holdings import Holdings, PathwayCompletions
    from services.wallet.adapters.store import CredentialStore
    from services.wallet.events.intake import WALLET_TOPICS, build_intake

    run = uuid.uuid4().hex[:8]
    topic_prefix, prefix = f"storage{run}.", f"storage-wallet-{run}"
    await ensure_topics(infra.kafka_bootstrap, topics=WALLET_TOPICS, prefix=topic_prefix)
    events = [e for e in _events(count + count // 19 + 1) if e[0].endswith("credentials.v1")][:count]
    publisher = KafkaEventPublisher(infra.kafka_bootstrap, client_id="bench-storage")
    await publisher.start()
    try:
        items = [(key, envelope) for _, key, envelope in events]
        for start in range(0, len(items), 1000):
            await publisher.publish_many(topic_prefix + "microcred.credentials.v1", items[start:start + 1000])
    finally:
        await publisher.stop()
    store = CredentialStore(redis, prefix, b"k" * 32)
    accounts = Accounts(redis, prefix, store)
    completions = PathwayCompletions(redis, prefix, Holdings(store, accounts), InMemoryEventPublisher(), "-")
    _, runner = build_intake(redis, prefix, store.index_key, infra.kafka_bootstrap, f"storage-{run}",
                             [topic_prefix + t.name for t in WALLET_TOPICS], completions=completions,
                             store=store, accounts=accounts)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        deadline = time.monotonic() + 600
        while runner.processed < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the wallet applied only {runner.processed} of {count} credentials")
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()
        await task
    try:
        sized = await key_sizes(redis, f"{prefix}:*")
        sized.update(await key_sizes(redis, f"*:{prefix}*"))  # offsets:<prefix>:..., epoch:<prefix>
        total = sum(charge(sized, {prefix}).values())
        # The credential records alone: what spreads over slot groups on a cluster (the rest takes one slot).
        records = sum(size for key, size in sized.items() if key.startswith(f"{prefix}:cred:".encode()))
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*", count=5000)]
        keys += [k async for k in redis.scan_iter(match=f"*:{prefix}*")]
        for start in range(0, len(keys), 1000):
            await redis.delete(*keys[start:start + 1000])
    return {"storage_redis_bytes_per_credential_wallet": round(total / count, 1),
            "storage_redis_bytes_per_credential_wallet_records": round(records / count, 1)}


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """``bench.run`` entry point: 3,000 distinct credentials (1,000 with ``--quick``)."""
    count = 1_000 if quick else 3_000
    redis = Redis.from_url(infra.redis_url)
    try:
        figures = await _platform(infra, redis, count)
        figures.update(await _wallet(infra, redis, count))
    finally:
        await redis.aclose()
    return figures
