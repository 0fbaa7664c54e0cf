"""The trust registry's use cases: agencies onboard, accredit and manage the keys of their issuers.

Who may do what (the caller is the subject of its verified client certificate, see :mod:`microcred.pki`):

* the platform operator (OU ``service``, O ``platform``) registers agencies;
* an agency operator (OU ``agency``, O = agency id) registers, accredits, suspends, withdraws, rotates keys of,
  reads and lists *its own* issuers only;
* an issuer (OU ``issuer``, CN = issuer id, O = its agency) reads itself.

Everything else is refused with PERMISSION_DENIED. Requests are checked completely before anything happens: bad
input is INVALID_ARGUMENT with a ``google.rpc.BadRequest`` listing every field violation; an unknown issuer is
NOT_FOUND; a duplicate registration ALREADY_EXISTS; a command the current state forbids FAILED_PRECONDITION.
Each refusal is a :class:`RegistryRefused` carrying its ``google.rpc`` code and details; the gRPC edge
(:mod:`services.issuer.api.registry`) only turns it into the call's status.

Each command publishes its event on ``microcred.registry.v1`` (key = issuer id, or agency id for agencies;
envelope tenant = agency id) and answers only after Kafka has acknowledged it. The answer is built from the
event itself (read-your-writes); the read model (``registry``) catches up through the registry projection, and
a command waits (at most ``consistency_timeout`` seconds, default 5) until the read model shows its event, so
that "register, then accredit" works right away, also through another replica sharing the read model.
Issuer signing keys are generated in the key store (``{issuer_id}/key-{n}``); private keys never leave it and
are never logged or published -- events carry only the public Multikey.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import NoReturn

from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.crypto.keystore import KeyExistsError, KeyStore
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2, registry_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import REGISTRY
from microcred.model.errors import INCONSISTENT, INVALID_FORMAT, REQUIRED, FieldViolation, to_bad_request
from microcred.model.validation import check_timestamp
from microcred.pki import ROLE_AGENCY, ROLE_ISSUER, ROLE_PLATFORM, ROLE_SERVICE, Identity
from microcred.registry import did_web, domain
from microcred.registry.logo import check_logo
from microcred.registry.ports import RegistryReader

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "RegistryCommands", "RegistryRefused", "now_utc"]

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def now_utc() -> datetime:
    """The registry's clock: the current UTC time."""
    return datetime.now(UTC)


class RegistryRefused(Exception):
    """A command refused: its ``google.rpc`` code, message and details (BadRequest, ErrorInfo); nothing changed."""

    def __init__(self, code: int, message: str, *details: Message) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def _fail(code: int, message: str, *details: Message) -> NoReturn:
    raise RegistryRefused(code, message, *details)


def _retire_at(request: registry_pb2.RotateIssuerKeyRequest | registry_pb2.RetireIssuerKeyRequest,
               now: datetime) -> datetime:
    """When the key stops signing: the request's ``retire_at`` (INVALID_ARGUMENT outside years 1-9999, where
    reading it would raise), else ``now``."""
    if not request.HasField("retire_at"):
        return now
    problems = check_timestamp("retire_at", request.retire_at)
    if problems:
        _invalid(problems)
    return domain.to_datetime(request.retire_at)


def _invalid(violations: Sequence[FieldViolation]) -> NoReturn:
    summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
    _fail(code_pb2.INVALID_ARGUMENT, f"invalid request: {summary}", to_bad_request(violations))


def _deny(message: str, reason: str) -> NoReturn:
    _fail(code_pb2.PERMISSION_DENIED, message, error_details_pb2.ErrorInfo(reason=reason, domain="registry.microcred"))


class RegistryCommands:
    """The registry's use cases; each takes the verified caller and raises :class:`RegistryRefused`."""

    def __init__(self, publisher: EventPublisher, registry: RegistryReader, keystore: KeyStore, did_web_host: str,
                 *, clock: Callable[[], datetime] = now_utc, consistency_timeout: float = 5.0) -> None:
        did_web.did_web_id(did_web_host, "probe")  # fail at wiring time on a bad host
        self._publisher, self._registry, self._keys = publisher, registry, keystore
        self._host, self._clock, self._consistency_timeout = did_web_host, clock, consistency_timeout

    # -- helpers ---------------------------------------------------------------------------------------------

    @staticmethod
    def _agency_caller(identity: Identity, action: str) -> Identity:
        if identity.role != ROLE_AGENCY or not identity.agency_id:
            _deny(f"only an agency operator may {action}; the caller {identity.subject_id!r} has "
                  f"role {identity.role!r}", "AGENCY_ROLE_REQUIRED")
        return identity

    async def _own_issuer(self, caller: Identity, issuer_id: str,
                          action: str) -> registry_pb2.Issuer:
        issuer = await self._registry.get_issuer(issuer_id)
        if issuer is None:
            _fail(code_pb2.NOT_FOUND, f"issuer {issuer_id!r} is not registered")
        if issuer.agency_id != caller.agency_id:
            _deny(f"agency {caller.agency_id!r} may not {action} issuer {issuer_id!r}: it belongs to "
                  "another agency", "NOT_YOUR_ISSUER")
        return issuer

    async def _publish(self, caller: Identity, key: str, tenant: str, payload: Message, at: datetime,
                       issuer_id: str = "") -> None:
        # who acted goes into the envelope, for the audit trail
        envelope = new_envelope(payload, subject=key, tenant=tenant, issuer_id=issuer_id, occurred_at=at,
                                actor=caller.actor)
        try:
            await self._publisher.publish(REGISTRY.name, key, envelope)
        except Exception as exc:  # Kafka unavailable: nothing was recorded, the caller may retry
            log.error("registry event not published", extra={"event_type": envelope.event_type, "key": key,
                                                             "error": type(exc).__name__})
            _fail(code_pb2.UNAVAILABLE, "the registry event could not be recorded; retry later")
        log.info("registry event published", extra={"event_type": envelope.event_type, "event_id":
                                                     envelope.event_id, "key": key, "tenant": tenant})

    async def _converge(self, probe: Callable[[], Awaitable[bool]], what: str) -> None:
        """Wait (bounded) until the read model shows our own write, so the caller's next command sees it.

        The answer never depends on this: the event is durable once published. When the projection lags beyond
        ``consistency_timeout`` we answer anyway and log it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._consistency_timeout
        while self._consistency_timeout > 0 and not await probe():
            if loop.time() >= deadline:
                log.warning("registry read model is behind its own writes", extra={"waiting_for": what})
                return
            await asyncio.sleep(0.02)

    async def _issuer_shows(self, issuer_id: str, check: Callable[[registry_pb2.Issuer], bool]) -> None:
        async def probe() -> bool:
            issuer = await self._registry.get_issuer(issuer_id)
            return issuer is not None and check(issuer)

        await self._converge(probe, f"issuer {issuer_id}")

    # -- commands --------------------------------------------------------------------------------------------

    async def register_agency(self, caller: Identity,
                              request: registry_pb2.RegisterAgencyRequest) -> registry_pb2.RegisterAgencyResponse:
        """Platform operator only: register a national or sector agency (tenant)."""
        if caller.role != ROLE_SERVICE or caller.agency_id != ROLE_PLATFORM:
            _deny("only the platform operator may register agencies", "PLATFORM_OPERATOR_REQUIRED")
        problems = domain.violations(domain.check_id("agency_id", request.agency_id, "agency"),
                                     domain.check_organisation("organisation", request.organisation,
                                                               country_required=False))
        if problems:
            _invalid(problems)
        if await self._registry.get_agency(request.agency_id) is not None:
            _fail(code_pb2.ALREADY_EXISTS, f"agency {request.agency_id!r} is already registered")
        event = events_pb2.AgencyRegistered(agency_id=request.agency_id, organisation=request.organisation)
        await self._publish(caller, request.agency_id, request.agency_id, event, self._clock())

        async def registered() -> bool:
            return await self._registry.get_agency(request.agency_id) is not None

        await self._converge(registered, f"agency {request.agency_id}")
        return registry_pb2.RegisterAgencyResponse(
            agency=registry_pb2.Agency(agency_id=request.agency_id, organisation=request.organisation))

    async def register_issuer(self, caller: Identity,
                              request: registry_pb2.RegisterIssuerRequest) -> registry_pb2.RegisterIssuerResponse:
        """Register an issuer under the calling agency, with a did:web and a fresh signing key."""
        self._agency_caller(caller, "register issuers")
        agency_id = request.agency_id or caller.agency_id
        if agency_id != caller.agency_id:
            _deny(f"agency {caller.agency_id!r} may register issuers only under itself, not under "
                  f"{agency_id!r}", "NOT_YOUR_AGENCY")
        id_problems = domain.check_id("issuer_id", request.issuer_id, "issuer")
        did = "" if id_problems else did_web.did_web_id(self._host, request.issuer_id)
        problems = domain.violations(id_problems, domain.check_organisation("organisation", request.organisation,
                                                                            country_required=True),
                                     self._key_fields(request, did),
                                     await asyncio.to_thread(check_logo, request.logo, request.logo_media_type))
        if problems:
            _invalid(problems)
        if await self._registry.get_agency(agency_id) is None:
            _fail(code_pb2.FAILED_PRECONDITION, f"agency {agency_id!r} is not registered yet")
        if await self._registry.get_issuer(request.issuer_id) is not None:
            _fail(code_pb2.ALREADY_EXISTS, f"issuer {request.issuer_id!r} is already registered")
        key_id = did_web.key_store_id(request.issuer_id, 1)
        try:
            public_key = await asyncio.to_thread(self._keys.create_key, key_id)
        except KeyExistsError:  # a retry after a publication that failed: the key is ours and unused
            public_key = await asyncio.to_thread(self._keys.public_key, key_id)
        now = self._clock()
        event = events_pb2.IssuerRegistered(
            issuer_id=request.issuer_id, agency_id=agency_id, organisation=request.organisation, did=did,
            verification_method_id=did_web.method_id(did, 1), public_key_multibase=public_key,
            client_certificate_sha256=[f.lower() for f in request.client_certificate_sha256],
            logo=request.logo, logo_media_type=request.logo_media_type if request.logo else "")
        await self._publish(caller, request.issuer_id, agency_id, event, now, request.issuer_id)
        await self._issuer_shows(request.issuer_id, lambda issuer: True)
        return registry_pb2.RegisterIssuerResponse(issuer=domain.issuer_from_registration(event, now))

    @staticmethod
    def _key_fields(request: registry_pb2.RegisterIssuerRequest, did: str) -> list[FieldViolation]:
        out = []
        if request.did and did and request.did != did:
            out.append(FieldViolation("did", f"the registry assigns the issuer's DID ({did}); leave it empty",
                                      INCONSISTENT))
        if request.verification_method_id and did and request.verification_method_id != did_web.method_id(did, 1):
            out.append(FieldViolation("verification_method_id", "the registry assigns it "
                                      f"({did_web.method_id(did, 1)}); leave it empty", INCONSISTENT))
        if request.public_key_multibase:
            out.append(FieldViolation("public_key_multibase", "signing keys are generated in the platform key "
                                      "store; leave it empty", INCONSISTENT))
        for i, fingerprint in enumerate(request.client_certificate_sha256):
            if not _SHA256_HEX.fullmatch(fingerprint):
                out.append(FieldViolation(f"client_certificate_sha256[{i}]", "must be 64 hexadecimal digits "
                                          "(SHA-256 of the DER certificate)", INVALID_FORMAT))
        return out

    async def accredit_issuer(self, caller: Identity,
                              request: registry_pb2.AccreditIssuerRequest) -> registry_pb2.AccreditIssuerResponse:
        """Record an accreditation / QA decision for one of the caller's issuers."""
        self._agency_caller(caller, "accredit issuers")
        acc = request.accreditation
        problems = domain.violations(domain.check_id("issuer_id", request.issuer_id, "issuer"),
                                     domain.check_accreditation("accreditation", acc))
        if acc.accreditation_id:
            problems += domain.check_id("accreditation.accreditation_id", acc.accreditation_id, "accreditation")
        if problems:
            _invalid(problems)
        issuer = await self._own_issuer(caller, request.issuer_id, "accredit")
        accreditation_id = acc.accreditation_id or f"acc-{uuid.uuid4()}"
        if any(a.accreditation_id == accreditation_id and a.status == domain.WITHDRAWN
               for a in issuer.accreditations):
            _fail(code_pb2.FAILED_PRECONDITION, f"accreditation {accreditation_id!r} was withdrawn; "
                  "record the new decision under a new accreditation id")
        event = events_pb2.IssuerAccredited(
            issuer_id=request.issuer_id, accreditation_id=accreditation_id, type=acc.type, framework=acc.framework,
            accrediting_body=acc.accrediting_body, max_eqf_level=acc.max_eqf_level,
            decision_reference=acc.decision_reference)
        event.valid_from.CopyFrom(acc.valid_from)
        if acc.HasField("valid_until"):
            event.valid_until.CopyFrom(acc.valid_until)
        await self._publish(caller, request.issuer_id, issuer.agency_id, event, self._clock(), request.issuer_id)
        answer = domain.accreditation_from_event(event)
        await self._issuer_shows(request.issuer_id, lambda issuer: answer in issuer.accreditations)
        return registry_pb2.AccreditIssuerResponse(accreditation=answer)

    async def _status_change(self, caller: Identity, request: registry_pb2.SuspendAccreditationRequest
                             | registry_pb2.WithdrawAccreditationRequest,
                             withdraw: bool) -> registry_pb2.Accreditation:
        verb = "withdraw" if withdraw else "suspend"
        self._agency_caller(caller, f"{verb} accreditations")
        problems = domain.check_id("issuer_id", request.issuer_id, "issuer")
        if not request.accreditation_id:
            problems.append(FieldViolation("accreditation_id", "accreditation id is required", REQUIRED))
        if not request.reason.strip():
            problems.append(FieldViolation("reason", f"a reason to {verb} is required (it is kept in the audit "
                                           "trail)", REQUIRED))
        if problems:
            _invalid(problems)
        issuer = await self._own_issuer(caller, request.issuer_id, f"{verb} accreditations of")
        current = next((a for a in issuer.accreditations if a.accreditation_id == request.accreditation_id), None)
        if current is None:
            _fail(code_pb2.NOT_FOUND, f"issuer {request.issuer_id!r} has no accreditation "
                  f"{request.accreditation_id!r}")
        if current.status == domain.WITHDRAWN and not withdraw:
            _fail(code_pb2.FAILED_PRECONDITION, f"accreditation {request.accreditation_id!r} was "
                  "withdrawn; it cannot be suspended")
        event: Message
        if withdraw:
            event = events_pb2.AccreditationWithdrawn(issuer_id=request.issuer_id, actor=caller.actor,
                                                      accreditation_id=request.accreditation_id, reason=request.reason)
        else:
            event = events_pb2.AccreditationSuspended(issuer_id=request.issuer_id, actor=caller.actor,
                                                      accreditation_id=request.accreditation_id, reason=request.reason)
        await self._publish(caller, request.issuer_id, issuer.agency_id, event, self._clock(), request.issuer_id)
        answer = registry_pb2.Accreditation()
        answer.CopyFrom(current)
        answer.status = domain.WITHDRAWN if withdraw else domain.SUSPENDED
        await self._issuer_shows(request.issuer_id, lambda issuer: any(
            a.accreditation_id == answer.accreditation_id and a.status == answer.status
            for a in issuer.accreditations))
        return answer

    async def suspend_accreditation(self, caller: Identity, request: registry_pb2.SuspendAccreditationRequest
                                    ) -> registry_pb2.SuspendAccreditationResponse:
        """Suspend an accreditation (a new accreditation decision can restore it)."""
        return registry_pb2.SuspendAccreditationResponse(
            accreditation=await self._status_change(caller, request, withdraw=False))

    async def withdraw_accreditation(self, caller: Identity, request: registry_pb2.WithdrawAccreditationRequest
                                     ) -> registry_pb2.WithdrawAccreditationResponse:
        """Withdraw an accreditation for good; the issuer cannot issue under it from then on."""
        return registry_pb2.WithdrawAccreditationResponse(
            accreditation=await self._status_change(caller, request, withdraw=True))

    async def rotate_issuer_key(self, caller: Identity,
                                request: registry_pb2.RotateIssuerKeyRequest) -> registry_pb2.RotateIssuerKeyResponse:
        """Generate the issuer's next key (``#key-(n+1)``) and retire the current one at ``retire_at`` (or now)."""
        self._agency_caller(caller, "rotate issuer keys")
        problems = domain.check_id("issuer_id", request.issuer_id, "issuer")
        if request.new_public_key_multibase:
            problems.append(FieldViolation("new_public_key_multibase", "signing keys are generated in the platform "
                                           "key store; leave it empty", INCONSISTENT))
        if problems:
            _invalid(problems)
        issuer = await self._own_issuer(caller, request.issuer_id, "rotate the keys of")
        now = self._clock()
        retire_at = _retire_at(request, now)
        retired = self._retired_method(issuer, request, retire_at)
        n = max((did_web.key_number(vm.id) or 0 for vm in issuer.verification_methods), default=0) + 1
        if request.new_verification_method_id and request.new_verification_method_id != did_web.method_id(
                issuer.did, n):
            _invalid([FieldViolation("new_verification_method_id", "the registry assigns it "
                                     f"({did_web.method_id(issuer.did, n)}); leave it empty",
                                     INCONSISTENT)])
        while True:  # a key left by an earlier attempt whose event was never published is skipped
            try:
                public_key = await asyncio.to_thread(self._keys.create_key, did_web.key_store_id(issuer.issuer_id, n))
                break
            except KeyExistsError:
                n += 1
        event = events_pb2.IssuerKeyRotated(
            issuer_id=issuer.issuer_id, new_verification_method_id=did_web.method_id(issuer.did, n),
            new_public_key_multibase=public_key, retired_verification_method_id=retired.id,
            retired_at=domain.timestamp(retire_at))
        await self._publish(caller, issuer.issuer_id, issuer.agency_id, event, now, issuer.issuer_id)
        state = domain.RegistryState(issuers={issuer.issuer_id: issuer})
        domain.apply(state, event, now)
        await self._issuer_shows(issuer.issuer_id, lambda shown: domain.verification_method(
            shown, event.new_verification_method_id) is not None)
        return registry_pb2.RotateIssuerKeyResponse(issuer=state.issuers[issuer.issuer_id])

    async def retire_issuer_key(self, caller: Identity,
                                request: registry_pb2.RetireIssuerKeyRequest) -> registry_pb2.RetireIssuerKeyResponse:
        """Retire one key of an issuer at ``retire_at`` (or now) without adding one: an ``IssuerKeyRotated``
        without a new key. Credentials signed before stay valid; the issuer's last current key is never retired."""
        self._agency_caller(caller, "retire issuer keys")
        problems = domain.check_id("issuer_id", request.issuer_id, "issuer")
        if not request.verification_method_id:
            problems.append(FieldViolation("verification_method_id", "is required: the key to retire (a DID URL "
                                           "from `mcred issuer show`)", REQUIRED))
        if problems:
            _invalid(problems)
        issuer = await self._own_issuer(caller, request.issuer_id, "retire the keys of")
        now = self._clock()
        retire_at = _retire_at(request, now)
        vm = domain.verification_method(issuer, request.verification_method_id)
        if vm is None:
            _invalid([FieldViolation("verification_method_id", f"issuer {issuer.issuer_id!r} has no verification "
                                     f"method {request.verification_method_id}", INCONSISTENT)])
        def active_after(method: registry_pb2.VerificationMethod, at: datetime) -> bool:
            return not method.HasField("retired_at") or domain.to_datetime(method.retired_at) > at

        # A key rotated with a grace period (rotate-key --retire-at LATER) is still active: retiring it ends the
        # grace period early, e.g. when it is suspected compromised.
        if not active_after(vm, now) or (vm.HasField("retired_at") and not active_after(vm, retire_at)):
            _fail(code_pb2.FAILED_PRECONDITION, f"{vm.id} is already retired at "
                                                f"{domain.to_datetime(vm.retired_at).isoformat()}")
        if retire_at < domain.to_datetime(vm.created_at):
            _invalid([FieldViolation("retire_at", f"must not be before the key was registered "
                                     f"({domain.to_datetime(vm.created_at).isoformat()})", INCONSISTENT)])
        others = [m for m in issuer.verification_methods if m.id != vm.id and active_after(m, retire_at)]
        if not others:
            _fail(code_pb2.FAILED_PRECONDITION, f"{vm.id} is the last current key of issuer {issuer.issuer_id!r}; "
                                                "retiring it would leave the issuer unable to sign. Rotate the key "
                                                "instead (mcred issuer rotate-key), which adds a new one",
                  error_details_pb2.ErrorInfo(reason="LAST_ACTIVE_KEY", domain="registry.microcred"))
        event = events_pb2.IssuerKeyRotated(issuer_id=issuer.issuer_id, retired_verification_method_id=vm.id,
                                            retired_at=domain.timestamp(retire_at))
        await self._publish(caller, issuer.issuer_id, issuer.agency_id, event, now, issuer.issuer_id)
        state = domain.RegistryState(issuers={issuer.issuer_id: issuer})
        domain.apply(state, event, now)
        await self._issuer_shows(issuer.issuer_id, lambda shown: (
            (m := domain.verification_method(shown, vm.id)) is not None and not active_after(m, retire_at)))
        return registry_pb2.RetireIssuerKeyResponse(issuer=state.issuers[issuer.issuer_id])

    @staticmethod
    def _retired_method(issuer: registry_pb2.Issuer,
                              request: registry_pb2.RotateIssuerKeyRequest,
                              retire_at: datetime) -> registry_pb2.VerificationMethod:
        if request.retired_verification_method_id:
            vm = domain.verification_method(issuer, request.retired_verification_method_id)
            if vm is None:
                _invalid([FieldViolation("retired_verification_method_id", f"issuer "
                                         f"{issuer.issuer_id!r} has no verification method "
                                         f"{request.retired_verification_method_id}", INCONSISTENT)])
        else:
            current = [m for m in issuer.verification_methods if not m.HasField("retired_at")]
            vm = current[-1] if current else None
            if vm is None:
                _fail(code_pb2.FAILED_PRECONDITION,
                      f"issuer {issuer.issuer_id!r} has no current key to retire")
        if retire_at < domain.to_datetime(vm.created_at):
            _invalid([FieldViolation("retire_at", f"must not be before the key was registered "
                                     f"({domain.to_datetime(vm.created_at).isoformat()})", INCONSISTENT)])
        return vm

    # -- queries ---------------------------------------------------------------------------------------------

    async def get_issuer(self, caller: Identity,
                         request: registry_pb2.GetIssuerRequest) -> registry_pb2.GetIssuerResponse:
        """One issuer: for its agency, or for the issuer itself."""
        problems = domain.check_id("issuer_id", request.issuer_id, "issuer")
        if problems:
            _invalid(problems)
        if caller.role not in (ROLE_AGENCY, ROLE_ISSUER):
            _deny("only agency operators and issuers may read issuers", "AGENCY_OR_ISSUER_REQUIRED")
        issuer = await self._registry.get_issuer(request.issuer_id)
        if issuer is None:
            _fail(code_pb2.NOT_FOUND, f"issuer {request.issuer_id!r} is not registered")
        own_agency = issuer.agency_id == caller.agency_id
        if not own_agency or (caller.role == ROLE_ISSUER and caller.subject_id != issuer.issuer_id):
            _deny(f"{caller.subject_id!r} may not read issuer {request.issuer_id!r}", "NOT_YOUR_ISSUER")
        return registry_pb2.GetIssuerResponse(issuer=issuer)

    async def list_issuers(self, caller: Identity,
                           request: registry_pb2.ListIssuersRequest) -> registry_pb2.ListIssuersResponse:
        """A page of the caller's agency's issuers (an issuer sees only itself), ordered by id."""
        if caller.role not in (ROLE_AGENCY, ROLE_ISSUER):
            _deny("only agency operators and issuers may list issuers", "AGENCY_OR_ISSUER_REQUIRED")
        if request.agency_id and request.agency_id != caller.agency_id:
            _deny(f"{caller.subject_id!r} may not list the issuers of agency {request.agency_id!r}",
                  "NOT_YOUR_AGENCY")
        after = _page_start(request.page_size, request.page_token)
        issuers = await self._registry.list_issuers(caller.agency_id)
        if caller.role == ROLE_ISSUER:
            issuers = [i for i in issuers if i.issuer_id == caller.subject_id]
        remaining = [i for i in issuers if i.issuer_id > after]
        size = request.page_size or DEFAULT_PAGE_SIZE
        page = remaining[:size]
        token = base64.urlsafe_b64encode(page[-1].issuer_id.encode()).decode() if len(remaining) > size else ""
        return registry_pb2.ListIssuersResponse(issuers=page, next_page_token=token)

    async def list_agencies(self, caller: Identity,
                            request: registry_pb2.ListAgenciesRequest) -> registry_pb2.ListAgenciesResponse:
        """Platform operator only: a page of the registered agencies, ordered by id."""
        if caller.role != ROLE_SERVICE or caller.agency_id != ROLE_PLATFORM:
            _deny("only the platform operator may list agencies", "PLATFORM_OPERATOR_REQUIRED")
        after = _page_start(request.page_size, request.page_token)
        remaining = sorted((a for a in await self._registry.list_agencies() if a.agency_id > after),
                           key=lambda a: a.agency_id)
        size = request.page_size or DEFAULT_PAGE_SIZE
        page = remaining[:size]
        token = base64.urlsafe_b64encode(page[-1].agency_id.encode()).decode() if len(remaining) > size else ""
        return registry_pb2.ListAgenciesResponse(agencies=page, next_page_token=token)


def _page_start(page_size: int, page_token: str) -> str:
    """The id a page starts after ('' for the first page), from a list request's size and token."""
    problems = []
    if page_size > MAX_PAGE_SIZE:
        problems.append(FieldViolation("page_size", f"at most {MAX_PAGE_SIZE}", INVALID_FORMAT))
    after = ""
    if page_token:
        try:
            after = base64.b64decode(page_token.encode(), altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            problems.append(FieldViolation("page_token", "not a token from a previous response", INVALID_FORMAT))
    if problems:
        _invalid(problems)
    return after
