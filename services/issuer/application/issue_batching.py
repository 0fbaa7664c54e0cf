"""Concurrent issuances of one issuer gathered into batches (a group commit).

An OpenID4VCI redemption issues one credential. Issued alone, each pays every per-batch cost of
:meth:`~.issuance.Issuance.issue` by itself: the store lookup, the registry's issuer record, the learner data
key, the signing workers' dispatch, the pending write, the Kafka produce and its acknowledgement, the commit.
:class:`IssueBatcher` has the same ``issue(caller, items)`` shape. While ``in_flight`` batches of a caller are
being issued, later calls of that caller wait, and go together as one batch when one of those ends. A call that
finds the caller idle starts at once, so nothing waits when there is no load, and batches grow with the load.

A batch is one :meth:`Issuance.issue` call: outcomes stay per item (a refusal of one item is that item's only).
When a batch of several calls raises, each call is issued again alone, so that an exception one call's items
cause (a poison request) reaches that call only, and an outage reaches every call, each of which then handles it
as it would its own. Repeating is safe: issuance is idempotent per item key, and items of different calls never
share a key by accident (a redemption's keys name its offer).
Pure asyncio, no I/O of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from services.issuer.application.issuance import Caller, IssueItem, Outcome

__all__ = ["IssueBatcher", "IssuesCredentials"]


class IssuesCredentials(Protocol):
    """What issues credentials: :class:`~.issuance.Issuance` itself, or an :class:`IssueBatcher` in front of it."""

    async def issue(self, caller: Caller, items: Sequence[IssueItem]) -> list[Outcome]:
        """One outcome per item, in order."""
        ...


@dataclass
class _Waiting:
    """The calls of one caller waiting for the next batch: their items, and a future per call."""

    items: list[IssueItem] = field(default_factory=list)
    calls: list[tuple[int, int, asyncio.Future[list[Outcome]]]] = field(default_factory=list)


class IssueBatcher:
    """Gathers concurrent :meth:`issue` calls of one caller into batches for ``issuance`` (module docstring)."""

    def __init__(self, issuance: IssuesCredentials, *, in_flight: int = 1, max_items: int = 256) -> None:
        """``in_flight``: batches of one caller issued at once; ``max_items``: the largest batch made of several
        calls (a single call's items are never split)."""
        if in_flight < 1 or max_items < 1:
            raise ValueError("in_flight and max_items must be at least 1")
        self._issuance, self._in_flight, self._max_items = issuance, in_flight, max_items
        self._running: dict[Caller, int] = {}
        self._waiting: dict[Caller, _Waiting] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def issue(self, caller: Caller, items: Sequence[IssueItem]) -> list[Outcome]:
        """One outcome per item, in order, as :meth:`Issuance.issue` answers them (its exceptions too)."""
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(caller, _Waiting())
        if waiting.items and len(waiting.items) + len(items) > self._max_items:
            self._start(caller)  # the batch is full: it goes now, over the in-flight bound, and this call waits
            waiting = self._waiting.setdefault(caller, _Waiting())
        start = len(waiting.items)
        waiting.items.extend(items)
        waiting.calls.append((start, len(waiting.items), future))
        if self._running.get(caller, 0) < self._in_flight:
            self._start(caller)
        return await future

    def _start(self, caller: Caller) -> None:
        waiting = self._waiting.pop(caller)
        self._running[caller] = self._running.get(caller, 0) + 1
        task = asyncio.get_running_loop().create_task(self._run(caller, waiting), name="issue-batch")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, caller: Caller, batch: _Waiting) -> None:
        try:
            try:
                outcomes = await self._issuance.issue(caller, batch.items)
            except Exception:
                if len(batch.calls) == 1:
                    raise
                await self._one_by_one(caller, batch)  # a call that fails the batch must not fail the others
            else:
                for start, end, future in batch.calls:
                    if not future.done():  # a call whose request went away still had its credential issued
                        future.set_result(outcomes[start:end])
        except BaseException as exc:  # an outage, or cancellation at shutdown: every call of the batch learns it
            for _, _, future in batch.calls:
                if future.done():
                    continue
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                else:
                    future.cancel()
            if not isinstance(exc, Exception):
                raise
        finally:
            self._running[caller] -= 1
            if not self._running[caller]:
                del self._running[caller]
            if caller in self._waiting and self._running.get(caller, 0) < self._in_flight:
                self._start(caller)

    async def _one_by_one(self, caller: Caller, batch: _Waiting) -> None:
        """Issue each call of a failed batch alone (together): what one call's items broke stays that call's,
        an outage fails them all again. Safe to repeat: items already issued are answered under their keys."""

        async def alone(start: int, end: int, future: asyncio.Future[list[Outcome]]) -> None:
            try:
                outcomes = await self._issuance.issue(caller, batch.items[start:end])
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(outcomes)

        await asyncio.gather(*(alone(*call) for call in batch.calls if not call[2].done()))
