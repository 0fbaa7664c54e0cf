"""Sealed personal data in CredentialIssued (issue 18): what the issuer publishes and stores carries no personal
data in clear, opens again for whoever holds the learner's data key, and stays shut once that key is destroyed."""

from __future__ import annotations

import json

import pytest

from microcred.credential.ids import credential_id_for
from microcred.crypto.keystore import InMemoryKeyStore
from microcred.events.envelope import EventEnvelope, open_envelope
from microcred.gen.microcred.v1 import events_pb2, issuer_pb2
from microcred.kafka.publisher import InMemoryEventPublisher, PublishTimeout
from microcred.kafka.topics import CREDENTIALS
from microcred.privacy.datakeys import InMemoryDataKeys
from microcred.privacy.events import EventPrivacy
from microcred.privacy.publishing import SealingPublisher
from microcred.privacy.wrapping import pseudonymizer_for
from services.issuer.adapters.sealed_store import SealedCredentialStore
from services.issuer.adapters.signing import SigningPool
from services.issuer.adapters.status_pool import InMemoryStatusIndexSource
from services.issuer.adapters.store import InMemoryCredentialStore
from services.issuer.application.issuance import Caller, Issuance, IssueItem
from services.issuer.application.status_indexes import StatusIndexPool
from tests.fixtures.issuer.world import AGENCY, IssuerSpec, in_memory_world
from tests.harness.factories import valid_micro_credential

UNI_A = Caller("uni-a", AGENCY)
LEARNER = valid_micro_credential().learner
#: What must never be on Kafka or in the store in clear: name, e-mail, DID, birth date, national id, grade.
PERSONAL = [LEARNER.full_name, LEARNER.family_name, LEARNER.email, LEARNER.did, LEARNER.national_id.value]


class Rig:
    def __init__(self) -> None:
        world = in_memory_world(IssuerSpec("uni-a"), keystore=InMemoryKeyStore())
        self.keys = InMemoryDataKeys()
        self.privacy = EventPrivacy(self.keys, pseudonymizer_for(bytes(range(32))))
        self.kafka, self.raw_store = InMemoryEventPublisher(), InMemoryCredentialStore()
        self.issuance = Issuance(registry=world.registry, keystore=world.keystore,
                                 status=StatusIndexPool(InMemoryStatusIndexSource(), block_size=8),
                                 store=SealedCredentialStore(self.raw_store, self.privacy),
                                 publisher=SealingPublisher(self.kafka, self.privacy), signing=SigningPool(0))

    def records(self) -> list[bytes]:
        return [env.SerializeToString() for _, env in self.kafka.topics.get(CREDENTIALS.name, [])]


def clear_of_personal_data(raw: bytes) -> bool:
    return not any(value.encode() in raw for value in PERSONAL) and b"Andromeda" not in raw


async def issue(r: Rig, key: str) -> issuer_pb2.IssuedCredential:
    [outcome] = await r.issuance.issue(UNI_A, [IssueItem(key, valid_micro_credential())])
    assert isinstance(outcome, issuer_pb2.IssuedCredential), outcome
    return outcome


async def test_the_published_event_and_the_store_hold_no_personal_data_in_clear() -> None:
    r = Rig()
    answer = await issue(r, "row-1")
    assert LEARNER.full_name in answer.credential_json  # the issuer's answer is the credential itself
    [raw] = r.records()
    assert clear_of_personal_data(raw)
    envelope, event = open_envelope(raw)
    assert isinstance(event, events_pb2.CredentialIssued)
    assert event.credential_id == answer.credential_id and event.issuer_id == "uni-a"  # routing stays in clear
    assert len(event.status_entries) == 2 and event.learner_pseudonym == r.privacy.pseudonyms.of(did=LEARNER.did)
    assert not event.credential_json and not event.HasField("credential") and not event.learner_did
    assert all(clear_of_personal_data(v) for v in r.raw_store.issued.values())
    [opened] = await r.privacy.open([(envelope, event)])
    assert not opened.erased and opened.payload.credential_json == answer.credential_json
    assert opened.payload.credential == valid_micro_credential() and opened.payload.learner_did == LEARNER.did
    got = await r.issuance.get(UNI_A, answer.credential_id)
    assert got is not None and got[0].credential_json == answer.credential_json  # GetCredential opens it


async def test_a_retry_is_answered_in_clear_and_a_republish_is_the_same_record() -> None:
    r = Rig()
    r.kafka.fail_next = PublishTimeout("no acks")
    [failed] = await r.issuance.issue(UNI_A, [IssueItem("row-1", valid_micro_credential())])
    assert not isinstance(failed, issuer_pb2.IssuedCredential)
    [pending] = r.raw_store.pending.values()
    assert clear_of_personal_data(pending)
    answer = await issue(r, "row-1")
    [raw] = r.records()
    assert raw == pending  # sealing is deterministic: the retry published the very record kept pending
    again = await issue(r, "row-1")
    assert again.already_issued and again.credential_json == answer.credential_json


async def test_once_the_key_is_destroyed_nothing_opens_and_nothing_is_poison() -> None:
    r = Rig()
    answer = await issue(r, "row-1")
    pseudonym = r.privacy.pseudonyms.of(did=LEARNER.did)
    assert await r.keys.destroy(pseudonym)
    [raw] = r.records()
    envelope, event = open_envelope(raw)
    assert isinstance(event, events_pb2.CredentialIssued)
    [opened] = await r.privacy.open([(envelope, event)])
    assert opened.erased and not opened.payload.credential_json and not opened.payload.sealed_personal
    assert opened.payload.credential_id == answer.credential_id and len(opened.payload.status_entries) == 2
    got = await r.issuance.get(UNI_A, answer.credential_id)  # still known as issued, the document gone
    assert got is not None and got[0].credential_id == answer.credential_id and not got[0].credential_json
    # A credential issued to the same learner after the erasure is sealed under a new key.
    newer = await issue(r, "row-2")
    assert newer.credential_id == credential_id_for("uni-a", "row-2")
    _, later = open_envelope(r.records()[-1])
    assert isinstance(later, events_pb2.CredentialIssued)
    [reopened] = await r.privacy.open([(EventEnvelope.FromString(r.records()[-1]), later)])
    assert json.loads(reopened.payload.credential_json)["id"] == newer.credential_id


async def test_events_without_personal_data_and_old_clear_events_pass_as_they_are() -> None:
    r = Rig()
    revoked = EventEnvelope(event_id="e1", payload_type=events_pb2.CredentialRevoked.DESCRIPTOR.full_name,
                            payload=events_pb2.CredentialRevoked(credential_id="c1").SerializeToString())
    assert (await r.privacy.seal([revoked]))[0] is revoked and r.keys.keys == {}
    old = events_pb2.CredentialIssued(credential_id="c2", credential_json="{}")
    [opened] = await r.privacy.open([(EventEnvelope(event_id="e2"), old)])
    assert opened.payload is old and not opened.erased


def test_an_erasure_is_audited_under_the_pseudonym() -> None:
    from microcred.events.envelope import new_envelope
    from services.issuer.audit.entries import audit_entry

    erased = events_pb2.LearnerErased(learner_pseudonym="lp_" + "a" * 64, reason="GDPR Art. 17 request",
                                      actor="agency:op@ie", credential_ids=["urn:uuid:1"])
    envelope = new_envelope(erased, subject=erased.learner_pseudonym, tenant="ie", actor="agency:op@ie")
    entry = audit_entry(envelope, erased)
    assert entry is not None and entry.action == "LearnerErased" and entry.subject == erased.learner_pseudonym
    assert entry.reason == "GDPR Art. 17 request" and entry.actor == "agency:op@ie" and entry.agency_id == "ie"


async def test_an_imported_credential_is_sealed_under_the_account_learners_key() -> None:
    from microcred.events.envelope import new_envelope
    from microcred.privacy.events import account_identifier

    r = Rig()
    document = '{"credentialSubject": {"name": "Ana Andromeda"}}'
    held = events_pb2.CredentialImported(account_id="lrn_1", credential_id="urn:x", credential_json=document,
                                         import_check_json='{"verdict": "valid"}')
    [sealed] = await r.privacy.seal([new_envelope(held, subject="import:lrn_1/urn:x")])
    raw = sealed.SerializeToString()
    assert b"Andromeda" not in raw and b"valid" in raw  # the verdict is no personal data
    event = events_pb2.CredentialImported.FromString(sealed.payload)
    assert event.learner_pseudonym == r.privacy.pseudonyms.of_identifier(account_identifier("lrn_1"))
    [(opened, erased)] = await r.privacy.open_imported([(sealed, event)])
    assert not erased and opened.credential_json == document and not opened.sealed_personal
    await r.keys.destroy(event.learner_pseudonym)
    [(gone, erased)] = await r.privacy.open_imported([(sealed, event)])
    assert erased and not gone.credential_json and gone.credential_id == "urn:x"


async def test_a_completed_pathway_names_the_holder_did_only_sealed() -> None:
    from microcred.events.envelope import new_envelope

    r = Rig()
    done = events_pb2.PathwayCompleted(pathway_id="p1", learner_id="lrn_1", learner_did=LEARNER.did,
                                       credential_ids=["urn:a"], total_ects="10")
    [sealed] = await r.privacy.seal([new_envelope(done, subject="p1")])
    assert LEARNER.did.encode() not in sealed.SerializeToString()
    event = events_pb2.PathwayCompleted.FromString(sealed.payload)
    assert event.learner_id == "lrn_1" and event.credential_ids == ["urn:a"] and not event.learner_did
    [(opened, erased)] = await r.privacy.open_imported([(sealed, event)])
    assert not erased and opened.learner_did == LEARNER.did


async def test_an_offer_names_its_learner_and_carries_its_link_only_sealed() -> None:
    from microcred.events.envelope import new_envelope
    from microcred.gen.microcred.v1 import elements_pb2

    r = Rig()
    uri = "https://issuer.example/oid4vci/offers/secret-offer-id"
    made = events_pb2.CredentialOfferCreated(
        offer_ref="ref-1", issuer_id="uni-a", credential_configuration_id="mc", tx_code_required=True,
        learner_did=LEARNER.did, learner_email=LEARNER.email, offer_uri=uri,
        title=elements_pb2.LangString(values={"en": "Data Literacy"}),
        awarding_body=elements_pb2.LangString(values={"en": "University of Andromeda"}))
    [sealed] = await r.privacy.seal([new_envelope(made, subject="ref-1")])
    raw = sealed.SerializeToString()
    assert clear_of_personal_data(raw) and b"secret-offer-id" not in raw and b"Data Literacy" not in raw
    event = events_pb2.CredentialOfferCreated.FromString(sealed.payload)
    assert (event.offer_ref, event.issuer_id, event.tx_code_required) == ("ref-1", "uni-a", True)
    assert not event.learner_email and not event.offer_uri and not event.HasField("title")
    # the learner's pseudonym: the one the credential the offer becomes is sealed under (erasure covers both)
    issued = events_pb2.CredentialIssued(credential_id="c1", credential=valid_micro_credential())
    assert event.learner_pseudonym == r.privacy.pseudonym_of(issued)
    [(opened, erased)] = await r.privacy.open_imported([(sealed, event)])
    assert not erased and opened.offer_uri == uri and opened.learner_email == LEARNER.email
    assert opened.title.values["en"] == "Data Literacy" and opened.offer_ref == "ref-1"
    await r.keys.destroy(event.learner_pseudonym)
    [(gone, erased)] = await r.privacy.open_imported([(sealed, event)])
    assert erased and not gone.offer_uri and gone.offer_ref == "ref-1"
    # an offer without personal fields passes as it is
    bare = new_envelope(events_pb2.CredentialOfferCreated(offer_ref="ref-2", issuer_id="uni-a"), subject="ref-2")
    assert (await r.privacy.seal([bare]))[0] is bare
    # the offers a caller made, handed over as messages, are sealed exactly as their envelopes parsed again
    envelope = new_envelope(made, subject="ref-1")
    [parsed] = await r.privacy.seal([envelope])
    given = events_pb2.CredentialOfferCreated()
    given.CopyFrom(made)
    [handed] = await r.privacy.seal([envelope], [given])
    assert handed == parsed and handed.payload == parsed.payload and handed is not envelope
    with pytest.raises(ValueError, match="every envelope"):
        await r.privacy.seal([envelope, bare], [given])
