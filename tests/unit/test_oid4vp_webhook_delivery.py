"""The webhook dispatcher's decisions over in-memory twins of its ports (the Redis outbox and the HTTP sender):
bounded retries, no retry of a refusal, waiting for an answer still being checked, once per result in the normal
case, and again (at least once) after the worker delivering it stopped and its lease ran out."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from microcred.sdjwt.jose import compact_json
from services.verifier.adapters.webhook import EXPIRY_GRACE, LEASE_MARGIN, Attempt, WebhookDispatcher, lease_seconds
from tests.harness.waiting import eventually

URL = "https://hooks.employer.test/h"
EXPIRES = 1_000_000


class MemoryOutbox:
    """The outbox port in memory, with the lease rules of the Redis scripts (the same rules are checked on Redis
    itself in tests/integration/test_contract_webhook_outbox.py): a claim moves the due time to the lease's end
    and names its holder; a claimed entry stays until ``done``."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.due_at: dict[str, float] = {}
        self.leases: dict[str, str] = {}

    async def register(self, result_id: str, record: Mapping[str, Any], due_at: float, ttl: int) -> None:
        self.records[result_id], self.due_at[result_id] = dict(record), due_at

    def _lease(self, result_id: str, now: float, lease: float) -> str:
        token = secrets.token_urlsafe(8)
        self.due_at[result_id], self.leases[result_id] = now + lease, token
        return token

    async def claim(self, result_id: str, now: float, lease: float) -> str | None:
        if result_id not in self.due_at or (result_id in self.leases and self.due_at[result_id] > now):
            return None
        return self._lease(result_id, now, lease)

    async def claim_due(self, now: float, lease: float, limit: int) -> list[tuple[str, str]]:
        due = sorted((at, r) for r, at in self.due_at.items() if at <= now)[:limit]
        return [(r, self._lease(r, now, lease)) for _, r in due]

    async def defer(self, result_id: str, due_at: float, token: str) -> bool:
        if self.leases.get(result_id) != token:
            return False
        self.due_at[result_id] = due_at
        del self.leases[result_id]
        return True

    async def done(self, result_id: str) -> None:
        self.due_at.pop(result_id, None)
        self.leases.pop(result_id, None)

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


async def _now(value: bool) -> bool:
    return value


class HangingSender(ScriptedSender):
    """Never answers its first POST (the receiver holds it) and counts it as sent."""

    async def send(self, url: str, body: bytes, signature: str) -> Attempt:
        self.sent.append((url, body, signature))
        if len(self.sent) == 1:
            await asyncio.Event().wait()
        return await super().send(url, body, signature)


def test_the_lease_outlasts_the_whole_retry_schedule() -> None:
    # 4 attempts of 5 s, 1 + 2 + 4 s of backoff between them, and the margin
    assert lease_seconds(4, 5.0, 1.0) == 20 + 7 + LEASE_MARGIN == 37
    assert lease_seconds(1, 5.0, 1.0) == 5 + LEASE_MARGIN  # no backoff with one attempt
    world = World(Attempt(200))
    assert world.dispatcher.lease == lease_seconds(4, 5.0, 0)


async def test_a_delivery_whose_worker_died_is_delivered_by_another_after_its_lease() -> None:
    world = World(Attempt(200))
    hanging = world.dispatcher.sender = HangingSender(Attempt(200))
    await world.register()
    world.dispatcher.finished("res")
    await eventually(lambda: _now(len(hanging.sent) == 1), timeout=30)
    for task in list(world.dispatcher._tasks):  # the worker dies mid-POST: no cleanup runs
        task.cancel()
    await asyncio.gather(*world.dispatcher._tasks, return_exceptions=True)
    assert world.outbox.records["res"]["status"] == "delivering" and world.outbox.records["res"]["attempts"] == 1
    assert world.outbox.due_at["res"] == world.now + world.dispatcher.lease  # still there, leased
    other = WebhookDispatcher(world.outbox, world.sender, key=ec.generate_private_key(ec.SECP256R1()),
                              x5c=["AAAA"], document=world.load, answered=world.answered, attempts=4, backoff=0,
                              clock=lambda: world.now)  # another replica, same outbox
    await other.sweep()
    other.finished("res")  # a second trigger while the lease runs takes nothing either
    await asyncio.gather(*other._tasks)
    assert not world.sender.sent
    world.now += world.dispatcher.lease  # the lease runs out
    await other.sweep()
    await asyncio.gather(*other._tasks)
    record = world.outbox.records["res"]
    assert record["status"] == "delivered" and record["attempts"] == 2  # the lost attempt counts
    assert len(world.sender.sent) == 1 and "res" not in world.outbox.due_at and not world.outbox.leases
    world.now += 3600
    await other.sweep()  # removed: never delivered again
    await asyncio.gather(*other._tasks)
    assert len(world.sender.sent) == 1


async def test_a_resumed_delivery_with_its_attempts_spent_makes_one_more() -> None:
    world = World(Attempt(503))
    await world.register()
    world.outbox.records["res"] |= {"status": "delivering", "attempts": 4}  # died during the 4th of 4
    record = await world.finish()
    assert record["status"] == "failed" and record["attempts"] == 5 and len(world.sender.sent) == 1


async def test_an_outcome_recorded_by_a_worker_that_died_before_removing_the_entry_is_not_sent_again() -> None:
    world = World(Attempt(200))
    await world.register()
    world.outbox.records["res"] |= {"status": "delivered", "attempts": 1, "http_status": 200}
    record = await world.finish()
    assert record["status"] == "delivered" and not world.sender.sent and "res" not in world.outbox.due_at
    gone = World(Attempt(200))  # a record past its retention: the entry goes too, nothing sent
    await gone.register()
    del gone.outbox.records["res"]
    gone.dispatcher.finished("res")
    await asyncio.gather(*gone.dispatcher._tasks)
    assert not gone.sender.sent and "res" not in gone.outbox.due_at


async def test_a_stale_holder_cannot_give_back_a_lease_another_worker_holds() -> None:
    outbox = MemoryOutbox()
    await outbox.register("res", {}, 10, 60)
    [(_, first)] = await outbox.claim_due(10, 5, 10)
    second = await outbox.claim("res", 16, 5)  # the first lease ran out
    assert second is not None and await outbox.claim("res", 17, 5) is None
    assert not await outbox.defer("res", 18, first) and outbox.due_at["res"] == 21
    assert await outbox.defer("res", 18, second) and outbox.due_at["res"] == 18


async def test_a_stopping_worker_gives_its_leases_back_for_another_to_deliver_at_once() -> None:
    world = World(Attempt(200))
    hanging = world.dispatcher.sender = HangingSender(Attempt(200))
    await world.register()
    world.dispatcher.finished("res")
    await eventually(lambda: _now(len(hanging.sent) == 1), timeout=30)
    await world.dispatcher.close()  # SIGTERM: the POST in flight is cancelled
    assert world.outbox.due_at["res"] == world.now and "res" not in world.outbox.leases  # due now, not in 37 s
    other = WebhookDispatcher(world.outbox, world.sender, key=ec.generate_private_key(ec.SECP256R1()),
                              x5c=["AAAA"], document=world.load, answered=world.answered, attempts=4, backoff=0,
                              clock=lambda: world.now)
    await other.sweep()
    await asyncio.gather(*other._tasks)
    assert world.outbox.records["res"]["status"] == "delivered" and len(world.sender.sent) == 1
