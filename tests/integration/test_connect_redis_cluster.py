"""``connect_redis_client`` on both topologies: a ``redis+cluster://`` URL gives an initialised RedisCluster of the
harness's 3-master cluster (tests/harness/redis_cluster.py), a ``redis://`` URL the single node, same options."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from microcred.lifecycle import connect_redis, connect_redis_client
from microcred.storage.prompt_send import PromptConnection

pytestmark = pytest.mark.integration


async def test_a_cluster_url_gives_an_initialised_cluster_client_ready_for_concurrent_commands(
        redis_cluster: list[tuple[str, int]], unique: str) -> None:
    seeds = ",".join(f"{host}:{port}" for host, port in redis_cluster[:2])
    client = await connect_redis_client(f"redis+cluster://{seeds}", socket_timeout=7.0)
    try:
        assert isinstance(client, RedisCluster)
        assert client.connection_kwargs["socket_timeout"] == 7.0
        keys = [f"t:{unique}:{i}".encode() for i in range(64)]  # spread over every master's slots
        # concurrent first commands: a lazily initialised client races here (redis/redis-py#3032)
        await asyncio.gather(*(client.set(key, key) for key in keys))
        assert await asyncio.gather(*(client.get(key) for key in keys)) == keys  # bytes, not str
        masters = {client.get_node_from_key(key).name for key in keys}
        assert len(masters) == len(client.get_primaries()) == 3
        # every node, startup or discovered, writes without a task per command (microcred.storage.prompt_send)
        assert {node.connection_class for node in client.get_nodes()} == {PromptConnection}
        await client.delete(*keys)
    finally:
        await client.aclose()


async def test_a_plain_url_gives_the_single_node_on_both_entry_points(infrastructure: Any, unique: str) -> None:
    for connect in (connect_redis, connect_redis_client):
        client = await connect(infrastructure.redis_url, socket_timeout=7.0)
        try:
            assert isinstance(client, Redis)
            assert client.connection_pool.connection_kwargs["socket_timeout"] == 7.0
            assert client.connection_pool.connection_class is PromptConnection
            await client.set(f"t:{unique}".encode(), b"v")
            assert await client.get(f"t:{unique}".encode()) == b"v"
            await client.delete(f"t:{unique}".encode())
        finally:
            await client.aclose()


async def test_an_unreachable_cluster_fails_after_its_attempts(unique: str) -> None:
    from microcred.infra.ports import free_ports

    port = free_ports(["nobody"])["nobody"]
    with pytest.raises(RedisClusterException):
        await connect_redis_client(f"redis+cluster://127.0.0.1:{port}", attempts=2)
