"""Runs the offer projection (:mod:`services.issuer.application.offer_replay`) and says when it is replaying.

A consumer group over the credentials topic (each replica its share of the partitions), its positions stored
with its writes, and a :class:`~microcred.storage.positions.ProjectionEpoch` sentinel in the offers' slot: a
wiped Redis is noticed within a second and the offers are rebuilt by replay while the issuer keeps running.

**Replaying** (:attr:`OfferProjection.replaying`): while an offer may be back in Redis as ``offered`` before the
event that ended it is applied again, the token endpoint refuses to spend codes (``temporarily_unavailable``)
rather than let a withdrawn offer be redeemed. It is replaying from a start that found the stored positions
behind the topic's end (a Redis lost while the issuer was down: every partition from its beginning; a normal
restart: the few records since the last stop) until the positions shared in Redis reach those ends, and from a
live wipe noticed by this replica until its replay caught up (another replica's partitions are that replica's
business: it refuses too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import cast

from redis.asyncio import Redis

from microcred.kafka.consumer import ConsumerRunner
from microcred.kafka.topics import CREDENTIALS
from microcred.lifecycle import RedisClient
from microcred.status.cache import topic_end_offsets
from microcred.storage.positions import ProjectionEpoch
from services.issuer.adapters.offer_replay import RedisOfferReplay
from services.issuer.application.offer_replay import OFFER_EVENTS, OfferReplay

__all__ = ["OfferProjection"]

log = logging.getLogger(__name__)


class OfferProjection:
    """The offer projection's consumer and its catch-up (module docstring)."""

    def __init__(self, bootstrap: str, redis: RedisClient, store: RedisOfferReplay, replay: OfferReplay,
                 group_id: str, topic: str = CREDENTIALS.name, check_seconds: float = 0.5) -> None:
        """``redis``: the client ``store`` writes with (the epoch sentinel is kept there too)."""
        self._bootstrap, self._store, self._topic, self._check = bootstrap, store, topic, check_seconds
        guard = ProjectionEpoch(cast("Redis", redis), store.namespace)
        # Only the offer events: the topic is mostly CredentialIssued, passed over at an envelope decode each.
        self.runner = ConsumerRunner(bootstrap, group_id, [topic], replay.apply, replay.position, guard=guard,
                                     batch_handler=replay.apply_batch, payload_types=OFFER_EVENTS)
        self._behind: dict[int, int] = {}
        self._caught_up = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def replaying(self) -> bool:
        """True while a restored offer may not have its end yet (module docstring)."""
        return bool(self._behind) or self.runner.rebuilding

    async def start(self) -> None:
        """Note how far behind the stored positions are, then consume in the background."""
        ends = await topic_end_offsets(self._bootstrap, [self._topic])
        for tp, end in ends.items():
            stored = await self._store.position(tp.topic, tp.partition)
            if end > 0 and (stored is None or stored < end):
                self._behind[tp.partition] = end
        if not self._behind:
            self._caught_up.set()
        await self.runner.start()
        self._tasks = [asyncio.create_task(self.runner.run(), name="oid4vci-offer-projection"),
                       asyncio.create_task(self._follow(), name="oid4vci-offer-catch-up")]

    async def wait_caught_up(self, timeout: float) -> bool:
        """Wait until the positions reached the ends noted at start (False on timeout)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        return self._caught_up.is_set()

    async def _follow(self) -> None:
        while self._behind:
            await asyncio.sleep(self._check)
            try:
                for partition, end in list(self._behind.items()):
                    stored = await self._store.position(self._topic, partition)
                    if stored is not None and stored >= end:
                        del self._behind[partition]
            except Exception as exc:  # Redis unreachable for a moment: look again
                log.warning("offer projection catch-up check failed", extra={"error": type(exc).__name__})
        self._caught_up.set()

    async def stop(self) -> None:
        """Finish the current batch and leave the group."""
        await self.runner.stop()
        if len(self._tasks) == 2:
            self._tasks[1].cancel()  # the catch-up check; the runner finishes its batch
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
