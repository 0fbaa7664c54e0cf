"""Admission control: refusals are 429 with Retry-After, decided before the body is read, and saturation
(in-flight count, sustained event-loop queueing delay) sheds new requests while short spikes do not; long-lived
event streams hold stream slots (per process, per client), not in-flight ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, MutableMapping
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.responses import PlainTextResponse, StreamingResponse

from services.verifier.api.admission import Admission, QueueDelayProbe
from services.verifier.api.edge import GatewayApp
from services.verifier.api.limits import ClientBuckets
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.unit.test_verification_gateway import Limits
from tests.verifier_support import World


class FakeProbe(QueueDelayProbe):
    """A probe whose delay the test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.value = 0.0
        self.samples = 0

    def sample(self) -> None:
        self.samples += 1

    @property
    def delay(self) -> float:
        return self.value


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def scope(client: str = "10.0.0.1") -> dict[str, Any]:
    return {"type": "http", "client": (client, 1234), "path": "/v1/verify", "headers": []}


def test_client_buckets_refuse_with_the_wait_until_the_next_token() -> None:
    clock = Clock()
    admission = Admission(2.0, 2, buckets=ClientBuckets(2.0, 2, clock=clock))
    assert admission.admit(scope()) is None and admission.admit(scope()) is None
    refusal = admission.admit(scope())
    assert refusal is not None and refusal.code == "rate-limited" and refusal.retry_after == 1
    assert admission.admit(scope("10.0.0.2")) is None  # another client has its own bucket
    clock.now += 0.5
    assert admission.admit(scope()) is None
    assert admission.shed == {"rate-limited": 1, "overloaded": 0, "too-many-streams": 0} and admission.in_flight == 4


def test_in_flight_limit_sheds_until_a_request_is_released() -> None:
    admission = Admission(1e9, 10**9, max_in_flight=2)
    assert admission.admit(scope()) is None and admission.admit(scope()) is None
    refusal = admission.admit(scope())
    assert refusal is not None and refusal.code == "overloaded" and refusal.retry_after == 1
    admission.release()
    assert admission.admit(scope()) is None


def test_queueing_delay_sheds_a_growing_share_only_when_it_lasts_and_recovers_after() -> None:
    clock, probe = Clock(), FakeProbe()
    admission = Admission(1e9, 10**9, max_queue_delay=0.02, interval=0.1, min_arrivals=3, probe=probe, clock=clock)

    def burst(n: int, dt: float) -> int:
        """``n`` requests ``dt`` seconds apart; how many were refused."""
        refused = 0
        for _ in range(n):
            refusal = admission.admit(scope())
            if refusal is not None:
                assert refusal.code == "overloaded" and refusal.retry_after == 1
                assert "the gateway is saturated" in refusal.detail
                refused += 1
            clock.now += dt
        return refused

    probe.value = 0.05  # above the limit...
    assert burst(9, 0.01) == 0  # ...for 90 ms: a spike, absorbed
    assert admission.taken_fraction == 1.0
    refused = burst(100, 0.001)  # 100 more in the next 100 ms: sustained, the share taken shrinks
    assert 0 < refused < 100 and admission.taken_fraction < 0.5
    assert refused == admission.shed["overloaded"] and admission.in_flight == 109 - refused
    probe.value = 0.001  # back under the limit: the share taken grows back, then everything is taken
    burst(30, 0.01)
    assert admission.taken_fraction == 1.0 and burst(50, 0.001) == 0


def test_a_slow_loop_with_few_requests_is_not_shed() -> None:
    clock, probe = Clock(), FakeProbe()
    admission = Admission(1e9, 10**9, max_queue_delay=0.02, interval=0.1, min_arrivals=3, probe=probe, clock=clock)
    probe.value = 0.5  # the loop is busy with something else (a Kafka replay)
    for _ in range(2):
        assert admission.admit(scope()) is None
        clock.now += 0.3
    assert admission.shed["overloaded"] == 0


async def test_probe_measures_how_long_the_loop_was_busy() -> None:
    probe = QueueDelayProbe()
    probe.sample()
    time.sleep(0.2)  # noqa: ASYNC251 - blocking the loop on purpose: the outstanding probe ages
    assert probe.delay >= 0.2
    await asyncio.sleep(0)  # the probe runs
    await asyncio.sleep(0)
    assert probe.delay >= 0.2  # the measurement stays until it is stale or replaced
    probe.sample()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert probe.delay < 0.2


async def _never(*_: Any) -> dict[str, Any]:
    raise AssertionError("the body must not be read for a refused request")


async def _call(app: GatewayApp, path: str, headers: list[tuple[bytes, bytes]] | None = None
                ) -> tuple[int, dict[bytes, bytes]]:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
               "headers": headers or [(b"content-type", b"application/json")], "client": ("10.1.1.1", 5),
               "server": ("gw", 80), "scheme": "http", "root_path": "", "http_version": "1.1",
               "asgi": {"version": "3.0"}}, _never, send)
    return sent[0]["status"], dict(sent[0]["headers"])


async def test_refusals_are_written_before_the_body_is_read_and_health_is_exempt() -> None:
    app = create_gateway_app(Limits(rate_limit_per_second=0.01, rate_limit_burst=1, cors_origins=["*"]))
    app.state.gateway = Gateway(World().ports())

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
        assert (await http.get("/")).status_code == 200  # the one token of 127.0.0.1
        assert (await http.get("/")).status_code == 429
        assert (await http.get("/healthz")).status_code == 200
        preflight = await http.options("/v1/verify", headers={"origin": "https://employer.example",
                                                              "access-control-request-method": "POST"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    assert app.admission is not None
    app.admission.buckets.take("10.1.1.1")  # the one token of 10.1.1.1 is spent
    status, headers = await _call(app, "/v1/verify", [(b"origin", b"https://employer.example")])
    assert status == 429 and headers[b"retry-after"].isdigit()
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"access-control-allow-origin"] == b"*"


@pytest.mark.parametrize(("origins", "expected"), [(["https://a.example"], b"https://a.example"),
                                                   (["https://b.example"], None)])
async def test_refusal_cors_headers_follow_the_allowed_origins(origins: list[str], expected: bytes | None) -> None:
    app = create_gateway_app(Limits(rate_limit_per_second=0.01, rate_limit_burst=1, cors_origins=origins))
    assert app.admission is not None
    app.admission.buckets.take("10.1.1.1")  # the only token is spent
    status, headers = await _call(app, "/v1/verify", [(b"origin", b"https://a.example")])
    assert status == 429 and headers.get(b"access-control-allow-origin") == expected
    assert headers[b"vary"] == b"Origin"


def _stream_scope(client: str, result: str = "r" * 16) -> dict[str, Any]:
    path = f"/v1/presentation-results/{result}/events"
    return {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": [(b"host", b"gw.test")], "client": (client, 5), "server": ("gw", 80), "scheme": "http",
            "root_path": "", "http_version": "1.1", "asgi": {"version": "3.0"}}


class _Open:
    """One request driven at the ASGI level, held open until :meth:`close`: its status once it starts."""

    def __init__(self, app: GatewayApp, scope: dict[str, Any]) -> None:
        self.started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.gone = asyncio.Event()
        self.requested = False
        self.task = asyncio.create_task(app(scope, self.receive, self.send))

    async def receive(self) -> dict[str, Any]:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start" and not self.started.done():
            self.started.set_result(message["status"])

    async def close(self) -> None:
        self.gone.set()
        await self.task


async def test_event_streams_take_stream_slots_not_in_flight_ones() -> None:
    """256 event streams on a pending result (held open up to 15 minutes) made the process answer 429 to every
    request: streams no longer count as in flight, and are capped per client and per process instead."""
    settings = SimpleNamespace(max_body_bytes=256 * 1024, rate_limit_per_second=1e6, rate_limit_burst=10**6,
                               cors_origins=["*"], max_in_flight=2, max_event_streams=3,
                               max_event_streams_per_client=2)
    app = create_gateway_app(settings)  # type: ignore[arg-type]
    app.state.gateway = Gateway(World().ports())
    finish = asyncio.Event()

    @app.get("/v1/presentation-results/{result_id}/events")
    async def events(result_id: str) -> StreamingResponse:
        async def stream() -> AsyncIterator[bytes]:
            yield b"event: result\ndata: {}\n\n"
            await finish.wait()
        return StreamingResponse(stream(), media_type="text/event-stream")

    admission = app.admission
    assert admission is not None
    first = [_Open(app, _stream_scope("10.0.0.1")) for _ in range(2)]
    assert [await s.started for s in first] == [200, 200]
    assert (admission.streams, admission.in_flight) == (2, 0)
    over = _Open(app, _stream_scope("10.0.0.1"))  # the client's third
    assert await over.started == 429
    await over.close()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.0.0.1", 9)),
                                 base_url="http://gw.test") as http:
        page = await http.get("/")  # the process is not starved by the streams
        assert page.status_code == 200
        other = _Open(app, _stream_scope("10.0.0.2"))
        assert await other.started == 200
        full = _Open(app, _stream_scope("10.0.0.3"))  # the process's fourth
        assert await full.started == 429
        await full.close()
        refused = await http.get(f"/v1/presentation-results/{'r' * 16}/events")
        assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "5"
        problem = refused.json()
        assert problem["type"].endswith("/too-many-streams") and "2 event streams at once per client" in \
            problem["detail"]
        finish.set()
        for s in (*first, other):
            await s.close()
        assert (admission.streams, admission.in_flight) == (0, 0)
        assert admission.shed["too-many-streams"] == 3
        again = _Open(app, _stream_scope("10.0.0.3"))
        assert await again.started == 200
        await again.close()
