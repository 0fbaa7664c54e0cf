"""Erasure and access for one learner (issue 18, docs/privacy.md): the use cases behind PrivacyService.

:meth:`LearnerData.erase` destroys the learner's data key (for each pseudonym the given identifiers map to) and
then publishes ``LearnerErased`` naming the learner's credentials, so every projection drops what it holds for
them; the credentials themselves stay revocable (the status service needs only their ids) and stay counted in the
audit log, which names the learner by pseudonym only. :meth:`LearnerData.export` returns everything the
platform's event log holds about the learner (their credentials, opened, with their status history) as JSON.

Who may call: an agency operator, for a learner named by a credential issued under the agency; an issuer
operator, for a learner it issued a credential to (and its export shows only its own credentials). The learner's
data key is one for all their credentials: erasing it makes every one unreadable, whoever issued it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

from google.protobuf import json_format

from microcred.errors import InvalidArgument, NotFound, PermissionDenied
from microcred.events.envelope import EventEnvelope, new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import CREDENTIALS
from microcred.model.errors import INVALID_FORMAT, REQUIRED, FieldViolation
from microcred.pki import ROLE_AGENCY, ROLE_ISSUER, Identity
from microcred.privacy.events import EventPrivacy

__all__ = ["Erased", "LearnerData", "LearnerRecords", "StatusEvent"]

log = logging.getLogger(__name__)

MAX_REASON = 500
MAX_IDENTIFIER = 512


@dataclass(frozen=True)
class StatusEvent:
    """One status change of a credential, as the export shows it."""

    credential_id: str
    action: str
    reason: str
    actor: str
    occurred_at: str


Issued = list[tuple[EventEnvelope, events_pb2.CredentialIssued]]
Offered = list[tuple[EventEnvelope, events_pb2.CredentialOfferCreated]]


class LearnerRecords(Protocol):
    """Port: what the event log holds under some learner pseudonyms."""

    async def named(self, pseudonyms: Sequence[str]) -> tuple[Issued, Offered]:
        """In one read of the log: the ``CredentialIssued`` events (sealed as on Kafka) whose pseudonym or tags
        name one of those, and the ``CredentialOfferCreated`` events (OpenID4VCI offers, their learner part
        sealed) whose pseudonym does."""
        ...

    async def status_of(self, credential_ids: Sequence[str]) -> list[StatusEvent]:
        """The status changes of those credentials, oldest first."""
        ...


class OfferWithdrawal(Protocol):
    """Port: :class:`~services.issuer.application.offer_erasure.ErasedLearnerOffers`."""

    async def withdraw(self, issuer_id: str, agency_id: str, offer_refs: Collection[str], actor: str) -> int:
        """Withdraw those of ``offer_refs`` that are ``issuer_id``'s and still offered; how many."""
        ...


@dataclass(frozen=True)
class Erased:
    """What an erasure did."""

    pseudonyms: list[str]
    credential_ids: list[str]
    key_destroyed: bool


def _violations(did: str, email: str, reason: str | None) -> list[FieldViolation]:
    out = []
    if not did.strip() and not email.strip():
        out.append(FieldViolation("learner", "name the learner by did or email", REQUIRED))
    for name, value in (("learner.did", did), ("learner.email", email)):
        if len(value) > MAX_IDENTIFIER or any(ord(c) < 0x20 for c in value):
            out.append(FieldViolation(name, f"must be at most {MAX_IDENTIFIER} characters without control "
                                            "characters", INVALID_FORMAT))
    if did.strip() and not did.strip().startswith("did:"):
        out.append(FieldViolation("learner.did", "must be a DID (did:method:...)", INVALID_FORMAT))
    if email.strip() and "@" not in email:
        out.append(FieldViolation("learner.email", "must be an e-mail address", INVALID_FORMAT))
    if reason is not None:
        if not reason.strip():
            out.append(FieldViolation("reason", "is required (it is recorded with the erasure)", REQUIRED))
        elif len(reason) > MAX_REASON or any(ord(c) < 0x20 for c in reason):
            out.append(FieldViolation("reason", f"must be 1..{MAX_REASON} characters without control characters",
                                      INVALID_FORMAT))
    return out


class LearnerData:
    """Erasure and export of one learner's personal data; see the module docstring."""

    def __init__(self, privacy: EventPrivacy, records: LearnerRecords, publisher: EventPublisher,
                 topic: str = CREDENTIALS.name, offers: OfferWithdrawal | None = None) -> None:
        """``offers``: withdraws an erased learner's open OpenID4VCI offers (None: they stay listed)."""
        self._privacy, self._records, self._publisher, self._topic = privacy, records, publisher, topic
        self._offers = offers

    def pseudonyms(self, did: str, email: str) -> list[str]:
        """One pseudonym per identifier given (a learner's credentials may name either)."""
        found = []
        if did.strip():
            found.append(self._privacy.pseudonyms.of(did=did))
        if email.strip():
            found.append(self._privacy.pseudonyms.of(email=email))
        return found

    async def _visible(self, caller: Identity, pseudonyms: list[str], *, offers: bool = False
                       ) -> tuple[Issued, Offered]:
        """The caller's credentials issued to the learner and, with ``offers``, its offers to them (redeemed or
        not): an agency's under it, an issuer's own. An issuer with none of either may not act on the learner."""
        if caller.role not in (ROLE_AGENCY, ROLE_ISSUER):
            raise PermissionDenied(f"a {caller.role} certificate may not act on learners' personal data")
        issued, offered = await self._records.named(pseudonyms)
        if caller.role == ROLE_AGENCY:
            return ([(env, ev) for env, ev in issued if env.tenant == caller.agency_id],
                    [(env, ev) for env, ev in offered if env.tenant == caller.agency_id] if offers else [])
        mine = [(env, ev) for env, ev in issued if ev.issuer_id == caller.subject_id]
        made = [(env, ev) for env, ev in offered if ev.issuer_id == caller.subject_id] if offers else []
        if not mine and not made:
            raise PermissionDenied(f"issuer {caller.subject_id!r} issued no credential to this learner")
        return mine, made

    async def erase(self, caller: Identity, did: str, email: str, reason: str) -> Erased:
        """Destroy the learner's data keys, then publish ``LearnerErased`` for each pseudonym.

        A learner the caller only offered a credential to (OpenID4VCI, not redeemed yet) is erased too: the offer
        holds their data sealed under the same key, and the learner's wallet lists it."""
        bad = _violations(did, email, reason)
        if bad:
            raise InvalidArgument(bad)
        issued, offered = await self._visible(caller, self.pseudonyms(did, email), offers=True)
        if not issued and not offered:
            # Only a learner the caller's credentials name: an operator never destroys another agency's learner.
            raise NotFound(f"no credential under agency {caller.agency_id!r} names this learner")
        # The data keys are the events' own pseudonyms (a credential naming DID and e-mail is keyed by the DID).
        pseudonyms = sorted({ev.learner_pseudonym for _, ev in issued if ev.learner_pseudonym}
                            | {ev.learner_pseudonym for _, ev in offered if ev.learner_pseudonym})
        destroyed = False
        for p in pseudonyms:  # the key first: once it is gone, no replay can bring the data back
            destroyed = await self._privacy.keys.destroy(p) or destroyed
        self._privacy.forget()  # nothing sealed before is reused under a destroyed key
        ids: list[str] = []
        for p in pseudonyms:
            mine = sorted({ev.credential_id for _, ev in issued if ev.learner_pseudonym == p})
            ids += mine
            event = events_pb2.LearnerErased(learner_pseudonym=p, reason=reason.strip(), actor=caller.actor,
                                             credential_ids=mine)
            await self._publisher.publish(self._topic, p, new_envelope(
                event, subject=p, tenant=caller.agency_id, actor=caller.actor))
        withdrawn = await self._withdraw_offers(offered, caller.actor)
        log.info("learner erased", extra={"pseudonyms": pseudonyms, "credentials": len(ids), "actor": caller.actor,
                                          "offers_withdrawn": withdrawn})
        return Erased(pseudonyms, ids, destroyed)

    async def _withdraw_offers(self, offered: Offered, actor: str) -> int:
        """Withdraw the erased learner's offers still open, issuer by issuer (their credential can no longer be
        issued: the award is sealed under the destroyed key)."""
        if self._offers is None:
            return 0
        by_issuer: dict[tuple[str, str], list[str]] = {}
        for envelope, event in offered:
            by_issuer.setdefault((event.issuer_id, envelope.tenant), []).append(event.offer_ref)
        withdrawn = 0
        for (issuer_id, agency_id), refs in sorted(by_issuer.items()):
            withdrawn += await self._offers.withdraw(issuer_id, agency_id, refs, actor)
        return withdrawn

    async def export(self, caller: Identity, did: str, email: str) -> tuple[list[str], str]:
        """The pseudonyms and a JSON document of everything held about the learner."""
        bad = _violations(did, email, None)
        if bad:
            raise InvalidArgument(bad)
        pseudonyms = self.pseudonyms(did, email)
        issued, _ = await self._visible(caller, pseudonyms) if pseudonyms else ([], [])
        opened = await self._privacy.open(issued)
        statuses = await self._records.status_of([ev.credential_id for _, ev in issued])
        credentials: list[dict[str, Any]] = []
        for (envelope, _), result in zip(issued, opened, strict=True):
            event = result.payload
            entry: dict[str, Any] = {
                "credential_id": event.credential_id, "issuer_id": event.issuer_id,
                "learner_pseudonym": event.learner_pseudonym,
                "issued_at": envelope.occurred_at.ToDatetime(tzinfo=UTC).isoformat(),
                "erased": result.erased,
                "status_history": [s.__dict__ for s in statuses if s.credential_id == event.credential_id],
            }
            if not result.erased:
                entry["learner_did"] = event.learner_did
                entry["credential"] = json.loads(event.credential_json) if event.credential_json else None
                entry["micro_credential"] = json_format.MessageToDict(event.credential,
                                                                      preserving_proto_field_name=True)
            credentials.append(entry)
        document = {"learner_pseudonyms": pseudonyms, "credentials": credentials,
                    "note": "credentials already delivered to the learner are theirs and are not affected by "
                            "an erasure on the platform"}
        return pseudonyms, json.dumps(document, ensure_ascii=False, sort_keys=True)
