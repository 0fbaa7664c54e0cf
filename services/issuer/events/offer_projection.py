"""Runs the offer projection (:mod:`services.issuer.application.offer_replay`) and says when it is replaying.

A consumer group over the credentials topic (each replica its share of the partitions; only the offer events
are read), its positions stored with its writes, and a :class:`~microcred.storage.positions.ProjectionEpoch`
sentinel in the offers' slot: a wiped Redis is noticed within a second and the offers are rebuilt by replay
while the issuer keeps running.

**Replaying** (:attr:`OfferProjection.replaying`): while an offer may be back in Redis as ``offered`` before the
event that ended it is applied again, the token endpoint refuses to spend codes (``temporarily_unavailable``)
rather than let a withdrawn offer be redeemed. A replay's end is shared by every replica: whichever notices
the loss (at start: stored positions behind the topic's end, e.g. a Redis lost while the issuer was down, or
the few records since the last stop; while running: the sentinel gone or replaced) notes the topic's end
offsets as targets in Redis (:meth:`~services.issuer.adapters.offer_replay.RedisOfferReplay.note_targets`), and
every replica counts as replaying until the shared positions reach them, whichever replica owns which
partition. Each replica looks every ``check_seconds`` (its own runner's rebuild counts at once), and at once
when a code or an offer is not found (:meth:`OfferProjection.lost`): a wallet is then told to try again, not
that its offer is unknown, also in the moment before the loss was noticed.
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
    """The offer projection's consumer and its shared catch-up (module docstring)."""

    def __init__(self, bootstrap: str, redis: RedisClient, store: RedisOfferReplay, replay: OfferReplay,
                 group_id: str, topic: str = CREDENTIALS.name, check_seconds: float = 0.5) -> None:
        """``redis``: the client ``store`` writes with (the epoch sentinel is kept there too)."""
        self._bootstrap, self._store, self._topic, self._check = bootstrap, store, topic, check_seconds
        guard = ProjectionEpoch(cast("Redis", redis), store.namespace)
        # Only the offer events: the topic is mostly CredentialIssued, passed over at an envelope decode each.
        self.runner = ConsumerRunner(bootstrap, group_id, [topic], replay.apply, replay.position, guard=guard,
                                     batch_handler=replay.apply_batch, payload_types=OFFER_EVENTS)
        self._behind = True  # until the first look
        self._epoch: bytes | str | None = None
        self._caught_up = asyncio.Event()
        self._looking = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def replaying(self) -> bool:
        """True while a restored offer may not have its end yet (module docstring)."""
        return self._behind or self.runner.rebuilding

    async def start(self) -> None:
        """Note how far behind the stored positions are, then consume and look in the background."""
        await self._note_targets()
        await self.runner.start()  # adopts (or makes) the sentinel
        self._epoch = await self._store.epoch()
        await self._look()
        self._tasks = [asyncio.create_task(self.runner.run(), name="oid4vci-offer-projection"),
                       asyncio.create_task(self._follow(), name="oid4vci-offer-catch-up")]

    async def wait_caught_up(self, timeout: float) -> bool:
        """Wait until no replay is under way (False on timeout)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        return self._caught_up.is_set()

    async def _note_targets(self) -> None:
        ends = await topic_end_offsets(self._bootstrap, [self._topic])
        await self._store.note_targets(self._topic, {tp.partition: end for tp, end in ends.items()})

    async def _look(self) -> None:
        self._behind = await self._store.behind(self._topic) > 0
        if self._behind:
            self._caught_up.clear()
        else:
            self._caught_up.set()

    async def lost(self) -> bool:
        """Look now (an offer or code was not found: is that because Redis was lost a moment ago?): whether the
        offers are being replayed."""
        await self._look_out()
        return self.replaying

    async def _look_out(self) -> None:
        async with self._looking:  # one look at a time: many requests failing at once after a loss make one
            await self._look_out_now()

    async def _look_out_now(self) -> None:
        epoch = await self._store.epoch()
        if epoch is None or epoch != self._epoch:  # Redis lost since the last look (gone, or made anew)
            self._behind = True
            await self._note_targets()
            if self._epoch is not None:
                log.warning("offer projection: Redis lost; no code is spent until the offers are replayed")
            self._epoch = epoch
        await self._look()

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._check)
            try:
                await self._look_out()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or Kafka unreachable for a moment: look again
                log.warning("offer projection catch-up check failed", extra={"error": type(exc).__name__})

    async def stop(self) -> None:
        """Finish the current batch and leave the group."""
        await self.runner.stop()
        if len(self._tasks) == 2:
            self._tasks[1].cancel()  # the look-out; the runner finishes its batch
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
