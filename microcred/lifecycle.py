"""Process lifecycle shared by the services: dependency checks at start and a signal-driven stop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any, Protocol, TypeAlias, TypeVar

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import ConnectionPool, SSLConnection, parse_url

from microcred.storage.prompt_send import prompt_connection_class


async def wait_for_shutdown_signal() -> signal.Signals:
    """Return when the process receives SIGINT or SIGTERM (the handlers are removed again)."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(sig: signal.Signals) -> None:
        if not received.done():
            received.set_result(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await received
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


#: Seconds a Redis reply may take. Generous: the largest replies are whole-fetch transactions of a replay.
REDIS_SOCKET_TIMEOUT = 30.0

#: A client of either Redis topology: what a read model that holds on a Redis Cluster accepts
#: (docs/redis-keys.md lists which do).
RedisClient: TypeAlias = Redis | RedisCluster
_C = TypeVar("_C", Redis, RedisCluster)

def one_slot(redis: RedisClient, prefix: str) -> str:
    """The key prefix of a read model that keeps every key in one slot of a Redis Cluster: ``prefix`` on a single
    node, ``{prefix}`` (a hash tag) on a cluster, so that each of its scripts and ``MULTI`` blocks (its state with
    its Kafka positions) stays atomic; a prefix that already holds a hash tag is kept (docs/redis-keys.md)."""
    return prefix if isinstance(redis, Redis) or "{" in prefix else f"{{{prefix}}}"


#: URL schemes naming a Redis Cluster: ``redis+cluster://host:port[,host:port...]`` (``rediss+`` with TLS).
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster_url(url: str) -> bool:
    """Whether ``url`` names a Redis Cluster (``redis+cluster://`` or ``rediss+cluster://``)."""
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


def cluster_from_url(url: str, **options: Any) -> RedisCluster:
    """A (not yet initialised) :class:`RedisCluster` for ``redis+cluster://[user:pass@]h1:p1[,h2:p2...][?opts]``.

    Every listed node is a startup node (the client discovers the rest from any one that answers); the path must
    be empty or ``/0`` (a cluster has database 0 only). Query options are passed on as ``redis://`` ones are.
    """
    scheme, _, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower())
    if plain is None:
        raise ValueError(f"not a Redis Cluster URL (redis+cluster:// or rediss+cluster://): {scheme}://...")
    authority, slash, tail = rest.partition("/")
    credentials, _, hosts = authority.rpartition("@")
    nodes: list[ClusterNode] = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"Redis Cluster URL: each node must be host:port, got {item!r}")
        nodes.append(ClusterNode(host.strip("[]"), int(port)))
    # redis-py parses the credentials, database and options from a one-host URL of the plain scheme
    first = f"{plain}://{credentials + '@' if credentials else ''}{hosts.split(',')[0].strip()}{slash}{tail}"
    parsed: dict[str, Any] = dict(parse_url(first))
    if parsed.pop("connection_class", None) is SSLConnection:
        parsed["ssl"] = True
    for key in ("host", "port"):
        parsed.pop(key, None)
    cluster = RedisCluster(startup_nodes=nodes, **{**options, **parsed})
    # Every node's connections write without a task per command (microcred.storage.prompt_send): the startup
    # nodes are built by now, the nodes found later from the shared connection arguments.
    cluster.connection_kwargs["connection_class"] = prompt_connection_class(
        cluster.connection_kwargs["connection_class"])
    for node in cluster.startup_nodes:
        node.connection_class = prompt_connection_class(node.connection_class)
    return cluster


def redis_client_from_url(url: str, **options: Any) -> RedisClient:
    """A client of either topology, chosen by the URL's scheme as :func:`connect_redis_client` does, not connected
    yet (for an application built before its event loop runs). A cluster client must be initialised
    (``await client.initialize()``) before its first concurrent commands (redis/redis-py#3032)."""
    if is_cluster_url(url):
        return cluster_from_url(url, **options)
    pool = ConnectionPool.from_url(url, **options)  # the URL picks TCP, TLS or a Unix socket
    pool.connection_class = prompt_connection_class(pool.connection_class)  # microcred.storage.prompt_send
    return Redis.from_pool(pool)


async def connect_redis_client(url: str, attempts: int = 50,
                               socket_timeout: float = REDIS_SOCKET_TIMEOUT) -> RedisClient:
    """Connect to a single Redis node (``redis://``, ``rediss://``, ``unix://``) or to a Redis Cluster
    (``redis+cluster://host:port[,host:port...]``) and PING it, retrying briefly; raise when it never answers.

    Same options on both: bytes replies (``decode_responses=False``), replies awaited at most
    ``socket_timeout`` seconds (a Redis that stops answering fails the call, retriable, instead of holding a
    request, a batch chunk or a consumer forever: issue 13), 5 s to connect. A cluster client comes back
    initialised: redis-py's asyncio cluster client races its lazy initialisation when its first commands run
    concurrently (redis/redis-py#3032), so it is done here, once, before anyone uses it.
    """
    options: dict[str, Any] = {"decode_responses": False, "socket_timeout": socket_timeout,
                               "socket_connect_timeout": 5.0}
    cluster = redis_client_from_url(url, **options)
    if isinstance(cluster, Redis):
        return await _ping_until_ready(cluster, attempts)
    for attempt in range(attempts):
        try:
            await cluster.initialize()  # reads the slot map from a startup node (retried: nodes may be starting)
            break
        except Exception:  # refused, CLUSTERDOWN while slots are assigned, ...
            if attempt == attempts - 1:
                await cluster.aclose()
                raise
            await asyncio.sleep(0.2)
    return await _ping_until_ready(cluster, attempts)


async def connect_redis(url: str, attempts: int = 50, socket_timeout: float = REDIS_SOCKET_TIMEOUT) -> Redis:
    """Connect to a single Redis node and PING it, retrying briefly; raise when it never answers.

    The single-node path of :func:`connect_redis_client` (same options), typed :class:`Redis` for the callers
    whose read models do not hold on a cluster yet. A cluster URL is refused here, clearly, instead of handing
    those callers a client they would fail on; a caller ready for both calls :func:`connect_redis_client`.
    """
    if is_cluster_url(url):
        raise ValueError("a Redis Cluster URL (redis+cluster://) given to a caller that needs a single Redis "
                         "node: its read models are not cluster-ready yet (docs/redis-keys.md)")
    client = await connect_redis_client(url, attempts, socket_timeout)
    assert isinstance(client, Redis)
    return client


async def _ping_until_ready(client: _C, attempts: int) -> _C:
    for attempt in range(attempts):
        try:
            await client.ping()
            return client
        except Exception:  # connection refused, loading dataset, ...: retry until attempts run out
            if attempt == attempts - 1:
                await client.aclose()
                raise
            await asyncio.sleep(0.2)
    return client


class Service(Protocol):
    """What a gRPC service's composition root offers: start everything, stop everything."""

    async def start(self) -> None:
        """Connect and start serving."""
        ...

    async def stop(self) -> None:
        """Stop serving and disconnect (also after a failed start)."""
        ...


async def serve_until_signal(name: str, make_app: Callable[[], Service], *, log_level: str, metrics_port: int,
                             metrics_host: str) -> None:
    """Logging, tracing and metrics for service ``name``, then the app ``make_app`` builds (after them, so that
    what it builds is instrumented), run until SIGINT/SIGTERM and stopped."""
    # Imported here: the lifecycle helpers above are used by processes that configure none of these.
    from microcred.logs import configure_logging
    from microcred.metrics import start_metrics_server
    from microcred.telemetry import configure_telemetry

    log = configure_logging(name, log_level)
    configure_telemetry(name)
    start_metrics_server(metrics_port, metrics_host)
    app = make_app()
    try:
        await app.start()
        await wait_for_shutdown_signal()
    finally:
        await app.stop()
        log.info(f"{name} stopped")
