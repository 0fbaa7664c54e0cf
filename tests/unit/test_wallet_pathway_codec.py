"""PathwayPublished <-> Pathway (including accepted issuers in field 9) and the PathwayCompleted event."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from microcred.events.envelope import open_envelope
from microcred.gen.microcred.v1 import events_pb2
from services.wallet.domain.credentials import EuElements, HeldCredential, Identity
from services.wallet.domain.pathway_codec import (
    InvalidPathway,
    completed_envelope,
    completed_event_id,
    pathway_from_event,
    pathway_to_event,
    published_envelope,
)
from services.wallet.domain.stacking import Pathway, evaluate

PATHWAY = Pathway("urn:pathway:1", "agency-pl", {"en": "Cert", "pl": "Certyfikat"}, {"en": "d"},
                  ("urn:a1", "urn:a2"), Decimal("10.5"), 6, ("issuer-a", "did:web:b.example"), "urn:awarded")


def test_round_trip_through_the_wire_keeps_accepted_issuers() -> None:
    wire = pathway_to_event(PATHWAY).SerializeToString()
    parsed = events_pb2.PathwayPublished()
    parsed.ParseFromString(wire)
    assert pathway_from_event(parsed) == PATHWAY
    envelope, payload = open_envelope(published_envelope(PATHWAY).SerializeToString())
    assert envelope.subject == "urn:pathway:1" and envelope.event_type == "PathwayPublished"
    assert isinstance(payload, events_pb2.PathwayPublished) and pathway_from_event(payload) == PATHWAY


def test_known_fields_are_the_standard_ones() -> None:
    msg = pathway_to_event(PATHWAY)
    assert list(msg.required_achievement_ids) == ["urn:a1", "urn:a2"]
    assert msg.min_total_ects == "10.5" and msg.min_eqf_level == 6 and msg.awarded_achievement_id == "urn:awarded"


@pytest.mark.parametrize("msg", [
    events_pb2.PathwayPublished(issuer_id="x", min_total_ects="5"),
    events_pb2.PathwayPublished(pathway_id="p", issuer_id="x"),
    events_pb2.PathwayPublished(pathway_id="p", min_total_ects="lots"),
    events_pb2.PathwayPublished(pathway_id="p", min_total_ects="-1"),
])
def test_unusable_pathways_are_refused(msg: events_pb2.PathwayPublished) -> None:
    with pytest.raises(InvalidPathway):
        pathway_from_event(msg)


def test_completed_event_is_deterministic_per_pathway_and_learner() -> None:
    held = [HeldCredential(f"c{i}", "issuer-a", None, EuElements("t", a, Decimal("6"), 6), Identity())
            for i, a in enumerate(("urn:a1", "urn:a2"))]
    progress = evaluate(PATHWAY, held, datetime(2026, 1, 1, tzinfo=UTC))
    first, second = completed_envelope(progress, "lrn_1"), completed_envelope(progress, "lrn_1")
    assert first.event_id == second.event_id == completed_event_id("urn:pathway:1", "lrn_1")
    assert completed_event_id("urn:pathway:1", "lrn_2") != first.event_id
    _, payload = open_envelope(first.SerializeToString())
    assert isinstance(payload, events_pb2.PathwayCompleted)
    assert (payload.learner_id, list(payload.credential_ids), payload.total_ects) == ("lrn_1", ["c0", "c1"], "12")
    with pytest.raises(ValueError, match="not complete"):
        completed_envelope(evaluate(PATHWAY, [], datetime(2026, 1, 1, tzinfo=UTC)), "lrn_1")
