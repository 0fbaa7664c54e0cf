"""The shared token-bucket contract against the in-memory twin (the Redis runs are in tests/integration/)."""

from __future__ import annotations

import pytest

from services.verifier.api.rate_limit import BucketStore
from tests.contract.rate_limit import BucketStoreContract
from tests.harness.rate_limit import MemoryBucketStore


class TestMemoryBucketStore(BucketStoreContract):
    @pytest.fixture
    def replicas(self) -> tuple[BucketStore, BucketStore]:
        store = MemoryBucketStore()
        return store, store.replica()
