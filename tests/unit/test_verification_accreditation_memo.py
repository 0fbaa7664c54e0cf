"""The accreditation result is remembered per accreditation standing, not per issuance instant: credentials
issued at different moments of the same accreditation period share one result, and a date on the other side of
a boundary of the period (not yet valid, expired) is judged on its own."""

from __future__ import annotations

from datetime import timedelta

from microcred.gen.microcred.v1 import elements_pb2, events_pb2
from microcred.registry.domain import timestamp
from microcred.verification import CheckStatus, Reason
from microcred.verification.accreditation import TrustDirectory, check_issuer_accreditation
from tests.harness.factories import ISSUED_AT, organisation
from tests.verifier_support import NOW, World, registry_event


async def test_dates_within_one_period_share_a_result_and_a_boundary_is_respected() -> None:
    world = World()
    directory = TrustDirectory(world.registry, fresh_ttl=3600)  # one registry snapshot for the whole test
    registered = ISSUED_AT - timedelta(days=30)  # acc-1 of the World is valid from then, with no end

    first = await check_issuer_accreditation(world.did, 6, ISSUED_AT, directory, NOW)
    later = await check_issuer_accreditation(world.did, 6, ISSUED_AT + timedelta(days=3, seconds=17), directory, NOW)
    assert first.status is CheckStatus.VALID
    assert later is first  # the same standing of every accreditation: computed once

    before = await check_issuer_accreditation(world.did, 6, registered - timedelta(seconds=1), directory, NOW)
    assert (before.status, before.reason_code) == (CheckStatus.INVALID, Reason.ACCREDITATION_NOT_YET_VALID)
    again = await check_issuer_accreditation(world.did, 6, ISSUED_AT + timedelta(hours=5), directory, NOW)
    assert again is first


async def test_an_expiry_inside_the_dates_gives_two_answers() -> None:
    world = World()
    start = ISSUED_AT - timedelta(days=10)
    end = ISSUED_AT + timedelta(days=10)
    registry_event(world.registry, events_pb2.IssuerAccredited(
        issuer_id=world.issuer_id, accreditation_id="acc-2",
        type=elements_pb2.ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE, framework="Irish NFQ",
        accrediting_body=organisation("Quality and Qualifications Ireland"), max_eqf_level=elements_pb2.EQF_LEVEL_8,
        valid_from=timestamp(start), valid_until=timestamp(end), decision_reference="QQI-2026-2"), start)
    directory = TrustDirectory(world.registry, fresh_ttl=3600)

    # EQF 8 only under acc-2 (acc-1 allows up to 7): accredited before its end, not after
    inside = await check_issuer_accreditation(world.did, 8, end - timedelta(seconds=1), directory, NOW)
    after = await check_issuer_accreditation(world.did, 8, end + timedelta(seconds=1), directory, NOW)
    assert inside.status is CheckStatus.VALID
    assert after.status is CheckStatus.INVALID
    assert after.reason_code is not Reason.ACCREDITED
    assert (await check_issuer_accreditation(world.did, 8, start + timedelta(days=1), directory, NOW)) is inside
