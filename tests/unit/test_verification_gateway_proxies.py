"""Rate-limit buckets are per real client: ``X-Forwarded-For`` counts only when the direct peer is a trusted
proxy (``MICROCRED_TRUSTED_PROXIES``), and then its rightmost untrusted address; otherwise it is ignored."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from services.verifier.api.limits import TrustedProxies
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from services.verifier.config import Settings
from tests.verifier_support import Limits, RunningServer, World


def strict(trusted_proxies: list[str] | None = None) -> Limits:
    """Two requests per client, then 429 (the bucket hardly refills)."""
    return Limits(rate_limit_per_second=0.001, rate_limit_burst=2, trusted_proxies=trusted_proxies or [])


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))
    return world


async def codes(base: str, forwarded: list[str | None], path: str = "/v1/verify", body: object = None) -> list[int]:
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for value in forwarded:
            headers = {"x-forwarded-for": value} if value is not None else {}
            if body is None:
                response = await http.get("/", headers=headers)
            else:
                response = await http.post(path, json=body, headers=headers)
            out.append(response.status_code)
    return out


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(world: World) -> None:
    app = create_gateway_app(strict(trusted_proxies=["127.0.0.0/8", "10.0.0.0/8"]))
    app.state.gateway = Gateway(world.ports())
    async with RunningServer(app, proxy_headers=False) as server:
        first = await codes(server.url, ["203.0.113.5"] * 3)
        other = await codes(server.url, ["203.0.113.6", "203.0.113.6"])
        # a client cannot escape its bucket by prepending addresses; trusted hops on the right are skipped
        spoofed = await codes(server.url, ["198.51.100.1, 203.0.113.5", "198.51.100.2, 203.0.113.5, 10.1.2.3"])
        # the fast path (POST /v1/verify) is shed by the same buckets
        fast = await codes(server.url, ["203.0.113.7"] * 3, body=world.credential())
    assert first == [200, 200, 429]
    assert other == [200, 200]
    assert spoofed == [429, 429]
    assert fast == [200, 200, 429]


async def test_without_trusted_proxies_forwarded_for_is_ignored(world: World) -> None:
    app = create_gateway_app(strict())
    app.state.gateway = Gateway(world.ports())
    async with RunningServer(app, proxy_headers=False) as server:
        assert await codes(server.url, ["203.0.113.5", "203.0.113.6", "203.0.113.7"]) == [200, 200, 429]


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("10.0.0.1", ["1.2.3.4"], "1.2.3.4"),
    ("10.0.0.1", ["9.9.9.9, 1.2.3.4, 10.0.0.7"], "1.2.3.4"),
    ("10.0.0.1", ["9.9.9.9", "1.2.3.4"], "1.2.3.4"),  # several headers are one list, in order
    ("10.0.0.1", ["10.0.0.2, 10.0.0.3"], "10.0.0.2"),  # all trusted: the leftmost
    ("10.0.0.1", ["not-an-ip, 1.2.3.4"], "1.2.3.4"),
    ("10.0.0.1", ["1.2.3.4, garbage"], "10.0.0.1"),  # the proxy's own entry is unreadable: the proxy itself
    ("10.0.0.1", [], "10.0.0.1"),
    ("10.0.0.1", ["2001:db8::1"], "2001:db8::1"),
    ("192.0.2.1", ["1.2.3.4"], "192.0.2.1"),  # not a trusted proxy: the header is not read
])
def test_client_address(peer: str, forwarded: list[str], client: str) -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    scope = {"client": (peer, 5555), "headers": [(b"x-forwarded-for", v.encode()) for v in forwarded]}
    assert proxies.client(scope) == client


def test_setting_is_a_list_of_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROCRED_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    monkeypatch.setenv("MICROCRED_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MICROCRED_TRUSTED_PROXIES", '["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]')
    assert Settings().trusted_proxies == ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]
    monkeypatch.setenv("MICROCRED_TRUSTED_PROXIES", '["everything"]')
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings()
    monkeypatch.delenv("MICROCRED_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []
