"""Stacking progress (pure): complete, partial and disqualified cases, duplicates, ECTS-only pathways."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from services.wallet.domain.credentials import CredentialStatus, EuElements, HeldCredential, Identity
from services.wallet.domain.stacking import Pathway, Reason, evaluate

NOW = datetime(2026, 1, 1, tzinfo=UTC)
A1, A2, A3 = "urn:ach:1", "urn:ach:2", "urn:ach:3"
PATHWAY = Pathway("urn:pathway:p", "agency", {"en": "P"}, {}, (A1, A2, A3), Decimal("15"), 6,
                  ("uni", "did:key:z6MkVET"))


def held(cid: str, achievement: str | None, ects: str | None = "5", eqf: int | None = 6, issuer: str = "uni",
         status: CredentialStatus = CredentialStatus.ACTIVE, valid_until: datetime | None = None,
         issued: datetime = datetime(2025, 3, 1, tzinfo=UTC), issuer_did: str | None = None) -> HeldCredential:
    elements = EuElements("t", achievement, None if ects is None else Decimal(ects), eqf, issued, valid_until)
    return HeldCredential(cid, issuer, issuer_did, elements, Identity(did="did:key:z6MkL"), status=status)


def test_complete_when_every_required_achievement_counts_and_ects_suffice() -> None:
    progress = evaluate(PATHWAY, [held("c1", A1), held("c2", A2, eqf=7), held("c3", A3, ects="5.5")], NOW)
    assert progress.complete
    assert progress.ects_gathered == Decimal("15.5") and progress.ects_missing == 0
    assert progress.missing_achievement_ids == ()
    assert progress.counted_credential_ids == ("c1", "c2", "c3")


def test_partial_lists_missing_achievements_and_ects() -> None:
    progress = evaluate(PATHWAY, [held("c1", A1), held("c2", A2, ects="4")], NOW)
    assert not progress.complete
    assert progress.missing_achievement_ids == (A3,)
    assert progress.ects_gathered == Decimal(9) and progress.ects_missing == Decimal(6)


def test_all_achievements_but_too_few_ects_is_not_complete() -> None:
    progress = evaluate(PATHWAY, [held("c1", A1, ects="2"), held("c2", A2, ects="2"), held("c3", A3, ects="2")], NOW)
    assert not progress.complete and progress.missing_achievement_ids == () and progress.ects_missing == Decimal(9)


def test_each_disqualification_has_its_reason() -> None:
    credentials = [
        held("revoked", A1, status=CredentialStatus.REVOKED),
        held("suspended", A1, status=CredentialStatus.SUSPENDED),
        held("expired", A1, valid_until=datetime(2025, 12, 31, tzinfo=UTC)),
        held("low", A2, eqf=5),
        held("no-level", A2, eqf=None),
        held("foreign", A3, issuer="unknown-issuer"),
        held("extra", "urn:ach:other"),
    ]
    progress = evaluate(PATHWAY, credentials, NOW)
    reasons = {a.credential_id: a.reasons for a in progress.credentials}
    assert reasons == {
        "revoked": (Reason.REVOKED,), "suspended": (Reason.SUSPENDED,), "expired": (Reason.EXPIRED,),
        "low": (Reason.EQF_LEVEL_TOO_LOW,), "no-level": (Reason.EQF_LEVEL_NOT_GIVEN,),
        "foreign": (Reason.ISSUER_NOT_ACCEPTED,), "extra": (Reason.NOT_REQUIRED,),
    }
    assert not progress.complete and progress.ects_gathered == 0
    assert progress.missing_achievement_ids == (A1, A2, A3)
    assert all(a.ects == 0 for a in progress.credentials)


def test_all_reasons_are_listed_most_telling_first() -> None:
    bad = held("bad", "urn:ach:other", eqf=3, issuer="x", status=CredentialStatus.REVOKED)
    [assessment] = evaluate(PATHWAY, [bad], NOW).credentials
    assert assessment.reasons == (Reason.NOT_REQUIRED, Reason.REVOKED, Reason.ISSUER_NOT_ACCEPTED,
                                  Reason.EQF_LEVEL_TOO_LOW)
    assert assessment.to_json()["reason"] == "NOT_REQUIRED"


def test_issuer_is_accepted_by_registry_id_or_did() -> None:
    progress = evaluate(PATHWAY, [held("c", A1, issuer="did:key:z6MkVET", issuer_did="did:key:z6MkVET")], NOW)
    assert progress.credentials[0].counts


def test_one_achievement_counts_once_preferring_more_ects_then_earlier() -> None:
    credentials = [
        held("small", A1, ects="3"), held("big", A1, ects="6"),
        held("later", A2, issued=datetime(2025, 5, 1, tzinfo=UTC)), held("earlier", A2),
    ]
    progress = evaluate(PATHWAY, credentials, NOW)
    counts = {a.credential_id: (a.counts, a.reasons) for a in progress.credentials}
    assert counts == {"small": (False, (Reason.DUPLICATE_ACHIEVEMENT,)), "big": (True, ()),
                      "later": (False, (Reason.DUPLICATE_ACHIEVEMENT,)), "earlier": (True, ())}
    assert [a.credential_id for a in progress.credentials] == ["small", "big", "later", "earlier"]  # input order
    assert progress.ects_gathered == Decimal(11)


def test_a_disqualified_credential_does_not_block_a_valid_duplicate() -> None:
    progress = evaluate(PATHWAY, [held("rev", A1, ects="9", status=CredentialStatus.REVOKED), held("ok", A1)], NOW)
    assert {a.credential_id: a.counts for a in progress.credentials} == {"rev": False, "ok": True}


def test_ects_only_pathway_counts_any_eligible_credential() -> None:
    pathway = Pathway("urn:pathway:ects", "agency", min_total_ects=Decimal(10))
    credentials = [held("a", "urn:x", ects="6"), held("b", None, ects="4"), held("c", "urn:y", ects=None)]
    progress = evaluate(pathway, credentials, NOW)
    assert progress.complete and progress.ects_gathered == Decimal(10)
    assert {a.credential_id: a.reasons for a in progress.credentials}["c"] == (Reason.NO_ECTS,)


def test_no_credentials_is_never_complete() -> None:
    assert not evaluate(Pathway("p", "i", min_total_ects=Decimal(0)), [], NOW).complete


def test_pathway_json_round_trip() -> None:
    assert Pathway.from_json(PATHWAY.to_json()) == PATHWAY
    body = evaluate(PATHWAY, [held("c1", A1)], NOW).to_json()
    assert body["ects_gathered"] == "5" and body["ects_missing"] == "10"
    assert body["credentials"] == [{"credential_id": "c1", "achievement_id": A1, "counts": True, "ects": "5",
                                    "reasons": [], "reason": None}]
