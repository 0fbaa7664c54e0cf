"""The issuer's group commit of concurrent issuances (services/issuer/application/issue_batching.py), over a
recording twin of Issuance: batches form only under load, outcomes go back to their own calls, refusals and
outages stay with the batch they happened in, callers are never mixed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from microcred.gen.microcred.v1 import issuer_pb2
from services.issuer.application.issuance import Caller, IssueItem, Outcome, Refusal
from services.issuer.application.issue_batching import IssueBatcher
from tests.harness.factories import valid_micro_credential

UNI, OTHER = Caller("uni", "agency"), Caller("other-uni", "agency")


class RecordingIssuance:
    """Answers each item with a credential named after its key (a key starting "bad" is refused); each batch
    waits for ``release`` when ``hold`` is set; a batch with a key starting "poison" raises, and every batch
    while ``down``."""

    def __init__(self, hold: bool = False) -> None:
        self.batches: list[tuple[Caller, list[str]]] = []
        self.release = asyncio.Event()
        if not hold:
            self.release.set()
        self.running = 0
        self.most_running = 0
        self.down = False

    async def issue(self, caller: Caller, items: Sequence[IssueItem]) -> list[Outcome]:
        keys = [i.idempotency_key for i in items]
        self.batches.append((caller, keys))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        if self.down:
            raise ConnectionError("redis is gone")
        if any(k.startswith("poison") for k in keys):
            raise ValueError("this award breaks the renderer")
        return [Refusal(3, f"refused {k}") if k.startswith("bad") else
                issuer_pb2.IssuedCredential(credential_id=f"{caller.issuer_id}/{k}") for k in keys]


def items(*keys: str) -> list[IssueItem]:
    return [IssueItem(k, valid_micro_credential()) for k in keys]


def ids(outcomes: list[Outcome]) -> list[str]:
    return [o.credential_id if isinstance(o, issuer_pb2.IssuedCredential) else o.message for o in outcomes]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_idle_issuer_issues_a_call_at_once_and_alone() -> None:
    issuance = RecordingIssuance()
    batcher = IssueBatcher(issuance)
    assert ids(await batcher.issue(UNI, items("a", "b"))) == ["uni/a", "uni/b"]
    assert ids(await batcher.issue(UNI, items("c"))) == ["uni/c"]
    assert issuance.batches == [(UNI, ["a", "b"]), (UNI, ["c"])]


async def test_calls_made_while_a_batch_is_issued_go_together_and_each_gets_its_own_outcomes() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance)
    first = asyncio.create_task(batcher.issue(UNI, items("a")))
    await settle()
    later = [asyncio.create_task(batcher.issue(UNI, items(*keys))) for keys in (["b", "c"], ["bad-d"], ["e"])]
    await settle()
    assert issuance.batches == [(UNI, ["a"])]  # the later calls wait for the batch in flight
    issuance.release.set()
    assert ids(await first) == ["uni/a"]
    assert [ids(await t) for t in later] == [["uni/b", "uni/c"], ["refused bad-d"], ["uni/e"]]
    assert issuance.batches == [(UNI, ["a"]), (UNI, ["b", "c", "bad-d", "e"])]
    assert issuance.most_running == 1


async def test_an_outage_reaches_every_call_of_its_batch_and_the_next_batch_still_runs() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance)
    first = asyncio.create_task(batcher.issue(UNI, items("a")))
    await settle()
    doomed = [asyncio.create_task(batcher.issue(UNI, items(k))) for k in ("b", "c")]
    await settle()
    issuance.down = True
    issuance.release.set()
    with pytest.raises(ConnectionError):
        await first
    for task in doomed:
        with pytest.raises(ConnectionError):
            await task
    issuance.down = False
    assert ids(await batcher.issue(UNI, items("d"))) == ["uni/d"]


async def test_a_call_that_breaks_its_batch_fails_alone_and_the_others_are_issued() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance)
    first = asyncio.create_task(batcher.issue(UNI, items("a")))
    await settle()
    later = [asyncio.create_task(batcher.issue(UNI, items(*keys))) for keys in (["b"], ["poison-1", "c"], ["d"])]
    await settle()
    issuance.release.set()
    assert ids(await first) == ["uni/a"]
    assert ids(await later[0]) == ["uni/b"] and ids(await later[2]) == ["uni/d"]
    with pytest.raises(ValueError, match="breaks"):
        await later[1]
    assert issuance.batches[1] == (UNI, ["b", "poison-1", "c", "d"])  # together first, then each call alone
    assert sorted(keys for _, keys in issuance.batches[2:]) == [["b"], ["d"], ["poison-1", "c"]]


async def test_callers_are_never_mixed_and_each_has_its_own_batches_in_flight() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance)
    tasks = [asyncio.create_task(batcher.issue(caller, items(key)))
             for caller, key in ((UNI, "a"), (OTHER, "x"), (UNI, "b"), (OTHER, "y"), (UNI, "c"))]
    await settle()
    assert issuance.batches == [(UNI, ["a"]), (OTHER, ["x"])]
    issuance.release.set()
    assert [ids(await t) for t in tasks] == [["uni/a"], ["other-uni/x"], ["uni/b"], ["other-uni/y"], ["uni/c"]]
    assert sorted(issuance.batches[2:], key=lambda b: b[0].issuer_id) == [(OTHER, ["y"]), (UNI, ["b", "c"])]


async def test_in_flight_bounds_the_batches_issued_at_once() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance, in_flight=2)
    tasks = [asyncio.create_task(batcher.issue(UNI, items(k))) for k in "abcd"]
    await settle()
    assert issuance.batches == [(UNI, ["a"]), (UNI, ["b"])]
    issuance.release.set()
    assert [ids(await t) for t in tasks] == [["uni/a"], ["uni/b"], ["uni/c"], ["uni/d"]]
    assert issuance.batches[2:] == [(UNI, ["c", "d"])] and issuance.most_running == 2


async def test_a_full_batch_goes_without_waiting_and_a_call_is_never_split() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance, max_items=3)
    tasks = [asyncio.create_task(batcher.issue(UNI, items(*keys)))
             for keys in (["a"], ["b", "c"], ["d"], ["e", "f", "g", "h"])]
    await settle()
    # "a" in flight; "b c" wait; "d" would make 3 (allowed); "e f g h" would make 7: "b c d" goes now
    assert issuance.batches == [(UNI, ["a"]), (UNI, ["b", "c", "d"])]
    issuance.release.set()
    assert [ids(await t) for t in tasks][3] == ["uni/e", "uni/f", "uni/g", "uni/h"]
    assert issuance.batches[2:] == [(UNI, ["e", "f", "g", "h"])]


async def test_a_call_that_goes_away_leaves_the_batch_to_finish_for_the_others() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance)
    first = asyncio.create_task(batcher.issue(UNI, items("a")))
    await settle()
    gone, kept = (asyncio.create_task(batcher.issue(UNI, items(k))) for k in ("b", "c"))
    await settle()
    gone.cancel()
    issuance.release.set()
    assert ids(await first) == ["uni/a"] and ids(await kept) == ["uni/c"]
    assert issuance.batches[1] == (UNI, ["b", "c"])  # "b" was issued even so: its redemption is retried
    with pytest.raises(asyncio.CancelledError):
        await gone


def test_bounds_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        IssueBatcher(RecordingIssuance(), in_flight=0)


async def test_a_batch_cancelled_at_shutdown_cancels_its_calls() -> None:
    issuance = RecordingIssuance(hold=True)
    batcher = IssueBatcher(issuance)
    call = asyncio.create_task(batcher.issue(UNI, items("a")))
    await settle()
    [batch] = batcher._tasks  # the batch's own task, as the loop's shutdown cancels it
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert call.cancelled()
