"""ProjectionEpoch.ready never answers "complete" for a state whose rebuild started while it was checking.

Seen on the Redis Cluster as a 404 from a wiped wallet (test_wallet_account_deletion[cluster], about one run in
six): a request read "not rebuilding", then, while it read the sentinel, the runner noticed the wipe, marked
the state rebuilding and adopted a new sentinel, which the read then found intact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis

from microcred.storage.positions import ProjectionEpoch


class SentinelStore:
    """Just the commands ProjectionEpoch uses; ``before_next_get`` runs inside the next GET (a concurrent task)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.before_next_get: Callable[[], Awaitable[None]] | None = None

    async def set(self, key: str, value: Any, nx: bool = False) -> bool | None:
        if nx and key in self.values:
            return None
        self.values[key] = value
        return True

    async def get(self, key: str) -> Any:
        if self.before_next_get is not None:
            meanwhile, self.before_next_get = self.before_next_get, None
            await meanwhile()
        return self.values.get(key)

    async def hdel(self, key: str, *fields: str) -> int:
        return 0


async def test_a_reset_during_the_check_is_not_complete() -> None:
    store = SentinelStore()
    epoch = ProjectionEpoch(cast(Redis, store), "wallet")
    await epoch.open()
    assert await epoch.ready() is not None
    del store.values[epoch.key]  # Redis wiped; the runner has not noticed yet

    async def runner_notices() -> None:
        await epoch.reset([("topic", 0)])

    store.before_next_get = runner_notices
    assert await epoch.ready() is None  # the read saw the new sentinel, but the state is being rebuilt
    assert epoch.rebuilding
    epoch.rebuilt()
    assert await epoch.ready() is not None
