"""Pure rules of the revocation service: authorization, transitions, validation, list ids, refresh."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from microcred.model.errors import OUT_OF_RANGE, REQUIRED
from microcred.pki import ROLE_AGENCY, ROLE_ISSUER, ROLE_SERVICE, Identity
from services.revocation.domain import (
    Action,
    Change,
    CredentialRecord,
    EntryRef,
    FailedPrecondition,
    InvalidArgument,
    NoChange,
    PermissionDenied,
    Purpose,
    actor_of,
    authorize_change,
    authorize_read,
    authorize_reservation,
    decide,
    first_usable,
    issuer_slug,
    list_id_for,
    list_url_for,
    needs_refresh,
    parse_list_number,
    validate_change,
    validate_reservation,
)

REV = EntryRef("uni-a-revocation-0", 17, "revocation", "https://s.example/status/uni-a-revocation-0")
SUS = EntryRef("uni-a-suspension-0", 99, "suspension", "https://s.example/status/uni-a-suspension-0")


def record(revoked: bool = False, suspended: bool = False,
           entries: tuple[EntryRef, ...] = (REV, SUS)) -> CredentialRecord:
    return CredentialRecord("urn:uuid:1", "uni-a", "PL", entries, revoked, suspended)


ISSUER_A = Identity("uni-a", "PL", ROLE_ISSUER)


# ------------------------------------------------------------------------------------------ transitions


def test_revoke_sets_the_revocation_bit_and_is_idempotent() -> None:
    change = decide(Action.REVOKE, record())
    assert change == Change(Action.REVOKE, REV, True) and change.purpose is Purpose.REVOCATION
    assert isinstance(decide(Action.REVOKE, record(revoked=True)), NoChange)
    # A suspended credential can still be revoked (revocation wins).
    assert decide(Action.REVOKE, record(suspended=True)) == Change(Action.REVOKE, REV, True)


def test_suspend_and_reinstate_toggle_only_the_suspension_bit() -> None:
    assert decide(Action.SUSPEND, record()) == Change(Action.SUSPEND, SUS, True)
    assert isinstance(decide(Action.SUSPEND, record(suspended=True)), NoChange)
    assert decide(Action.REINSTATE, record(suspended=True)) == Change(Action.REINSTATE, SUS, False)
    assert isinstance(decide(Action.REINSTATE, record()), NoChange)


@pytest.mark.parametrize("action", [Action.SUSPEND, Action.REINSTATE])
def test_revocation_is_permanent(action: Action) -> None:
    with pytest.raises(FailedPrecondition, match="permanent"):
        decide(action, record(revoked=True, suspended=True))


def test_a_missing_status_entry_is_a_failed_precondition() -> None:
    with pytest.raises(FailedPrecondition, match="no revocation status entry"):
        decide(Action.REVOKE, record(entries=(SUS,)))
    with pytest.raises(FailedPrecondition, match="no suspension status entry"):
        decide(Action.SUSPEND, record(entries=(REV,)))


# ------------------------------------------------------------------------------------------ authorization


@pytest.mark.parametrize("identity", [ISSUER_A, Identity("uni-a", "DE", ROLE_ISSUER),
                                      Identity("operator-7", "PL", ROLE_AGENCY)])
def test_the_issuer_and_its_agency_may_change_status(identity: Identity) -> None:
    authorize_change(identity, record(), Action.REVOKE)
    authorize_read(identity, record())


@pytest.mark.parametrize(("identity", "message"), [
    (Identity("uni-b", "PL", ROLE_ISSUER), "issuer 'uni-b' may not revoke"),
    (Identity("operator", "DE", ROLE_AGENCY), "agency 'DE' may not revoke"),
    (Identity("issuer-service", "platform", ROLE_SERVICE), "role 'service' may not change"),
    (Identity("uni-a", "PL", ""), "role '(none)'"),
    (Identity("x", "", ROLE_AGENCY), "agency '' may not revoke"),
])
def test_everyone_else_is_denied_with_a_clear_message(identity: Identity, message: str) -> None:
    with pytest.raises(PermissionDenied, match=re.escape(message)):
        authorize_change(identity, record(), Action.REVOKE)


def test_agency_with_empty_tenant_never_matches() -> None:
    with pytest.raises(PermissionDenied):
        authorize_change(Identity("op", "", ROLE_AGENCY), CredentialRecord("c", "uni-a", ""), Action.REVOKE)


def test_services_may_read_but_other_issuers_may_not() -> None:
    authorize_read(Identity("verifier", "platform", ROLE_SERVICE), record())
    with pytest.raises(PermissionDenied):
        authorize_read(Identity("uni-b", "PL", ROLE_ISSUER), record())


def test_reservations_by_the_issuer_service_or_the_issuer_itself() -> None:
    authorize_reservation(Identity("issuer-service", "platform", ROLE_SERVICE), "uni-a")
    authorize_reservation(ISSUER_A, "uni-a")
    with pytest.raises(PermissionDenied, match="only for itself"):
        authorize_reservation(ISSUER_A, "uni-b")
    with pytest.raises(PermissionDenied, match="may not reserve"):
        authorize_reservation(Identity("operator", "PL", ROLE_AGENCY), "uni-a")


def test_actor_names_role_subject_and_agency() -> None:
    assert actor_of(Identity("operator-7", "PL", ROLE_AGENCY)) == "agency:operator-7@PL"


# ------------------------------------------------------------------------------------------ validation


def test_change_requests_need_an_id_and_a_reason() -> None:
    validate_change("urn:uuid:1", "issued in error")
    with pytest.raises(InvalidArgument) as bad:
        validate_change("", " ")
    assert [(v.field, v.reason) for v in bad.value.violations] == [("credential_id", REQUIRED), ("reason", REQUIRED)]
    with pytest.raises(InvalidArgument) as long:
        validate_change("x" * 513, "r" * 1001)
    assert [v.reason for v in long.value.violations] == [OUT_OF_RANGE, OUT_OF_RANGE]
    with pytest.raises(InvalidArgument, match="control characters"):
        validate_change("urn:\n1", "why")


def test_reservation_validation_lists_every_problem() -> None:
    validate_reservation("uni-a", [Purpose.REVOCATION, Purpose.SUSPENSION], 10_000)
    with pytest.raises(InvalidArgument) as bad:
        validate_reservation("", [None, Purpose.REVOCATION, Purpose.REVOCATION], 0)
    assert [v.field for v in bad.value.violations] == ["issuer_id", "status_purposes[0]", "status_purposes", "count"]
    with pytest.raises(InvalidArgument, match="at least one purpose"):
        validate_reservation("uni-a", [], 1)
    with pytest.raises(InvalidArgument, match="between 1 and 10"):
        validate_reservation("uni-a", [Purpose.REVOCATION], 11, max_block=10)


# ------------------------------------------------------------------------------------------ lists


def test_list_ids_and_urls() -> None:
    assert list_id_for("uni-a", Purpose.REVOCATION, 0) == "uni-a-revocation-0"
    assert parse_list_number(list_id_for("uni-a", Purpose.SUSPENSION, 12)) == 12
    assert parse_list_number("some-uuid-like-id") == 0
    assert list_url_for("https://status.example/", "uni-a-revocation-0") == \
        "https://status.example/status/uni-a-revocation-0"
    with pytest.raises(ValueError):
        list_id_for("uni-a", Purpose.REVOCATION, -1)


def test_unsafe_issuer_ids_are_hashed_and_cannot_collide_with_safe_ones() -> None:
    slug = issuer_slug("did:web:uni.example/issuers/1")
    assert slug.startswith("~") and len(slug) == 21
    assert issuer_slug("did:web:uni.example/issuers/1") == slug
    assert issuer_slug("did:web:uni.example/issuers/2") != slug
    assert issuer_slug("Uni_A.1-x") == "Uni_A.1-x"
    assert issuer_slug("a" * 65).startswith("~")


def test_refresh_keeps_a_cached_copy_valid_for_its_ttl() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert needs_refresh(None, now, 60)
    assert not needs_refresh(now + timedelta(seconds=121), now, 60)
    assert needs_refresh(now + timedelta(seconds=119), now, 60)


def test_first_usable_list() -> None:
    assert first_usable([("a", 5), ("b", 50)], 10) == "b"
    assert first_usable([("a", 5)], 10) is None
