"""The Supersession contract: the revocation side of a correction (a credential's state, revoking it as superseded).

The caller (:mod:`services.issuer.application.correction`) relies on it thus: ``state`` answers the issuer and
revocation bit of a credential the revocation side knows, None for one it does not (yet); ``supersede`` leaves
the credential revoked, as the next ``state`` shows (read your writes), and may be repeated (a correction's
retry); a credential it does not know, or that another issuer issued, is never revoked: the call raises
:class:`~services.issuer.application.ports.RevocationUnavailable` (the correction answers "retry": the
credential may not be projected yet) and nothing changes; an unreachable revocation side raises it too.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import pytest

from services.issuer.application.ports import CredentialState, RevocationUnavailable, Supersession

__all__ = ["SupersessionContract", "SupersessionHarness"]


class SupersessionHarness(Protocol):
    """The adapter under test, how to make a credential known to the revocation side, and one that is down."""

    @property
    def supersession(self) -> Supersession:
        """The adapter under test."""
        ...

    def issuer(self, name: str) -> str:
        """An issuer id of this test's own."""
        ...

    async def issued(self, issuer_id: str) -> str:
        """The id of a new credential of ``issuer_id`` that the revocation side knows (issued, projected)."""
        ...

    async def unavailable(self) -> Supersession:
        """An adapter of the same kind whose revocation side cannot be reached."""
        ...


def new_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


class SupersessionContract:
    """Behaviour every Supersession adapter must show; subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> SupersessionHarness:
        raise NotImplementedError

    async def test_a_known_credential_has_its_issuer_and_is_not_revoked(self, harness: SupersessionHarness) -> None:
        issuer = harness.issuer("a")
        cid = await harness.issued(issuer)
        assert await harness.supersession.state(cid) == CredentialState(cid, issuer, False)

    async def test_an_unknown_credential_has_no_state(self, harness: SupersessionHarness) -> None:
        assert await harness.supersession.state(new_id()) is None

    async def test_supersede_revokes_and_may_be_repeated(self, harness: SupersessionHarness) -> None:
        issuer = harness.issuer("a")
        cid, replacement = await harness.issued(issuer), new_id()
        await harness.supersession.supersede(cid, replacement, issuer, "registrar@uni-a")
        assert await harness.supersession.state(cid) == CredentialState(cid, issuer, True)
        await harness.supersession.supersede(cid, replacement, issuer, "registrar@uni-a")  # a correction's retry
        assert await harness.supersession.state(cid) == CredentialState(cid, issuer, True)

    async def test_an_unknown_credential_is_not_superseded(self, harness: SupersessionHarness) -> None:
        issuer, cid = harness.issuer("a"), new_id()
        with pytest.raises(RevocationUnavailable):
            await harness.supersession.supersede(cid, new_id(), issuer, "registrar@uni-a")
        assert await harness.supersession.state(cid) is None

    async def test_another_issuers_credential_is_never_superseded(self, harness: SupersessionHarness) -> None:
        owner = harness.issuer("owner")
        cid = await harness.issued(owner)
        with pytest.raises(RevocationUnavailable):
            await harness.supersession.supersede(cid, new_id(), harness.issuer("intruder"), "someone")
        assert await harness.supersession.state(cid) == CredentialState(cid, owner, False)

    async def test_an_unreachable_revocation_side_raises_revocation_unavailable(
            self, harness: SupersessionHarness) -> None:
        issuer = harness.issuer("a")
        cid = await harness.issued(issuer)
        down = await harness.unavailable()
        with pytest.raises(RevocationUnavailable):
            await down.state(cid)
        with pytest.raises(RevocationUnavailable):
            await down.supersede(cid, new_id(), issuer, "registrar@uni-a")
        assert await harness.supersession.state(cid) == CredentialState(cid, issuer, False)
