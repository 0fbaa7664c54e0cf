"""The issuance use case with in-memory ports: validation, trust registry, idempotency, failure paths, events."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.credential.eu_elements import missing_mandatory_elements, read_eu_elements
from microcred.credential.ids import credential_id_for, issued_event_id
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.keystore import InMemoryKeyStore
from microcred.events.envelope import new_envelope, open_envelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2, issuer_pb2, status_pb2
from microcred.kafka.publisher import InMemoryEventPublisher
from microcred.kafka.topics import CREDENTIALS
from microcred.registry.ports import IssuanceRefusal
from services.issuer.adapters.signing import SigningPool
from services.issuer.adapters.status_pool import InMemoryStatusIndexSource
from services.issuer.adapters.store import InMemoryCredentialStore
from services.issuer.application.issuance import Caller, Issuance, IssueItem, Refusal
from services.issuer.application.ports import StatusIndexUnavailable
from services.issuer.application.status_indexes import StatusIndexPool
from tests.fixtures.issuer.world import AGENCY, IssuerSpec, World, in_memory_world
from tests.harness.factories import minimal_micro_credential, valid_micro_credential

UNI_A = Caller("uni-a", AGENCY)
UNI_B = Caller("uni-b", AGENCY)


@dataclass
class Rig:
    """An Issuance over in-memory ports, with handles on each port."""

    world: World
    source: InMemoryStatusIndexSource
    store: InMemoryCredentialStore
    publisher: InMemoryEventPublisher
    issuance: Issuance

    def published(self) -> list[events_pb2.CredentialIssued]:
        out = []
        for _, envelope in self.publisher.topics.get(CREDENTIALS.name, []):
            _, payload = open_envelope(envelope.SerializeToString())
            assert isinstance(payload, events_pb2.CredentialIssued)
            out.append(payload)
        return out

    def verify(self, credential_json: str) -> bool | None:
        doc = json.loads(credential_json)
        vm = doc["proof"]["verificationMethod"]
        issuer_id = next(i for i, m in self.world.methods.items() if m == vm)
        key = self.world.keystore.get_signing_key(f"{issuer_id}/key-1").public_key()
        return verify_data_integrity(doc, lambda method: key if method == vm else None).verified


def rig(*specs: IssuerSpec, block_size: int = 16,
        registry_available: Callable[[], Awaitable[bool]] | None = None) -> Rig:
    world = in_memory_world(*(specs or (IssuerSpec("uni-a"), IssuerSpec("uni-b", max_eqf_level=5),
                                        IssuerSpec("uni-c", accredited=False))), keystore=InMemoryKeyStore())
    source, store, publisher = InMemoryStatusIndexSource(), InMemoryCredentialStore(), InMemoryEventPublisher()
    issuance = Issuance(registry=world.registry, keystore=world.keystore,
                        status=StatusIndexPool(source, block_size=block_size), store=store, publisher=publisher,
                        signing=SigningPool(0), registry_available=registry_available)
    return Rig(world, source, store, publisher, issuance)


def item(key: str, mc: pb.MicroCredential | None = None, ref: str = "") -> IssueItem:
    return IssueItem(key, mc if mc is not None else valid_micro_credential(), ref)


def refusal(outcome: object) -> Refusal:
    assert isinstance(outcome, Refusal), outcome
    return outcome


def issued(outcome: object) -> issuer_pb2.IssuedCredential:
    assert isinstance(outcome, issuer_pb2.IssuedCredential), outcome
    return outcome


async def test_a_valid_credential_is_signed_published_and_recorded() -> None:
    r = rig()
    [outcome] = await r.issuance.issue(UNI_A, [item("row-1")])
    credential = issued(outcome)
    assert credential.credential_id == credential_id_for("uni-a", "row-1")
    assert r.verify(credential.credential_json) is True
    [(key, envelope)] = r.publisher.topics[CREDENTIALS.name]
    assert key == credential.credential_id and envelope.subject == key
    assert envelope.event_id == issued_event_id(key) and envelope.tenant == AGENCY and envelope.issuer_id == "uni-a"
    [event] = r.published()
    assert event.credential_json == credential.credential_json
    assert event.credential == valid_micro_credential()
    assert event.learner_did == valid_micro_credential().learner.did
    assert {e.status_purpose for e in event.status_entries} == {status_pb2.STATUS_PURPOSE_REVOCATION,
                                                                status_pb2.STATUS_PURPOSE_SUSPENSION}
    assert r.store.issued[("uni-a", key)] == envelope.SerializeToString() and not r.store.pending
    doc = json.loads(credential.credential_json)
    assert doc["issuer"]["id"] == r.world.dids["uni-a"]
    assert doc["proof"]["verificationMethod"] == r.world.methods["uni-a"]
    assert [s["statusPurpose"] for s in doc["credentialStatus"]] == ["revocation", "suspension"]
    assert missing_mandatory_elements(doc) == []
    assert read_eu_elements(doc).title == "Digital micro-credential creation"


async def test_the_envelope_is_what_new_envelope_builds_without_a_trace_context() -> None:
    r = rig()
    before = datetime.now(UTC).replace(microsecond=0)
    [outcome] = await r.issuance.issue(UNI_A, [item("row-1")])
    after = datetime.now(UTC)
    [(_, envelope)] = r.publisher.topics[CREDENTIALS.name]
    _, payload = open_envelope(envelope.SerializeToString())
    expected = new_envelope(payload, subject=envelope.subject, tenant=AGENCY, issuer_id="uni-a", actor=UNI_A.actor,
                            event_id=envelope.event_id, occurred_at=envelope.occurred_at.ToDatetime(tzinfo=UTC))
    expected.trace_context.clear()
    assert envelope == expected and envelope.occurred_at == issued(outcome).issued_at
    assert before <= envelope.occurred_at.ToDatetime(tzinfo=UTC) <= after


async def test_the_event_carries_a_hashed_email_when_the_model_has_no_hashed_id() -> None:
    r = rig()
    mc = minimal_micro_credential()
    mc.learner.ClearField("hashed_id")
    [outcome] = await r.issuance.issue(UNI_A, [item("k", mc)])
    [event] = r.published()
    email_identity = next(i for i in json.loads(issued(outcome).credential_json)["credentialSubject"]["identifier"]
                          if i["identityType"] == "emailAddress")
    assert event.learner_hashed_id.identity_hash == email_identity["identityHash"]
    assert event.learner_hashed_id.salt == email_identity["salt"]


async def test_an_invalid_credential_reports_every_violation_and_publishes_nothing() -> None:
    r = rig()
    mc = valid_micro_credential()
    mc.ClearField("title")
    mc.workload.credit_points = "61"
    mc.countries[0].code = "EL"
    mc.ClearField("quality_assurance")
    [outcome] = await r.issuance.issue(UNI_A, [item("bad", mc)])
    failure = refusal(outcome)
    assert failure.code == code_pb2.INVALID_ARGUMENT
    fields = {v.field for v in failure.violations}
    assert {"title", "workload.credit_points", "countries[0].code", "quality_assurance"} <= fields
    assert all(v.reason for v in failure.violations)
    assert r.publisher.topics == {} and r.store.issued == {} and r.store.pending == {}
    assert r.source.reservations == 0  # nothing was even reserved


@pytest.mark.parametrize(("caller", "reason"), [
    (Caller("uni-c", AGENCY), IssuanceRefusal.NOT_ACCREDITED),
    (Caller("nobody", AGENCY), IssuanceRefusal.ISSUER_NOT_REGISTERED),
    (UNI_B, IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED),  # accredited up to EQF 5, the credential is EQF 6
    (Caller("uni-a", "pl-pka"), "AGENCY_MISMATCH"),
])
async def test_the_trust_registry_refuses_with_its_reason(caller: Caller, reason: str) -> None:
    r = rig()
    [outcome] = await r.issuance.issue(caller, [item("k")])
    failure = refusal(outcome)
    assert failure.code == code_pb2.PERMISSION_DENIED and failure.reason == reason and failure.message
    assert r.publisher.topics == {}


async def test_the_eqf_level_is_checked_per_credential() -> None:
    r = rig()
    low = valid_micro_credential()
    low.level.eqf_level = pb.EQF_LEVEL_5
    low.level.ClearField("qf_ehea_cycle")
    none = valid_micro_credential()
    none.level.not_applicable.reason.values["en"] = "not referenced to a framework"
    none.level.ClearField("qf_ehea_cycle")
    outcomes = await r.issuance.issue(UNI_B, [item("low", low), item("high"), item("none", none)])
    assert isinstance(outcomes[0], issuer_pb2.IssuedCredential)
    assert refusal(outcomes[1]).reason == IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED
    assert isinstance(outcomes[2], issuer_pb2.IssuedCredential)


async def test_a_pinned_client_certificate_must_match() -> None:
    r = rig(IssuerSpec("uni-a", certificate_sha256=("ab" * 32,)))
    [denied] = await r.issuance.issue(Caller("uni-a", AGENCY, "cd" * 32), [item("k")])
    assert refusal(denied).reason == "CERTIFICATE_NOT_REGISTERED"
    [allowed] = await r.issuance.issue(Caller("uni-a", AGENCY, "AB" * 32), [item("k")])
    issued(allowed)


async def test_pins_do_not_apply_to_an_oauth_client_of_the_rest_api() -> None:
    # The REST API's bearer-token callers carry no certificate; their client registration binds them to the
    # issuer. The EU-model path refuses them no more than the caller-written VC path does.
    r = rig(IssuerSpec("uni-a", certificate_sha256=("ab" * 32,)))
    [allowed] = await r.issuance.issue(Caller("uni-a", AGENCY), [item("k")])
    issued(allowed)


async def test_a_batch_gives_each_item_its_own_result() -> None:
    r = rig()
    bad = valid_micro_credential()
    bad.ClearField("learner")
    outcomes = await r.issuance.issue(UNI_A, [item("a"), item("b", bad), item(""), item("c")])
    assert [type(o).__name__ for o in outcomes] == ["IssuedCredential", "Refusal", "Refusal", "IssuedCredential"]
    assert refusal(outcomes[1]).violations[0].field == "learner"
    assert refusal(outcomes[2]).violations[0].field == "idempotency_key"
    assert len(r.published()) == 2
    ids = {issued(outcomes[0]).credential_id, issued(outcomes[3]).credential_id}
    assert ids == {credential_id_for("uni-a", "a"), credential_id_for("uni-a", "c")}
    entries = {(e.status_list_id, e.status_list_index) for ev in r.published() for e in ev.status_entries}
    assert len(entries) == 4


async def test_a_retried_key_returns_the_original_and_issues_nothing_new() -> None:
    r = rig()
    [first] = await r.issuance.issue(UNI_A, [item("row-7")])
    retry = valid_micro_credential()
    retry.issued_at.seconds -= 3_600  # a re-run stamps its own "now": the same request all the same
    [again] = await r.issuance.issue(UNI_A, [item("row-7", retry)])
    assert issued(again).already_issued and not issued(first).already_issued
    again_without_flag = issuer_pb2.IssuedCredential()
    again_without_flag.CopyFrom(issued(again))
    again_without_flag.ClearField("already_issued")
    assert again_without_flag == issued(first)
    assert len(r.published()) == 1


async def test_a_key_reused_for_other_content_is_a_conflict_naming_the_fields() -> None:
    r = rig()
    [first] = await r.issuance.issue(UNI_A, [item("row-7")])
    changed = valid_micro_credential()
    changed.title.values["en"] = "Something else"
    changed.learner.full_name = "Ana Corrected"
    [again] = await r.issuance.issue(UNI_A, [item("row-7", changed)])
    conflict = refusal(again)
    assert conflict.code == code_pb2.ALREADY_EXISTS and conflict.reason == "IDEMPOTENCY_KEY_REUSED"
    assert [v.field for v in conflict.violations] == ["learner.full_name", "title.values[en]"]
    assert "learner.full_name, title.values[en] differ" in conflict.message
    assert len(r.published()) == 1  # nothing issued
    [same] = await r.issuance.issue(UNI_A, [item("row-7")])
    assert issued(same).credential_id == issued(first).credential_id


async def test_duplicate_keys_in_one_chunk_issue_once() -> None:
    r = rig()
    outcomes = await r.issuance.issue(UNI_A, [item("dup"), item("dup"), item("other")])
    assert issued(outcomes[0]) == issued(outcomes[1])
    assert len(r.published()) == 2


async def test_keys_are_per_issuer() -> None:
    r = rig(IssuerSpec("uni-a"), IssuerSpec("uni-b"))
    [a] = await r.issuance.issue(UNI_A, [item("same")])
    [b] = await r.issuance.issue(UNI_B, [item("same")])
    assert issued(a).credential_id != issued(b).credential_id
    assert await r.issuance.get(UNI_A, issued(a).credential_id) is not None
    assert await r.issuance.get(UNI_B, issued(a).credential_id) is None  # another issuer's credential: not found
    assert await r.issuance.get(UNI_A, "urn:uuid:unknown") is None


async def test_get_returns_the_credential_and_its_model() -> None:
    r = rig()
    [outcome] = await r.issuance.issue(UNI_A, [item("k")])
    found = await r.issuance.get(UNI_A, issued(outcome).credential_id)
    assert found is not None
    answer, event = found
    assert answer == issued(outcome) and event.credential == valid_micro_credential()


async def test_a_failed_publish_answers_unavailable_and_the_retry_publishes_the_same_credential() -> None:
    r = rig()
    r.publisher.fail_next = ConnectionError("kafka down")
    [failed] = await r.issuance.issue(UNI_A, [item("k")])
    assert refusal(failed).code == code_pb2.UNAVAILABLE
    assert r.publisher.topics == {} and r.store.issued == {}
    [(_, pending)] = r.store.pending.items()
    [retried] = await r.issuance.issue(UNI_A, [item("k")])
    answer = issued(retried)
    [(_, envelope)] = r.publisher.topics[CREDENTIALS.name]
    assert envelope.SerializeToString() == pending  # the very same signed credential, same event id
    assert r.verify(answer.credential_json) is True and not r.store.pending
    assert r.source.reservations == 1


async def test_a_key_signed_but_not_published_is_a_conflict_for_other_content_too() -> None:
    r = rig()
    r.publisher.fail_next = ConnectionError("kafka down")
    [failed] = await r.issuance.issue(UNI_A, [item("k")])
    assert refusal(failed).code == code_pb2.UNAVAILABLE and len(r.store.pending) == 1
    changed = valid_micro_credential()
    changed.learner.email = "other@example.org"
    [conflict] = await r.issuance.issue(UNI_A, [item("k", changed)])
    assert refusal(conflict).code == code_pb2.ALREADY_EXISTS
    assert [v.field for v in refusal(conflict).violations] == ["learner.email"]
    assert r.publisher.topics == {}  # the pending credential was not published under the other content
    [retried] = await r.issuance.issue(UNI_A, [item("k")])
    assert not issued(retried).already_issued  # first answered now: new to the caller
    assert len(r.published()) == 1


async def test_a_failed_record_after_publishing_still_answers_issued() -> None:
    r = rig()
    r.store.fail_commit = ConnectionError("redis down")
    [outcome] = await r.issuance.issue(UNI_A, [item("k")])
    issued(outcome)
    assert len(r.published()) == 1


async def test_status_indexes_unavailable_answers_unavailable() -> None:
    r = rig()
    r.source.fail_next = StatusIndexUnavailable("revocation down")
    [outcome] = await r.issuance.issue(UNI_A, [item("k")])
    assert refusal(outcome).code == code_pb2.UNAVAILABLE
    assert r.publisher.topics == {}
    [outcome] = await r.issuance.issue(UNI_A, [item("k")])
    issued(outcome)


@pytest.mark.parametrize("caller", [UNI_A, Caller("not-registered", AGENCY)])
async def test_while_the_registry_rebuilds_nobody_is_denied_only_asked_to_retry(caller: Caller) -> None:
    calls: list[str] = []

    async def rebuilding() -> bool:
        calls.append("asked")
        return False

    r = rig(registry_available=rebuilding)
    read = r.world.registry.get_issuer

    async def get_issuer(issuer_id: str) -> object:
        calls.append("read")
        return await read(issuer_id)

    r.world.registry.get_issuer = get_issuer  # type: ignore[method-assign]
    outcomes = await r.issuance.issue(caller, [item("k"), item("k2")])
    assert [refusal(o).code for o in outcomes] == [code_pb2.UNAVAILABLE] * 2
    assert all(refusal(o).reason == "REGISTRY_REBUILDING" for o in outcomes)
    assert calls[0] == "read" and calls[-1] == "asked"  # asked after reading: a wipe in between is caught
    assert r.publisher.topics == {} and r.source.reservations == 0


async def test_once_the_registry_is_whole_again_the_same_keys_issue() -> None:
    available = False

    async def whole() -> bool:
        return available

    r = rig(registry_available=whole)
    [first] = await r.issuance.issue(UNI_A, [item("k")])
    assert refusal(first).code == code_pb2.UNAVAILABLE
    available = True
    [second] = await r.issuance.issue(UNI_A, [item("k")])
    assert r.verify(issued(second).credential_json) is True
    [denied] = await r.issuance.issue(Caller("not-registered", AGENCY), [item("k")])
    assert refusal(denied).code == code_pb2.PERMISSION_DENIED


async def test_a_missing_signing_key_is_a_failed_precondition() -> None:
    r = rig()
    r.issuance._keystore = InMemoryKeyStore()  # the key store lost the issuer's key
    [outcome] = await r.issuance.issue(UNI_A, [item("k")])
    assert refusal(outcome).code == code_pb2.FAILED_PRECONDITION
    assert r.publisher.topics == {}


async def test_credentials_use_fresh_status_pairs_and_the_issue_date_as_awarded_date() -> None:
    r = rig(block_size=4)
    outcomes = await r.issuance.issue(UNI_A, [item(f"k{i}") for i in range(10)])
    pairs = {(e.status_list_id, e.status_list_index) for ev in r.published() for e in ev.status_entries}
    assert len(pairs) == 20
    doc = json.loads(issued(outcomes[0]).credential_json)
    assert doc["awardedDate"] == "2025-03-14T10:00:00Z" and doc["validFrom"] == "2025-03-14T10:00:00Z"
    created = datetime.fromisoformat(doc["proof"]["created"])
    assert abs((created - datetime.now(UTC)).total_seconds()) < 60


async def test_no_key_material_in_events_logs_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    r = rig()
    seed = r.world.keystore.get_signing_key("uni-a/key-1").private_bytes_raw()
    r.publisher.fail_next = ConnectionError("kafka down")  # exercise the error logs too
    with caplog.at_level("DEBUG"):
        await r.issuance.issue(UNI_A, [item("k")])
        await r.issuance.issue(UNI_A, [item("k")])
    published = b"".join(e.SerializeToString() for _, e in r.publisher.topics[CREDENTIALS.name])
    for secret in (seed, seed.hex().encode(), repr(seed).encode()):
        assert secret not in published and secret.decode("latin-1") not in caplog.text
    from services.issuer.application.issuance import _Signer
    assert seed.hex() not in repr(_Signer({}, seed, "vm")) and repr(seed) not in repr(_Signer({}, seed, "vm"))


async def test_a_request_that_lost_the_race_answers_the_winner() -> None:
    r = rig()
    [first] = await r.issuance.issue(UNI_A, [item("late")])
    r.store.pending.clear()
    # a concurrent request signed its own version before the first was recorded and stores it only now
    winners = await r.store.put_pending("uni-a", {issued(first).credential_id: b"other"})
    assert winners == {issued(first).credential_id: r.store.issued[("uni-a", issued(first).credential_id)]}
