"""The offer projection's writes (services/issuer/adapters/offer_replay.py) on a single node and a 3-master Redis
Cluster: an offer restored into an empty store is the offer ``add_offers`` wrote (read, redeemed, listed, filed for
its learner, claimed when it expires); an offer whose code Redis still knows is never overwritten; an end event
closes only an offer the replay restored; a fetch applied again changes nothing; every key in the offers' slot."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from typing import Any

import pytest
from redis.crc import key_slot

from microcred.kafka.consumer import Position
from microcred.storage.positions import ProjectionEpoch
from services.issuer.adapters.offer_replay import RedisOfferReplay
from services.issuer.adapters.offers import RedisOfferStore
from services.issuer.application.offer_records import Offer
from services.issuer.application.offer_replay import Close, Restore
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration

ISSUER = "did:web:issuer.example:{odd}"
TOPIC = "microcred.credentials.v1"


def d(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def offer(offer_id: str) -> Offer:
    return Offer(offer_id, "offered", ISSUER, "agency-1", '{"credential_issuer": "https://i.example"}',
                 b"sealed-award", 0.0, f"ref-{offer_id}", "https://i.example")


def restore(offer_id: str, now: float, *, tx: str = "", state: str = "", learner: str = "") -> Restore:
    return Restore(offer(offer_id), d(offer_id), d(f"code-{offer_id}"), tx, state, now - 5, now + 600, 600, learner)


def at(offset: int, partition: int = 0) -> Position:
    return Position(TOPIC, partition, offset)


async def test_a_replay_restores_open_offers_and_their_ends_on_both_topologies(redis_clients: RedisClients,
                                                                             unique: str) -> None:
    prefix = f"iss-{unique}"
    replay = RedisOfferReplay(await redis_clients.new(), prefix)
    store = RedisOfferStore(await redis_clients.new(), prefix)  # the issuer's use cases, another client
    now = time.time()
    # a live offer (the issuer wrote it before publishing) that a wallet already redeemed
    await store.add_offers([(offer("o-live"), d("code-o-live"), "", "")], 600, now + 600)
    assert (await store.redeem(d("code-o-live"), "", 5, d("tok"), 300))[0] == "ok"
    assert await replay.offer_ids([d("o-live"), d("o-open")]) == {d("o-live"): "o-live"}  # not even opened

    await replay.replay([at(0), at(1), at(2), at(3), at(4), at(0, 1)], [
        restore("o-live", now), restore("o-open", now, tx=d("1234")), restore("o-auth", now, state=d("st"),
                                                                              learner="lh-ana"),
        restore("o-wd", now), None, restore("o-red", now)], {d("o-live"): "o-live"})
    assert await store.offer_state("o-live") == "redeemed"  # known code: never overwritten
    assert await store.offer("o-open") == replace(offer("o-open"), reference="", credential_issuer="")
    assert await store.state_offer(d("st")) == "o-auth" and await store.offers_to("lh-ana") == ["o-auth"]

    # the end events: only offers Redis has are touched; a redeemed one drops its award
    ends = [d("o-wd"), d("o-red"), d("o-live"), d("o-never")]
    known = await replay.offer_ids(ends)
    assert known == {d("o-wd"): "o-wd", d("o-red"): "o-red", d("o-live"): "o-live"}
    await replay.replay([at(5), at(1, 1), at(6), at(0, 2)], [Close(d("o-wd"), ISSUER, "withdrawn"),
                                                          Close(d("o-red"), ISSUER, "redeemed"),
                                                          Close(d("o-live"), ISSUER, "withdrawn"),
                                                          Close(d("o-never"), ISSUER, "withdrawn")], known)
    assert await store.offer_state("o-wd") == "withdrawn" and await store.offer_state("o-live") == "redeemed"
    assert await store.offer_state("o-never") == ""  # an end of an offer Redis lacks writes nothing
    assert await store.offer("o-red") == replace(offer("o-red"), state="redeemed", award=b"", reference="",
                                                 credential_issuer="")
    assert await replay.offer_ids([d("o-open"), d("o-red")]) == {d("o-open"): "o-open", d("o-red"): "o-red"}
    # a restore and its end in one fetch
    await replay.replay([at(7), at(8)], [restore("o-lock", now, tx=d("9")), Close(d("o-lock"), ISSUER, "locked")],
                        {})
    assert await store.offer_state("o-lock") == "locked"

    # restored offers behave as made: redeemed once, with their tx_code; ended ones refuse
    assert (await store.redeem(d("code-o-open"), "", 5, d("t1"), 300))[0] == "tx_missing"
    assert (await store.redeem(d("code-o-open"), d("1234"), 5, d("t1"), 300)) == ("ok", "o-open")
    assert (await store.redeem(d("code-o-wd"), "", 5, d("t2"), 300))[0] == "withdrawn"
    assert (await store.redeem(d("code-o-red"), "", 5, d("t3"), 300))[0] == "redeemed"

    # a fetch met again (a restart before the commit) changes nothing: o-open stays redeemed
    await replay.replay([at(1)], [restore("o-open", now)], {})
    assert await store.offer_state("o-open") == "redeemed"
    assert await replay.position(TOPIC, 0) == 9 and await replay.position(TOPIC, 1) == 2

    # listed with their states and references; the open one (o-auth) expires through the sweep
    listed = {e.offer_id: (e.state, e.reference)
              for e in await store.offer_window(ISSUER, float("inf"), 0, 10, float("-inf"))}
    assert listed == {"o-live": ("redeemed", "ref-o-live"), "o-open": ("redeemed", "ref-o-open"),
                      "o-auth": ("offered", "ref-o-auth"), "o-wd": ("withdrawn", "ref-o-wd"),
                      "o-red": ("redeemed", "ref-o-red"), "o-lock": ("locked", "ref-o-lock")}
    assert [c[0] for c in await store.claim_expired(now + 601, now + 700, 100)] == ["o-auth"]
    assert 600 < await store._redis.ttl(f"{store._p}:o4i:code:{d('code-o-auth')}") <= 600 + 86400

    keys = [k async for k in store._redis.scan_iter(match=f"*{prefix}*")]
    if redis_clients.topology == "cluster":
        assert {key_slot(k) for k in keys} == {key_slot(f"{{{prefix}}}".encode())}


async def test_a_replay_is_done_for_every_replica_once_the_positions_reach_its_targets(
        redis_clients: RedisClients, unique: str) -> None:
    """The targets one replica notes are every replica's: behind until the shared positions reach them (the first
    target of a partition stays), then dropped; partitions already there or empty get none."""
    prefix = f"iss-{unique}"
    one = RedisOfferReplay(await redis_clients.new(), prefix)
    two = RedisOfferReplay(await redis_clients.new(), prefix)
    assert await one.behind(TOPIC) == 0 and await one.epoch() is None
    await one.replay([at(4)], [None], {})  # partition 0 applied up to 5
    await one.note_targets(TOPIC, {0: 5, 1: 3, 2: 0})
    await two.note_targets(TOPIC, {1: 9, 3: 1})  # noticed a moment later: partition 1 keeps its first target
    assert await one.behind(TOPIC) == 2 and await two.behind(TOPIC) == 2  # partitions 1 and 3
    await two.replay([at(2, 1), at(0, 3)], [None, None], {})
    assert await one.behind(TOPIC) == 0
    assert not [k async for k in one._redis.scan_iter(match=f"*{prefix}*targets*")]  # dropped once reached
    await one.note_targets(TOPIC, {0: 5, 1: 3})  # nothing behind: no target
    assert await two.behind(TOPIC) == 0


async def adopted_at_seven(redis_clients: RedisClients, unique: str) -> tuple[Any, RedisOfferReplay, bytes | str]:
    """A client, the projection's store with its sentinel adopted (the token), partition 0 at position 7."""
    client = await redis_clients.new()
    replay = RedisOfferReplay(client, f"iss-{unique}")
    guard = ProjectionEpoch(client, replay.namespace)  # type: ignore[arg-type]
    await guard.open()
    assert guard.token is not None
    await replay.replay([at(6)], [None], {})
    return client, replay, guard.token


async def test_positions_move_to_the_end_only_under_the_adopted_sentinel_and_never_during_a_replay(
        redis_clients: RedisClients, unique: str) -> None:
    client, replay, token = await adopted_at_seven(redis_clients, unique)
    assert await replay.advance(TOPIC, {0: 5, 1: 4}, token)  # never back; an unknown one set
    assert await replay.position(TOPIC, 0) == 7 and await replay.position(TOPIC, 1) == 4
    assert not await replay.advance(TOPIC, {1: 9}, "another replica's token")  # Redis lost since, or not ours
    await replay.note_targets(TOPIC, {1: 8})  # a replay is under way: its records must be read, not jumped
    assert not await replay.advance(TOPIC, {1: 9}, token) and await replay.position(TOPIC, 1) == 4
    await client.delete(f"epoch:{replay.namespace}")  # wiped
    assert not await replay.advance(TOPIC, {1: 9}, token)


async def test_a_replay_starts_no_earlier_than_its_floors_under_the_adopted_sentinel(redis_clients: RedisClients,
                                                                                    unique: str) -> None:
    client, replay, token = await adopted_at_seven(redis_clients, unique)
    await replay.note_targets(TOPIC, {0: 9, 1: 8})  # a replay is under way: that is when floors are set
    assert await replay.skip_to(TOPIC, {0: 3, 1: 5}, token)  # never back; a missing one set
    assert await replay.position(TOPIC, 0) == 7 and await replay.position(TOPIC, 1) == 5
    assert await replay.behind(TOPIC) == 2
    assert not await replay.skip_to(TOPIC, {1: 8}, "another replica's token")
    assert await replay.position(TOPIC, 1) == 5
    assert await replay.skip_to(TOPIC, {0: 9, 1: 8}, token)  # nothing young enough: the targets reached
    assert await replay.behind(TOPIC) == 0
    await client.delete(f"epoch:{replay.namespace}")  # wiped
    assert not await replay.skip_to(TOPIC, {1: 20}, token) and await replay.position(TOPIC, 1) == 8
