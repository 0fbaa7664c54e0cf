"""Wallet share links (services/wallet/adapters/share_links.py) on the real Redis, a single node and a 3-master
Redis Cluster (``redis_clients``): the projection's writes, resolving (counted once per working access, from two
replicas at once), withdrawn/expired/unknown/deleted outcomes, the owner's reads; the hash-tagged key layout; and,
on a single node, links projected before the hash tags still resolve and go with their account."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from microcred.lifecycle import RedisClient
from services.wallet.adapters.share_links import ShareLinks
from services.wallet.domain.errors import NotFound
from services.wallet.domain.share_link import Resolution, Share, share_id_of
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration

RETENTION = 3600


def _link(aid: str, now: datetime, *, expires_in: float = 3600, withdrawn: bool = False,
          created_offset: float = 0.0) -> tuple[str, Share]:
    token = secrets.token_urlsafe(32)
    return token, Share(share_id_of(token), aid, ("urn:uuid:c1", "urn:uuid:c2"),
                        now + timedelta(seconds=created_offset), now + timedelta(seconds=expires_in), withdrawn, 0)


async def _project(redis: RedisClient, links: ShareLinks, *shares: Share) -> None:
    # the wallet projection queues write() in its pipeline; a transaction on one node, per-slot commands on a cluster
    async with redis.pipeline(transaction=isinstance(redis, Redis)) as pipe:
        for share in shares:
            links.write(pipe, share)
        await pipe.execute()


async def test_share_links_resolve_count_and_read_on_both_topologies(redis_clients: RedisClients,
                                                                    unique: str) -> None:
    prefix = f"sl-{unique}"
    redis, other = await redis_clients.new(), await redis_clients.new()  # two replicas' clients
    links, replica = ShareLinks(redis, prefix, RETENTION), ShareLinks(other, prefix, RETENTION)
    now = datetime.now(UTC)
    ok_token, ok = _link("acct-a", now)
    gone_token, withdrawn = _link("acct-a", now, withdrawn=True, created_offset=1)
    late_token, expired = _link("acct-a", now, expires_in=-10, created_offset=2)
    theirs_token, theirs = _link("acct-b", now)
    await _project(redis, links, ok, withdrawn, expired, theirs)

    outcomes = await asyncio.gather(*(lk.resolve(ok_token, now) for lk in [links, replica] * 10))
    assert [resolution for resolution, _ in outcomes] == [Resolution.OK] * 20
    assert (await links.get("acct-a", ok.share_id)).access_count == 20  # every access counted once

    assert (await links.resolve(gone_token, now))[0] is Resolution.WITHDRAWN
    assert (await links.resolve(late_token, now))[0] is Resolution.EXPIRED
    assert await links.resolve(secrets.token_urlsafe(32), now) == (Resolution.UNKNOWN, None)
    assert (await links.get("acct-a", withdrawn.share_id)).access_count == 0  # refused accesses are not counted

    listed = await replica.for_account("acct-a")
    assert [s.share_id for s in listed] == [expired.share_id, withdrawn.share_id, ok.share_id]  # newest first
    assert [s.access_count for s in listed] == [0, 0, 20] and listed[1].withdrawn
    with pytest.raises(NotFound):
        await links.get("acct-a", theirs.share_id)  # someone else's

    # the projection's withdrawal (same write, withdrawn) stops the link at once on every replica
    await _project(redis, links, replace(ok, withdrawn=True))
    assert (await replica.resolve(ok_token, now))[0] is Resolution.WITHDRAWN

    # deleted with its account: the tombstone's pipeline drops the hash and marks it
    async with redis.pipeline(transaction=False) as pipe:
        pipe.delete(links.key(theirs.share_id))
        links.mark_deleted(pipe, theirs.share_id)
        await pipe.execute()
    assert await replica.resolve(theirs_token, now) == (Resolution.DELETED, None)

    # key layout: a link's hash and counter share one hash tag (one slot), the id is the tag
    assert links.key(ok.share_id) == f"{prefix}:share:{{{ok.share_id}}}"
    assert await redis.exists(f"{prefix}:share-hits:{{{ok.share_id}}}") == 1
    assert await redis.ttl(links.key(ok.share_id)) > 3600  # expires_at + retention


async def test_links_projected_before_the_hash_tags_still_resolve_on_a_single_node(infrastructure: Any,
                                                                                  unique: str) -> None:
    redis = Redis.from_url(infrastructure.redis_url)  # a cluster never held the pre-hash-tag layout
    try:
        await _legacy_links_still_work(redis, f"sl-{unique}")
    finally:
        await redis.aclose()


async def _legacy_links_still_work(redis: Redis, prefix: str) -> None:
    links = ShareLinks(redis, prefix, RETENTION)
    now = datetime.now(UTC)
    token, old = _link("acct-a", now)
    old_key, old_hits = f"{prefix}:share:{old.share_id}", f"{prefix}:share-hits:{old.share_id}"
    await redis.hset(old_key, mapping={"account": "acct-a", "credential_ids": json.dumps(list(old.credential_ids)),
                                       "created_at": repr(old.created_at.timestamp()),
                                       "expires_at": repr(old.expires_at.timestamp()), "withdrawn": "0"})
    await redis.expire(old_key, 7200)
    await redis.set(old_hits, b"4")
    await redis.zadd(f"{prefix}:acct:acct-a:shares", {old.share_id: old.created_at.timestamp()})

    resolution, share = await links.resolve(token, now)
    assert resolution is Resolution.OK and share is not None and share.access_count == 5
    assert (await links.get("acct-a", old.share_id)).access_count == 5
    assert [s.share_id for s in await links.for_account("acct-a")] == [old.share_id]

    # a withdrawal projected now writes the tagged key, which wins over the old one
    await _project(redis, links, replace(old, withdrawn=True))
    assert (await links.resolve(token, now))[0] is Resolution.WITHDRAWN

    # deleted with its account: the old keys go too, so the link cannot resolve from them
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(links.key(old.share_id))
        links.mark_deleted(pipe, old.share_id)
        await pipe.execute()
    assert await redis.exists(old_key, old_hits) == 0
    assert await links.resolve(token, now) == (Resolution.DELETED, None)
