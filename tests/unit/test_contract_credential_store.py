"""The CredentialStore contract against the in-memory twin (the Redis run is tests/integration/)."""

from __future__ import annotations

import pytest

from services.issuer.adapters.store import InMemoryCredentialStore, Readiness
from services.issuer.application.ports import CredentialStore
from tests.contract.credential_store import CredentialStoreContract, StoreHarness


class MemoryHarness:
    """One InMemoryCredentialStore; its ``epochs`` play the Redis keyspace's sentinels."""

    def __init__(self) -> None:
        self._store = InMemoryCredentialStore()

    def epoch_key(self, group: int) -> str:
        return "epoch:contract"

    def store(self, readiness: Readiness | None = None) -> CredentialStore:
        self._store = InMemoryCredentialStore(readiness)
        return self._store

    async def write_epoch(self, token: bytes) -> None:
        self._store.epochs[self.epoch_key(0)] = token

    async def lose_data(self) -> None:
        self._store.wipe()


class TestInMemoryCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def harness(self) -> StoreHarness:
        return MemoryHarness()
