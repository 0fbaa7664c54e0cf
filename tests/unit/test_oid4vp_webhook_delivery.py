"""The webhook dispatcher's decisions over in-memory twins of its ports (the Redis outbox and the HTTP sender):
bounded retries, no retry of a refusal, waiting for an answer still being checked, once per result."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from microcred.sdjwt.jose import compact_json
from services.verifier.adapters.webhook import EXPIRY_GRACE, Attempt, WebhookDispatcher

URL = "https://hooks.employer.test/h"
EXPIRES = 1_000_000


class MemoryOutbox:
    """The outbox port in memory (claim is a pop: one caller wins, as ZREM)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.due_at: dict[str, float] = {}

    async def register(self, result_id: str, record: Mapping[str, Any], due_at: float, ttl: int) -> None:
        self.records[result_id], self.due_at[result_id] = dict(record), due_at

    async def claim(self, result_id: str) -> bool:
        return self.due_at.pop(result_id, None) is not None

    async def defer(self, result_id: str, due_at: float) -> None:
        self.due_at[result_id] = due_at

    async def due(self, now: float, limit: int) -> list[str]:
        return [r for r, at in self.due_at.items() if at <= now][:limit]

    async def get(self, result_id: str) -> dict[str, Any] | None:
        found = self.records.get(result_id)
        return None if found is None else dict(found)

    async def update(self, result_id: str, record: Mapping[str, Any]) -> None:
        self.records[result_id] = dict(record)


class ScriptedSender:
    def __init__(self, *answers: Attempt) -> None:
        self.answers: list[Attempt] = list(answers)
        self.sent: list[tuple[str, bytes, str]] = []

    async def send(self, url: str, body: bytes, signature: str) -> Attempt:
        self.sent.append((url, body, signature))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    async def aclose(self) -> None:
        pass


class World:
    def __init__(self, *answers: Attempt, document: dict[str, Any] | None = None, answered: bool = False,
                 now: float = EXPIRES - 100) -> None:
        self.outbox, self.sender, self.now = MemoryOutbox(), ScriptedSender(*answers), now
        self.document = document if document is not None else {"status": "verified", "request_id": "R" * 43}
        self.is_answered = answered
        self.dispatcher = WebhookDispatcher(
            self.outbox, self.sender, key=ec.generate_private_key(ec.SECP256R1()), x5c=["AAAA"],
            document=self.load, answered=self.answered, attempts=4, backoff=0, clock=lambda: self.now)

    async def load(self, result_id: str) -> dict[str, Any] | None:
        return dict(self.document) if self.document else None

    async def answered(self, request_id: str) -> bool:
        return self.is_answered

    async def register(self) -> None:
        await self.dispatcher.register("res", "R" * 43, URL, EXPIRES, 600)

    async def finish(self) -> dict[str, Any]:
        self.dispatcher.finished("res")
        await asyncio.gather(*self.dispatcher._tasks)
        return self.outbox.records["res"]


async def test_a_delivered_result_is_the_document_and_is_sent_once() -> None:
    world = World(Attempt(204))
    await world.register()
    assert world.outbox.due_at["res"] == EXPIRES + EXPIRY_GRACE
    record = await world.finish()
    assert record["status"] == "delivered" and record["attempts"] == 1 and record["http_status"] == 204
    assert [(url, body) for url, body, _ in world.sender.sent] == [(URL, compact_json(world.document))]
    world.dispatcher.finished("res")  # a second trigger (another worker, a sweep) finds nothing to claim
    await world.dispatcher.sweep()
    await asyncio.gather(*world.dispatcher._tasks)
    assert len(world.sender.sent) == 1
    assert await world.dispatcher.outcome("res") == {"status": "delivered", "attempts": 1, "http_status": 204,
                                                     "error": None, "finished_at": record["finished_at"]}


async def test_retries_are_bounded_and_a_refusal_is_not_retried() -> None:
    world = World(Attempt(None, "timeout"), Attempt(503))
    await world.register()
    record = await world.finish()
    assert record["status"] == "failed" and record["attempts"] == 4 and record["http_status"] == 503
    assert record["error"] == "HTTP 503" and len(world.sender.sent) == 4
    refused = World(Attempt(401))
    await refused.register()
    record = await refused.finish()
    assert record["status"] == "failed" and record["attempts"] == 1 and len(refused.sender.sent) == 1


async def test_the_webhook_member_never_travels_and_a_gone_result_fails_without_a_post() -> None:
    world = World(Attempt(200), document={"status": "refused", "request_id": "R" * 43, "webhook": {"x": 1}})
    await world.register()
    await world.finish()
    assert b"webhook" not in world.sender.sent[0][1]
    gone = World(Attempt(200))
    gone.document = {}
    await gone.register()
    record = await gone.finish()
    assert record["status"] == "failed" and record["error"] == "the result is gone" and not gone.sender.sent


async def test_an_expired_request_waits_for_an_answer_still_being_checked_then_goes_out() -> None:
    world = World(Attempt(200), document={"status": "expired", "request_id": "R" * 43}, answered=True,
                  now=EXPIRES + EXPIRY_GRACE)
    await world.register()
    await world.dispatcher.sweep()
    await asyncio.gather(*world.dispatcher._tasks)
    assert not world.sender.sent and world.outbox.due_at["res"] == world.now + 2  # put back, not sent
    world.now += 120  # no result came within the wait: the API says expired, and so does the webhook
    await world.dispatcher.sweep()
    await asyncio.gather(*world.dispatcher._tasks)
    assert world.outbox.records["res"]["status"] == "delivered" and len(world.sender.sent) == 1


async def test_a_sweep_before_the_expiry_takes_nothing_and_a_pending_result_is_put_back() -> None:
    world = World(Attempt(200), document={"status": "pending", "request_id": "R" * 43})
    await world.register()
    await world.dispatcher.sweep()
    assert not world.dispatcher._tasks and "res" in world.outbox.due_at
    world.now = EXPIRES + EXPIRY_GRACE  # this worker's clock says due, the result still reads pending (skew)
    await world.dispatcher.sweep()
    await asyncio.gather(*world.dispatcher._tasks)
    assert not world.sender.sent and world.outbox.due_at["res"] > world.now


async def test_close_stops_the_sweep() -> None:
    world = World(Attempt(200))
    world.dispatcher.interval = 0.01
    world.dispatcher.start()
    await asyncio.sleep(0)  # the sweep starts
    await world.dispatcher.close()
    assert world.dispatcher._sweeper is not None and world.dispatcher._sweeper.cancelled()
