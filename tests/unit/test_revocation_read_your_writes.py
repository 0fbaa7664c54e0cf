"""A credential not found by the revocation commands is looked up again once the credentials topic, as it is
now, has been applied; when that cannot be known in time the answer is UNAVAILABLE, never NOT_FOUND."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import pytest

from microcred.kafka.publisher import Published
from microcred.pki import ROLE_ISSUER, Identity
from services.revocation.application import NotYetRead, RevocationCommands
from services.revocation.domain import CredentialRecord, NotFound

CID = "urn:uuid:1"
ISSUER = Identity("uni-1", "PL", ROLE_ISSUER)
ENDS = [Published("credentials", 0, 41), Published("credentials", 1, 7)]


class Store:
    """Knows the credential once the projection has applied ``ENDS`` (``applied``)."""

    def __init__(self, exists: bool = True) -> None:
        self.exists, self.applied, self.reads = exists, False, 0

    async def credentials(self, ids: Sequence[str]) -> list[CredentialRecord | None]:
        self.reads += 1
        return [CredentialRecord(i, "uni-1", "PL") if self.exists and self.applied else None for i in ids]


class Tracker:
    def __init__(self, store: Store, reaches: bool = True) -> None:
        self.store, self.reaches = store, reaches
        self.waited: list[list[Published]] = []

    async def wait(self, published: Iterable[Published], timeout: float) -> bool:
        self.waited.append(list(published))
        self.store.applied = self.reaches
        return self.reaches


def commands(store: Store, tracker: Tracker, ends: object = None) -> RevocationCommands:
    async def last_records() -> list[Published]:
        if isinstance(ends, Exception):
            raise ends
        if ends == "slow":
            await asyncio.sleep(10)
        return ENDS

    return RevocationCommands(store, None, tracker, base_url="https://status.example",  # type: ignore[arg-type]
                              credential_ends=last_records, unknown_wait_seconds=0.2)


async def test_a_credential_applied_meanwhile_is_found() -> None:
    store = Store()
    tracker = Tracker(store)
    record = await commands(store, tracker).status(ISSUER, CID)
    assert record.credential_id == CID and tracker.waited == [ENDS] and store.reads == 2


async def test_a_credential_never_issued_is_not_found_after_the_topic_is_read() -> None:
    store = Store(exists=False)
    tracker = Tracker(store)
    with pytest.raises(NotFound):
        await commands(store, tracker).status(ISSUER, CID)
    assert tracker.waited == [ENDS]


@pytest.mark.parametrize("ends", [ConnectionError("no broker"), "slow"])
async def test_when_the_topic_end_cannot_be_read_the_answer_is_unavailable(ends: object) -> None:
    store = Store(exists=False)
    with pytest.raises(NotYetRead):
        await commands(store, Tracker(store), ends).status(ISSUER, CID)


async def test_when_the_projection_does_not_reach_the_end_in_time_the_answer_is_unavailable() -> None:
    store = Store(exists=False)
    with pytest.raises(NotYetRead):
        await commands(store, Tracker(store, reaches=False)).status(ISSUER, CID)


async def test_a_known_credential_costs_no_wait() -> None:
    store = Store()
    store.applied = True
    tracker = Tracker(store)
    await commands(store, tracker).status(ISSUER, CID)
    assert tracker.waited == [] and store.reads == 1
