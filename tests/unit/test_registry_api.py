"""RegistryApi over a real in-process mTLS gRPC server, with in-memory publisher, read model and key store.

Covers who may do what, every validation rule's wire form (google.rpc.BadRequest), and the events each command
publishes. The same scenarios over Kafka and Redis are in tests/integration/test_registry_grpc.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from microcred import pki
from microcred.crypto.keystore import InMemoryKeyStore
from microcred.events.envelope import open_envelope
from microcred.gen.microcred.v1 import events_pb2, registry_pb2, registry_pb2_grpc
from microcred.grpc_server import GrpcServer, TlsFiles, client_channel, create_server
from microcred.kafka.publisher import EventPublisher, InMemoryEventPublisher
from microcred.kafka.topics import REGISTRY
from microcred.registry.memory import InMemoryRegistry
from microcred.registry.ports import RegistryReader
from services.issuer.api.registry import RegistryApi
from tests.contract.registry import HOST, accreditation, org

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SERVICE = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name
R = TypeVar("R", bound=Message)

# (name, CN, O, OU) of every client the tests use.
CLIENTS = (("platform", "platform-operator", pki.ROLE_PLATFORM, pki.ROLE_SERVICE),
           ("agency_a", "ie-qqi-operator", "ie-qqi", pki.ROLE_AGENCY),
           ("agency_b", "pl-pka-operator", "pl-pka", pki.ROLE_AGENCY),
           ("issuer_a", "uni-a", "ie-qqi", pki.ROLE_ISSUER),
           ("issuer_b", "uni-b", "ie-qqi", pki.ROLE_ISSUER))


def make_tls() -> dict[str, TlsFiles]:
    """A fresh CA, the server's TLS files (``server``) and one client's per entry of :data:`CLIENTS`."""
    ca = pki.create_ca("test platform CA")
    server = pki.create_server_cert(ca, "microcred-services")
    tls = {"server": TlsFiles(ca.cert_pem, server.cert_pem, server.key_pem)}
    for name, cn, o, ou in CLIENTS:
        cert = pki.create_client_cert(ca, cn, o, ou)
        tls[name] = TlsFiles(ca.cert_pem, cert.cert_pem, cert.key_pem)
    return tls


async def start_registry_server(api: RegistryApi, tls: TlsFiles) -> GrpcServer:
    """Host ``api`` on 127.0.0.1, a free port, mutual TLS."""
    def register(server: grpc.aio.Server) -> None:
        registry_pb2_grpc.add_RegistryServiceServicer_to_server(api, server)

    server = create_server(tls, "127.0.0.1:0", [SERVICE], register)
    await server.start()
    return server


def status_details(err: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The google.rpc.Status the server attached (empty when none)."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    return status_pb2.Status()


def field_violations(err: grpc.aio.AioRpcError) -> dict[str, str]:
    """field -> reason of the BadRequest detail."""
    out: dict[str, str] = {}
    for detail in status_details(err).details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            out.update({v.field: v.reason for v in bad.field_violations})
    return out


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """Await ``call`` and return the error it must fail with."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


@dataclass
class Stack:
    """Server, one stub per client, and the in-memory adapters behind the API."""

    server: GrpcServer
    stubs: dict[str, registry_pb2_grpc.RegistryServiceAsyncStub]
    channels: list[grpc.aio.Channel]
    publisher: InMemoryEventPublisher
    registry: InMemoryRegistry
    keystore: InMemoryKeyStore
    clock: list[datetime] = field(default_factory=lambda: [NOW])

    def events(self) -> list[tuple[str, events_pb2.EventEnvelope, Message]]:
        return [(key, *open_envelope(env.SerializeToString()))
                for key, env in self.publisher.topics.get(REGISTRY.name, [])]

    async def call(self, who: str, method: str, request: R) -> Any:
        """Call ``method`` as ``who``, then let the read model catch up (as the projector would)."""
        try:
            return await getattr(self.stubs[who], method)(request)
        finally:
            self.registry.catch_up(self.publisher)


async def open_stubs(port: int, tls: dict[str, TlsFiles]) -> tuple[dict[str, Any], list[grpc.aio.Channel]]:
    channels = {name: client_channel(f"127.0.0.1:{port}", tls[name]) for name, *_ in CLIENTS}
    return ({name: registry_pb2_grpc.RegistryServiceStub(ch) for name, ch in channels.items()},
            list(channels.values()))


@pytest.fixture(scope="module")
def tls() -> dict[str, TlsFiles]:
    return make_tls()


@pytest.fixture
async def stack(tls: dict[str, TlsFiles]) -> AsyncIterator[Stack]:
    publisher, registry, keystore = InMemoryEventPublisher(), InMemoryRegistry(), InMemoryKeyStore()
    clock = [NOW]
    api = RegistryApi(publisher, registry, keystore, HOST, clock=lambda: clock[0], consistency_timeout=0)
    server = await start_registry_server(api, tls["server"])
    stubs, channels = await open_stubs(server.port, tls)
    yield Stack(server, stubs, channels, publisher, registry, keystore, clock)
    for channel in channels:
        await channel.close()
    await server.stop(0)


async def onboard(s: Stack, *issuers: tuple[str, str]) -> None:
    """Register both agencies and the given (issuer, agency-client) pairs."""
    for agency in ("ie-qqi", "pl-pka"):
        await s.call("platform", "RegisterAgency",
                     registry_pb2.RegisterAgencyRequest(agency_id=agency, organisation=org(f"Agency {agency}")))
    for issuer_id, who in issuers:
        await s.call(who, "RegisterIssuer",
                     registry_pb2.RegisterIssuerRequest(issuer_id=issuer_id, organisation=org(f"Uni {issuer_id}")))


# ------------------------------------------------------------------------------------------------ agencies


async def test_only_the_platform_operator_registers_agencies(stack: Stack) -> None:
    request = registry_pb2.RegisterAgencyRequest(agency_id="ie-qqi", organisation=org("QQI"))
    answer = await stack.call("platform", "RegisterAgency", request)
    assert answer.agency.agency_id == "ie-qqi"
    [(key, envelope, payload)] = stack.events()
    assert key == "ie-qqi" and envelope.tenant == "ie-qqi" and isinstance(payload, events_pb2.AgencyRegistered)
    for who in ("agency_a", "issuer_a"):
        err = await rpc_error(stack.call(who, "RegisterAgency",
                                         registry_pb2.RegisterAgencyRequest(agency_id="x", organisation=org("X"))))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "platform operator" in (err.details() or "")
    err = await rpc_error(stack.call("platform", "RegisterAgency", request))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len(stack.events()) == 1


async def test_invalid_agency_lists_every_violation_and_publishes_nothing(stack: Stack) -> None:
    bad = registry_pb2.RegisterAgencyRequest(agency_id="no spaces!", organisation=org("", country="XX"))
    err = await rpc_error(stack.call("platform", "RegisterAgency", bad))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err) == {"agency_id": "INVALID_FORMAT", "organisation.legal_name": "REQUIRED",
                                     "organisation.country.code": "INVALID_FORMAT"}
    assert stack.events() == []


# ------------------------------------------------------------------------------------------------ issuers


async def test_register_issuer_generates_a_did_web_and_a_key_in_the_key_store(stack: Stack) -> None:
    await onboard(stack)
    request = registry_pb2.RegisterIssuerRequest(issuer_id="uni-a", organisation=org("Uni A"),
                                                 client_certificate_sha256=["AB" * 32])
    issuer = (await stack.call("agency_a", "RegisterIssuer", request)).issuer
    did = "did:web:trust.example%3A8443:issuers:uni-a"
    assert issuer.did == did and issuer.agency_id == "ie-qqi"
    assert issuer.client_certificate_sha256 == ["ab" * 32]
    [vm] = issuer.verification_methods
    assert vm.id == f"{did}#key-1" and vm.public_key_multibase == stack.keystore.public_key("uni-a/key-1")
    assert vm.created_at.ToDatetime(tzinfo=UTC) == NOW
    key, envelope, payload = stack.events()[-1]
    assert key == "uni-a" and envelope.tenant == "ie-qqi" and envelope.issuer_id == "uni-a"
    assert isinstance(payload, events_pb2.IssuerRegistered) and payload.public_key_multibase == vm.public_key_multibase
    seed = stack.keystore.get_signing_key("uni-a/key-1").private_bytes_raw()
    assert seed not in envelope.SerializeToString()
    assert await stack.registry.get_issuer("uni-a") == issuer


async def test_register_issuer_refusals(stack: Stack) -> None:
    request = registry_pb2.RegisterIssuerRequest(issuer_id="uni-a", organisation=org("Uni A"))
    err = await rpc_error(stack.call("agency_a", "RegisterIssuer", request))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "not registered" in (err.details() or "")
    await onboard(stack, ("uni-a", "agency_a"))
    for who in ("platform", "issuer_a"):
        err = await rpc_error(stack.call(who, "RegisterIssuer", request))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    foreign = registry_pb2.RegisterIssuerRequest(issuer_id="uni-z", agency_id="pl-pka", organisation=org("Z"))
    err = await rpc_error(stack.call("agency_a", "RegisterIssuer", foreign))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "only under itself" in (err.details() or "")
    err = await rpc_error(stack.call("agency_b", "RegisterIssuer", request))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    bad = registry_pb2.RegisterIssuerRequest(issuer_id="uni-c", organisation=org("C", country=""),
                                             did="did:web:evil.example", public_key_multibase="z6Mk...",
                                             client_certificate_sha256=["not-hex"])
    err = await rpc_error(stack.call("agency_a", "RegisterIssuer", bad))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err) == {"organisation.country.code": "REQUIRED", "did": "INCONSISTENT",
                                     "public_key_multibase": "INCONSISTENT",
                                     "client_certificate_sha256[0]": "INVALID_FORMAT"}
    assert "uni-c/key-1" not in stack.keystore.list_keys()


async def test_an_issuer_registered_with_a_logo_keeps_it_and_a_bad_logo_changes_nothing(stack: Stack) -> None:
    await onboard(stack)
    picture = io.BytesIO()
    Image.new("RGB", (120, 40), (0, 51, 153)).save(picture, format="PNG")
    request = registry_pb2.RegisterIssuerRequest(issuer_id="uni-a", organisation=org("Uni A"),
                                                 logo=picture.getvalue(), logo_media_type="image/png")
    await stack.call("agency_a", "RegisterIssuer", request)
    logo = await stack.registry.get_issuer_logo("uni-a")
    assert logo is not None and (logo.data, logo.media_type) == (picture.getvalue(), "image/png")
    published = len(stack.events())
    for data, media_type, expected in ((b"GIF89a not a png", "image/png", {"logo": "INVALID_FORMAT"}),
                                       (picture.getvalue(), "image/svg+xml", {"logo_media_type": "INVALID_FORMAT"}),
                                       (picture.getvalue()[:60], "image/png", {"logo": "INVALID_FORMAT"})):
        bad = registry_pb2.RegisterIssuerRequest(issuer_id="uni-b", organisation=org("Uni B"), logo=data,
                                                 logo_media_type=media_type)
        err = await rpc_error(stack.call("agency_a", "RegisterIssuer", bad))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and field_violations(err) == expected
    assert len(stack.events()) == published and await stack.registry.get_issuer("uni-b") is None


# ------------------------------------------------------------------------------------------------ tenancy


def _commands(issuer_id: str) -> list[tuple[str, Message]]:
    return [
        ("RegisterIssuer", registry_pb2.RegisterIssuerRequest(issuer_id="uni-new", agency_id="ie-qqi",
                                                              organisation=org("New"))),
        ("AccreditIssuer", registry_pb2.AccreditIssuerRequest(issuer_id=issuer_id, accreditation=accreditation())),
        ("SuspendAccreditation", registry_pb2.SuspendAccreditationRequest(issuer_id=issuer_id,
                                                                          accreditation_id="acc-1", reason="r")),
        ("WithdrawAccreditation", registry_pb2.WithdrawAccreditationRequest(issuer_id=issuer_id,
                                                                            accreditation_id="acc-1", reason="r")),
        ("RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(issuer_id=issuer_id)),
        ("GetIssuer", registry_pb2.GetIssuerRequest(issuer_id=issuer_id)),
        ("ListIssuers", registry_pb2.ListIssuersRequest(agency_id="ie-qqi")),
    ]


async def test_an_agency_cannot_touch_another_agencys_issuers(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"))
    await stack.call("agency_a", "AccreditIssuer", registry_pb2.AccreditIssuerRequest(
        issuer_id="uni-a", accreditation=accreditation(accreditation_id="acc-1")))
    before, keys = len(stack.events()), stack.keystore.list_keys()
    for method, request in _commands("uni-a"):
        err = await rpc_error(stack.call("agency_b", method, request))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED, method
        assert "pl-pka" in (err.details() or ""), method
    assert len(stack.events()) == before and stack.keystore.list_keys() == keys


async def test_issuers_read_only_themselves(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"), ("uni-b", "agency_a"))
    got = await stack.call("issuer_a", "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id="uni-a"))
    assert got.issuer.issuer_id == "uni-a"
    err = await rpc_error(stack.call("issuer_a", "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id="uni-b")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = await stack.call("issuer_a", "ListIssuers", registry_pb2.ListIssuersRequest())
    assert [i.issuer_id for i in listed.issuers] == ["uni-a"]
    for method, request in _commands("uni-a"):
        if method not in ("GetIssuer", "ListIssuers"):
            err = await rpc_error(stack.call("issuer_a", method, request))
            assert err.code() == grpc.StatusCode.PERMISSION_DENIED, method
    err = await rpc_error(stack.call("agency_a", "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id="uni-zz")))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await rpc_error(stack.call("platform", "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id="uni-a")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_list_issuers_pages_in_id_order(stack: Stack) -> None:
    await onboard(stack, *((f"uni-{c}", "agency_a") for c in "edcba"), ("uni-x", "agency_b"))
    seen, token = [], ""
    while True:
        page = await stack.call("agency_a", "ListIssuers", registry_pb2.ListIssuersRequest(page_size=2,
                                                                                          page_token=token))
        seen.append([i.issuer_id for i in page.issuers])
        token = page.next_page_token
        if not token:
            break
    assert seen == [["uni-a", "uni-b"], ["uni-c", "uni-d"], ["uni-e"]]
    err = await rpc_error(stack.call("agency_a", "ListIssuers", registry_pb2.ListIssuersRequest(page_token="%%")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


# ------------------------------------------------------------------------------------------------ accreditation


async def test_accreditation_lifecycle(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"))
    acc = (await stack.call("agency_a", "AccreditIssuer", registry_pb2.AccreditIssuerRequest(
        issuer_id="uni-a", accreditation=accreditation(max_eqf=5)))).accreditation
    assert acc.accreditation_id.startswith("acc-") and acc.status == registry_pb2.ACCREDITATION_STATUS_ACTIVE
    assert (await stack.registry.authorize_issuance("uni-a", 5, NOW)).allowed
    assert not (await stack.registry.authorize_issuance("uni-a", 6, NOW)).allowed
    ref = {"issuer_id": "uni-a", "accreditation_id": acc.accreditation_id, "reason": "audit pending"}
    suspended = await stack.call("agency_a", "SuspendAccreditation", registry_pb2.SuspendAccreditationRequest(**ref))
    assert suspended.accreditation.status == registry_pb2.ACCREDITATION_STATUS_SUSPENDED
    *_, payload = stack.events()[-1]
    assert isinstance(payload, events_pb2.AccreditationSuspended) and payload.actor == "agency:ie-qqi-operator@ie-qqi"
    withdrawn = await stack.call("agency_a", "WithdrawAccreditation", registry_pb2.WithdrawAccreditationRequest(**ref))
    assert withdrawn.accreditation.status == registry_pb2.ACCREDITATION_STATUS_WITHDRAWN
    err = await rpc_error(stack.call("agency_a", "SuspendAccreditation",
                                     registry_pb2.SuspendAccreditationRequest(**ref)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    again = accreditation(accreditation_id=acc.accreditation_id)
    err = await rpc_error(stack.call("agency_a", "AccreditIssuer",
                                     registry_pb2.AccreditIssuerRequest(issuer_id="uni-a", accreditation=again)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "new accreditation id" in (err.details() or "")
    err = await rpc_error(stack.call("agency_a", "WithdrawAccreditation", registry_pb2.WithdrawAccreditationRequest(
        issuer_id="uni-a", accreditation_id="acc-nope", reason="x")))
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_invalid_accreditation_lists_every_violation(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"))
    bad = accreditation(max_eqf=9, valid_from=NOW, valid_until=NOW - timedelta(days=1))
    bad.framework, bad.decision_reference, bad.type = "", "", 0  # type: ignore[assignment]
    bad.accrediting_body.ClearField("legal_name")
    err = await rpc_error(stack.call("agency_a", "AccreditIssuer",
                                     registry_pb2.AccreditIssuerRequest(issuer_id="uni-a", accreditation=bad)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err) == {
        "accreditation.type": "REQUIRED", "accreditation.framework": "REQUIRED",
        "accreditation.accrediting_body.legal_name": "REQUIRED", "accreditation.max_eqf_level": "OUT_OF_RANGE",
        "accreditation.valid_until": "INCONSISTENT", "accreditation.decision_reference": "REQUIRED"}
    err = await rpc_error(stack.call("agency_a", "SuspendAccreditation",
                                     registry_pb2.SuspendAccreditationRequest(issuer_id="uni-a")))
    assert field_violations(err) == {"accreditation_id": "REQUIRED", "reason": "REQUIRED"}
    # A Timestamp outside years 1-9999 would be stored and then raise at every issuance and verification read
    before = len(stack.events())
    beyond = accreditation()
    beyond.valid_from.seconds = 10**15
    beyond.valid_until.nanos = -1
    err = await rpc_error(stack.call("agency_a", "AccreditIssuer",
                                     registry_pb2.AccreditIssuerRequest(issuer_id="uni-a", accreditation=beyond)))
    assert field_violations(err) == {"accreditation.valid_from": "INVALID_FORMAT",
                                     "accreditation.valid_until": "INVALID_FORMAT"}
    assert len(stack.events()) == before


# ------------------------------------------------------------------------------------------------ keys


async def test_rotation_creates_the_next_key_and_retires_the_current_one(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"))
    stack.clock[0] = NOW + timedelta(hours=1)
    issuer = (await stack.call("agency_a", "RotateIssuerKey",
                               registry_pb2.RotateIssuerKeyRequest(issuer_id="uni-a"))).issuer
    key1, key2 = issuer.verification_methods
    assert key1.retired_at.ToDatetime(tzinfo=UTC) == NOW + timedelta(hours=1)
    assert key2.id.endswith("#key-2") and not key2.HasField("retired_at")
    assert key2.public_key_multibase == stack.keystore.public_key("uni-a/key-2")
    assert await stack.registry.get_issuer("uni-a") == issuer
    *_, payload = stack.events()[-1]
    assert isinstance(payload, events_pb2.IssuerKeyRotated) and payload.retired_verification_method_id == key1.id
    scheduled = NOW + timedelta(days=7)
    stack.clock[0] = NOW + timedelta(hours=2)
    issuer = (await stack.call("agency_a", "RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(
        issuer_id="uni-a", retire_at=scheduled))).issuer
    assert [vm.id.rsplit("#", 1)[1] for vm in issuer.verification_methods] == ["key-1", "key-2", "key-3"]
    assert issuer.verification_methods[1].retired_at.ToDatetime(tzinfo=UTC) == scheduled


async def test_rotation_refusals(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"))
    err = await rpc_error(stack.call("agency_a", "RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(
        issuer_id="uni-a", new_public_key_multibase="z6Mkxyz")))
    assert field_violations(err) == {"new_public_key_multibase": "INCONSISTENT"}
    err = await rpc_error(stack.call("agency_a", "RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(
        issuer_id="uni-a", retire_at=NOW - timedelta(days=1))))
    assert field_violations(err) == {"retire_at": "INCONSISTENT"}
    err = await rpc_error(stack.call("agency_a", "RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(
        issuer_id="uni-a", retired_verification_method_id="did:web:x#key-7")))
    assert field_violations(err) == {"retired_verification_method_id": "INCONSISTENT"}
    err = await rpc_error(stack.call("agency_a", "RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(
        issuer_id="uni-a", retire_at=Timestamp(seconds=-10**15))))  # not an instant: ToDatetime would raise
    assert field_violations(err) == {"retire_at": "INVALID_FORMAT"}
    err = await rpc_error(stack.call("agency_a", "RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(
        issuer_id="uni-zz")))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert stack.keystore.list_keys() == ["uni-a/key-1"]


async def test_unavailable_kafka_is_reported_and_a_retry_reuses_the_key(stack: Stack) -> None:
    await onboard(stack)
    stack.publisher.fail_next = ConnectionError("broker down")
    request = registry_pb2.RegisterIssuerRequest(issuer_id="uni-a", organisation=org("Uni A"))
    err = await rpc_error(stack.call("agency_a", "RegisterIssuer", request))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert await stack.registry.get_issuer("uni-a") is None
    issuer = (await stack.call("agency_a", "RegisterIssuer", request)).issuer
    assert issuer.verification_methods[0].public_key_multibase == stack.keystore.public_key("uni-a/key-1")


def test_constructor_refuses_a_bad_host() -> None:
    publisher: EventPublisher = InMemoryEventPublisher()
    reader: RegistryReader = InMemoryRegistry()
    with pytest.raises(ValueError, match="host"):
        RegistryApi(publisher, reader, InMemoryKeyStore(), "https://x/y")



# ------------------------------------------------------------------------------ retiring keys, listing agencies


async def test_retiring_a_key_adds_none_and_never_retires_the_last_current_one(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"))
    [key1] = (await stack.call("agency_a", "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id="uni-a"))
              ).issuer.verification_methods
    err = await rpc_error(stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-a", verification_method_id=key1.id)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "last current key" in (err.details() or "")
    grace = NOW + timedelta(days=30)  # rotated with a grace period: key-1 still signs until then
    stack.clock[0] = NOW + timedelta(hours=1)
    await stack.call("agency_a", "RotateIssuerKey", registry_pb2.RotateIssuerKeyRequest(issuer_id="uni-a",
                                                                                        retire_at=grace))
    events_before = len(stack.events())
    stack.clock[0] = NOW + timedelta(hours=2)
    issuer = (await stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-a", verification_method_id=key1.id))).issuer
    first, second = issuer.verification_methods
    assert first.retired_at.ToDatetime(tzinfo=UTC) == NOW + timedelta(hours=2) and not second.HasField("retired_at")
    assert await stack.registry.get_issuer("uni-a") == issuer
    [(key, envelope, payload)] = stack.events()[events_before:]
    assert isinstance(payload, events_pb2.IssuerKeyRotated) and key == "uni-a" and envelope.actor
    assert payload.retired_verification_method_id == key1.id and not payload.new_verification_method_id
    assert stack.keystore.list_keys() == ["uni-a/key-1", "uni-a/key-2"]  # no key was made
    err = await rpc_error(stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-a", verification_method_id=key1.id)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "already retired" in (err.details() or "")
    err = await rpc_error(stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-a", verification_method_id=second.id)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "last current key" in (err.details() or "")
    assert len(stack.events()) == events_before + 1


async def test_retire_key_refusals_change_nothing(stack: Stack) -> None:
    await onboard(stack, ("uni-a", "agency_a"), ("uni-p", "agency_b"))
    before = len(stack.events())
    err = await rpc_error(stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="bad id!")))
    assert field_violations(err) == {"issuer_id": "INVALID_FORMAT", "verification_method_id": "REQUIRED"}
    err = await rpc_error(stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-a", verification_method_id="did:web:x#key-9")))
    assert field_violations(err) == {"verification_method_id": "INCONSISTENT"}
    err = await rpc_error(stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-a", verification_method_id="did:web:x#key-1", retire_at=Timestamp(seconds=10**15))))
    assert field_violations(err) == {"retire_at": "INVALID_FORMAT"}
    err = await rpc_error(stack.call("agency_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-p", verification_method_id="did:web:x#key-1")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    err = await rpc_error(stack.call("issuer_a", "RetireIssuerKey", registry_pb2.RetireIssuerKeyRequest(
        issuer_id="uni-a", verification_method_id="did:web:x#key-1")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert len(stack.events()) == before


async def test_only_the_platform_operator_lists_agencies_in_pages(stack: Stack) -> None:
    await onboard(stack)
    first = await stack.call("platform", "ListAgencies", registry_pb2.ListAgenciesRequest(page_size=1))
    assert [a.agency_id for a in first.agencies] == ["ie-qqi"] and first.next_page_token
    rest = await stack.call("platform", "ListAgencies", registry_pb2.ListAgenciesRequest(
        page_token=first.next_page_token))
    assert [a.agency_id for a in rest.agencies] == ["pl-pka"] and not rest.next_page_token
    for who in ("agency_a", "issuer_a"):
        err = await rpc_error(stack.call(who, "ListAgencies", registry_pb2.ListAgenciesRequest()))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    err = await rpc_error(stack.call("platform", "ListAgencies", registry_pb2.ListAgenciesRequest(
        page_size=5000, page_token="%%")))
    assert field_violations(err) == {"page_size": "INVALID_FORMAT", "page_token": "INVALID_FORMAT"}
