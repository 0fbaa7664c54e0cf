"""Pathway events: ``PathwayPublished`` to and from :class:`~services.wallet.domain.stacking.Pathway`, and the
``PathwayCompleted`` event with its deterministic id.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2
from services.wallet.domain.stacking import Pathway, PathwayProgress

#: Namespace of PathwayCompleted event ids (never change it: ids would change with it).
COMPLETED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://microcred.eu/ns/pathway-completed-event")


class InvalidPathway(ValueError):
    """A PathwayPublished payload that cannot define a pathway."""


def pathway_from_event(msg: events_pb2.PathwayPublished) -> Pathway:
    """The pathway a ``PathwayPublished`` event defines; :class:`InvalidPathway` when it defines none."""
    if not msg.pathway_id:
        raise InvalidPathway("pathway_id is empty")
    try:
        ects = Decimal(msg.min_total_ects) if msg.min_total_ects else None
    except InvalidOperation:
        raise InvalidPathway(f"min_total_ects {msg.min_total_ects!r} is not a decimal") from None
    if ects is not None and (not ects.is_finite() or ects < 0):
        raise InvalidPathway("min_total_ects must be a non-negative number")
    if not msg.required_achievement_ids and ects is None:
        raise InvalidPathway("a pathway needs required achievements or a minimum of ECTS")
    return Pathway(
        pathway_id=msg.pathway_id, issuer_id=msg.issuer_id, title=dict(msg.title.values),
        description=dict(msg.description.values),
        required_achievement_ids=tuple(dict.fromkeys(msg.required_achievement_ids)),
        min_total_ects=ects, min_eqf_level=int(msg.min_eqf_level) or None,
        accepted_issuer_ids=tuple(msg.accepted_issuer_ids),
        awarded_achievement_id=msg.awarded_achievement_id or None,
    )


def pathway_to_event(pathway: Pathway) -> events_pb2.PathwayPublished:
    """The ``PathwayPublished`` payload for ``pathway``."""
    return events_pb2.PathwayPublished(
        pathway_id=pathway.pathway_id, issuer_id=pathway.issuer_id,
        title=pb.LangString(values=dict(pathway.title)), description=pb.LangString(values=dict(pathway.description)),
        required_achievement_ids=list(pathway.required_achievement_ids),
        min_total_ects="" if pathway.min_total_ects is None else str(pathway.min_total_ects),
        min_eqf_level=pathway.min_eqf_level or 0,  # type: ignore[arg-type]  # EqfLevel numbers are the levels
        awarded_achievement_id=pathway.awarded_achievement_id or "",
        accepted_issuer_ids=list(pathway.accepted_issuer_ids),
    )


def published_envelope(pathway: Pathway, tenant: str = "") -> EventEnvelope:
    """A ``PathwayPublished`` envelope keyed by the pathway id."""
    return new_envelope(pathway_to_event(pathway), subject=pathway.pathway_id, tenant=tenant,
                        issuer_id=pathway.issuer_id)


def completed_event_id(pathway_id: str, learner_id: str) -> str:
    """Deterministic id of the one ``PathwayCompleted`` event of (pathway, learner)."""
    return str(uuid.uuid5(COMPLETED_NAMESPACE, f"{pathway_id}\x1f{learner_id}"))


def completed_envelope(progress: PathwayProgress, learner_id: str, learner_did: str = "") -> EventEnvelope:
    """The ``PathwayCompleted`` envelope for a complete ``progress`` of ``learner_id`` (wallet account id).

    ``learner_did`` is the learner's holder DID, when there is one, for the issuer of the larger credential.
    """
    if not progress.complete:
        raise ValueError("pathway is not complete")
    pathway = progress.pathway
    payload = events_pb2.PathwayCompleted(
        pathway_id=pathway.pathway_id, learner_id=learner_id, learner_did=learner_did,
        credential_ids=list(progress.counted_credential_ids), total_ects=str(progress.ects_gathered),
    )
    return new_envelope(payload, subject=pathway.pathway_id, issuer_id=pathway.issuer_id,
                        event_id=completed_event_id(pathway.pathway_id, learner_id))
