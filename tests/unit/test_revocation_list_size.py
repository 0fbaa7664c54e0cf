"""The size of a status list travels in its reserved blocks (``StatusIndexBlock.status_list_size``), so a replay of
``StatusIndexesReserved`` keeps each list's size; a block from before sizes travelled (0) is a list of the legacy
131,072 entries, and an absurd size is ignored (bounded memory)."""

from __future__ import annotations

from typing import Any

from microcred.gen.microcred.v1 import events_pb2, status_pb2
from services.revocation.domain import LIST_SIZE, ListMeta
from services.revocation.events.projector import MAX_LIST_SIZE, RevocationProjector


class _Store:
    def __init__(self) -> None:
        self.written: list[tuple[ListMeta, list[int]]] = []

    async def position(self, topic: str, partition: int) -> Any:  # the tracker's lookup; unused here
        return None

    def write_reserved(self, pipe: Any, meta: ListMeta, indexes: Any) -> None:
        self.written.append((meta, list(indexes)))


def _block(list_id: str, size: int) -> status_pb2.StatusIndexBlock:
    return status_pb2.StatusIndexBlock(status_list_id=list_id, status_purpose=status_pb2.STATUS_PURPOSE_REVOCATION,
                                       status_list_credential=f"https://s.example/status/{list_id}",
                                       indexes=[3, 1_000_000], status_list_size=size)


def test_a_replayed_block_keeps_its_lists_size_and_old_blocks_their_legacy_size() -> None:
    store = _Store()
    projector = RevocationProjector(store)  # type: ignore[arg-type]
    payload = events_pb2.StatusIndexesReserved(issuer_id="uni-a", blocks=[
        _block("uni-a-revocation-2", 1 << 20), _block("uni-a-revocation-1", 0),
        _block("uni-a-revocation-3", MAX_LIST_SIZE + 1)])
    projector._reserved(payload)(None)  # type: ignore[arg-type]
    assert [(m.list_id, m.size) for m, _ in store.written] == [("uni-a-revocation-2", 1 << 20),
                                                             ("uni-a-revocation-1", LIST_SIZE)]
    assert store.written[0][1] == [3, 1_000_000]
