"""The checks as a declared table (microcred.verification.table): every check declared once, reports in its order."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from microcred.verification import CheckId, CheckStatus, Reason, verify
from microcred.verification.sd_jwt import ORDER as SD_JWT_ORDER
from microcred.verification.table import CHECKS, Scope
from tests.unit.test_verification_presentation import presentation
from tests.verifier_support import NOW, World


def _table_order(scope: Scope) -> list[CheckId]:
    return [row.id for row in CHECKS if scope in row.applies_to]


def test_the_table_declares_every_check_exactly_once() -> None:
    # every Data Integrity check; DISCLOSURES and TYPE_METADATA belong to SD-JWT VCs, whose order declares them all
    assert Counter(row.id for row in CHECKS) == Counter(CheckId) - Counter({CheckId.DISCLOSURES, CheckId.TYPE_METADATA})
    assert Counter(SD_JWT_ORDER) == Counter(CheckId)
    assert [row.id for row in CHECKS if row.fatal] == [CheckId.FORMAT]


async def test_a_credential_report_lists_its_checks_in_table_order() -> None:
    world = World()
    report = await verify(world.credential(), world.ports(), NOW)
    assert [c.id for c in report.checks] == _table_order(Scope.CREDENTIAL)
    assert _table_order(Scope.CREDENTIAL) == [
        CheckId.FORMAT, CheckId.EU_ELEMENTS, CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY, CheckId.ACCREDITATION,
        CheckId.VALIDITY_WINDOW, CheckId.REVOCATION, CheckId.SUSPENSION]


async def test_a_presentation_report_lists_its_own_and_its_credentials_checks_in_table_order() -> None:
    world = World()
    report = await verify(presentation([world.credential()]), world.ports(), NOW, challenge="c-123",
                          domain="employer.example")
    assert [c.id for c in report.checks] == _table_order(Scope.PRESENTATION)
    assert _table_order(Scope.PRESENTATION) == [CheckId.FORMAT, CheckId.SIGNATURE, CheckId.HOLDER_BINDING]
    assert [c.id for c in report.credentials[0].checks] == _table_order(Scope.EMBEDDED)


async def test_a_refusal_by_the_fatal_row_leaves_every_later_row_not_checked() -> None:
    world = World()
    document: dict[str, Any] = copy.deepcopy(world.credential())
    document["https://www.w3.org/2018/credentials#issuer"] = {"id": "did:example:x"}  # not the compacted form
    report = await verify(document, world.ports(), NOW)
    assert [c.id for c in report.checks] == _table_order(Scope.CREDENTIAL)
    assert report.checks[0].reason_code is Reason.NOT_COMPACTED
    assert {c.reason_code for c in report.checks[1:]} == {Reason.NOT_CHECKED}


class _BrokenKeys:
    """A key resolver that answers nonsense: the proof step breaks."""

    async def resolve(self, *args: Any, **kwargs: Any) -> Any:
        return None

    async def knows_issuer(self, issuer_id: str) -> Any:
        return None


async def test_a_step_that_breaks_makes_each_of_its_rows_unknown() -> None:
    world = World()
    report = await verify(world.credential(), world.ports(keys=_BrokenKeys(), cache=None), NOW)
    for check in (CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY):  # one step, two rows
        result = report.check(check)
        assert result is not None and (result.status, result.reason_code) == (CheckStatus.UNKNOWN,
                                                                              Reason.INTERNAL_ERROR)
    assert [c.id for c in report.checks] == _table_order(Scope.CREDENTIAL)
