"""The StatusIndexSource contract against the in-memory twin (the revocation service run is tests/integration/)."""

from __future__ import annotations

import pytest

from microcred.status.check import MIN_ENTRIES
from services.issuer.adapters.status_pool import InMemoryStatusIndexSource
from services.issuer.application.ports import StatusIndexSource, StatusIndexUnavailable
from tests.contract.status_indexes import StatusIndexSourceContract, StatusSourceHarness


class MemoryHarness:
    """InMemoryStatusIndexSource with lists of the size the revocation service uses."""

    list_size = MIN_ENTRIES

    def __init__(self) -> None:
        self.source = InMemoryStatusIndexSource(list_size=self.list_size)

    def issuer(self, name: str) -> str:
        return f"uni-{name}"

    async def unavailable(self) -> StatusIndexSource:
        down = InMemoryStatusIndexSource(list_size=self.list_size)
        down.fail_next = StatusIndexUnavailable("revocation service down")  # how unit tests stage an outage
        return down


class TestInMemoryStatusIndexSource(StatusIndexSourceContract):
    @pytest.fixture
    def harness(self) -> StatusSourceHarness:
        return MemoryHarness()
