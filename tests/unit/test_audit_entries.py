"""Which events become audit entries, and who/what/why each one records."""

from __future__ import annotations

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from services.issuer.audit.entries import audit_entry


def test_revocation_records_actor_subject_and_reason() -> None:
    payload = events_pb2.CredentialRevoked(credential_id="urn:uuid:1", issuer_id="uni-a", actor="uni-a",
                                           reason="issued in error")
    entry = audit_entry(new_envelope(payload, tenant="PL"), payload)
    assert entry is not None
    assert (entry.action, entry.subject, entry.actor, entry.reason, entry.agency_id, entry.issuer_id) == (
        "CredentialRevoked", "urn:uuid:1", "uni-a", "issued in error", "PL", "uni-a")


def test_envelope_actor_wins_and_issuance_defaults_to_the_issuer() -> None:
    issued = events_pb2.CredentialIssued(credential_id="urn:uuid:2", issuer_id="uni-a")
    assert audit_entry(new_envelope(issued, tenant="PL"), issued).actor == "uni-a"  # type: ignore[union-attr]
    accredited = events_pb2.IssuerAccredited(issuer_id="uni-a", framework="ESG")
    entry = audit_entry(new_envelope(accredited, tenant="PL", actor="pl-operator"), accredited)
    assert entry is not None and entry.actor == "pl-operator" and entry.subject == "uni-a"


def test_operational_events_are_not_audited() -> None:
    published = events_pb2.StatusListPublished(status_list_id="l1")
    assert audit_entry(new_envelope(published, tenant="PL"), published) is None


def test_a_correction_names_both_credentials() -> None:
    issued = events_pb2.CredentialIssued(credential_id="urn:uuid:new", issuer_id="uni-a", replaces="urn:uuid:old",
                                         correction_reason="name misspelt")
    entry = audit_entry(new_envelope(issued, tenant="PL"), issued)
    assert entry is not None
    assert (entry.subject, entry.replaces, entry.superseded_by, entry.reason) == (
        "urn:uuid:new", "urn:uuid:old", "", "name misspelt")
    revoked = events_pb2.CredentialRevoked(credential_id="urn:uuid:old", issuer_id="uni-a", reason="superseded",
                                           superseded_by="urn:uuid:new")
    entry = audit_entry(new_envelope(revoked, tenant="PL"), revoked)
    assert entry is not None
    assert (entry.subject, entry.superseded_by, entry.replaces, entry.reason) == (
        "urn:uuid:old", "urn:uuid:new", "", "superseded")
    plain = events_pb2.CredentialIssued(credential_id="urn:uuid:3", issuer_id="uni-a")
    entry = audit_entry(new_envelope(plain, tenant="PL"), plain)
    assert entry is not None and (entry.replaces, entry.reason) == ("", "")
