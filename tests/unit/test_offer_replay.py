"""Rebuilding offers from their events (services/issuer/application/offer_replay.py), pure: the offers
``Offers.create`` keeps and the ``CredentialOfferCreated`` events it publishes are fed back; each restore is what
the store was given (id, document, digests, reference, learner filing; the award opens to the same element
model), none of it in clear on Kafka; erased learners, expired offers and forged refs restore nothing; end events
close; while replaying no code is spent and an unknown offer is "try again"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from microcred.events.envelope import EventEnvelope, new_envelope, open_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import Position
from microcred.kafka.publisher import InMemoryEventPublisher
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.offers import digest
from microcred.privacy.datakeys import InMemoryDataKeys
from microcred.privacy.events import EventPrivacy
from microcred.privacy.wrapping import pseudonymizer_for
from services.issuer.application.issuance import Caller
from services.issuer.application.offer_records import Offer
from services.issuer.application.offer_replay import Action, Close, OfferReplay, Restore, closing_state
from services.issuer.application.offers import Offers
from services.issuer.application.oid4vci_authorization import learner_digest
from tests.harness.factories import valid_micro_credential

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
KEY = b"k" * 32
ISSUER_URL = "https://issuer.example"


class KeptOffers:
    """The store calls of ``Offers.create`` (what Redis is given)."""

    def __init__(self) -> None:
        self.kept: list[tuple[Offer, str, str, str]] = []
        self.learners: list[str] = []

    async def add_offers(self, offers: list[tuple[Offer, str, str, str]], ttl_seconds: int, expires_at: float = 0.0,
                         learners: Sequence[str] = ()) -> None:
        self.kept += offers
        self.learners += list(learners)


class ReplayedStore:
    def __init__(self) -> None:
        self.calls: list[tuple[list[Position], list[Action | None]]] = []
        self.handed: list[dict[str, str]] = []
        self.asked: list[list[str]] = []
        self.has: set[str] = set()

    async def position(self, topic: str, partition: int) -> int | None:
        return None

    async def offer_ids(self, offer_refs: Sequence[str]) -> dict[str, str]:
        self.asked.append(list(offer_refs))
        return {ref: f"id-of-{ref}" for ref in offer_refs if ref in self.has}

    async def replay(self, positions: Sequence[Position], actions: Sequence[Action | None],
                     known: Mapping[str, str]) -> None:
        self.calls.append((list(positions), list(actions)))
        self.handed.append(dict(known))


class Rig:
    def __init__(self) -> None:
        self.keys = InMemoryDataKeys()
        self.privacy = EventPrivacy(self.keys, pseudonymizer_for(bytes(range(32))))
        self.kafka, self.store = InMemoryEventPublisher(), KeptOffers()
        self.now = NOW
        self.offers = Offers(self.store, issuance=None, publisher=self.kafka, privacy=self.privacy,  # type: ignore
                             clock=lambda: self.now, topic="t", login=object(),  # type: ignore[arg-type]
                             learner_index_key=KEY)
        self.replayed = ReplayedStore()
        self.replay = OfferReplay(self.replayed, self.privacy, lambda: self.now, KEY)

    def events(self) -> list[tuple[EventEnvelope, Any, Position]]:
        out = []
        for n, (_, envelope) in enumerate(self.kafka.topics["t"]):
            opened, payload = open_envelope(envelope.SerializeToString())
            out.append((opened, payload, Position("t", 0, n)))
        return out


async def make(rig: Rig, *, tx_code: bool, references: Sequence[str] = (), not_before: datetime | None = None,
               count: int = 2) -> None:
    await rig.offers.create(Caller("uni-a", "agency-a"), ISSUER_URL, [valid_micro_credential()] * count,
                            tx_code=tx_code, expires_in=3600, not_before=not_before, references=references)


async def test_each_restore_is_what_the_store_was_given() -> None:
    rig = Rig()
    await make(rig, tx_code=False, references=["r-1", "r-2"], not_before=NOW + timedelta(hours=1))
    await make(rig, tx_code=True, count=1)
    records = rig.events()
    for _, envelope in rig.kafka.topics["t"]:  # nothing of the offer's secrets or the award in clear on Kafka
        raw = envelope.SerializeToString()
        for kept, code, tx, state in rig.store.kept:
            assert kept.offer_id.encode() not in raw and code.encode() not in raw
            assert (not tx or tx.encode() not in raw) and (not state or state.encode() not in raw)
        assert valid_micro_credential().learner.email.encode() not in raw
    await rig.replay.apply_batch(records)
    [(positions, actions)] = rig.replayed.calls
    assert positions == [p for _, _, p in records]
    restores = [a for a in actions if isinstance(a, Restore)]
    assert len(restores) == len(rig.store.kept) == 3
    for restore, (kept, code, tx, state), learner in zip(restores, rig.store.kept, rig.store.learners, strict=True):
        assert restore.offer == kept  # id, document, issuer, agency, reference, the award as the store keeps it
        assert (restore.code_digest, restore.tx_digest, restore.state_digest) == (code, tx, state)
        assert restore.offer_ref == digest(kept.offer_id) and restore.learner == learner != ""
        assert restore.learner == learner_digest(valid_micro_credential().learner.email, KEY)
        assert restore.ttl == 3600 and restore.expires_at == restore.created + 3600 == NOW.timestamp() + 3600
        # the award (the event as published, sealed) opens to the same element model
        assert await rig.offers._award(restore.offer.award) == valid_micro_credential()
        assert valid_micro_credential().title.values["en"].encode() not in restore.offer.award
    assert [bool(r.tx_digest) for r in restores] == [False, False, True]
    assert [r.offer.reference for r in restores] == ["r-1", "r-2", ""]
    assert restores[0].offer.not_before == (NOW + timedelta(hours=1)).timestamp()


async def test_expired_erased_and_forged_offers_restore_nothing() -> None:
    rig = Rig()
    await make(rig, tx_code=False, count=1)
    records = rig.events()
    rig.now = NOW + timedelta(seconds=3599)  # a second left: not worth restoring
    await rig.replay.apply_batch(records)
    assert rig.replayed.calls[-1][1] == [None]
    rig.now = NOW
    await rig.replay.apply_batch(records)
    assert isinstance(rig.replayed.calls[-1][1][0], Restore)
    [(envelope, payload, position)] = records
    forged = events_pb2.CredentialOfferCreated()
    forged.CopyFrom(payload)
    forged.offer_ref = digest("another offer")
    await rig.replay.apply_batch([(envelope, forged, position)])
    assert rig.replayed.calls[-1][1] == [None]
    assert isinstance(payload, events_pb2.CredentialOfferCreated)
    rig.replayed.has = {payload.offer_ref}  # Redis has the offer (the normal case): not even opened
    opened = rig.privacy.open_imported
    rig.privacy.open_imported = None  # type: ignore[assignment, method-assign]
    await rig.replay.apply_batch(records)
    assert rig.replayed.calls[-1][1] == [None] and rig.replayed.asked[-1] == [payload.offer_ref]
    rig.privacy.open_imported = opened  # type: ignore[method-assign]
    rig.replayed.has = set()
    await rig.keys.destroy(payload.learner_pseudonym)  # the learner was erased
    await rig.replay.apply_batch(records)
    assert rig.replayed.calls[-1][1] == [None]


async def test_end_events_close() -> None:
    ended = [events_pb2.CredentialOfferRedeemed(offer_ref="r1", issuer_id="uni-a"),
             events_pb2.CredentialOfferWithdrawn(offer_ref="r2", issuer_id="uni-a", reason="withdrawn"),
             events_pb2.CredentialOfferWithdrawn(offer_ref="r3", issuer_id="uni-a", reason="locked"),
             events_pb2.CredentialOfferWithdrawn(offer_ref="r4", issuer_id="uni-a", reason="learner erased"),
             events_pb2.CredentialOfferExpired(offer_ref="r5", issuer_id="uni-a"),
             events_pb2.CredentialIssued(credential_id="c")]
    assert [closing_state(e) for e in ended] == ["redeemed", "withdrawn", "locked", "withdrawn", "expired", ""]
    rig = Rig()
    rig.replayed.has = {"r2", "r5"}
    await rig.replay.apply_batch([(EventEnvelope(), e, Position("t", 0, n)) for n, e in enumerate(ended)])
    assert rig.replayed.calls[0][1] == [Close("r1", "uni-a", "redeemed"), Close("r2", "uni-a", "withdrawn"),
                                        Close("r3", "uni-a", "locked"), Close("r4", "uni-a", "withdrawn"),
                                        Close("r5", "uni-a", "expired"), None]
    # one read per fetch names the offers Redis has, and the store is handed it with the actions
    assert rig.replayed.asked == [["r1", "r2", "r3", "r4", "r5"]]
    assert rig.replayed.handed == [{"r2": "id-of-r2", "r5": "id-of-r5"}]


class Unknown:
    async def offer(self, offer_id: str) -> Offer | None:
        return None

    async def redeem(self, *args: Any) -> tuple[str, str]:
        raise AssertionError("no code is spent while the offers are replayed")


class Replay:
    """The projection's state: replaying, and whether a look now finds Redis lost."""

    def __init__(self) -> None:
        self.replaying, self.lost_now, self.looks = True, False, 0

    async def lost(self) -> bool:
        self.looks += 1
        return self.replaying or self.lost_now


class UnknownCodes(Unknown):
    async def redeem(self, *args: Any) -> tuple[str, str]:
        return "unknown", ""


PRE = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "c"}


async def test_while_replaying_no_code_is_spent_and_an_unknown_offer_is_try_again() -> None:
    replay = Replay()
    offers = Offers(Unknown(), issuance=None, publisher=None, privacy=None,  # type: ignore[arg-type]
                    replay=replay)
    with pytest.raises(OAuthError) as refused:
        await offers.token(PRE)
    assert (refused.value.error, refused.value.status) == ("temporarily_unavailable", 503)
    with pytest.raises(OAuthError) as unknown:
        await offers.offer_document("nope")
    assert unknown.value.status == 503
    replay.replaying = False
    assert await offers.offer_document("nope") is None and replay.looks == 1  # looked again before "unknown"


async def test_an_unknown_code_just_after_a_loss_is_try_again_not_unknown() -> None:
    replay = Replay()
    replay.replaying = False
    offers = Offers(UnknownCodes(), issuance=None, publisher=None, privacy=None,  # type: ignore[arg-type]
                    replay=replay)
    with pytest.raises(OAuthError) as unknown:
        await offers.token(PRE)
    assert unknown.value.error == "invalid_grant" and replay.looks == 1
    replay.lost_now = True  # Redis was wiped a moment ago, not noticed by the periodic look yet
    with pytest.raises(OAuthError) as later:
        await offers.token(PRE)
    assert (later.value.error, later.value.status) == ("temporarily_unavailable", 503)
    with pytest.raises(OAuthError):
        await offers.offer_document("nope")


async def test_an_offer_made_before_keeps_its_award_in_a_credential_issued_envelope() -> None:
    """Offers made before the award travelled in ``CredentialOfferCreated`` keep a sealed ``CredentialIssued`` of
    their own; both forms open to the award, and to nothing once the learner is erased."""
    rig = Rig()
    [sealed] = await rig.privacy.seal([new_envelope(events_pb2.CredentialIssued(
        credential_id="urn:microcred:offer:r", issuer_id="uni-a", credential=valid_micro_credential()),
        subject="r", tenant="agency-a", issuer_id="uni-a")])
    old = sealed.SerializeToString()
    await make(rig, tx_code=False, count=1)
    [(new, *_)] = rig.store.kept
    assert await rig.offers._award(old) == valid_micro_credential() == await rig.offers._award(new.award)
    issued = events_pb2.CredentialIssued.FromString(sealed.payload)
    await rig.keys.destroy(issued.learner_pseudonym)
    assert await rig.offers._award(old) is None and await rig.offers._award(new.award) is None
