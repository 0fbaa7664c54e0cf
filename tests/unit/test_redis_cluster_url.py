"""``redis+cluster://`` URLs (microcred.lifecycle.cluster_from_url): startup nodes, credentials, TLS, refusals."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection

from microcred.lifecycle import cluster_from_url, connect_redis, is_cluster_url, redis_client_from_url
from microcred.storage.prompt_send import PromptConnection, PromptSSLConnection, PromptUnixConnection


def test_cluster_scheme_is_recognised_and_the_plain_ones_are_not() -> None:
    assert is_cluster_url("redis+cluster://127.0.0.1:7000")
    assert is_cluster_url("REDISS+CLUSTER://h:1")
    assert not is_cluster_url("redis://127.0.0.1:6379/0")
    assert not is_cluster_url("unix:///tmp/redis.sock")


def test_every_listed_node_is_a_startup_node_with_the_given_options() -> None:
    client = cluster_from_url("redis+cluster://user:s%40cret@10.0.0.1:7000,10.0.0.2:7001/0",
                              socket_timeout=3.0, decode_responses=False)
    nodes = [(n.host, n.port) for n in client.nodes_manager.startup_nodes.values()]
    assert sorted(nodes) == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert client.connection_kwargs["username"] == "user"
    assert client.connection_kwargs["password"] == "s@cret"
    assert client.connection_kwargs["socket_timeout"] == 3.0
    # no TLS; written without a task per command (microcred.storage.prompt_send), startup nodes too
    assert client.nodes_manager.connection_kwargs["connection_class"] is PromptConnection
    assert {n.connection_class for n in client.nodes_manager.startup_nodes.values()} == {PromptConnection}


def test_rediss_cluster_asks_for_tls() -> None:
    client = cluster_from_url("rediss+cluster://h:7000")
    assert client.nodes_manager.connection_kwargs["connection_class"] is PromptSSLConnection
    assert issubclass(PromptSSLConnection, SSLConnection)


@pytest.mark.parametrize("url, message", [
    ("redis://h:1", "not a Redis Cluster URL"),
    ("redis+cluster://h", "host:port"),
    ("redis+cluster://h:1,:2", "host:port"),
    ("redis+cluster://h:x", "host:port"),
])
def test_malformed_cluster_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cluster_from_url(url)


def test_a_database_other_than_0_is_refused() -> None:
    with pytest.raises(Exception, match="db"):
        cluster_from_url("redis+cluster://h:7000/3")


async def test_the_single_node_connect_refuses_a_cluster_url() -> None:
    with pytest.raises(ValueError, match="single Redis node"):
        await connect_redis("redis+cluster://127.0.0.1:1", attempts=1)


@pytest.mark.parametrize("url, expected, plain", [
    ("redis://h:1/0", PromptConnection, None),
    ("rediss://h:1/0", PromptSSLConnection, SSLConnection),
    ("unix:///tmp/redis.sock", PromptUnixConnection, UnixDomainSocketConnection),
])
def test_single_node_urls_keep_their_transport_with_the_prompt_send(url: str, expected: type,
                                                                    plain: type | None) -> None:
    client = redis_client_from_url(url, socket_timeout=2.0)
    assert client.connection_pool.connection_class is expected  # type: ignore[union-attr]
    assert plain is None or issubclass(expected, plain)
