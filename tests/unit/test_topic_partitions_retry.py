"""``topic_partitions`` tries again when the broker the admin client picked cannot be reached (a killed or
restarting broker stays in the cluster metadata for a while: seen in the leader-kill fault test, where reading the
topic's ends right after the broker's restart failed with NodeNotReadyError), and gives up on other errors."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from aiokafka.errors import NodeNotReadyError, TopicAuthorizationFailedError

from microcred.status import cache


class FlakyAdmin:
    """Stands in for AIOKafkaAdminClient: ``failures`` errors, then the topic's description."""

    calls: ClassVar[int] = 0
    failures: ClassVar[list[Exception]] = []

    def __init__(self, **_: Any) -> None:
        self.closed = False

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True

    async def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        FlakyAdmin.calls += 1
        if FlakyAdmin.failures:
            raise FlakyAdmin.failures.pop(0)
        return [{"topic": name, "error_code": 0, "partitions": [{"partition": 1}, {"partition": 0}]}
                for name in names]


@pytest.fixture(autouse=True)
def flaky(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "AIOKafkaAdminClient", FlakyAdmin)
    monkeypatch.setattr(cache.asyncio, "sleep", _no_wait)
    FlakyAdmin.calls = 0


async def _no_wait(_: float) -> None:
    return None


async def test_an_unreachable_broker_is_tried_again() -> None:
    FlakyAdmin.failures = [NodeNotReadyError("node 1"), NodeNotReadyError("node 1")]
    partitions = await cache.topic_partitions("k:9092", ["t"])
    assert [(p.topic, p.partition) for p in partitions] == [("t", 0), ("t", 1)] and FlakyAdmin.calls == 3


async def test_it_gives_up_after_the_last_attempt_or_on_an_error_that_is_not_retriable() -> None:
    FlakyAdmin.failures = [NodeNotReadyError("down")] * cache.DESCRIBE_ATTEMPTS
    with pytest.raises(NodeNotReadyError):
        await cache.topic_partitions("k:9092", ["t"])
    assert FlakyAdmin.calls == cache.DESCRIBE_ATTEMPTS
    for error in (TopicAuthorizationFailedError(), ValueError("a bug")):  # a Kafka error not retriable; a bug
        FlakyAdmin.calls, FlakyAdmin.failures = 0, [error]
        with pytest.raises(type(error)):
            await cache.topic_partitions("k:9092", ["t"])
        assert FlakyAdmin.calls == 1
