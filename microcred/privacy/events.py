"""Sealing the personal part of events before they reach Kafka, and opening it again in every consumer.

A ``CredentialIssued`` carries personal data in six fields: ``learner_did``, ``learner_hashed_id``,
``credential_json`` (the signed credential: name, birth date, e-mail, grades), ``credential`` (the EU model it
was built from), ``sd_jwt_vc`` (the same credential as an SD-JWT VC, when issued in that format) and
``edc_jsonld`` (the sealed EDC document, when issued in that format).
:meth:`EventPrivacy.seal` moves them into ``sealed_personal`` (AES-256-GCM under the learner's
data key, bound to the pseudonym and the event id) and names the learner by ``learner_pseudonym``; the routing,
status and audit fields (credential id, issuer, status entries, replaces) stay in clear.
:meth:`EventPrivacy.open` puts them back for a consumer; when the learner's key was destroyed (erasure) the
personal part stays empty and the event is reported *erased*: the consumer drops it, it is not poison.

Which identifier a learner's pseudonym comes from (:func:`learner_identifier`): the DID, else the e-mail of the
EU model's learner; else the event's ``learner_did`` (VC API issuance); else ``urn:microcred:credential:{id}``,
a learner the platform cannot otherwise name, erased credential by credential. ``learner_tags`` lists the
pseudonyms of every identifier the credential names, so an operator finds the learner by DID or by e-mail.

A ``CredentialImported`` (the wallet's own topic) has its ``credential_json``, a ``PathwayCompleted`` its
``learner_did``, sealed the same way, under the data key of the wallet account's learner
(:func:`account_identifier`).

A ``CredentialOfferCreated`` has its learner's DID and e-mail, the offer's URI, title and awarding body and the
issuer's record of the offer (``recovery``: its id, codes' digests and sealed award, for a rebuild by replay)
(:data:`OFFER_FIELDS`) sealed the same way, under the data key of the learner the award names (the pseudonym its
credential will have), so that erasing the learner makes the offers unreadable too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import DecodeError

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.privacy.datakeys import DataKeys
from microcred.privacy.pseudonym import Pseudonymizer, canonical_identifier
from microcred.privacy.sealing import SealError, open_sealed, seal

__all__ = ["OFFER_FIELDS", "PERSONAL_FIELDS", "EventPrivacy", "Opened", "account_identifier", "learner_identifier"]

#: The personal fields of ``CredentialIssued``: sealed on the way out, never in clear on Kafka.
PERSONAL_FIELDS = ("learner_did", "learner_hashed_id", "credential_json", "credential", "sd_jwt_vc",
                   "edc_jsonld")
_ISSUED = events_pb2.CredentialIssued.DESCRIPTOR.full_name
#: The personal fields of ``CredentialOfferCreated``.
OFFER_FIELDS = ("learner_did", "learner_email", "offer_uri", "title", "awarding_body", "recovery")
_OFFER = events_pb2.CredentialOfferCreated.DESCRIPTOR.full_name
#: Events of a wallet account (sealed under the account learner's key) and their one personal field.
AccountEvent = events_pb2.CredentialImported | events_pb2.PathwayCompleted
A = TypeVar("A", events_pb2.CredentialImported, events_pb2.PathwayCompleted, events_pb2.CredentialOfferCreated)
_ACCOUNT_EVENTS: dict[str, type[AccountEvent]] = {
    events_pb2.CredentialImported.DESCRIPTOR.full_name: events_pb2.CredentialImported,
    events_pb2.PathwayCompleted.DESCRIPTOR.full_name: events_pb2.PathwayCompleted}
_ACCOUNT_FIELD = {events_pb2.CredentialImported.DESCRIPTOR.full_name: "credential_json",
                  events_pb2.PathwayCompleted.DESCRIPTOR.full_name: "learner_did"}


def account_identifier(account_id: str) -> str:
    """The identifier of a wallet account's learner, for what the wallet alone knows (imported credentials)."""
    return f"urn:microcred:wallet-account:{account_id}"


def learner_identifier(event: events_pb2.CredentialIssued) -> str:
    """The canonical identifier the learner's pseudonym is computed from (see the module docstring)."""
    person = event.credential.learner
    try:
        return canonical_identifier(person.did or event.learner_did, person.email)
    except ValueError:
        return f"urn:microcred:credential:{event.credential_id}"


def _has_personal(event: events_pb2.CredentialIssued) -> bool:
    return bool(event.learner_did or event.credential_json or event.HasField("learner_hashed_id")
                or event.HasField("credential") or event.sd_jwt_vc or event.edc_jsonld)


@dataclass(frozen=True)
class Opened:
    """A consumed event with its personal part put back, or ``erased`` when that part can no longer be opened."""

    payload: events_pb2.CredentialIssued
    erased: bool


class EventPrivacy:
    """Seals and opens the personal part of ``CredentialIssued`` events with the learners' data keys."""

    def __init__(self, keys: DataKeys, pseudonyms: Pseudonymizer, recent: int = 2048) -> None:
        self.keys, self.pseudonyms = keys, pseudonyms
        # The issuer seals one event up to three times (pending record, publish, issued record), always to the
        # same bytes (synthetic nonce): the last ``recent`` results are reused, keyed by event id and checked
        # against the clear payload.
        self._recent: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()
        self._recent_max = recent
        #: Incremented by :meth:`forget`: whoever keeps seals of its own reuses only those of the current one.
        self.generation = 0

    def pseudonym_of(self, event: events_pb2.CredentialIssued) -> str:
        """The learner's pseudonym for ``event`` (in clear or sealed, whichever it carries)."""
        return event.learner_pseudonym or self.pseudonyms.of_identifier(learner_identifier(event))

    def _identities(self, event: events_pb2.CredentialIssued) -> tuple[str, list[str]]:
        """The learner's pseudonym and tags (each identifier's pseudonym computed once)."""
        person = event.credential.learner
        names = {canonical_identifier(did=d) for d in (person.did, event.learner_did) if d.strip()}
        if person.email.strip():
            names.add(canonical_identifier(email=person.email))
        tags = {name: self.pseudonyms.of_identifier(name) for name in names}
        main = learner_identifier(event)
        return tags.get(main) or self.pseudonyms.of_identifier(main), sorted(tags.values())

    def _offer_learner(self, offer: events_pb2.CredentialOfferCreated) -> str:
        """The pseudonym of the learner an offer names: the one its credential will be sealed under."""
        try:
            name = canonical_identifier(offer.learner_did, offer.learner_email)
        except ValueError:
            name = f"urn:microcred:offer:{offer.offer_ref}"
        return self.pseudonyms.of_identifier(name)

    def tags_of(self, event: events_pb2.CredentialIssued) -> list[str]:
        """The pseudonyms of every identifier ``event`` names (its learner's DID and e-mail), sorted."""
        return self._identities(event)[1]

    async def seal(self, envelopes: Sequence[EventEnvelope],
                   offers_made: Sequence[events_pb2.CredentialOfferCreated] = ()) -> list[EventEnvelope]:
        """The envelopes with the personal fields of every ``CredentialIssued`` (and of the wallet's
        ``CredentialImported`` and ``PathwayCompleted``, and of ``CredentialOfferCreated``) sealed: new objects for
        those; others, and events already sealed, returned as they are. One data-key round trip for the whole
        batch. ``offers_made``: the payloads of ``envelopes`` (all of them ``CredentialOfferCreated``) as the
        caller made them, taken instead of parsing them again (a cohort's offers carry their awards), and
        changed."""
        if offers_made and len(offers_made) != len(envelopes):
            raise ValueError("offers_made must hold the payload of every envelope")
        todo: list[tuple[int, events_pb2.CredentialIssued, str, list[str]]] = []
        out = list(envelopes)
        imported: list[tuple[int, AccountEvent, str]] = []
        offers: list[tuple[int, events_pb2.CredentialOfferCreated, str]] = []
        for i, envelope in enumerate(envelopes):
            if envelope.payload_type == _OFFER:
                offer = offers_made[i] if offers_made else events_pb2.CredentialOfferCreated.FromString(
                    envelope.payload)
                if any(field.name in OFFER_FIELDS for field, _ in offer.ListFields()):
                    offers.append((i, offer, self._offer_learner(offer)))
                continue
            if envelope.payload_type in _ACCOUNT_EVENTS:
                held = _ACCOUNT_EVENTS[envelope.payload_type].FromString(envelope.payload)
                if getattr(held, _ACCOUNT_FIELD[envelope.payload_type]):
                    owner = held.learner_id if isinstance(held, events_pb2.PathwayCompleted) else held.account_id
                    imported.append((i, held, self.pseudonyms.of_identifier(account_identifier(owner))))
                continue
            if envelope.payload_type != _ISSUED:
                continue
            known = self._recent.get(envelope.event_id)
            if known is not None and known[0] == envelope.payload:
                out[i] = self._with_payload(envelope, known[1])
                continue
            event = events_pb2.CredentialIssued.FromString(envelope.payload)
            if _has_personal(event):
                todo.append((i, event, *self._identities(event)))
        if not todo and not imported and not offers:
            return out
        keys = await self.keys.ensure([*(p for _, _, p, _ in todo), *(p for _, _, p in imported),
                                       *(p for _, _, p in offers)])
        for i, offer, pseudonym in offers:
            offered = events_pb2.CredentialOfferCreated()
            offered.CopyFrom(offer)  # then only the personal fields are kept in it, and taken out of the offer
            for field, _ in offer.ListFields():
                if field.name in OFFER_FIELDS:
                    offer.ClearField(field.name)
                else:
                    offered.ClearField(field.name)
            offer.learner_pseudonym = pseudonym
            offer.sealed_personal = seal(keys[pseudonym], offered.SerializeToString(deterministic=True),
                                         envelopes[i].event_id)
            out[i] = self._with_payload(envelopes[i], offer.SerializeToString(deterministic=True))
        for i, held, pseudonym in imported:
            name = _ACCOUNT_FIELD[envelopes[i].payload_type]
            part = type(held)()  # the same message type holding only the personal field
            setattr(part, name, getattr(held, name))
            held.ClearField(name)
            held.learner_pseudonym = pseudonym
            held.sealed_personal = seal(keys[pseudonym], part.SerializeToString(deterministic=True),
                                        envelopes[i].event_id)
            out[i] = self._with_payload(envelopes[i], held.SerializeToString(deterministic=True))
        for i, event, pseudonym, tags in todo:
            personal = events_pb2.CredentialIssued(learner_did=event.learner_did,
                                                   credential_json=event.credential_json, sd_jwt_vc=event.sd_jwt_vc,
                                                   edc_jsonld=event.edc_jsonld)
            if event.HasField("learner_hashed_id"):
                personal.learner_hashed_id.CopyFrom(event.learner_hashed_id)
            if event.HasField("credential"):
                personal.credential.CopyFrom(event.credential)
            for name in PERSONAL_FIELDS:
                event.ClearField(name)
            event.learner_pseudonym = pseudonym
            event.learner_tags[:] = tags
            event.sealed_personal = seal(keys[pseudonym], personal.SerializeToString(deterministic=True),
                                         envelopes[i].event_id)
            payload = event.SerializeToString(deterministic=True)
            self._remember(envelopes[i].event_id, envelopes[i].payload, payload)
            out[i] = self._with_payload(envelopes[i], payload)
        return out

    @staticmethod
    def _with_payload(envelope: EventEnvelope, payload: bytes) -> EventEnvelope:
        sealed = EventEnvelope()
        sealed.CopyFrom(envelope)
        sealed.payload = payload
        return sealed

    def _remember(self, event_id: str, clear: bytes, sealed: bytes) -> None:
        self._recent[event_id] = (clear, sealed)
        self._recent.move_to_end(event_id)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    def forget(self) -> None:
        """Drop the remembered seals (after an erasure, nothing is reused under a destroyed key)."""
        self._recent.clear()
        self.generation += 1

    async def open(self, items: Sequence[tuple[EventEnvelope, events_pb2.CredentialIssued]]) -> list[Opened]:
        """Each event with its personal part opened (a copy), or erased when its learner's key is gone or the
        sealed bytes do not open; events never sealed (issued before sealing) are returned as they are."""
        wanted = {e.learner_pseudonym for _, e in items if e.sealed_personal}
        keys = await self.keys.get(wanted) if wanted else {}
        out: list[Opened] = []
        for envelope, event in items:
            if not event.sealed_personal:
                out.append(Opened(event, erased=False))
                continue
            opened = events_pb2.CredentialIssued()
            opened.CopyFrom(event)
            opened.ClearField("sealed_personal")
            key = keys.get(event.learner_pseudonym)
            if key is None:
                out.append(Opened(opened, erased=True))
                continue
            try:
                opened.MergeFromString(open_sealed(key, event.sealed_personal, envelope.event_id))
            except (SealError, DecodeError):
                out.append(Opened(opened, erased=True))
                continue
            out.append(Opened(opened, erased=False))
        return out

    async def open_imported(self, items: Sequence[tuple[EventEnvelope, A]]) -> list[tuple[A, bool]]:
        """Each account event (``CredentialImported``, ``PathwayCompleted``) or ``CredentialOfferCreated`` with its
        sealed fields opened, and whether it is erased (key gone)."""
        wanted = {e.learner_pseudonym for _, e in items if e.sealed_personal}
        keys = await self.keys.get(wanted) if wanted else {}
        out: list[tuple[A, bool]] = []
        for envelope, event in items:
            if not event.sealed_personal:
                out.append((event, False))
                continue
            opened = type(event)()
            opened.CopyFrom(event)
            opened.ClearField("sealed_personal")
            key = keys.get(event.learner_pseudonym)
            try:
                if key is None:
                    raise SealError("the learner's data key is gone")
                opened.MergeFromString(open_sealed(key, event.sealed_personal, envelope.event_id))
            except (SealError, DecodeError):
                out.append((opened, True))
                continue
            out.append((opened, False))
        return out

    async def open_envelopes(self, raws: Sequence[bytes]) -> list[bytes]:
        """Serialized envelopes with their ``CredentialIssued`` personal part opened (for answers, never to
        publish); an erased one comes back with that part empty."""
        parsed = [EventEnvelope.FromString(raw) for raw in raws]
        sealed = [(i, env, events_pb2.CredentialIssued.FromString(env.payload)) for i, env in enumerate(parsed)
                  if env.payload_type == _ISSUED]
        sealed = [(i, env, ev) for i, env, ev in sealed if ev.sealed_personal]
        if not sealed:
            return list(raws)
        out = list(raws)
        for (i, env, _), opened in zip(sealed, await self.open([(env, ev) for _, env, ev in sealed]), strict=True):
            clear = EventEnvelope()
            clear.CopyFrom(env)
            clear.payload = opened.payload.SerializeToString(deterministic=True)
            out[i] = clear.SerializeToString()
        return out
