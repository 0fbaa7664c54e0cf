"""Fresh rebuilds of the platform's read models, and snapshots to compare them with the live ones.

A rebuild runs the service's own projection code in the test process under a new Redis prefix and consumer
group, so it replays every topic from the beginning into empty state. :func:`converge` then compares the live
read model with it, key by key (digests computed inside Redis, so nothing large crosses the wire), until they
agree or time runs out.

On a Redis Cluster a read model's keys sit under a hash-tagged prefix (``{wallet}``) and, for the wallet's
records, under its slot groups' prefixes too (:class:`Layout`); keys are compared by their name after the
prefix, so the live layout and the rebuild's compare although their tags differ.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from microcred.crypto.keystore import load_kek
from microcred.kafka.consumer import ConsumerRunner
from microcred.kafka.topics import CREDENTIALS, STATUS
from microcred.lifecycle import one_slot
from microcred.privacy.setup import start_privacy
from microcred.registry.projector import start_registry_projection
from services.revocation.adapters.store import RevocationStore
from services.revocation.events.projector import RevocationProjector
from services.wallet.adapters.sealing import Sealer
from services.wallet.adapters.store import CredentialStore
from services.wallet.events.intake import WALLET_TOPICS, build_intake
from tests.fault.support import SCALE, FaultPlatform

#: Key families each projection writes from Kafka (everything else under the prefix is not rebuildable). The
#: wallet's own state (accounts, holder keys, bindings, imports, share links, announced completions) is on
#: Kafka too; only the share-link access counters (``share-hits:``) are not.
WALLET_FAMILIES = ("cred:", "status:", "by:", "salts", "pathway:", "pathways", "acct:", "holder-key:", "did-owner:",
                   "email-owners:", "hash-owners:", "emails", "share:", "completed")
REVOCATION_FAMILIES = ("cred:", "list:", "lists", "issuer-lists:", "bits:", "pub:")
REGISTRY_FAMILIES = ("",)

_DIGEST = """
local out = {}
for i, key in ipairs(KEYS) do
  local t = redis.call('TYPE', key)['ok']
  local d = ''
  if t == 'string' then
    d = redis.sha1hex(redis.call('GET', key))
  elseif t == 'hash' then
    local flat = redis.call('HGETALL', key)
    local items = {}
    for j = 1, #flat, 2 do items[#items + 1] = flat[j] .. '=' .. redis.sha1hex(flat[j + 1]) end
    table.sort(items)
    d = redis.sha1hex(table.concat(items, ','))
  elseif t == 'set' then
    local members = redis.call('SMEMBERS', key)
    table.sort(members)
    d = redis.sha1hex(table.concat(members, '\\n'))
  elseif t == 'zset' then
    d = redis.sha1hex(table.concat(redis.call('ZRANGE', key, 0, -1, 'WITHSCORES'), '\\n'))
  end
  out[i] = t .. ':' .. d
end
return out
"""


@dataclass(frozen=True)
class Layout:
    """Where one read model's keys are: its prefixes, the core's first (then its slot groups' on a cluster)."""

    prefixes: tuple[str, ...]

    @property
    def core(self) -> str:
        return self.prefixes[0]


def layout(redis: Redis, name: str, grouped: bool = False) -> Layout:
    """The layout the services give read model ``name`` on this Redis (``grouped``: records in slot groups)."""
    if not grouped:
        return Layout((one_slot(redis, name),))
    store = CredentialStore.laid_out(redis, name, b"")
    groups = store.documents
    return Layout((store.prefix, *(groups.key_prefix(g) for g in groups.groups)) if groups else (store.prefix,))


async def keys_under(redis: Redis, prefix: str) -> list[str]:
    """Every key ``{prefix}:*``."""
    found = [k.decode() if isinstance(k, bytes) else str(k)
             async for k in redis.scan_iter(match=f"{prefix}:*", count=2000)]
    return sorted(found)


async def snapshot(redis: Redis, where: Layout, families: Sequence[str]) -> dict[str, str]:
    """Key (without its prefix) -> type and content digest, for the keys in ``families``."""
    out: dict[str, str] = {}
    for prefix in where.prefixes:  # one script per prefix: on a cluster each prefix is one slot
        keys = [k for k in await keys_under(redis, prefix) if k[len(prefix) + 1:].startswith(tuple(families))]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            digests = await redis.eval(_DIGEST, len(chunk), *chunk)
            for key, digest in zip(chunk, digests, strict=True):
                out[key[len(prefix) + 1:]] = digest.decode() if isinstance(digest, bytes) else str(digest)
    return out


async def _raw(redis: Redis, key: str) -> bytes:
    value = await redis.get(key)
    return value.encode() if isinstance(value, str) else (value or b"")


async def alloc_contained(redis: Redis, live: str, rebuilt: str) -> list[str]:
    """Lists whose indexes handed out by the rebuild are not all marked handed out live (must be none).

    Live may hold more: the command side claims indexes before their event, and a claim whose event never
    made it (crash, failed publish) stays claimed, which is safe."""
    problems = []
    for key in await keys_under(redis, rebuilt):
        suffix = key[len(rebuilt) + 1:]
        if not suffix.startswith("alloc:"):
            continue
        rebuilt_bits, live_bits = await _raw(redis, key), await _raw(redis, f"{live}:{suffix}")
        width = max(len(rebuilt_bits), len(live_bits))
        theirs = int.from_bytes(rebuilt_bits.ljust(width, b"\0"), "big")
        ours = int.from_bytes(live_bits.ljust(width, b"\0"), "big")
        if theirs & ~ours:
            problems.append(suffix)
    return problems


@dataclass
class Diff:
    """How a live read model differs from a fresh rebuild."""

    missing_live: list[str] = field(default_factory=list)
    extra_live: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    alloc_not_contained: list[str] = field(default_factory=list)
    not_rebuilt_yet: list[str] = field(default_factory=list)  # keys the test knows must be there, not there yet

    def __bool__(self) -> bool:
        return bool(self.missing_live or self.extra_live or self.differing or self.alloc_not_contained
                    or self.not_rebuilt_yet)

    def summary(self) -> dict[str, object]:
        return {name: {"count": len(v), "first": v[:5]} for name, v in self.__dict__.items() if v}


async def compare(redis: Redis, live: Layout, rebuilt: Layout, families: Sequence[str], alloc: bool = False,
                  must_have: Collection[str] = ()) -> Diff:
    """Compare ``live`` with ``rebuilt`` over ``families`` (and, for revocation, the handed-out indexes).

    ``must_have`` are keys (without prefix) the rebuild must hold before an agreement counts: two read models
    that are both still empty (or both half replayed) agree too, and prove nothing."""
    ours, theirs = await snapshot(redis, live, families), await snapshot(redis, rebuilt, families)
    diff = Diff(sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs)),
                sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k]),
                not_rebuilt_yet=sorted(set(must_have) - set(theirs)))
    if alloc:
        diff.alloc_not_contained = await alloc_contained(redis, live.core, rebuilt.core)
    return diff


async def converge(redis: Redis, live: Layout, rebuilt: Layout, families: Sequence[str], alloc: bool = False,
                   timeout: float = 180.0, must_have: Collection[str] = ()) -> tuple[Diff, float, int]:
    """Compare until live and rebuilt agree (the rebuild holding ``must_have``) or ``timeout`` passes:
    (last diff, seconds taken, keys compared)."""
    started = time.monotonic()
    timeout *= SCALE
    while True:
        diff = await compare(redis, live, rebuilt, families, alloc, must_have)
        if not diff or time.monotonic() - started > timeout:
            keys = len(await snapshot(redis, rebuilt, families))
            return diff, time.monotonic() - started, keys
        await asyncio.sleep(2.0)


async def _drop(redis: Redis, name: str) -> None:
    """Every key whose name holds ``name`` (unique to one rebuild): its state, positions and sentinels."""
    keys = [k async for k in redis.scan_iter(match=f"*{name}*", count=2000)]
    for start in range(0, len(keys), 1000):
        async with redis.pipeline(transaction=False) as pipe:  # a key per command: any slot on a cluster
            for key in keys[start:start + 1000]:
                pipe.delete(key)
            await pipe.execute()


@contextlib.asynccontextmanager
async def _run(runner: ConsumerRunner) -> AsyncIterator[None]:
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        yield
    finally:
        await runner.stop()
        with contextlib.suppress(Exception):
            await task


@contextlib.asynccontextmanager
async def rebuilt_wallet(fault: FaultPlatform) -> AsyncIterator[Layout]:
    """The wallet intake replaying into a fresh prefix (same e-mail index key and KEK as the live wallet)."""
    name = f"wallet-rebuild-{uuid.uuid4().hex[:6]}"
    data = fault.platform.data_dir / "wallet"
    index_key = base64.b64decode((data / "email-index.key").read_bytes().strip())
    # The platform's privacy KEK too (MICROCRED_PRIVACY_KEK, or the one generated in its run directory): the
    # credentials on Kafka are sealed under the learners' data keys (docs/privacy.md).
    keys, privacy = await start_privacy(fault.bootstrap, fault.redis, data, "test")
    store = CredentialStore.laid_out(fault.redis, name, index_key)  # as the wallet lays it out
    _, runner = build_intake(fault.redis, store.prefix, index_key, fault.bootstrap, name,
                             [t.name for t in WALLET_TOPICS], sealer=Sealer(load_kek({}, data / "kek")),
                             privacy=privacy, store=store)
    try:
        async with _run(runner):
            yield layout(fault.redis, name, grouped=True)
    finally:
        await keys.stop()
        await _drop(fault.redis, name)


@contextlib.asynccontextmanager
async def rebuilt_revocation(fault: FaultPlatform) -> AsyncIterator[Layout]:
    """The revocation projector replaying into a fresh prefix."""
    name = f"rev-rebuild-{uuid.uuid4().hex[:6]}"
    where = layout(fault.redis, name)
    projector = RevocationProjector(RevocationStore(fault.redis, where.core))
    runner = ConsumerRunner(fault.bootstrap, name, [CREDENTIALS.name, STATUS.name], projector.handle,
                            projector.lookup)
    try:
        async with _run(runner):
            yield where
    finally:
        await _drop(fault.redis, name)


@contextlib.asynccontextmanager
async def rebuilt_registry(fault: FaultPlatform) -> AsyncIterator[Layout]:
    """The registry projection replaying into a fresh namespace."""
    name = f"registry-rebuild-{uuid.uuid4().hex[:6]}"
    where = layout(fault.redis, name)
    projection = await start_registry_projection(fault.bootstrap, fault.redis, name, namespace=where.core)
    try:
        yield where
    finally:
        await projection.stop()
        await _drop(fault.redis, name)
