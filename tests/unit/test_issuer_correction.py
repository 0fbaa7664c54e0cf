"""The correction and listing use cases with in-memory ports: what a correction issues, revokes and links, its
retries, and every refusal (which must change nothing); pages of an issuer's credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.credential.ids import credential_id_for
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.kafka.topics import CREDENTIALS
from services.issuer.adapters.store import next_cursor
from services.issuer.adapters.supersession import InMemorySupersession
from services.issuer.application.correction import Corrected, Correction, correction_key, correction_violations
from services.issuer.application.listing import CredentialListing, decode_token, encode_token
from services.issuer.application.ports import CredentialState, PageCursor, RevocationUnavailable
from tests.harness.factories import valid_micro_credential
from tests.unit.test_issuer_issuance import UNI_A, UNI_B, Rig, issued, item, refusal, rig


def corrected_name() -> pb.MicroCredential:
    mc = valid_micro_credential()
    mc.learner.given_name = "Anna-Maria"
    return mc


async def setup() -> tuple[Rig, InMemorySupersession, Correction, str]:
    r = rig()
    [outcome] = await r.issuance.issue(UNI_A, [item("row-1")])
    old = issued(outcome).credential_id
    revocation = InMemorySupersession()
    revocation.known[old] = CredentialState(old, "uni-a", False)
    return r, revocation, Correction(r.issuance, r.store, revocation), old


def done(outcome: object) -> Corrected:
    assert isinstance(outcome, Corrected), outcome
    return outcome


async def test_a_correction_issues_the_replacement_linked_to_the_old_one_then_revokes_the_old_one() -> None:
    r, revocation, correction, old = await setup()
    result = done(await correction.correct(UNI_A, old, corrected_name(), "given name misspelt"))
    new = result.replacement.credential_id
    assert new == credential_id_for("uni-a", correction_key(old)) != old
    assert (result.superseded, result.already_corrected, result.replacement.replaces) == (old, False, old)
    assert revocation.superseded == {old: (new, UNI_A.actor)}
    assert revocation.known[old].revoked
    event = r.published()[-1]
    assert (event.credential_id, event.replaces, event.correction_reason) == (new, old, "given name misspelt")
    assert event.credential.learner.given_name == "Anna-Maria"


async def test_a_retried_correction_issues_nothing_twice() -> None:
    r, _, correction, old = await setup()
    first = done(await correction.correct(UNI_A, old, corrected_name(), "given name misspelt"))
    again = done(await correction.correct(UNI_A, old, corrected_name(), "given name misspelt"))
    assert again.replacement.credential_id == first.replacement.credential_id
    assert again.already_corrected and again.replacement.already_issued
    assert len(r.publisher.topics[CREDENTIALS.name]) == 2  # the original and one replacement


async def test_a_correction_interrupted_before_the_revocation_is_completed_by_its_retry() -> None:
    r, revocation, correction, old = await setup()
    revocation.fail_next = RevocationUnavailable("revocation service: UNAVAILABLE")
    interrupted = refusal(await correction.correct(UNI_A, old, corrected_name(), "typo"))
    assert interrupted.code == code_pb2.UNAVAILABLE and "retry the same correction" in interrupted.message
    assert not revocation.known[old].revoked
    retried = done(await correction.correct(UNI_A, old, corrected_name(), "typo"))
    assert revocation.known[old].revoked and not retried.already_corrected  # the revocation happened now
    assert len(r.publisher.topics[CREDENTIALS.name]) == 2


async def test_a_second_different_correction_of_the_same_credential_is_refused() -> None:
    r, _, correction, old = await setup()
    first = done(await correction.correct(UNI_A, old, corrected_name(), "typo"))
    other = corrected_name()
    other.learner.family_name = "Kowalska-Nowak"
    refused = refusal(await correction.correct(UNI_A, old, other, "another typo"))
    assert refused.code == code_pb2.FAILED_PRECONDITION and refused.reason == "ALREADY_SUPERSEDED"
    assert first.replacement.credential_id in refused.message and "learner.family_name" in refused.message
    assert len(r.publisher.topics[CREDENTIALS.name]) == 2


async def test_a_revoked_credential_cannot_be_corrected() -> None:
    r, revocation, correction, old = await setup()
    revocation.known[old] = CredentialState(old, "uni-a", True)
    refused = refusal(await correction.correct(UNI_A, old, corrected_name(), "typo"))
    assert refused.code == code_pb2.FAILED_PRECONDITION and "revoked" in refused.message
    assert len(r.publisher.topics[CREDENTIALS.name]) == 1 and not revocation.superseded


async def test_another_issuers_credential_is_permission_denied_and_an_unknown_one_not_found() -> None:
    r, revocation, correction, old = await setup()
    refused = refusal(await correction.correct(UNI_B, old, corrected_name(), "typo"))
    assert refused.code == code_pb2.PERMISSION_DENIED and refused.reason == "NOT_YOUR_CREDENTIAL"
    unknown = refusal(await correction.correct(UNI_A, "urn:uuid:00000000-0000-0000-0000-000000000000",
                                               corrected_name(), "typo"))
    assert unknown.code == code_pb2.NOT_FOUND
    assert len(r.publisher.topics[CREDENTIALS.name]) == 1 and not revocation.superseded


async def test_bad_input_names_every_field_and_changes_nothing() -> None:
    r, revocation, correction, old = await setup()
    refused = refusal(await correction.correct(UNI_A, "", None, " "))
    assert refused.code == code_pb2.INVALID_ARGUMENT
    assert {v.field for v in refused.violations} == {"credential_id", "credential", "reason"}
    invalid = corrected_name()
    invalid.ClearField("title")
    refused = refusal(await correction.correct(UNI_A, old, invalid, "typo"))
    assert refused.code == code_pb2.INVALID_ARGUMENT and any(v.field.startswith("title") for v in refused.violations)
    assert len(r.publisher.topics[CREDENTIALS.name]) == 1 and not revocation.superseded
    assert correction_violations("x" * 513, True, "r" * 1001)[0].field == "credential_id"
    assert [v.field for v in correction_violations("urn:uuid:1", True, "r" * 1001)] == ["reason"]


async def test_a_correction_key_cannot_be_used_to_issue_directly() -> None:
    r = rig()
    [outcome] = await r.issuance.issue(UNI_A, [item(correction_key("urn:uuid:1"))])
    refused = refusal(outcome)
    assert refused.code == code_pb2.INVALID_ARGUMENT and "reserved" in refused.violations[0].description


def test_next_cursor_skips_what_a_page_showed_at_its_last_issue_time() -> None:
    assert next_cursor(PageCursor(), [5, 4, 4], more=False) is None
    assert next_cursor(PageCursor(), [5, 4, 4], more=True) == PageCursor(4, 2)
    assert next_cursor(PageCursor(4, 2), [4, 4], more=True) == PageCursor(4, 4)  # a chunk wider than a page
    assert next_cursor(PageCursor(4, 2), [4, 3], more=True) == PageCursor(3, 1)
    assert decode_token(encode_token(PageCursor(123, 7))) == PageCursor(123, 7)
    assert decode_token("not a token") is None and decode_token(encode_token(PageCursor(1, -1))) is None


async def test_list_pages_newest_first_without_repeats_and_filters_by_time() -> None:
    r = rig()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    for n in range(3):  # three chunks of two: equal issue times within a chunk
        r.issuance._clock = lambda n=n: now + timedelta(minutes=n)  # type: ignore[misc]
        await r.issuance.issue(UNI_A, [item(f"c{n}-a"), item(f"c{n}-b")])
    await r.issuance.issue(UNI_B, [item("b-1")])
    listing = CredentialListing(r.store)
    seen: list[issuer_pb2.CredentialSummary] = []
    token = ""
    while True:
        page = await listing.page(UNI_A, issuer_pb2.ListCredentialsRequest(page_size=3, page_token=token))
        assert isinstance(page, issuer_pb2.ListCredentialsResponse)
        seen += page.credentials
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == 6 and len({s.credential_id for s in seen}) == 6
    assert [s.issued_at.ToDatetime(tzinfo=UTC) for s in seen] == sorted(
        (s.issued_at.ToDatetime(tzinfo=UTC) for s in seen), reverse=True)
    assert seen[0].title == "Digital micro-credential creation"
    since = Timestamp()
    since.FromDatetime(now + timedelta(minutes=1))
    before = Timestamp()
    before.FromDatetime(now + timedelta(minutes=2))
    page = await listing.page(UNI_A, issuer_pb2.ListCredentialsRequest(issued_since=since, issued_before=before))
    assert isinstance(page, issuer_pb2.ListCredentialsResponse)
    assert {s.credential_id for s in page.credentials} == {credential_id_for("uni-a", k) for k in ("c1-a", "c1-b")}
    bad = await listing.page(UNI_A, issuer_pb2.ListCredentialsRequest(page_size=5000, page_token="%%",
                                                                      issued_since=before, issued_before=since))
    assert not isinstance(bad, issuer_pb2.ListCredentialsResponse)
    assert bad.code == code_pb2.INVALID_ARGUMENT
    assert {v.field for v in bad.violations} == {"page_size", "page_token", "issued_before"}
    bad = await listing.page(UNI_A, issuer_pb2.ListCredentialsRequest(issued_since=Timestamp(nanos=-1),
                                                                      issued_before=Timestamp(seconds=10**15)))
    assert not isinstance(bad, issuer_pb2.ListCredentialsResponse)
    assert {v.field for v in bad.violations} == {"issued_since", "issued_before"}
