"""The registry read-model contract against InMemoryRegistry (the Redis run is tests/integration/)."""

from __future__ import annotations

import pytest

from tests.contract.registry import Harness, MemoryHarness, RegistryContract


class TestInMemoryRegistry(RegistryContract):
    @pytest.fixture
    def harness(self) -> Harness:
        return MemoryHarness()
