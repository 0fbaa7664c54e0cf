"""The gateway's per-client rate limit holds in total across replicas: two gateway apps, each served by uvicorn
on its own socket, share their buckets in the real Redis; a client alternating between them is admitted the
limit once, not twice, and is then told 429 problem+json with ``Retry-After`` by both. On the single node and on
the 3-master Redis Cluster (``redis_clients``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from services.verifier.adapters.rate_limit import RedisBucketStore
from services.verifier.api.rate_limit import SharedClientBuckets
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.harness.redis_cluster import RedisClients
from tests.verifier_support import Limits, RunningServer, World

pytestmark = pytest.mark.integration

RATE, BURST = 0.001, 5  # five requests per client, then the bucket hardly refills during the test


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))
    return world


@asynccontextmanager
async def replicas(clients: RedisClients, namespace: str, world: World, count: int = 2,
                   trusted_proxies: list[str] | None = None) -> AsyncIterator[list[str]]:
    """``count`` gateway replicas (each its own app, socket and Redis client) sharing ``namespace``; their URLs."""
    async with AsyncExitStack() as stack:
        urls = []
        for _ in range(count):
            redis = await clients.new(socket_timeout=0.5)
            app = create_gateway_app(Limits(rate_limit_per_second=RATE, rate_limit_burst=BURST,
                                            trusted_proxies=trusted_proxies or []))
            app.state.gateway = Gateway(world.ports())
            assert app.admission is not None
            # a generous timeout: this test is about the shared count, not about the fallback on a loaded machine
            app.admission.use_shared(SharedClientBuckets(RedisBucketStore(redis, namespace), RATE, BURST,
                                                         timeout=5.0))
            server = await stack.enter_async_context(RunningServer(app, proxy_headers=False))
            urls.append(server.url)
        yield urls


async def alternate(urls: list[str], n: int, forwarded: str | None = None, body: object = None
                    ) -> list[httpx.Response]:
    """``n`` requests of one client, the i-th to replica ``i % len(urls)``."""
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    async with httpx.AsyncClient(timeout=30) as http:
        out = []
        for i in range(n):
            url = urls[i % len(urls)]
            if body is None:
                out.append(await http.get(f"{url}/", headers=headers))
            else:
                out.append(await http.post(f"{url}/v1/verify", json=body, headers=headers))
        return out


def assert_limited(responses: list[httpx.Response]) -> None:
    """Exactly BURST admitted in total; every other answer a 429 problem+json with Retry-After, from both."""
    assert [r.status_code for r in responses].count(200) == BURST, [r.status_code for r in responses]
    assert [r.status_code for r in responses[:BURST]] == [200] * BURST
    refused = responses[BURST:]
    assert {str(r.url).split("/")[2] for r in refused} == {str(r.url).split("/")[2] for r in responses}
    for response in refused:
        assert response.status_code == 429
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
        problem = response.json()
        assert problem["status"] == 429 and problem["type"].endswith("rate-limited"), problem


async def test_one_client_alternating_between_two_replicas_gets_the_limit_once(
        redis_clients: RedisClients, unique: str, world: World) -> None:
    async with replicas(redis_clients, f"rl-{unique}", world) as urls:
        assert len(set(urls)) == 2
        pages = await alternate(urls, 3 * BURST)
        assert_limited(pages)
        # the fast path (POST /v1/verify) takes from the same bucket: it is empty for this client now
        verified = await alternate(urls, 2, body=world.credential())
        assert [r.status_code for r in verified] == [429, 429]


async def test_behind_a_trusted_proxy_each_client_has_the_limit_in_total(
        redis_clients: RedisClients, unique: str, world: World) -> None:
    async with replicas(redis_clients, f"rl-{unique}", world,
                        trusted_proxies=["127.0.0.0/8"]) as urls:
        assert_limited(await alternate(urls, 2 * BURST + 2, forwarded="203.0.113.5"))
        other = await alternate(urls, 2 * BURST + 2, forwarded="203.0.113.6", body=world.credential())
        assert_limited(other)
        assert other[0].json()["verdict"] == "valid"
