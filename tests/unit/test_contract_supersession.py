"""The Supersession contract against the in-memory twin (the revocation service run is tests/integration/)."""

from __future__ import annotations

import uuid

import pytest

from services.issuer.adapters.supersession import InMemorySupersession
from services.issuer.application.ports import CredentialState, RevocationUnavailable, Supersession
from tests.contract.supersession import SupersessionContract, SupersessionHarness


class MemoryHarness:
    """InMemorySupersession; an outage is staged with its ``fail_next``, as unit tests do."""

    def __init__(self) -> None:
        self.supersession = InMemorySupersession()

    def issuer(self, name: str) -> str:
        return f"uni-{name}"

    async def issued(self, issuer_id: str) -> str:
        cid = f"urn:uuid:{uuid.uuid4()}"
        self.supersession.known[cid] = CredentialState(cid, issuer_id, False)
        return cid

    async def unavailable(self) -> Supersession:
        down = DownSupersession()
        down.known = self.supersession.known
        return down


class DownSupersession(InMemorySupersession):
    """Every call fails as an unreachable revocation service does."""

    async def state(self, credential_id: str) -> CredentialState | None:
        raise RevocationUnavailable("revocation service: UNAVAILABLE")

    async def supersede(self, credential_id: str, superseded_by: str, issuer_id: str, actor: str) -> None:
        raise RevocationUnavailable("revocation service: UNAVAILABLE")


class TestInMemorySupersession(SupersessionContract):
    @pytest.fixture
    def harness(self) -> SupersessionHarness:
        return MemoryHarness()
