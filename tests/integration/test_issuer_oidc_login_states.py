"""Learner sign-in attempts in the real Redis: expiring, and each ``state`` taken once across replicas (issue 20)."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from services.issuer.adapters.oidc_login import LoginStates, new_login

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]


async def test_a_state_is_taken_once_even_by_concurrent_replicas(redis: Redis, unique: str) -> None:
    attempt = new_login("{}", "offer-1", "https://issuer.example")
    replicas = [LoginStates(redis, unique), LoginStates(redis, unique), LoginStates(redis, unique)]
    await replicas[0].put(attempt)
    taken = await asyncio.gather(*(r.take(attempt.state) for r in replicas for _ in range(4)))
    winners = [t for t in taken if t is not None]
    assert winners == [attempt]
    assert await replicas[1].take(attempt.state) is None  # replay


async def test_the_store_keeps_no_raw_state_and_expires(redis: Redis, unique: str) -> None:
    attempt = new_login("{}", "offer-2", "https://issuer.example")
    states = LoginStates(redis, unique, ttl_seconds=60)
    await states.put(attempt)
    keys = [k.decode() async for k in redis.scan_iter(match=f"{unique}:*")]
    assert len(keys) == 1 and attempt.state not in keys[0]
    assert 0 < await redis.ttl(keys[0]) <= 60
    await redis.delete(keys[0])  # what expiry does
    assert await states.take(attempt.state) is None


async def test_unknown_empty_and_oversized_states_are_none(redis: Redis, unique: str) -> None:
    states = LoginStates(redis, unique)
    assert await states.take("") is None
    assert await states.take("x" * 10_000) is None
    assert await states.take(new_login("{}", "o", "https://issuer.example").state) is None
