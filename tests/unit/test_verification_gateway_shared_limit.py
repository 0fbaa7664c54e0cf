"""The per-client limit shared by gateway replicas (in-memory twin of the Redis buckets, behind the same port):
it holds in total across replicas, and when the shared store fails or is slow each process falls back to its
own buckets at once (fails open to the per-process limit), leaving the store alone for a pause."""

from __future__ import annotations

import logging

import httpx
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from services.verifier.api.admission import Admission
from services.verifier.api.edge import GatewayApp
from services.verifier.api.limits import ClientBuckets
from services.verifier.api.rate_limit import BucketStore, SharedClientBuckets
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.harness.rate_limit import FailingStore, MemoryBucketStore, SlowStore
from tests.verifier_support import Limits, World


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def scope(client: str = "10.0.0.1") -> dict[str, object]:
    return {"type": "http", "client": (client, 1234), "path": "/v1/verify", "headers": []}


def replica(store: BucketStore, rate: float = 0.001, burst: int = 3) -> GatewayApp:
    """One gateway replica whose per-client buckets are ``store``'s."""
    app = create_gateway_app(Limits(rate_limit_per_second=rate, rate_limit_burst=burst))
    app.state.gateway = Gateway(World().ports())
    assert app.admission is not None
    app.admission.use_shared(SharedClientBuckets(store, rate, burst))
    return app


async def test_two_replicas_admit_the_limit_in_total_not_each() -> None:
    store = MemoryBucketStore()
    other = store.replica()
    replicas = [replica(store), replica(other)]
    statuses, refusals = [], []
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
               for app in replicas]
    try:
        for i in range(10):  # one client, alternating between the replicas
            response = await clients[i % 2].get("/")
            statuses.append(response.status_code)
            if response.status_code == 429:
                refusals.append(response)
    finally:
        for http in clients:
            await http.aclose()
    assert statuses == [200, 200, 200] + [429] * 7
    for response in refusals:
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["type"].endswith("rate-limited")
    assert (store.calls, other.calls) == (5, 5)  # every request asked the shared buckets


async def test_per_process_buckets_would_have_admitted_twice_the_limit() -> None:
    """The control: the same two replicas without the shared store admit the limit each (what issue 24 fixes)."""
    admissions = [Admission(0.001, 3), Admission(0.001, 3)]
    taken = [admissions[i % 2].admit(scope()) is None for i in range(10)]
    assert sum(taken) == 6


async def test_admission_awaits_the_shared_store_and_refuses_with_its_wait() -> None:
    store = MemoryBucketStore()
    admission = Admission(0.5, 1)
    admission.use_shared(SharedClientBuckets(store, 0.5, 1))
    assert await admission.admit_shared(scope()) is None
    refusal = await admission.admit_shared(scope())
    assert refusal is not None and refusal.code == "rate-limited" and refusal.retry_after == 2
    assert admission.shed["rate-limited"] == 1 and admission.in_flight == 1
    assert admission.buckets.buckets == {}  # the per-process buckets were not used


@pytest.mark.parametrize("store", [FailingStore(RedisConnectionError("gone")), FailingStore(OSError("reset")),
                                   SlowStore(5.0)], ids=["redis-error", "os-error", "slow"])
async def test_a_failing_or_slow_store_falls_back_to_local_buckets_and_pauses(
        store: FailingStore | SlowStore, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    local = ClientBuckets(0.001, 2, clock=clock)
    shared = SharedClientBuckets(store, 0.001, 2, timeout=0.05, pause=1.0, local=local, clock=clock)
    with caplog.at_level(logging.WARNING, "services.verifier.api.rate_limit"):
        waits = [await shared.take("192.0.2.77") for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0  # the local limit holds meanwhile
    assert store.calls == 1 and shared.fallbacks == 3  # the store was tried once, then left alone
    clock.now += 1.0  # the pause is over: the store is tried again
    await shared.take("192.0.2.77")
    assert store.calls == 2
    assert "192.0.2.77" not in caplog.text and "shared rate limit unavailable" in caplog.text


async def test_the_shared_store_is_used_again_once_it_answers() -> None:
    clock = Clock()
    healthy = MemoryBucketStore(clock=clock)
    flaky = FailingStore(RedisConnectionError("gone"))
    shared = SharedClientBuckets(flaky, 0.001, 1, pause=1.0, clock=clock)
    assert await shared.take("a") == 0.0  # local
    shared.store = healthy
    clock.now += 1.0
    assert await shared.take("a") == 0.0 and healthy.calls == 1  # back on the shared store (its own bucket)
    assert await shared.take("a") > 0 and healthy.calls == 2


@pytest.mark.parametrize("shared", [True, False])
def test_the_gateway_shares_its_limit_with_its_replicas_unless_told_not_to(shared: bool) -> None:
    from services.verifier.adapters.rate_limit import RedisBucketStore
    from services.verifier.app import create_app
    from services.verifier.config import Settings

    settings = Settings(kafka_bootstrap="127.0.0.1:9", redis_url="redis://127.0.0.1:9/0", registry_namespace="vr-7",
                        rate_limit_shared=shared, rate_limit_timeout_ms=30)
    app = create_app(settings)  # nothing connects before the lifespan
    admission = getattr(app, "admission", None)
    assert isinstance(admission, Admission)
    if not shared:
        assert admission.shared is None
        return
    assert isinstance(admission.shared, SharedClientBuckets) and admission.shared.timeout == 0.03
    assert isinstance(admission.shared.store, RedisBucketStore) and admission.shared.store.namespace == "vr-7:ratelimit"
    assert (admission.shared.rate, admission.shared.burst) == (20.0, 60)
