"""The registry domain without any I/O: how events fold into state, the decisions, and the command checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from microcred.gen.microcred.v1 import elements_pb2, events_pb2, registry_pb2
from microcred.registry import domain
from microcred.registry.ports import IssuanceRefusal, KeyProblem
from tests.contract.registry import (
    T0,
    accreditation,
    accredited,
    agency_registered,
    issuer_registered,
    later,
    org,
    rotated,
)


def onboarded(*events: object) -> domain.RegistryState:
    state = domain.RegistryState()
    for i, event in enumerate((agency_registered(), issuer_registered(), *events)):
        domain.apply(state, event, later(i))  # type: ignore[arg-type]
    return state


def test_apply_reports_what_changed_and_why_not() -> None:
    state = domain.RegistryState()
    assert domain.apply(state, agency_registered(), T0) == domain.Applied("agency", "ie-qqi", True)
    assert domain.apply(state, agency_registered(), T0).changed is False
    assert domain.apply(state, issuer_registered(), T0) == domain.Applied("issuer", "uni-a", True)
    ghost = domain.apply(state, accredited("ghost"), T0)
    assert not ghost.changed and "unregistered issuer" in ghost.note
    other = domain.apply(state, events_pb2.CredentialRevoked(credential_id="x"), T0)
    assert other.kind == "" and not other.changed and "not a registry event" in other.note
    unknown = domain.apply(state, events_pb2.AccreditationSuspended(issuer_id="uni-a", accreditation_id="nope"), T0)
    assert not unknown.changed and "unknown accreditation" in unknown.note


def test_apply_never_mutates_messages_handed_out_before() -> None:
    state = onboarded()
    before = state.issuers["uni-a"]
    domain.apply(state, accredited(), later(5))
    assert len(before.accreditations) == 0 and len(state.issuers["uni-a"].accreditations) == 1


def test_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        domain.apply(domain.RegistryState(), agency_registered(), T0.replace(tzinfo=None))


def test_rotation_without_retire_time_retires_at_the_event_time() -> None:
    state = onboarded(rotated())
    key1, key2 = state.issuers["uni-a"].verification_methods
    assert domain.to_datetime(key1.retired_at) == later(2) == domain.to_datetime(key2.created_at)
    # A later rotation naming the same retired key never moves its retirement later.
    domain.apply(state, events_pb2.IssuerKeyRotated(issuer_id="uni-a", new_verification_method_id=key2.id + "x",
                                                    retired_verification_method_id=key1.id,
                                                    retired_at=domain.timestamp(later(50))), later(50))
    assert domain.to_datetime(state.issuers["uni-a"].verification_methods[0].retired_at) == later(2)


def test_current_verification_method_follows_rotations() -> None:
    state = onboarded(rotated(retired_at=later(30)))
    issuer = state.issuers["uni-a"]
    current = domain.current_verification_method(issuer, later(10))
    assert current is not None and current.id.endswith("#key-2")  # both valid: the newest wins
    assert domain.current_verification_method(issuer, later(1)).id.endswith("#key-1")  # type: ignore[union-attr]
    assert domain.current_verification_method(issuer, T0 - timedelta(days=1)) is None


def test_authorize_prefers_the_refusal_closest_to_allowed() -> None:
    state = onboarded(accredited(accreditation_id="old", valid_until=later(5)),
                      accredited(accreditation_id="low", max_eqf=4))
    decision = domain.authorize(state.issuers["uni-a"], "uni-a", 6, later(10))
    assert decision.refusal is IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED and decision.accreditation_id == "low"
    assert domain.authorize(state.issuers["uni-a"], "uni-a", 3, later(10)).accreditation_id == "low"
    with pytest.raises(ValueError, match="EQF level"):
        domain.authorize(state.issuers["uni-a"], "uni-a", 9, later(10))


def test_resolve_key_rejects_an_unusable_public_key() -> None:
    issuer = registry_pb2.Issuer(issuer_id="x", did="did:web:h:issuers:x")
    issuer.verification_methods.add(id="did:web:h:issuers:x#key-1", public_key_multibase="zNotAKey",
                                    created_at=domain.timestamp(T0))
    resolution = domain.resolve_key(issuer, "did:web:h:issuers:x#key-1", later(1))
    assert resolution.public_key is None and resolution.problem is KeyProblem.UNKNOWN_VERIFICATION_METHOD


def test_standing_of_an_accreditation() -> None:
    acc = domain.accreditation_from_event(accredited(valid_from=later(10), valid_until=later(20)))
    assert domain.standing(acc, later(9)) is IssuanceRefusal.ACCREDITATION_NOT_YET_VALID
    assert domain.standing(acc, later(10)) is None
    assert domain.standing(acc, later(20)) is IssuanceRefusal.ACCREDITATION_EXPIRED
    acc.status = registry_pb2.ACCREDITATION_STATUS_UNSPECIFIED
    assert domain.standing(acc, later(15)) is IssuanceRefusal.NOT_ACCREDITED


@pytest.mark.parametrize(("value", "ok"), [("uni-a", True), ("UCD.ie_1", True), ("a" * 64, True), ("", False),
                                           ("a" * 65, False), ("-x", False), ("..", False), ("a/b", False),
                                           ("a b", False), ("é", False)])
def test_ids(value: str, ok: bool) -> None:
    assert (domain.check_id("id", value, "issuer") == []) is ok


def test_organisation_checks() -> None:
    assert domain.check_organisation("o", org("Uni"), country_required=True) == []
    bad = elements_pb2.Organisation(legal_name=elements_pb2.LangString(values={"de": "Uni"}),
                                    identifiers=[elements_pb2.Identifier(scheme="", value="1")],
                                    country=elements_pb2.Country(code="EL"), homepage="ftp://x")
    assert {(v.field, v.reason) for v in domain.check_organisation("o", bad, country_required=True)} == {
        ("o.legal_name", "REQUIRED"), ("o.identifiers[0].scheme", "REQUIRED"),
        ("o.country.code", "INVALID_FORMAT"), ("o.homepage", "INVALID_FORMAT")}
    no_country = org("Uni", country="")
    assert domain.check_organisation("o", no_country, country_required=False) == []
    assert [v.reason for v in domain.check_organisation("o", no_country, country_required=True)] == ["REQUIRED"]


def test_accreditation_checks() -> None:
    assert domain.check_accreditation("a", accreditation()) == []
    bad = accreditation()
    bad.type = 99  # type: ignore[assignment]
    bad.ClearField("valid_from")
    bad.max_eqf_level = 0  # type: ignore[assignment]
    assert {(v.field, v.reason) for v in domain.check_accreditation("a", bad)} == {
        ("a.type", "UNKNOWN_VOCABULARY"), ("a.valid_from", "REQUIRED"), ("a.max_eqf_level", "REQUIRED")}


def test_snapshot_is_canonical() -> None:
    a, b = onboarded(accredited()), onboarded(accredited())
    snap = domain.snapshot(a.agencies.values(), a.issuers.values(), domain.method_index(a.issuers.values()),
                           domain.did_index(a.issuers.values()))
    assert snap == domain.snapshot(reversed(list(b.agencies.values())), b.issuers.values(),
                                   domain.method_index(b.issuers.values()), domain.did_index(b.issuers.values()))
    assert list(snap) == ["agencies", "issuers", "method_index", "did_index"]
