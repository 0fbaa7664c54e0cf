"""Reading EU elements and learner identifiers from issued events and credential documents; list filters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from microcred.credential.identifiers import identity_hash
from services.wallet.domain.credentials import (
    CredentialFilter,
    CredentialStatus,
    EuElements,
    HeldCredential,
    Identity,
    effective_status,
    email_index,
)
from services.wallet.domain.elements import elements_from_document, elements_from_event, identity_from_event, issuer_of
from services.wallet.events.intake import UnusableEvent, issued_credential
from tests.harness.wallet.credentials import TestIssuer

ISSUER = TestIssuer.new("issuer-a")
DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def test_elements_read_back_from_the_ob3_document_match_the_model() -> None:
    issued = ISSUER.issue(learner_did=DID, achievement_id="urn:ach:x", ects="2.5", eqf=7, title="Data")
    from_doc = elements_from_document(issued.document)
    assert from_doc == elements_from_event(issued.event, issued.document)
    assert from_doc.achievement_id == "urn:ach:x" and from_doc.ects == Decimal("2.5") and from_doc.eqf_level == 7
    assert from_doc.title == "Data" and from_doc.issued_at == datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
    assert from_doc.valid_until == datetime(2035, 3, 14, 10, 0, tzinfo=UTC)
    assert issuer_of(issued.document) == ISSUER.did


def test_level_not_applicable_and_no_ects_read_as_none() -> None:
    issued = ISSUER.issue(learner_did=DID, ects=None, eqf=None)
    elements = elements_from_document(issued.document)
    assert elements.eqf_level is None and elements.ects is None
    assert elements_from_event(issued.event, issued.document).eqf_level is None


def test_identity_confirms_the_email_against_the_signed_hash() -> None:
    key = b"k" * 32
    issued = ISSUER.issue(email="Ana@Example.org")
    identity = identity_from_event(issued.event, issued.document, key)
    [hashed] = identity.email_hashes()
    assert hashed.identity_hash == identity_hash("ana@example.org", hashed.salt)
    assert identity.email_index == email_index("ana@example.org", key) == email_index(" ANA@example.org ", key)
    # An event whose model e-mail is not the one in the signed credential gets no e-mail index.
    issued.event.credential.learner.email = "someone-else@example.org"
    assert identity_from_event(issued.event, issued.document, key).email_index is None


def test_unusable_events_are_refused() -> None:
    issued = ISSUER.issue(learner_did=DID)
    issued.event.credential_json = "{not json"
    try:
        issued_credential(issued.event)
    except UnusableEvent as exc:
        assert "JSON" in str(exc) and exc.retriable is False
    else:
        raise AssertionError("expected UnusableEvent")


def test_filters() -> None:
    elements = EuElements("t", "a", Decimal(5), 6, datetime(2025, 3, 14, tzinfo=UTC))
    credential = HeldCredential("c", "issuer-a", "did:key:z6MkI", elements, Identity(),
                                status=CredentialStatus.SUSPENDED)
    assert CredentialFilter().matches(credential)
    assert CredentialFilter(issuer="issuer-a").matches(credential)
    assert CredentialFilter(issuer="did:key:z6MkI").matches(credential)
    assert not CredentialFilter(issuer="issuer-b").matches(credential)
    assert CredentialFilter(eqf_level=6).matches(credential) and not CredentialFilter(eqf_level=5).matches(credential)
    assert CredentialFilter(issued_from=date(2025, 3, 14), issued_until=date(2025, 3, 14)).matches(credential)
    assert not CredentialFilter(issued_from=date(2025, 3, 15)).matches(credential)
    assert not CredentialFilter(issued_until=date(2025, 3, 13)).matches(credential)
    assert CredentialFilter(status=CredentialStatus.SUSPENDED).matches(credential)


def test_revocation_wins_over_suspension() -> None:
    assert effective_status(True, False) is CredentialStatus.REVOKED
    assert effective_status(True, True) is CredentialStatus.REVOKED
    assert effective_status(False, True) is CredentialStatus.SUSPENDED
    assert effective_status(False, False) is CredentialStatus.ACTIVE
