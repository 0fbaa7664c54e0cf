"""One contract for every trust-registry read model: what the RegistryReader answers after a sequence of events.

:class:`RegistryContract` is run against :class:`InMemoryRegistry` in ``tests/unit/test_contract_registry.py``
and against :class:`RedisRegistry` on the real Redis in ``tests/integration/test_contract_registry.py``. The
module also holds the event and message builders the other registry tests share.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest
from google.protobuf.message import Message

from microcred.crypto.keystore import InMemoryKeyStore
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2, events_pb2, registry_pb2
from microcred.kafka.consumer import Position
from microcred.kafka.topics import REGISTRY
from microcred.registry.did_web import did_web_id, method_id
from microcred.registry.domain import timestamp
from microcred.registry.memory import InMemoryRegistry
from microcred.registry.ports import IssuanceRefusal, KeyProblem, RegistryReader

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
HOST = "trust.example:8443"
TOPIC = REGISTRY.name


# ------------------------------------------------------------------------------------------------ builders


def org(name: str, country: str = "IE", homepage: str = "https://example.org") -> elements_pb2.Organisation:
    """A valid organisation."""
    return elements_pb2.Organisation(legal_name=elements_pb2.LangString(values={"en": name}),
                                     identifiers=[elements_pb2.Identifier(scheme="registration", value="123")],
                                     country=elements_pb2.Country(code=country), homepage=homepage)


def accreditation(max_eqf: int = 5, valid_from: datetime = T0, valid_until: datetime | None = None,
                  accreditation_id: str = "") -> registry_pb2.Accreditation:
    """A valid accreditation as an agency sends it."""
    acc = registry_pb2.Accreditation(
        accreditation_id=accreditation_id, type=elements_pb2.ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE,
        framework="ESG 2015", accrediting_body=org("Quality and Qualifications Ireland"),
        max_eqf_level=max_eqf, valid_from=timestamp(valid_from), decision_reference="QQI/2025/17")  # type: ignore[arg-type]
    if valid_until is not None:
        acc.valid_until.CopyFrom(timestamp(valid_until))
    return acc


TEST_KEYS = InMemoryKeyStore()


def public_key(name: str) -> str:
    """A stable public multikey per name (generated once per test session)."""
    if name not in TEST_KEYS.list_keys():
        TEST_KEYS.create_key(name)
    return TEST_KEYS.public_key(name)


def agency_registered(agency_id: str = "ie-qqi") -> events_pb2.AgencyRegistered:
    return events_pb2.AgencyRegistered(agency_id=agency_id, organisation=org(f"Agency {agency_id}"))


def issuer_registered(issuer_id: str = "uni-a", agency_id: str = "ie-qqi") -> events_pb2.IssuerRegistered:
    did = did_web_id(HOST, issuer_id)
    return events_pb2.IssuerRegistered(issuer_id=issuer_id, agency_id=agency_id, organisation=org(f"Uni {issuer_id}"),
                                       did=did, verification_method_id=method_id(did, 1),
                                       public_key_multibase=public_key(f"{issuer_id}/key-1"))


def accredited(issuer_id: str = "uni-a", accreditation_id: str = "acc-1", max_eqf: int = 5,
               valid_from: datetime = T0, valid_until: datetime | None = None) -> events_pb2.IssuerAccredited:
    acc = accreditation(max_eqf, valid_from, valid_until)
    event = events_pb2.IssuerAccredited(issuer_id=issuer_id, accreditation_id=accreditation_id, type=acc.type,
                                        framework=acc.framework, accrediting_body=acc.accrediting_body,
                                        max_eqf_level=acc.max_eqf_level, valid_from=acc.valid_from,
                                        decision_reference=acc.decision_reference)
    if valid_until is not None:
        event.valid_until.CopyFrom(acc.valid_until)
    return event


def rotated(issuer_id: str = "uni-a", n: int = 2, retired_at: datetime | None = None) -> events_pb2.IssuerKeyRotated:
    did = did_web_id(HOST, issuer_id)
    event = events_pb2.IssuerKeyRotated(issuer_id=issuer_id, new_verification_method_id=method_id(did, n),
                                        new_public_key_multibase=public_key(f"{issuer_id}/key-{n}"),
                                        retired_verification_method_id=method_id(did, n - 1))
    if retired_at is not None:
        event.retired_at.CopyFrom(timestamp(retired_at))
    return event


# ------------------------------------------------------------------------------------------------ the contract


class Harness(Protocol):
    """A read model under test and how to feed it one event at a given time."""

    reader: RegistryReader

    async def feed(self, payload: Message, at: datetime) -> None: ...

    async def dump(self) -> dict[str, Any]: ...

    async def feed_at(self, payload: Message, at: datetime, offset: int) -> None:
        """Feed one event as the ``ConsumerRunner`` does, as the record at ``offset`` of partition 1."""
        ...


class MemoryHarness:
    """InMemoryRegistry fed envelope by envelope."""

    def __init__(self) -> None:
        self.registry = InMemoryRegistry()
        self.reader: RegistryReader = self.registry

    async def feed(self, payload: Message, at: datetime) -> None:
        self.registry.apply(new_envelope(payload, occurred_at=at), payload)

    async def feed_at(self, payload: Message, at: datetime, offset: int) -> None:
        await self.registry.handle(new_envelope(payload, occurred_at=at), payload, Position(TOPIC, 1, offset))

    async def dump(self) -> dict[str, Any]:
        return await self.registry.dump()


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class RegistryContract:
    """Behaviour every RegistryReader adapter must show; subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> Harness:
        raise NotImplementedError

    async def _onboard(self, h: Harness, *extra: Message) -> None:
        await h.feed(agency_registered(), T0)
        await h.feed(issuer_registered(), later(1))
        for i, event in enumerate(extra):
            await h.feed(event, later(2 + i))

    async def test_agencies_and_issuers_are_listed_in_id_order(self, harness: Harness) -> None:
        await harness.feed(agency_registered("pl-pka"), T0)
        await harness.feed(agency_registered("ie-qqi"), T0)
        for issuer_id, agency in (("uni-c", "pl-pka"), ("uni-b", "ie-qqi"), ("uni-a", "ie-qqi")):
            await harness.feed(issuer_registered(issuer_id, agency), later(1))
        assert [a.agency_id for a in await harness.reader.list_agencies()] == ["ie-qqi", "pl-pka"]
        assert [i.issuer_id for i in await harness.reader.list_issuers()] == ["uni-a", "uni-b", "uni-c"]
        assert [i.issuer_id for i in await harness.reader.list_issuers("ie-qqi")] == ["uni-a", "uni-b"]
        assert await harness.reader.list_issuers("nobody") == []
        found = await harness.reader.get_agency("pl-pka")
        assert found is not None and found.organisation.legal_name.values["en"] == "Agency pl-pka"
        assert await harness.reader.get_agency("nobody") is None

    async def test_registered_issuer_carries_its_first_key_from_registration_time(self, harness: Harness) -> None:
        await self._onboard(harness)
        issuer = await harness.reader.get_issuer("uni-a")
        assert issuer is not None and issuer.agency_id == "ie-qqi"
        assert issuer.did == "did:web:trust.example%3A8443:issuers:uni-a"
        [vm] = issuer.verification_methods
        assert vm.id == issuer.did + "#key-1" and vm.created_at.ToDatetime(tzinfo=UTC) == later(1)
        assert not vm.HasField("retired_at")
        assert await harness.reader.get_issuer("uni-z") is None

    async def test_duplicate_registration_changes_nothing(self, harness: Harness) -> None:
        await self._onboard(harness)
        before = await harness.dump()
        await harness.feed(issuer_registered("uni-a", "pl-other"), later(5))
        await harness.feed(events_pb2.AgencyRegistered(agency_id="ie-qqi", organisation=org("Impostor")), later(5))
        assert await harness.dump() == before

    async def test_issuance_needs_an_accreditation_in_force(self, harness: Harness) -> None:
        r = harness.reader
        assert (await r.authorize_issuance("uni-a", 5, later(10))).refusal is IssuanceRefusal.ISSUER_NOT_REGISTERED
        await self._onboard(harness)
        assert (await r.authorize_issuance("uni-a", 5, later(10))).refusal is IssuanceRefusal.NOT_ACCREDITED
        await harness.feed(accredited(valid_from=later(60), valid_until=later(120)), later(3))
        early = await r.authorize_issuance("uni-a", 5, later(10))
        assert early.refusal is IssuanceRefusal.ACCREDITATION_NOT_YET_VALID and early.accreditation_id == "acc-1"
        ok = await r.authorize_issuance("uni-a", 5, later(60))
        assert ok.allowed and ok.refusal is None and ok.accreditation_id == "acc-1"
        assert (await r.authorize_issuance("uni-a", None, later(61))).allowed
        late = await r.authorize_issuance("uni-a", 5, later(120))
        assert late.refusal is IssuanceRefusal.ACCREDITATION_EXPIRED

    async def test_eqf_level_above_the_accredited_maximum_is_refused(self, harness: Harness) -> None:
        await self._onboard(harness, accredited(max_eqf=5))
        assert (await harness.reader.authorize_issuance("uni-a", 5, later(10))).allowed
        refused = await harness.reader.authorize_issuance("uni-a", 6, later(10))
        assert not refused.allowed and refused.refusal is IssuanceRefusal.EQF_LEVEL_NOT_ALLOWED
        assert "EQF level 5" in refused.message and "6" in refused.message
        await harness.feed(accredited(accreditation_id="acc-2", max_eqf=7), later(11))
        allowed = await harness.reader.authorize_issuance("uni-a", 6, later(12))
        assert allowed.allowed and allowed.accreditation_id == "acc-2"

    async def test_suspension_restoration_and_withdrawal(self, harness: Harness) -> None:
        await self._onboard(harness, accredited())
        r = harness.reader
        await harness.feed(events_pb2.AccreditationSuspended(issuer_id="uni-a", accreditation_id="acc-1",
                                                             reason="audit"), later(10))
        assert (await r.authorize_issuance("uni-a", 4, later(11))).refusal is IssuanceRefusal.ACCREDITATION_SUSPENDED
        await harness.feed(accredited(), later(12))  # a new decision under the same id restores it
        assert (await r.authorize_issuance("uni-a", 4, later(13))).allowed
        await harness.feed(events_pb2.AccreditationWithdrawn(issuer_id="uni-a", accreditation_id="acc-1",
                                                             reason="fraud"), later(14))
        withdrawn = await r.authorize_issuance("uni-a", 4, later(15))
        assert withdrawn.refusal is IssuanceRefusal.ACCREDITATION_WITHDRAWN
        await harness.feed(accredited(), later(16))  # withdrawal is permanent
        await harness.feed(events_pb2.AccreditationSuspended(issuer_id="uni-a", accreditation_id="acc-1"), later(17))
        issuer = await r.get_issuer("uni-a")
        assert issuer is not None and issuer.accreditations[0].status == registry_pb2.ACCREDITATION_STATUS_WITHDRAWN
        assert not (await r.authorize_issuance("uni-a", 4, later(18))).allowed

    async def test_key_rotation_keeps_history_and_judges_signing_time(self, harness: Harness) -> None:
        await self._onboard(harness, rotated(retired_at=later(30)))
        r, did = harness.reader, did_web_id(HOST, "uni-a")
        key1, key2 = method_id(did, 1), method_id(did, 2)
        before = await r.resolve_verification_method(key1, later(29))
        assert before.public_key is not None and before.problem is None
        after = await r.resolve_verification_method(key1, later(30))
        assert after.public_key is None and after.problem is KeyProblem.KEY_RETIRED and "retired" in after.message
        new = await r.resolve_verification_method(key2, later(31))
        assert new.public_key is not None
        early = await r.resolve_verification_method(key2, later(1))
        assert early.problem is KeyProblem.KEY_NOT_YET_VALID
        assert (await r.resolve_verification_method(method_id(did, 9), later(31))).problem \
            is KeyProblem.UNKNOWN_VERIFICATION_METHOD
        assert (await r.resolve_verification_method("did:web:else.example#key-1", later(31))).problem \
            is KeyProblem.UNKNOWN_ISSUER
        issuer = await r.get_issuer("uni-a")
        assert issuer is not None and [vm.id for vm in issuer.verification_methods] == [key1, key2]

    async def test_a_key_registered_mid_second_verifies_proofs_created_in_that_second(self, harness: Harness) -> None:
        await self._onboard(harness)
        await harness.feed(rotated(), later(20) + timedelta(milliseconds=400))
        resolution = await harness.reader.resolve_verification_method(method_id(did_web_id(HOST, "uni-a"), 2),
                                                                      later(20))
        assert resolution.public_key is not None

    async def test_redelivered_events_change_nothing(self, harness: Harness) -> None:
        events = [accredited(), rotated(retired_at=later(30)),
                  events_pb2.AccreditationSuspended(issuer_id="uni-a", accreditation_id="acc-1")]
        await self._onboard(harness, *events)
        before = await harness.dump()
        for i, event in enumerate(events):
            await harness.feed(event, later(40 + i))
        assert await harness.dump() == before

    async def test_events_for_unknown_issuers_are_ignored(self, harness: Harness) -> None:
        await harness.feed(accredited("ghost"), T0)
        await harness.feed(rotated("ghost"), T0)
        assert await harness.reader.get_issuer("ghost") is None
        assert (await harness.dump())["issuers"] == {}

    async def test_a_record_at_or_before_the_stored_position_is_not_applied_again(self, harness: Harness) -> None:
        for offset, event in enumerate([agency_registered(), issuer_registered(), accredited()]):
            await harness.feed_at(event, later(offset), offset)
        before = await harness.dump()
        # Redelivered positions with other content (a replay after a crash): never applied a second time.
        await harness.feed_at(accredited(accreditation_id="acc-other"), later(5), 2)
        await harness.feed_at(events_pb2.AccreditationWithdrawn(issuer_id="uni-a", accreditation_id="acc-1"),
                              later(5), 0)
        assert await harness.dump() == before
        await harness.feed_at(accredited(accreditation_id="acc-next"), later(6), 3)
        issuer = await harness.reader.get_issuer("uni-a")
        assert issuer is not None and {a.accreditation_id for a in issuer.accreditations} == {"acc-1", "acc-next"}

    async def test_the_logo_given_at_registration_is_kept_apart_and_survives_later_events(
            self, harness: Harness) -> None:
        png = b"\x89PNG\r\n\x1a\n-the-bytes-as-registered"  # read models keep bytes; check_logo judges images
        event = issuer_registered()
        event.logo, event.logo_media_type = png, "image/png"
        await harness.feed(agency_registered(), T0)
        await harness.feed(event, later(1))
        await harness.feed(accredited(), later(2))
        await harness.feed(rotated(), later(3))
        logo = await harness.reader.get_issuer_logo("uni-a")
        assert logo is not None and (logo.data, logo.media_type) == (png, "image/png")
        issuer = await harness.reader.get_issuer("uni-a")
        assert issuer is not None and len(issuer.accreditations) == 1 and png not in issuer.SerializeToString()
        await harness.feed(issuer_registered("uni-b"), later(4))
        assert await harness.reader.get_issuer_logo("uni-b") is None
        assert await harness.reader.get_issuer_logo("uni-z") is None
