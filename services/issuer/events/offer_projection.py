"""Runs the offer projection (:mod:`services.issuer.application.offer_replay`) when, and only when, it replays.

The issuer writes every change of an offer to Redis before it publishes it, so while Redis is intact the offer
events on the credentials topic hold nothing Redis lacks: between replays nothing is read, and every
``advance_seconds`` the stored positions move to the topic's end offsets (only while the projection's
:class:`~microcred.storage.positions.ProjectionEpoch` sentinel is the one this replica adopted, in the same
script). A replay reads the topic from the stored positions (from its beginning after a loss: the positions went
with it), but never from before the horizon (the longest offer lifetime and a margin, found with
``offsets_for_times``: no older offer can still be open, so a topic holding every credential ever issued costs a
replay only its recent records), with a :class:`~microcred.kafka.consumer.ConsumerRunner` (a consumer group:
replicas replaying at once share the partitions; only the offer events reach the handler), and stops once caught
up. The issuer process thus pays nothing per credential issued for the offers' durability.

**A loss** is noticed by each replica's look-out every ``check_seconds``, and at once when a code or an offer
is not found (:meth:`OfferProjection.lost`): the sentinel gone, or another's than the adopted one. At start,
a replica that has to make the sentinel (Redis new, or lost while the issuer was down) has noticed one too; one
that finds it intact has not, though the stored positions may lag by the records since the last advance (they
are in Redis already). Whoever notices one notes the topic's end offsets as targets in Redis
(:meth:`~services.issuer.adapters.offer_replay.RedisOfferReplay.note_targets`), shared by every replica.

**Replaying** (:attr:`OfferProjection.replaying`) until the shared positions reach the targets, whichever
replica owns which partition: an offer may be back in Redis as ``offered`` before the event that ended it is
applied again, so the token endpoint spends no code then (``temporarily_unavailable``), and an unknown offer
or code is "try again", not "unknown", also in the moment before the periodic look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import cast

from redis.asyncio import Redis

from microcred.kafka.consumer import ConsumerRunner
from microcred.kafka.topic_ends import TopicEnds
from microcred.kafka.topics import CREDENTIALS
from microcred.lifecycle import RedisClient
from microcred.storage.positions import ProjectionEpoch
from services.issuer.adapters.offer_replay import RedisOfferReplay
from services.issuer.application.offer_replay import OFFER_EVENTS, OfferReplay

__all__ = ["OfferProjection"]

log = logging.getLogger(__name__)


class OfferProjection:
    """The offer projection's look-out, its replays and its catch-up (module docstring)."""

    def __init__(self, bootstrap: str, redis: RedisClient, store: RedisOfferReplay, replay: OfferReplay,
                 group_id: str, topic: str = CREDENTIALS.name, check_seconds: float = 0.5,
                 advance_seconds: float = 5.0, horizon_seconds: float = 8 * 86400) -> None:
        """``redis``: the client ``store`` writes with (the epoch sentinel is kept there too); ``horizon_seconds``:
        how far back a replay reads (no offer older than that can still be open)."""
        self._bootstrap, self._redis, self._store, self._replay = bootstrap, cast("Redis", redis), store, replay
        self._group, self._topic, self._check, self._advance = group_id, topic, check_seconds, advance_seconds
        self._horizon = horizon_seconds
        self._guard = ProjectionEpoch(self._redis, store.namespace)  # the sentinel as this replica adopted it
        self._ends = TopicEnds(bootstrap, topic)
        self.runner: ConsumerRunner | None = None  # while replaying
        self._running: asyncio.Task[None] | None = None
        self.replays = 0
        self._behind = True  # until the first look
        self._caught_up = asyncio.Event()
        self._looking = asyncio.Lock()
        self._follower: asyncio.Task[None] | None = None

    @property
    def replaying(self) -> bool:
        """True while a restored offer may not have its end yet (module docstring)."""
        return self._behind or (self.runner is not None and self.runner.rebuilding)

    async def start(self) -> None:
        """Adopt the sentinel; when this replica made it (Redis is new, or lost while no replica ran), note the
        topic's ends as the replay's targets; look (replaying if behind), then look out in the background.

        With the sentinel intact the stored positions may lag the topic's end (they move every
        ``advance_seconds``), but every record in between is in Redis already (the module docstring): noting
        targets then would make every replica refuse codes until a needless replay ends, at each start."""
        await self._ends.start()
        if await self._guard.adopt():
            await self._note_targets()
        await self._look()
        await self._run_or_rest()
        self._follower = asyncio.create_task(self._follow(), name="oid4vci-offer-look-out")

    async def wait_caught_up(self, timeout: float) -> bool:
        """Wait until no replay is under way (False on timeout)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        return self._caught_up.is_set()

    async def lost(self) -> bool:
        """Look now (an offer or code was not found: is that because Redis was lost a moment ago?): whether the
        offers are being replayed."""
        await self._look_out()
        return self.replaying

    async def _note_targets(self) -> None:
        await self._store.note_targets(self._topic, await self._ends.ends())

    async def _look(self) -> None:
        self._behind = await self._store.behind(self._topic) > 0
        if self._behind:
            self._caught_up.clear()
        else:
            self._caught_up.set()

    async def _look_out(self) -> None:
        async with self._looking:  # one look at a time: many requests failing at once after a loss make one
            if not await self._guard.intact():  # Redis lost since the last look (sentinel gone, or made anew)
                await self._guard.open()
                await self._note_targets()
                log.warning("offer projection: Redis lost; no code is spent until the offers are replayed")
            await self._look()

    async def _run_or_rest(self) -> None:
        """Start a replay when behind and none runs; stop the one that caught up; else move the positions on."""
        if self._behind and self.runner is None:
            await self._skip_older()
            self.runner = ConsumerRunner(self._bootstrap, self._group, [self._topic], self._replay.apply,
                                         self._replay.position, guard=ProjectionEpoch(self._redis,
                                                                                      self._store.namespace),
                                         batch_handler=self._replay.apply_batch, payload_types=OFFER_EVENTS)
            await self.runner.start()
            self._running = asyncio.create_task(self.runner.run(), name="oid4vci-offer-replay")
            self.replays += 1
        elif not self._behind and self.runner is not None and not self.runner.rebuilding:
            await self._stop_runner()

    async def _skip_older(self) -> None:
        """Move the positions up to the first record younger than the horizon: an offer made before it has expired
        (every offer's lifetime is shorter), and every end of a younger one comes after its creation. The end
        offsets are read first, so a partition with nothing that young starts there and passes over no record
        appended since."""
        token = self._guard.token
        if token is None:
            return
        ends = await self._ends.ends()
        since = int((time.time() - self._horizon) * 1000)  # a record's time is its producer's wall clock
        found = await self._ends.first_offsets_since(since)
        floors = {partition: ends[partition] if hit is None else min(hit, ends[partition])
                  for partition, hit in found.items()}
        await self._store.skip_to(self._topic, floors, token)

    async def _stop_runner(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)
        self.runner, self._running = None, None

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        next_advance = loop.time() + self._advance
        while True:
            await asyncio.sleep(self._check)
            try:
                await self._look_out()
                await self._run_or_rest()
                if self.runner is None and loop.time() >= next_advance:
                    next_advance = loop.time() + self._advance
                    token = self._guard.token
                    if token is not None:
                        await self._store.advance(self._topic, await self._ends.ends(), token)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or Kafka unreachable for a moment: look again
                log.warning("offer projection look-out failed", extra={"error": type(exc).__name__})

    async def stop(self) -> None:
        """Stop looking out; finish a replay's current batch and leave the group."""
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
            self._follower = None
        await self._stop_runner()
        await self._ends.stop()
